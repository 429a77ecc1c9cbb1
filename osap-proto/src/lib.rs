//! Sans-IO implementation of the Open Service Access Protocol (OSAP) for IoT
//! smart devices, as described by the IETF draft
//! `draft-wang-open-service-access-protocol-00`.
//!
//! OSAP connects a smart device to an IoT device management platform. A
//! device first talks to a load-balance service (LBS): it negotiates a
//! protocol (draft section 5, Figures 1 and 2), authenticates with an ECDH
//! exchange on secp384r1 and AES-128 protected payloads (section 5,
//! Figures 3 and 4, Table 3), and is redirected to a device access service
//! (DAS, section 6). On the DAS it registers and keeps a heartbeat over MQTT
//! (sections 6 and 7: [`das`]), then exchanges attribute, operation and
//! event business messages sealed with the sessionkey (the business model
//! of section 2: [`business`]), and keeps events while offline (2.1.4).
//! Every frame shares one MQTT-shaped layout (section 4): a fixed header of
//! 2 to 5 bytes, a variable header, a general payload and an application
//! payload.
//!
//! # Layers
//!
//! The crate is built in two layers, each usable alone:
//!
//! * **Codecs** parse and build frames and messages. They borrow from the
//!   input ([`RawFrame`], [`ControlFrame`], [`Packet`]), never panic, bound
//!   every length they accept, and write into any [`bytes::BufMut`] (a
//!   caller's `BytesMut` or `Vec<u8>`) without intermediate buffers.
//!   [`FrameDecoder`] cuts a byte stream into frames.
//! * **Sans-IO state machines** under the family's contract ([`Machine`]):
//!   on the LBS connection [`DeviceConnection`] and [`LbsConnection`], each
//!   running the negotiation ([`DeviceNegotiation`], [`LbsNegotiation`])
//!   then the authentication ([`DeviceAuth`], [`LbsAuth`]) on one decoder,
//!   or a refresh at once (the LBS's first frame decides); on the DAS
//!   connection [`das::DeviceSession`] and [`das::DasSession`]:
//!   bytes in, frames and events out, time passed in, randomness from a
//!   caller-supplied `rand_core` RNG the machine owns. They perform no I/O
//!   and read no clock, so any runtime (tokio, blocking `std`, embedded
//!   firmware) can drive them.
//!
//! # How to drive this crate
//!
//! Feed the bytes read from the connection to [`Machine::handle_input`]
//! (`Input::Data(&bytes)`) and [`Input::PeerClosed`] when it closes; after
//! each call write everything [`Machine::poll_transmit`] gives (and give
//! each frame back with [`Machine::recycle`] once written: the machine
//! writes its next frames into those buffers), and handle everything
//! [`Machine::poll_event`] gives; call
//! [`Machine::handle_timeout`] when [`Machine::poll_timeout`] is due. A
//! machine that fails reports it once, as an `Ended` event carrying an
//! [`End`]: timed out, peer closed, peer fault (with the typed detail) or
//! refused by policy.
//!
//! ```
//! use core::time::Duration;
//! use osap_proto::{DeviceNegotiation, DeviceNegotiationConfig, DeviceNegotiationEvent, End,
//!     Input, Machine, Offer, ProtocolGroup};
//!
//! let now = Duration::ZERO;
//! let offer = Offer { protocol_type: 1, group: ProtocolGroup::ALL };
//! let mut device = DeviceNegotiation::new(DeviceNegotiationConfig::new(vec![offer]));
//! device.start(now);
//! let request = device.poll_transmit().unwrap(); // write it to the LBS,
//! device.recycle(request); // then give the buffer back
//! // The LBS closes the connection without answering.
//! device.handle_input(now, Input::PeerClosed);
//! assert_eq!(device.poll_event(), Some(DeviceNegotiationEvent::Ended(End::PeerClosed)));
//! assert_eq!(device.poll_timeout(), None);
//! ```
//!
//! The keys and ciphers of section 5 (sharekey, masterkey, sessionkey,
//! AES-128 suites) are in [`crypto`].
//!
//! Both layers build without `std` (disable the default features; `alloc`
//! is required).
//!
//! # One frame layer, two channels
//!
//! The LBS connection carries OSAP control frames ([`ControlFrame`]); the
//! DAS connection carries MQTT 3.1.1 packets ([`Packet`]). Both are read
//! from the same [`RawFrame`] (fixed header and body), so a runtime decodes
//! the stream once with [`FrameDecoder`] and interprets the body by the
//! channel it came from.
//!
//! ```
//! use osap_proto::{ControlFrame, FrameDecoder, Packet};
//!
//! let mut decoder = FrameDecoder::default();
//! // A PINGREQ on the DAS channel.
//! let (_, frame) = decoder.decode(&[0xc0, 0x00])?;
//! assert_eq!(Packet::from_raw(frame.unwrap())?, Packet::PingReq);
//! # Ok::<(), osap_proto::FrameError>(())
//! ```
//!
//! Choices the draft leaves open (byte layouts, flags, the meaning of the
//! protocol group bits) are recorded in the crate's `PROFILE.md`, shown here
//! as [`profile`].
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
// No function over 80 lines (clippy.toml): each reads in one screen.
#![warn(clippy::too_many_lines)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The examples of the crate's README, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

