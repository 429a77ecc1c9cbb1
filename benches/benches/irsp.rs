//! IRSP: building and parsing Message 2 (device registration) and an
//! `<error>` response, beside the same request work done with the `url`
//! crate and `serde_urlencoded`.

// Benchmark setup fails loudly on purpose: a broken fixture is a bug.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use irsp_proto::{
    AccountAuth, AdditionalParams, DeviceAccount, DeviceName, Limits, MessageKind, Request,
    Response, Secret, ServerAddress, ServerRole, ServiceRoutes, Status,
};
use serde::Deserialize;

fn message_2() -> Request {
    let mut additional = AdditionalParams::new();
    additional.push("location", "living room").unwrap();
    Request::RegisterDevice(DeviceAccount {
        auth: AccountAuth {
            appid: "account-server-1".into(),
            token: Secret::new("9f8e7d6c5b4a"),
        },
        name: DeviceName::new("#igrsdevice").unwrap(),
        password: Secret::new("p&ss w=rd"),
        verifycode: Some(Secret::new("482913")),
        device_type: Some("television".into()),
        vendor: Some("IGRS Lab".into()),
        model: Some("TV-55".into()),
        additional,
    })
}

/// The fields of Message 2 as the peer crates see them.
#[derive(Deserialize)]
#[allow(dead_code)]
struct PeerMessage2 {
    version: String,
    appid: String,
    token: String,
    name: String,
    password: String,
    verifycode: Option<String>,
    #[serde(rename = "type")]
    device_type: Option<String>,
    vendor: Option<String>,
    model: Option<String>,
    location: Option<String>,
}

fn peer_build() -> String {
    let mut url = url::Url::parse("https://www.igrslab.com:8080/device/register").unwrap();
    url.query_pairs_mut()
        .append_pair("version", "1")
        .append_pair("appid", "account-server-1")
        .append_pair("token", "9f8e7d6c5b4a")
        .append_pair("name", "#igrsdevice")
        .append_pair("password", "p&ss w=rd")
        .append_pair("verifycode", "482913")
        .append_pair("type", "television")
        .append_pair("vendor", "IGRS Lab")
        .append_pair("model", "TV-55")
        .append_pair("location", "living room");
    url.into()
}

fn peer_parse(text: &str) -> PeerMessage2 {
    let url = url::Url::parse(text).unwrap();
    assert_eq!(url.path(), "/device/register");
    serde_urlencoded::from_str(url.query().unwrap_or_default()).unwrap()
}

fn bench(c: &mut Criterion) {
    let routes = ServiceRoutes::new(
        "/upload/user",
        "/upload/device",
        "/notify",
        "/push",
        "/exchange",
    )
    .unwrap();
    let server: ServerAddress = "www.igrslab.com:8080".parse().unwrap();
    let limits = Limits::default();
    let request = message_2();
    let ours = request.to_url(&server, &routes);
    let theirs = peer_build();

    let mut g = c.benchmark_group("irsp/message2/build");
    g.bench_function("irsp-proto", |b| {
        b.iter(|| black_box(&request).to_url(&server, &routes));
    });
    g.bench_function("url+serde_urlencoded", |b| b.iter(peer_build));
    g.finish();

    let mut g = c.benchmark_group("irsp/message2/parse");
    g.bench_function("irsp-proto", |b| {
        b.iter(|| {
            Request::parse_url(black_box(&ours), ServerRole::Message, &routes, &limits).unwrap()
        });
    });
    g.bench_function("url+serde_urlencoded", |b| {
        b.iter(|| peer_parse(black_box(&theirs)));
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
