//! OIC Remote Access: from an IBB data stanza carrying the printed Response
//! example of section 7.3.1 to its JSON body, with this crate and with
//! `minidom` + `xmpp-parsers` doing the same steps (parse the stanza, take
//! the IBB data, decode base64, parse the `<rest>` document, parse the
//! JSON).

// Benchmark setup fails loudly on purpose: a broken fixture is a bug.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use minidom::Element;
use oic_ra_proto::ibb::IbbPayload;
use oic_ra_proto::identity::Jid;
use oic_ra_proto::rest::{RestLimits, RestMessage};
use oic_ra_proto::stanza::{Stanza, StanzaLimits};
use serde_json::Value;
use xmpp_parsers::ibb::Data;
use xmpp_parsers::message::Message;

/// Section 7.3.1, the Response example, as printed (indentation kept).
const PRINTED_RESPONSE: &str = r#"<rest xmlns="rest.oic.org">
  <url method="Response">200 OK</url>
  <headers>
        <header name="Content-Encoding">Application/JSON</header>
        <header name="Accept-Charset">UTF-8</header>
        <header name="Date"> Fri, 14 Aug 2015 08:49:38 GMT</header>
  </headers>
   <body>
      <json xmlns="urn:xmpp:json:0">
               {
                   "rt":       "oic.r.switch.binary",
                   "id":       "unique_example_id",
                   "value":    false
                 }
      </json>
   </body>
</rest>"#;

fn stanza() -> String {
    let data = IbbPayload::Data {
        sid: "7e9e01f39e2b7277bf7dbd87".into(),
        seq: 0,
        data: PRINTED_RESPONSE.as_bytes().to_vec(),
    };
    let mut s = data.to_stanza(
        Jid::new("alice@example.org/OIC/1.0/Client/6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11").unwrap(),
        "d1",
    );
    s.from = Some(
        Jid::new("alice@example.org/OIC/1.0/oic.d.light/0685b960-736f-46f7-bead-0bd3b6d8d1d6")
            .unwrap(),
    );
    s.to_xml()
}

fn ours(xml: &str) -> Value {
    let s = Stanza::parse(xml, &StanzaLimits::default()).unwrap();
    let IbbPayload::Data { data, .. } = IbbPayload::from_stanza(&s).unwrap() else {
        panic!("not data")
    };
    let doc = std::str::from_utf8(&data).unwrap();
    let m = RestMessage::parse(doc, &RestLimits::default()).unwrap();
    m.json().unwrap().unwrap()
}

fn peer(xml: &str) -> Value {
    let e: Element = xml.parse().unwrap();
    let m = Message::try_from(e).unwrap();
    let block = m
        .payloads
        .into_iter()
        .find(|p| p.is("data", "http://jabber.org/protocol/ibb"))
        .unwrap();
    let data = Data::try_from(block).unwrap();
    let doc: Element = std::str::from_utf8(&data.data).unwrap().parse().unwrap();
    let json = doc
        .get_child("body", "rest.oic.org")
        .and_then(|b| b.get_child("json", "urn:xmpp:json:0"))
        .unwrap();
    serde_json::from_str(json.text().trim()).unwrap()
}

fn bench(c: &mut Criterion) {
    let xml = stanza();
    assert_eq!(ours(&xml), peer(&xml));
    let mut g = c.benchmark_group("oic_response_from_ibb_stanza");
    g.bench_function("oic-ra-proto", |b| b.iter(|| ours(black_box(&xml))));
    g.bench_function("minidom+xmpp-parsers", |b| b.iter(|| peer(black_box(&xml))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
