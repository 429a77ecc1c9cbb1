//! Simple IoT: the provisioning service answering an is-friend query, with
//! 1,000, 10,000, 100,000 and 1,000,000 registered and claimed things, to
//! show how the cost grows with the registry. No peer crate implements the
//! XEP.

// Benchmark setup fails loudly on purpose: a broken fixture is a bug.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use benches::fixtures::{SIOT_T0 as T0, siot_is_friend_query, siot_service};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use siot_proto::{Input, Machine, StanzaMachine};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("siot_is_friend_query");
    for n in [1_000usize, 10_000, 100_000, 1_000_000] {
        let mut ps = siot_service(n);
        let query = siot_is_friend_query(n);
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
