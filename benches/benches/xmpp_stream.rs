//! The XMPP client's stream reader over a recorded-style session of 10,000
//! stanzas (messages, presences and IQs, as a server sends them), beside
//! quick-xml's raw event loop over the same bytes; and one SCRAM login's
//! client-side computation (SHA-1 and SHA-256 at 4096 iterations, the
//! RFC 5802 and RFC 7677 exchanges).

// Benchmark setup fails loudly on purpose: a broken fixture is a bug.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use iot_sansio::Secret;
use iot_xmpp::sasl::{ScramClient, ScramHash};
use iot_xmpp::stream::{StreamItem, StreamReadError, StreamReader};
use iot_xmpp::{Stanza, StanzaLimits};
use quick_xml::Reader;
use quick_xml::events::Event;

/// 10,000 stanzas after a stream header, as one byte string.
fn session() -> Vec<u8> {
    let mut s = String::from(
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams' id='s2' from='example.org' version='1.0'>",
    );
    for i in 0..10_000 {
        match i % 4 {
            0 => s.push_str(&format!(
                "<message from='light{i}@example.org/OIC/1.0/Light/6f0aac23' to='client@example.org/OIC/1.0/Client/1b7e' type='chat' id='m{i}'><body>state changed &amp; reported</body></message>"
            )),
            1 => s.push_str(&format!(
                "<presence from='light{i}@example.org/OIC/1.0/Light/6f0aac23'><priority>10</priority><status>online</status></presence>"
            )),
            2 => s.push_str(&format!(
                "<iq type='set' id='ibb{i}' from='light{i}@example.org/OIC/1.0/Light/6f0aac23' to='client@example.org/OIC/1.0/Client/1b7e'><data xmlns='http://jabber.org/protocol/ibb' seq='{}' sid='s1'>PHJlc3QgeG1sbnM9InJlc3Qub2ljLm9yZyI+PHVybCBtZXRob2Q9IkdldCI+Y29hcDovL2QvYTwvdXJsPjwvcmVzdD4=</data></iq>",
                i % 65_536
            )),
            _ => s.push_str(&format!("<iq type='result' id='ping{i}' from='example.org'/>\n")),
        }
    }
    s.into_bytes()
}

/// Our reader: bytes in 4 KiB reads, each top-level element handed out.
fn stream_reader(bytes: &[u8]) -> usize {
    let mut reader = StreamReader::default();
    let mut n = 0;
    for chunk in bytes.chunks(4096) {
        reader
            .feed(chunk, |item| {
                if let StreamItem::Element(e) = item {
                    n += e.len();
                }
                Ok::<_, StreamReadError>(true)
            })
            .unwrap();
    }
    n
}

/// Our reader, each element then read as a stanza.
fn stream_reader_stanzas(bytes: &[u8]) -> usize {
    let mut reader = StreamReader::default();
    let limits = StanzaLimits::default();
    let mut n = 0;
    for chunk in bytes.chunks(4096) {
        reader
            .feed(chunk, |item| {
                if let StreamItem::Element(e) = item {
                    n += Stanza::parse_ref(e, &limits).unwrap().payloads.len();
                }
                Ok::<_, StreamReadError>(true)
            })
            .unwrap();
    }
    n
}

/// quick-xml's raw event loop over the whole session at once (it cannot
/// resume on a partial read), counting the top-level elements' ends.
fn quick_xml_events(bytes: &[u8]) -> usize {
    let mut r = Reader::from_reader(bytes);
    let mut depth = 0usize;
    let mut n = 0;
    loop {
        match r.read_event().unwrap() {
            Event::Start(_) => depth += 1,
            Event::End(_) => {
                depth -= 1;
                if depth == 1 {
                    n += 1;
                }
            }
            Event::Empty(_) if depth == 1 => n += 1,
            Event::Eof => return n,
            _ => {}
        }
    }
}

fn bench_reader(c: &mut Criterion) {
    let bytes = session();
    assert_eq!(quick_xml_events(&bytes), 10_000);
    let mut g = c.benchmark_group("xmpp_stream_10000_stanzas");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("iot_xmpp_stream_reader", |b| {
        b.iter(|| stream_reader(black_box(&bytes)));
    });
    g.bench_function("quick_xml_raw_events", |b| {
        b.iter(|| quick_xml_events(black_box(&bytes)));
    });
    g.bench_function("iot_xmpp_stream_reader_and_stanzas", |b| {
        b.iter(|| stream_reader_stanzas(black_box(&bytes)));
    });
    g.finish();
}

fn bench_scram(c: &mut Criterion) {
    let password = Secret::new("pencil");
    let mut g = c.benchmark_group("scram_login_client");
    g.bench_function("sha1_4096", |b| {
        b.iter(|| {
            let mut s = ScramClient::with_nonce(
                ScramHash::Sha1,
                "user",
                &password,
                "fyko+d2lbbFgONRv9qkxdawL",
            )
            .unwrap();
            let _ = black_box(s.client_first());
            let last = s
                .server_first(
                    b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
                )
                .unwrap();
            s.server_final(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=").unwrap();
            last
        });
    });
    g.bench_function("sha256_4096", |b| {
        b.iter(|| {
            let mut s =
                ScramClient::with_nonce(ScramHash::Sha256, "user", &password, "rOprNGfwEbeRWgbNEkqO").unwrap();
            let last = s
                .server_first(
                    b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
                )
                .unwrap();
            s.server_final(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=").unwrap();
            last
        });
    });
    g.finish();
}

criterion_group!(benches, bench_reader, bench_scram);
criterion_main!(benches);
