//! OSAP authentication: one full handshake (negotiation excluded; first
//! authentication with the DAS redirect, both sides, in memory), and
//! payload protection of 64 B, 1 KiB and 64 KiB under each suite, beside
//! the raw `aes-gcm` crate sealing the same buffers.

// Benchmark setup fails loudly on purpose: a broken fixture is a bug.
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use iot_sansio::testing::{Driver, pair};
use osap_proto::Machine;
use osap_proto::Suite;
use osap_proto::auth::{AuthConfig, DeviceAuth, DeviceAuthEvent, LbsAuth, MemoryDirectory};
use osap_proto::crypto::{PayloadCipher, SessionKey, VerificationCode};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

fn directory() -> MemoryDirectory<Duration> {
    let mut directory = MemoryDirectory::new("das.example:8883");
    directory.add_device("SN-1", VerificationCode::new("4711"));
    directory
}

fn handshake(rng: &mut ChaCha20Rng) -> String {
    let params = AuthConfig::new(1, Suite::Aes128Gcm);
    let mut device = DeviceAuth::<Duration, _>::first(
        params.clone(),
        &mut *rng,
        "SN-1",
        VerificationCode::new("4711"),
    );
    let mut lbs = LbsAuth::new(
        Duration::ZERO,
        params,
        ChaCha20Rng::seed_from_u64(2),
        directory(),
    );
    device.start(Duration::ZERO);
    Driver::new(Duration::ZERO).run(&mut [&mut device, &mut lbs], pair(|_, _| {}));
    while let Some(event) = device.poll_event() {
        if let DeviceAuthEvent::DasAddress(address) = event {
            return address;
        }
    }
    panic!("the handshake did not complete");
}

fn bench(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    c.bench_function("osap/auth/first-authentication-handshake", |b| {
        b.iter(|| handshake(&mut rng));
    });

    let key = [0x42u8; 16];
    for size in [64usize, 1024, 64 * 1024] {
        let plain = vec![0xa5u8; size];
        let mut g = c.benchmark_group(format!("osap/payload/{size}B"));
        g.throughput(Throughput::Bytes(size as u64));
        for suite in [Suite::Aes128Gcm, Suite::Aes128Cbc, Suite::Aes128Ecb] {
            let cipher = PayloadCipher::new(suite, SessionKey::from_bytes(key));
            let sealed = cipher.seal(b"dev/1/attr", &plain, &mut rng).unwrap();
            g.bench_function(BenchmarkId::new("seal", format!("{suite:?}")), |b| {
                b.iter(|| {
                    cipher
                        .seal(b"dev/1/attr", black_box(&plain), &mut rng)
                        .unwrap()
                });
            });
            g.bench_function(BenchmarkId::new("open", format!("{suite:?}")), |b| {
                b.iter(|| cipher.open(b"dev/1/attr", black_box(&sealed)).unwrap());
            });
        }
        // The raw aes-gcm crate: a random nonce, the buffer copied and
        // sealed in place, as the protocol does.
        let raw = Aes128Gcm::new(&key.into());
        g.bench_function(BenchmarkId::new("seal", "raw aes-gcm"), |b| {
            b.iter(|| {
                let mut nonce = [0u8; 12];
                rng.fill_bytes(&mut nonce);
                let mut buf = black_box(&plain).clone();
                let tag = raw
                    .encrypt_in_place_detached(&Nonce::from(nonce), b"dev/1/attr", &mut buf)
                    .unwrap();
                (nonce, buf, tag)
            });
        });
        let mut nonce = [0u8; 12];
        rng.fill_bytes(&mut nonce);
        let mut ct = plain.clone();
        let tag = raw
            .encrypt_in_place_detached(&Nonce::from(nonce), b"dev/1/attr", &mut ct)
            .unwrap();
        g.bench_function(BenchmarkId::new("open", "raw aes-gcm"), |b| {
            b.iter(|| {
                let mut buf = black_box(&ct).clone();
                raw.decrypt_in_place_detached(&Nonce::from(nonce), b"dev/1/attr", &mut buf, &tag)
                    .unwrap();
                buf
            });
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
