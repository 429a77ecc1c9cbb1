//! IRSP: building and parsing Message 2 (device registration) and an
//! `<error>` response, beside the same request work done with the `url`
//! crate and `serde_urlencoded`.

// Benchmark setup fails loudly on purpose: a broken fixture is a bug.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use benches::fixtures::{irsp_peer_build, irsp_peer_parse, irsp_routes, message_2};
use criterion::{Criterion, criterion_group, criterion_main};
use irsp_proto::{Limits, MessageKind, Request, Response, ServerAddress, ServerRole, Status};

fn bench(c: &mut Criterion) {
    let routes = irsp_routes();
    let server: ServerAddress = "www.igrslab.com:8080".parse().unwrap();
    let limits = Limits::default();
    let request = message_2();
    let ours = request.to_url(&server, &routes);
    let theirs = irsp_peer_build();

    let mut g = c.benchmark_group("irsp/message2/build");
    g.bench_function("irsp-proto", |b| {
        b.iter(|| black_box(&request).to_url(&server, &routes));
    });
    g.bench_function("url+serde_urlencoded", |b| b.iter(irsp_peer_build));
    g.finish();

    let mut g = c.benchmark_group("irsp/message2/parse");
    g.bench_function("irsp-proto", |b| {
        b.iter(|| {
            Request::parse_url(black_box(&ours), ServerRole::Message, &routes, &limits).unwrap()
        });
    });
    g.bench_function("url+serde_urlencoded", |b| {
        b.iter(|| irsp_peer_parse(black_box(&theirs)));
    });
    g.finish();

    let response = Response::new(MessageKind::RegisterDevice, Status::IdExisted).unwrap();
    let body = response.body();
    let mut g = c.benchmark_group("irsp/response");
    g.bench_function("build", |b| b.iter(|| black_box(&response).body()));
    g.bench_function("parse", |b| {
        b.iter(|| {
            Response::parse(
                MessageKind::RegisterDevice,
                421,
                black_box(body.as_bytes()),
                &limits,
            )
            .unwrap()
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