extern crate alloc;

#[doc = include_str!("../PROFILE.md")]
pub mod profile {}

pub mod auth;
#[cfg(feature = "business")]
pub mod business;
#[cfg(feature = "tokio")]
pub mod codec;
mod connection;
mod control;
pub mod crypto;
#[cfg(feature = "business")]
pub mod das;
mod decoder;
mod error;
mod frame;
#[cfg(feature = "serde")]
mod hex;
mod mqtt;
mod negotiation;
pub mod records;
mod session;
mod wire;

pub use auth::{
    AuthConfig, AuthEnd, AuthFault, AuthRefusal, DeviceAuth, DeviceAuthEvent, DeviceDirectory,
    LbsAuth, LbsAuthEvent,
};
pub use connection::{
    ConnectionEnd, ConnectionFault, ConnectionRefusal, DeviceConnection, DeviceConnectionConfig,
    DeviceConnectionEvent, LbsConnection, LbsConnectionConfig, LbsConnectionEvent,
};
pub use control::{
    ControlFlags, ControlFrame, NegotiationKind, NegotiationMessage, ProtocolGroup,
    ProtocolVersion, Suite,
};
#[cfg(feature = "business")]
pub use das::{
    DasSession, DasSessionConfig, DasSessionEvent, DeviceSession, DeviceSessionConfig,
    DeviceSessionEvent, SessionEnd, SessionError, SessionFault,
};
pub use decoder::{DEFAULT_MAX_FRAME_LEN, FrameDecoder};
pub use error::{FieldError, FrameError};
pub use frame::{
    FixedHeader, HeaderStatus, MAX_HEADER_LEN, MAX_REMAINING_LENGTH, RawFrame, put_header,
    put_remaining_length, read_header, remaining_length_len,
};
pub use iot_sansio::{End, Input, Instant, Machine};
pub use mqtt::{
    ConnAck, Connect, ConnectReturnCode, Delivery, Packet, PacketId, PacketType, Password, Publish,
    QoS, ReturnCodes, SubAck, Subscribe, SubscribeReturnCode, TopicFilters, TopicName, Unsubscribe,
    Will,
};
pub use negotiation::{
    DeviceNegotiation, DeviceNegotiationConfig, DeviceNegotiationEvent, LbsNegotiation,
    LbsNegotiationConfig, LbsNegotiationEvent, Negotiated, NegotiationEnd, NegotiationFault,
    NegotiationRefusal, Offer, SecurityRanking,
};
