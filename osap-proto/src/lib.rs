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
//! (sections 6 and 7) and exchanges attribute, operation and event business
//! messages. Every frame shares one MQTT-shaped layout (section 4): a fixed
//! header of 2 to 5 bytes, a variable header, a general payload and an
//! application payload.
//!
//! # Layers
//!
//! The crate is built in two layers, each usable alone:
//!
//! * **Codecs** parse and build frames and messages. They borrow from the
//!   input where it allows, never panic, and bound every length they accept.
//! * **Sans-IO state machines** (device side and platform side) are driven
//!   by the caller: bytes in, bytes and events out, time passed in as a
//!   parameter, randomness from a caller-supplied RNG. They perform no I/O
//!   and read no clock, so any runtime (tokio, blocking `std`, embedded
//!   firmware) can drive them.
//!
//! The codec and negotiation layers are meant to build without `std`.
//! Choices the draft leaves open are recorded in the crate's `PROFILE.md`.
#![cfg_attr(not(feature = "std"), no_std)]
