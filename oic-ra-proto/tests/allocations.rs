//! How many heap blocks reading the printed Response example of section
//! 7.3.1 takes, from the IBB data stanza that carries it to its JSON body:
//! counted with dhat's allocator, in a test binary of its own so that no
//! other test allocates at the same time. The count is documented here and
//! the test fails when it changes: a new allocation on this path is a
//! regression to look at, a removed one is a number to update.

#![allow(clippy::unwrap_used, clippy::panic)]

use oic_ra_proto::ibb::IbbPayload;
use oic_ra_proto::identity::Jid;
use oic_ra_proto::rest::{RestLimits, RestMessage};
use oic_ra_proto::stanza::{Stanza, StanzaLimits};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const PRINTED_RESPONSE: &str = include_str!("vectors/response-7.3.1.xml");

/// The blocks the path has allocated after each step, today: parsing the
/// stanza 20 (the element tree owns its names, attributes, text and child
/// lists); reading the IBB payload 2 more (the session id, and the base64
/// decoded into one buffer straight from the stanza's text); reading the
/// `<rest>` document 32 more (the streaming reader's owned copies: the
/// status line, each header's name and value, the body text); the JSON
/// body 6 more (the map, its keys and values).
const BLOCKS: [u64; 4] = [20, 22, 54, 60];

#[test]
fn the_response_example_reads_in_a_counted_number_of_blocks() {
    let data = IbbPayload::Data {
        sid: "7e9e01f39e2b7277bf7dbd87".into(),
        seq: 0,
        data: PRINTED_RESPONSE.as_bytes().to_vec(),
    };
    let mut stanza = data.to_stanza(
        Jid::new("alice@example.org/OIC/1.0/Client/6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11").unwrap(),
        "d1",
    );
    stanza.from = Some(
        Jid::new("alice@example.org/OIC/1.0/oic.d.light/0685b960-736f-46f7-bead-0bd3b6d8d1d6")
            .unwrap(),
    );
    let xml = stanza.to_xml();

    let _profiler = dhat::Profiler::builder().testing().build();
    let before = dhat::HeapStats::get();
    let blocks = || dhat::HeapStats::get().total_blocks - before.total_blocks;
    let s = Stanza::parse(&xml, &StanzaLimits::default()).unwrap();
    let stanza_blocks = blocks();
    let IbbPayload::Data { data, .. } = IbbPayload::from_stanza(&s).unwrap() else {
        panic!("not an IBB data stanza")
    };
    let ibb_blocks = blocks();
    let doc = std::str::from_utf8(&data).unwrap();
    let message = RestMessage::parse(doc, &RestLimits::default()).unwrap();
    let rest_blocks = blocks();
    let json = message.json().unwrap().unwrap();
    let all = blocks();
    assert!(json.is_object());
    dhat::assert_eq!(
        [stanza_blocks, ibb_blocks, rest_blocks, all],
        BLOCKS,
        "heap blocks on the OIC Response path, after each step"
    );
}
