//! What the machine targets share: the loop that cuts the input into
//! operations, and the drain that takes what a machine queued through the
//! family's contract checker (`iot_sansio::testing::Checked`), which
//! asserts the contract on every call.

#![allow(dead_code)]

use iot_sansio::Machine;
use iot_sansio::testing::{Checked, events, transmits};

/// The operations in `input`: each an operation byte and the chunk that
/// follows it, `len(op)` bytes long (fewer at the end of the input).
pub fn ops(input: &[u8], len: impl Fn(u8) -> usize) -> impl Iterator<Item = (u8, &[u8])> {
    let mut input = input;
    core::iter::from_fn(move || {
        let (&op, rest) = input.split_first()?;
        let (chunk, next) = rest.split_at(len(op).min(rest.len()));
        input = next;
        Some((op, chunk))
    })
}

/// Takes everything the machine queued, transmits first as a runtime
/// does; returns the events.
pub fn drain<M: Machine>(machine: &mut Checked<M>) -> Vec<M::Event> {
    transmits(machine);
    events(machine)
}

/// An answer to an OSAP LBS directory request, as the input chooses:
/// the directory's own most often, else unavailable, a conflict, a record
/// or refusal of the input's making, or an answer of another kind.
pub fn directory_answer(
    chunk: &[u8],
    op: &osap_proto::auth::DirectoryOp<core::time::Duration>,
    directory: &mut osap_proto::auth::MemoryDirectory<core::time::Duration>,
) -> osap_proto::auth::DirectoryAnswer<core::time::Duration> {
    use iot_sansio::store::{StoreAnswer, Version, Versioned};
    use osap_proto::Suite;
    use osap_proto::auth::{DeviceEntry, DirectoryAnswer, Enrolled};
    use osap_proto::crypto::{MasterKey, SessionKey, VerificationCode};
    use osap_proto::das::KeyRecord;
    let byte = |i: usize| chunk.get(i).copied().unwrap_or(0);
    let text = || String::from_utf8_lossy(chunk.get(2..).unwrap_or_default()).into_owned();
    let version = Version::new(u64::from(byte(2)));
    match byte(0) % 9 {
        0 | 1 => directory.answer(op),
        2 => DirectoryAnswer::Unavailable,
        3 => DirectoryAnswer::Conflict,
        4 => DirectoryAnswer::Key(match byte(1) % 4 {
            0 => StoreAnswer::Missing,
            1 => StoreAnswer::Conflict,
            2 => StoreAnswer::Stored(version),
            _ => StoreAnswer::Found(Versioned {
                version,
                record: KeyRecord::new(
                    SessionKey::from_bytes([byte(3); 16]),
                    Suite::Aes128Gcm,
                    u64::from(byte(4)),
                    None,
                ),
            }),
        }),
        5 => DirectoryAnswer::Devid(if byte(1) & 1 == 0 {
            Ok(text())
        } else {
            Err("refused")
        }),
        6 => DirectoryAnswer::Address(if byte(1) & 1 == 0 {
            Ok(text())
        } else {
            Err("refused")
        }),
        7 => DirectoryAnswer::Enrolled((byte(1) & 1 == 1).then(|| Enrolled {
            devid: text(),
            master_key: MasterKey::from_bytes([byte(3); 16]),
            protocol_type: byte(4),
            suite: Suite::Aes128Gcm,
        })),
        _ => DirectoryAnswer::Device((byte(1) & 1 == 1).then(|| Versioned {
            version,
            record: DeviceEntry {
                code: VerificationCode::new(text()),
                enrolled: None,
            },
        })),
    }
}

/// The directory an OSAP LBS asks in a target: the one in memory at once,
/// or the input later (its requests leave as events).
pub struct Asked {
    /// Whether the directory answers at once.
    pub answers_now: bool,
    /// The directory.
    pub directory: osap_proto::auth::MemoryDirectory<core::time::Duration>,
}

impl osap_proto::auth::DeviceDirectory<core::time::Duration> for Asked {
    fn answer_now(
        &mut self,
        op: &osap_proto::auth::DirectoryOp<core::time::Duration>,
    ) -> Option<osap_proto::auth::DirectoryAnswer<core::time::Duration>> {
        self.answers_now.then(|| self.directory.answer(op))
    }
}

/// The configuration of the RFC 5802 user (`user@localhost`, `pencil`) on
/// the scripted login: no TLS, SCRAM-SHA-1, stanzas of 4 KiB at most.
pub fn rfc5802_client_config() -> Option<iot_xmpp::stream::ClientConfig> {
    use iot_xmpp::sasl::{Mechanism, MechanismPreference};
    let jid = iot_xmpp::BareJid::new("user@localhost").ok()?;
    let mut config = iot_xmpp::stream::ClientConfig::new(
        jid,
        iot_sansio::Secret::new("pencil"),
        Some("r1".into()),
    );
    config.tls = iot_xmpp::stream::Tls::Insecure;
    config.mechanisms = MechanismPreference::new(&[Mechanism::ScramSha1]);
    config.limits = iot_xmpp::StanzaLimits {
        max_len: 4096,
        ..iot_xmpp::StanzaLimits::default()
    };
    Some(config)
}
