//! OSAP on the DAS connection: one event report end to end on the device
//! (JSON, sealing, PUBLISH framing) and its decoding on the platform
//! (frame, PUBLISH, opening, JSON); and a DAS holding 10,000 registered
//! device sessions, each answering a heartbeat. No peer crate implements
//! the draft.

// Benchmark setup fails loudly on purpose: a broken fixture is a bug.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use osap_proto::business::{Body, BusinessChannel, BusinessMessage, Direction, Params};
use osap_proto::crypto::SessionKey;
use osap_proto::das::{DasSession, DasSessionConfig, KeyTable, Registration};
use osap_proto::{Delivery, FrameDecoder, Input, Machine, Packet, Publish, Suite, TopicName};

const T0: Duration = Duration::ZERO;

fn event() -> BusinessMessage {
    let mut params = Params::new();
    params.insert("zone".into(), 3.into());
    params.insert("confidence".into(), 0.93.into());
    params.insert("snapshot".into(), "2026-11-26T12:00:00Z/zone3.jpg".into());
    BusinessMessage::new(
        "motion",
        Body::Event {
            name: "detected".into(),
            params,
            id: None,
        },
    )
}

fn channel(direction: Direction) -> BusinessChannel {
    BusinessChannel::new(
        Suite::Aes128Gcm,
        SessionKey::from_bytes([9; 16]),
        "cam-1",
        1,
        direction,
    )
}

fn frame(topic: &str, payload: &[u8], out: &mut Vec<u8>) {
    Packet::Publish(Publish {
        delivery: Delivery::AtLeastOnce {
            packet_id: 1.try_into().unwrap(),
            dup: false,
        },
        retain: false,
        topic: TopicName::new(topic).unwrap(),
        payload: payload.into(),
    })
    .encode(out)
    .unwrap();
}

fn event_report(c: &mut Criterion) {
    let message = event();
    let mut g = c.benchmark_group("osap/das/event");
    g.bench_function("report (JSON, seal, frame)", |b| {
        let mut device = channel(Direction::Up);
        let mut rng = iot_sansio::testing::rng(1);
        let mut out = Vec::with_capacity(512);
        b.iter(|| {
            out.clear();
            let sealed = device.seal(black_box(&message), &mut rng).unwrap();
            frame(&sealed.topic, &sealed.payload, &mut out);
        });
    });
    let mut wire = Vec::new();
    let sealed = channel(Direction::Up)
        .seal(&message, &mut iot_sansio::testing::rng(1))
        .unwrap();
    frame(&sealed.topic, &sealed.payload, &mut wire);
    g.bench_function("decode (frame, open, JSON)", |b| {
        let mut decoder = FrameDecoder::default();
        b.iter_batched(
            || channel(Direction::Down),
            |mut platform| {
                let (_, raw) = decoder.decode(black_box(&wire)).unwrap();
                let Packet::Publish(p) = Packet::from_raw(raw.unwrap()).unwrap() else {
                    unreachable!()
                };
                // The channel is handed back so that its drop is not timed.
                (platform.open(&p.topic, &p.payload).unwrap(), platform)
            },
            BatchSize::SmallInput,
        );
    });
    g.finish();
}

/// A DAS process's worth of registered sessions, with the PINGREQ each
/// device would send.
fn sessions(n: usize) -> Vec<DasSession<Duration, KeyTable<Duration>, rand_chacha::ChaCha20Rng>> {
    (0..n)
        .map(|i| {
            let devid = format!("dev-{i:05}");
            let key = SessionKey::from_bytes([u8::try_from(i % 251).unwrap(); 16]);
            let mut keys = KeyTable::new();
            keys.issue(devid.clone(), key.clone(), Suite::Aes128Gcm, None);
            let mut das = DasSession::new(
                T0,
                DasSessionConfig::default(),
                keys,
                iot_sansio::testing::rng(i as u64),
            );
            let mut connect = Vec::new();
            Packet::Connect(Registration::new(devid, 1).to_connect(&key))
                .encode(&mut connect)
                .unwrap();
            das.handle_input(T0, Input::Data(&connect));
            assert!(das.is_registered());
            while das.poll_transmit().is_some() {}
            while das.poll_event().is_some() {}
            das
        })
        .collect()
}

fn many_sessions(c: &mut Criterion) {
    let mut all = sessions(10_000);
    let ping = [0xc0, 0x00];
    let mut g = c.benchmark_group("osap/das/10000-sessions");
    g.bench_function("heartbeat round", |b| {
        let now = Duration::from_secs(20);
        b.iter(|| {
            for das in &mut all {
                das.handle_input(now, Input::Data(black_box(&ping)));
                let pong = das.poll_transmit().unwrap();
                das.recycle(pong);
            }
        });
    });
    g.finish();
}

criterion_group!(benches, event_report, many_sessions);
criterion_main!(benches);
