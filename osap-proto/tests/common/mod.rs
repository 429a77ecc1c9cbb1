//! What the DAS tests share: one device, its sessionkey as the LBS issued
//! it, and its CONNECT.

#![allow(dead_code)]

use std::time::Duration;

use osap_proto::crypto::SessionKey;
use osap_proto::das::{KeyTable, Registration};
use osap_proto::{Packet, Suite};

/// The devid of the tests' device.
pub(crate) const DEVID: &str = "0a1b2c3d4e5f";

/// Its sessionkey.
pub(crate) fn key() -> SessionKey {
    SessionKey::from_bytes([0x5a; 16])
}

/// A store that knows the device's sessionkey (epoch 1, no expiry).
pub(crate) fn table() -> KeyTable<Duration> {
    let mut keys = KeyTable::new();
    keys.issue(DEVID, key(), Suite::Aes128Gcm, None);
    keys
}

/// The bytes of a CONNECT that registers `reg`, proved with `key`.
pub(crate) fn connect_bytes(reg: &Registration, key: &SessionKey) -> Vec<u8> {
    let mut wire = Vec::new();
    Packet::Connect(reg.to_connect(key))
        .encode(&mut wire)
        .unwrap();
    wire
}

/// The device's CONNECT with `counter`.
pub(crate) fn connect(counter: u64) -> Vec<u8> {
    connect_bytes(&Registration::new(DEVID, counter), &key())
}
