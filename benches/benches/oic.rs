//! OIC Remote Access: from an IBB data stanza carrying the printed Response
//! example of section 7.3.1 to its JSON body, with this crate and with
//! `minidom` + `xmpp-parsers` doing the same steps (parse the stanza, take
//! the IBB data, decode base64, parse the `<rest>` document, parse the
//! JSON).

// Benchmark setup fails loudly on purpose: a broken fixture is a bug.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use benches::fixtures::{oic_minidom, oic_ours, oic_response_stanza};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let xml = oic_response_stanza();
    assert_eq!(oic_ours(&xml), oic_minidom(&xml));
    let mut g = c.benchmark_group("oic_response_from_ibb_stanza");
    g.bench_function("oic-ra-proto", |b| b.iter(|| oic_ours(black_box(&xml))));
    g.bench_function("minidom+xmpp-parsers", |b| {
        b.iter(|| oic_minidom(black_box(&xml)));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
