//! A DAS session over a store that answers later, driven with arbitrary
//! inputs: bytes from the "device" (a real CONNECT among them), the
//! store's answers to its requests chosen by the input (the record found,
//! another record, missing, unavailable, a conflict, a write stored, an
//! answer to a request it did not make), clock ticks and the connection
//! closing. The family's contract checker around the session checks that
//! it never panics, ends at most once, and sends and reports nothing
//! after its end.
#![no_main]

mod common;

use core::time::Duration;

use iot_sansio::store::{Deferred, StoreAnswer, Version, Versioned};
use iot_sansio::testing::Checked;
use libfuzzer_sys::fuzz_target;
use osap_proto::crypto::SessionKey;
use osap_proto::das::{
    DasSession, DasSessionConfig, DasSessionEvent, KeyAnswer, KeyRecord, KeyRequest, KeyTable,
    Registration,
};
use osap_proto::{Input, Machine, Packet, Suite};

const DEVID: &str = "dev";

fn connect(counter: u64, key: &SessionKey) -> Vec<u8> {
    let mut wire = Vec::new();
    let _ = Packet::Connect(Registration::new(DEVID, counter).to_connect(key)).encode(&mut wire);
    wire
}

/// The answer the input chooses for `request`.
fn answer(
    chunk: &[u8],
    request: &KeyRequest<Duration>,
    keys: &mut KeyTable<Duration>,
    key: &SessionKey,
) -> KeyAnswer<Duration> {
    let byte = |i: usize| chunk.get(i).copied().unwrap_or(0);
    match byte(0) % 6 {
        0 => keys.answer(&request.op),
        1 => StoreAnswer::Missing,
        2 => StoreAnswer::Unavailable,
        3 => StoreAnswer::Conflict,
        4 => StoreAnswer::Stored(Version::new(u64::from(byte(1)))),
        _ => {
            let other = SessionKey::from_bytes([byte(2); 16]);
            let mut record = KeyRecord::new(
                if byte(1) & 1 == 0 { key.clone() } else { other },
                Suite::Aes128Gcm,
                u64::from(byte(3)),
                (byte(1) & 2 != 0).then(|| Duration::from_secs(u64::from(byte(4)))),
            );
            record.revoked = byte(1) & 4 != 0;
            record.last_registration = (byte(1) & 8 != 0).then_some(u64::from(byte(5)));
            StoreAnswer::Found(Versioned {
                version: Version::new(u64::from(byte(6))),
                record,
            })
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let key = SessionKey::from_bytes([0x5a; 16]);
    let mut keys = KeyTable::new();
    keys.issue(DEVID, key.clone(), Suite::Aes128Gcm, None);
    let mut now = Duration::ZERO;
    let config = DasSessionConfig {
        node: Some(1),
        max_frame_len: 256,
        ..DasSessionConfig::default()
    };
    let mut das = Checked::new(DasSession::new(
        now,
        config,
        Deferred,
        iot_sansio::testing::rng(2),
    ));
    let mut asked: Option<KeyRequest<Duration>> = None;
    for (op, chunk) in common::ops(data, |op| usize::from(op >> 3)) {
        match op & 0x7 {
            0 | 1 => das.handle_input(now, Input::Data(chunk)),
            2 | 3 => {
                if let Some(request) = &asked {
                    let id = if op & 1 == 1 {
                        request.id.next()
                    } else {
                        request.id
                    };
                    let answer = answer(chunk, request, &mut keys, &key);
                    if das.provide(now, id, answer).is_ok() {
                        asked = None;
                    }
                }
            }
            4 => {
                now += Duration::from_millis(u64::from(op) * 100);
                das.handle_timeout(now);
            }
            5 => das.handle_input(now, Input::PeerClosed),
            _ => das.handle_input(now, Input::Data(&connect(u64::from(op >> 3), &key))),
        }
        for event in common::drain(&mut das) {
            if let DasSessionEvent::Store(request) = event {
                asked = Some(*request);
            }
        }
    }
});
