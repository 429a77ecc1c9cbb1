//! Simple IoT: the provisioning service answering an is-friend query, with
//! 1,000, 10,000 and 100,000 registered and claimed things, to show how the
//! cost grows with the registry. No peer crate implements the XEP.

// Benchmark setup fails loudly on purpose: a broken fixture is a bug.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use siot_proto::key::Key;
use siot_proto::payload::{Name, SiotPayload};
use siot_proto::provisioning::ProvisioningService;
use siot_proto::stanza::{Jid, Stanza};
use siot_proto::{Input, Machine, StanzaMachine};

const T0: Duration = Duration::ZERO;

fn from(p: &SiotPayload, sender: &str) -> Stanza {
    let mut s = p.to_stanza(Jid::new("provisioning.example.org").unwrap(), "q");
    s.from = Some(Jid::new(sender).unwrap());
    s
}

/// `n` things, thing i owned by owner i.
fn service(n: usize) -> ProvisioningService<Duration> {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let mut ps = ProvisioningService::new(Default::default());
    for i in 0..n {
        let key = Key::generate(&mut rng);
        let name = format!("Thing {i}");
        let register = SiotPayload::Register {
            key: key.clone(),
            names: vec![Name {
                lang: None,
                text: name.clone(),
            }],
        };
        let register = from(&register, &format!("thing{i}@example.org/r"));
        ps.handle_input(T0, Input::Data(&register));
        let claim = from(
            &SiotPayload::Claim { name, key },
            &format!("owner{i}@example.com/o"),
        );
        ps.handle_input(T0, Input::Data(&claim));
        while ps.poll_transmit().is_some() {}
        while ps.poll_event().is_some() {}
    }
    assert_eq!(ps.thing_count(), n);
    ps
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("siot_is_friend_query");
    for n in [1_000usize, 10_000, 100_000] {
        let mut ps = service(n);
        let k = n / 2;
        let query = from(
            &SiotPayload::IsFriendQuery {
                jid: siot_proto::stanza::BareJid::new(&format!("owner{k}@example.com")).unwrap(),
            },
            &format!("thing{k}@example.org/r"),
        );
        let text = query.to_xml();
        g.bench_with_input(BenchmarkId::new("parsed", n), &query, |b, q| {
            b.iter(|| {
                ps.handle_input(T0, Input::Data(black_box(q)));
                ps.poll_transmit().unwrap().to_xml()
            });
        });
        g.bench_with_input(BenchmarkId::new("from_text", n), &text, |b, t| {
            b.iter(|| {
                ps.handle_stanza(T0, black_box(t)).unwrap();
                ps.poll_transmit().unwrap().to_xml()
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
