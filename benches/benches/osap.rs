//! OSAP: decoding and encoding a 64-byte and a 4 KiB PUBLISH and a
//! negotiation frame, beside the `mqttrs` and `mqttbytes` crates decoding
//! and encoding the same PUBLISH bytes.

// Benchmark setup fails loudly on purpose: a broken fixture is a bug.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use benches::fixtures::publish;
use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use osap_proto::{
    ControlFlags, ControlFrame, FrameDecoder, NegotiationKind, NegotiationMessage, Packet,
    ProtocolGroup, ProtocolVersion,
};

fn bench_publish(c: &mut Criterion, name: &str, payload_len: usize) {
    let payload = vec![0xa5u8; payload_len];
    let packet = publish(&payload);
    let mut wire = Vec::new();
    packet.encode(&mut wire).unwrap();
    let theirs = {
        let mut p = mqttbytes::v4::Publish::new(
            "dev/1234/attr/report",
            mqttbytes::QoS::AtLeastOnce,
            payload.clone(),
        );
        p.pkid = 7;
        p
    };
    let theirs_rs = mqttrs::Packet::Publish(mqttrs::Publish {
        dup: false,
        qospid: mqttrs::QosPid::AtLeastOnce(mqttrs::Pid::try_from(7).unwrap()),
        retain: false,
        topic_name: "dev/1234/attr/report",
        payload: &payload,
    });
    let mut check = BytesMut::new();
    theirs.write(&mut check).unwrap();
    assert_eq!(&check[..], &wire[..], "mqttbytes encodes the same bytes");
    let mut check = vec![0u8; wire.len()];
    let len = mqttrs::encode_slice(&theirs_rs, &mut check).unwrap();
    assert_eq!(&check[..len], &wire[..], "mqttrs encodes the same bytes");

    let mut g = c.benchmark_group(format!("osap/publish-{name}/decode"));
    g.throughput(Throughput::Bytes(wire.len() as u64));
    g.bench_function("osap-proto", |b| {
        let mut decoder = FrameDecoder::new(1 << 20);
        b.iter(|| {
            let (_, raw) = decoder.decode(black_box(&wire)).unwrap();
            black_box(Packet::from_raw(raw.unwrap()).unwrap());
        });
    });
    g.bench_function("mqttrs", |b| {
        b.iter(|| mqttrs::decode_slice(black_box(&wire)).unwrap());
    });
    g.bench_function("mqttbytes", |b| {
        b.iter_batched(
            || BytesMut::from(&wire[..]),
            |mut stream| mqttbytes::v4::read(&mut stream, 1 << 20).unwrap(),
            BatchSize::SmallInput,
        );
    });
    g.finish();

    let mut g = c.benchmark_group(format!("osap/publish-{name}/encode"));
    g.throughput(Throughput::Bytes(wire.len() as u64));
    g.bench_function("osap-proto", |b| {
        let mut out = BytesMut::with_capacity(wire.len());
        b.iter(|| {
            out.clear();
            black_box(&packet).encode(&mut out).unwrap();
        });
    });
    g.bench_function("mqttrs", |b| {
        let mut out = vec![0u8; wire.len()];
        b.iter(|| mqttrs::encode_slice(black_box(&theirs_rs), &mut out).unwrap());
    });
    g.bench_function("mqttbytes", |b| {
        let mut out = BytesMut::with_capacity(wire.len());
        b.iter(|| {
            out.clear();
            black_box(&theirs).write(&mut out).unwrap();
        });
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    bench_publish(c, "64B", 64);
    bench_publish(c, "4KiB", 4096);

    let negotiation = NegotiationMessage {
        flags: ControlFlags::ECDH,
        protocol_type: 1,
        protocol_group: ProtocolGroup::ALL,
        version: ProtocolVersion::DEFAULT,
        transaction: b"txn-0001".as_slice().into(),
    };
    let frame = negotiation.to_frame(NegotiationKind::Request);
    let mut wire = Vec::new();
    frame.encode(&mut wire).unwrap();
    let mut g = c.benchmark_group("osap/negotiation");
    g.bench_function("decode", |b| {
        b.iter(|| ControlFrame::parse(black_box(&wire)).unwrap());
    });
    g.bench_function("encode", |b| {
        let mut out = BytesMut::with_capacity(wire.len());
        b.iter(|| {
            out.clear();
            black_box(&frame).encode(&mut out).unwrap();
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
