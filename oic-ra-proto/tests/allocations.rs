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

/// The blocks the path has allocated after each step, reading with
/// `Stanza::parse` and `RestMessage::parse` (owned strings), today:
/// parsing the stanza 19 (the JIDs, the element tree's names, attribute
/// values and text, its lists; the namespace reader's stack of open
/// elements and its list of the attributes of the element just opened,
/// which the root keeps and the next element allocates again; the tree's
/// stack of elements being built; and quick-xml's stack of open tag
/// names); reading the IBB payload 2 more (the session id, and the base64
/// decoded into one buffer straight from the stanza's text); reading the
/// `<rest>` document 15 more (the status line, each header's name and
/// value, the body, the header list, the namespace reader's two stacks,
/// quick-xml's stack); the JSON body 6 more (the map, its keys and
/// values).
const OWNED: [u64; 4] = [19, 21, 36, 42];

/// The same, reading in place with `Stanza::parse_ref` and
/// `RestMessage::parse_ref`, where no name, attribute value or text is
/// copied: parsing the stanza 11 (one per JID, the list of payloads, the
/// list of `<data>`'s attributes, the namespace reader's and the tree's
/// stacks and attribute lists as above, and quick-xml's stack of open tag
/// names, two lists that grow); the IBB payload 2 more, as above; the
/// `<rest>` document 7 more (the header list, the namespace reader's
/// stacks, and quick-xml's stack as the tags nest); the JSON body 6 more.
const IN_PLACE: [u64; 4] = [11, 13, 20, 26];

fn response_stanza() -> String {
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
    stanza.to_xml()
}

/// Runs the four steps, the blocks allocated counted after each.
fn count(steps: impl FnOnce(&mut dyn FnMut() -> u64) -> serde_json::Value) -> [u64; 4] {
    let before = dhat::HeapStats::get().total_blocks;
    let mut counts = [0; 4];
    let mut step = 0;
    let json = steps(&mut || {
        let now = dhat::HeapStats::get().total_blocks - before;
        counts[step] = now;
        step += 1;
        now
    });
    assert!(json.is_object());
    assert_eq!(step, 4);
    counts
}

#[test]
fn the_response_example_reads_in_a_counted_number_of_blocks() {
    let xml = response_stanza();
    let _profiler = dhat::Profiler::builder().testing().build();
    let owned = count(|mark| {
        let s = Stanza::parse(&xml, &StanzaLimits::default()).unwrap();
        mark();
        let IbbPayload::Data { data, .. } = IbbPayload::from_stanza(&s).unwrap() else {
            panic!("not an IBB data stanza")
        };
        mark();
        let doc = std::str::from_utf8(&data).unwrap();
        let message = RestMessage::parse(doc, &RestLimits::default()).unwrap();
        mark();
        let json = message.json().unwrap().unwrap();
        mark();
        json
    });
    dhat::assert_eq!(owned, OWNED, "heap blocks reading with owned strings");
    let in_place = count(|mark| {
        let s = Stanza::parse_ref(&xml, &StanzaLimits::default()).unwrap();
        mark();
        let IbbPayload::Data { data, .. } = IbbPayload::from_stanza(&s).unwrap() else {
            panic!("not an IBB data stanza")
        };
        mark();
        let doc = std::str::from_utf8(&data).unwrap();
        let message = RestMessage::parse_ref(doc, &RestLimits::default()).unwrap();
        mark();
        let json = message.json().unwrap().unwrap();
        mark();
        json
    });
    dhat::assert_eq!(in_place, IN_PLACE, "heap blocks reading in place");
}
