//! What the two sides of a negotiation agree on (offers, the security
//! ranking) and how a negotiation that agrees on nothing ends.

use alloc::vec::Vec;

use iot_sansio::End;

use crate::control::{ControlFlags, NegotiationKind, ProtocolGroup, ProtocolVersion, Suite};
use crate::error::FrameError;

/// A protocol type and the protocol group offered with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Offer {
    /// The protocol type.
    pub protocol_type: u8,
    /// The suites supported with it.
    pub group: ProtocolGroup,
}

/// What a negotiation agreed, as one side saw it (section 5, Figure 1):
/// the request's protocol type, group, key mode and version, and the suite
/// the response chose.
///
/// Both sides bind it into every sealed field of the authentication that
/// follows on the same connection ([`AuthConfig::after`](crate::AuthConfig::after);
/// `PROFILE.md` section 8). A man in the middle who strips the best suites
/// from the device's group makes the LBS see another group than the
/// device sent: the two records differ, and the first sealed field of the
/// authentication does not open, so the downgrade fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Negotiated {
    /// The protocol type.
    pub protocol_type: u8,
    /// The group of the request: the device's offer.
    pub offered: ProtocolGroup,
    /// The suite the LBS chose from it.
    pub suite: Suite,
    /// Whether the ECDH key mode was asked for and echoed.
    pub ecdh: bool,
    /// The request's PROTOCOL-VERSION, which the response echoes.
    pub version: ProtocolVersion,
}

impl Negotiated {
    /// The length of [`Negotiated::transcript`].
    pub const TRANSCRIPT_LEN: usize = 7;

    /// The bytes bound into the authentication's associated data: control
    /// flags, protocol type, offered group, chosen suite, and the three
    /// bytes of PROTOCOL-VERSION, as they travel in the frames.
    #[must_use]
    pub fn transcript(&self) -> [u8; Self::TRANSCRIPT_LEN] {
        [
            ControlFlags::new(self.ecdh).bits(),
            self.protocol_type,
            self.offered.bits(),
            self.suite.bit(),
            self.version.form,
            self.version.high,
            self.version.low,
        ]
    }
}

/// Which suites are more secure than which: "the most secure protocol in
/// the device's protocol group" (section 5) is the first suite of this
/// ranking that the group holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityRanking(Vec<Suite>);

impl SecurityRanking {
    /// A ranking, most secure first. Suites left out are never chosen.
    #[must_use]
    pub fn new(most_secure_first: &[Suite]) -> Self {
        Self(most_secure_first.to_vec())
    }

    /// The most secure suite of `group`, if any.
    #[must_use]
    pub fn best(&self, group: ProtocolGroup) -> Option<Suite> {
        self.0.iter().copied().find(|s| group.contains(*s))
    }
}

impl SecurityRanking {
    /// The default ranking with AES-128-ECB allowed last: for an LBS that
    /// must serve devices that offer nothing better.
    #[must_use]
    pub fn with_ecb() -> Self {
        Self::new(&[Suite::Aes128Gcm, Suite::Aes128Cbc, Suite::Aes128Ecb])
    }
}

impl Default for SecurityRanking {
    /// GCM, then CBC. ECB is left out (it leaks equal plaintext blocks):
    /// it is chosen only when configured ([`SecurityRanking::with_ecb`]).
    /// Bit 8 names no suite yet, so it is never chosen (see `PROFILE.md`).
    fn default() -> Self {
        Self::new(&[Suite::Aes128Gcm, Suite::Aes128Cbc])
    }
}

/// A negotiation input that the state machine refuses; the connection must
/// be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NegotiationFault {
    /// The bytes are not a valid control frame.
    #[error("malformed frame: {0}")]
    Frame(#[from] FrameError),
    /// A control message other than the one expected now.
    #[error("expected the negotiation {expected:?}, got control message type {got:#x}")]
    UnexpectedMessage {
        /// The message expected.
        expected: NegotiationKind,
        /// The control message type received.
        got: u8,
    },
    /// Reserved control flag bits are set.
    #[error("reserved control flag bits 0x{0:x} are set")]
    ReservedFlags(u8),
    /// The response's control flags differ from the request's (the ECDH
    /// key mode bit must round-trip).
    #[error("response flags 0x{got:x} do not echo request flags 0x{sent:x}")]
    FlagsMismatch {
        /// The request's flags.
        sent: u8,
        /// The response's flags.
        got: u8,
    },
    /// The response does not echo the request's transaction content.
    #[error("response transaction content does not match the request's")]
    TransactionMismatch,
    /// The device offered an empty protocol group.
    #[error("the device offered an empty protocol group")]
    EmptyGroup,
}

/// Why a negotiation was refused by policy: nothing the two sides support
/// in common.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegotiationRefusal {
    /// Device side: the LBS answered with a protocol type or group the
    /// device does not support (section 5, condition 2: "the device should
    /// give up").
    Unsupported {
        /// What the LBS supports.
        server: Offer,
    },
    /// Device side: the retry on a new connection was answered
    /// inconsistently too.
    RetryRefused {
        /// What the LBS answered the second time.
        server: Offer,
    },
    /// LBS side: the response named what the LBS supports instead of what
    /// the device asked for (Figure 2); the LBS closes the connection after
    /// sending it.
    Answered {
        /// What the device asked for.
        requested: Offer,
        /// What the response offered instead.
        answered: Offer,
    },
    /// Either side: the original (non-ECDH) key mode was asked for. This
    /// crate authenticates in the ECDH key mode only, so it refuses the
    /// original mode here rather than failing halfway through the
    /// authentication: the device does not send its request, the LBS
    /// answers with an empty group and closes.
    OriginalMode,
}

impl core::fmt::Display for NegotiationRefusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Unsupported { server } => write!(f, "the LBS supports only {server:?}"),
            Self::RetryRefused { server } => write!(f, "the retry was answered with {server:?}"),
            Self::Answered {
                requested,
                answered,
            } => {
                write!(f, "{requested:?} was answered with {answered:?}")
            }
            Self::OriginalMode => f.write_str("the original (non-ECDH) key mode is not supported"),
        }
    }
}

/// How a negotiation that did not agree on a protocol ended.
pub type NegotiationEnd = End<NegotiationFault, NegotiationRefusal>;

impl From<NegotiationFault> for NegotiationEnd {
    fn from(error: NegotiationFault) -> Self {
        End::PeerFault(error)
    }
}

/// The response expected for a request, as the error names it.
pub(crate) const fn expected(kind: NegotiationKind, got: u8) -> NegotiationFault {
    NegotiationFault::UnexpectedMessage {
        expected: kind,
        got,
    }
}
