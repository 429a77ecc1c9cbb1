//! The incremental stream reader: a recorded server stream split at every
//! byte position, several elements in one read, the limits applied while
//! reading, the markup RFC 6120 section 11.1 forbids, keepalives, close
//! and restart.

#![allow(clippy::unwrap_used)]

use iot_xmpp::stream::{StreamItem, StreamReadError, StreamReader};
use iot_xmpp::{Stanza, StanzaLimits};
use proptest::prelude::*;

/// A server's side of a client connection, written as Prosody writes it
/// (single quotes, the features on one line), with the RFC 5802
/// server-first-message as the SASL challenge, escapes, CDATA, a `>` in
/// an attribute value, keepalive white space and the closing tag.
const SERVER: &str = "<?xml version='1.0'?>\
<stream:stream xmlns='jabber:client' xml:lang='en' id='8e0c3f2a-1b7e-4c1e-9a55-3f4d2b6c7d10' \
from='localhost' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>\
<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
<mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms></stream:features>\
<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0wzcmZjTkhZSlkxWlZ2V1ZzN2oscz1RU1hDUitRNnNlazhiZjkyLGk9NDA5Ng==</challenge>\n \
<message from='a@localhost/r' type='chat' id='m&amp;1'><body>a &lt;b&gt; <![CDATA[<not> a tag]]> c</body></message>\
<presence from='b@localhost/r'><status>x &gt; y</status></presence> \
<iq type='result' id='q' from='localhost'><query xmlns='jabber:iq:roster' ver='v>1'/></iq>\
</stream:stream>";

/// Everything read from `input` cut at `cuts`, as text.
fn read(
    input: &[u8],
    cuts: &[usize],
    limits: StanzaLimits,
) -> Result<Vec<String>, StreamReadError> {
    let mut reader = StreamReader::new(limits);
    let mut got = Vec::new();
    let mut at = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        let cut = cut.clamp(at, input.len());
        let used = reader.feed(&input[at..cut], |item| {
            got.push(match item {
                StreamItem::Header(h) => {
                    format!("header {} {}", h.id.as_deref().unwrap_or(""), h.prefix)
                }
                StreamItem::Element(e) => e.to_owned(),
                StreamItem::Closed => "closed".to_owned(),
            });
            Ok::<_, StreamReadError>(true)
        })?;
        assert_eq!(used, cut - at);
        at = cut;
    }
    Ok(got)
}

fn expected() -> Vec<String> {
    vec![
        "header 8e0c3f2a-1b7e-4c1e-9a55-3f4d2b6c7d10 stream".into(),
        "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms></stream:features>".into(),
        "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0wzcmZjTkhZSlkxWlZ2V1ZzN2oscz1RU1hDUitRNnNlazhiZjkyLGk9NDA5Ng==</challenge>".into(),
        "<message from='a@localhost/r' type='chat' id='m&amp;1'><body>a &lt;b&gt; <![CDATA[<not> a tag]]> c</body></message>".into(),
        "<presence from='b@localhost/r'><status>x &gt; y</status></presence>".into(),
        "<iq type='result' id='q' from='localhost'><query xmlns='jabber:iq:roster' ver='v>1'/></iq>".into(),
        "closed".into(),
    ]
}

#[test]
fn a_recorded_stream_reads_the_same_split_at_every_byte_position() {
    let input = SERVER.as_bytes();
    let whole = read(input, &[], StanzaLimits::default()).unwrap();
    assert_eq!(whole, expected());
    for cut in 1..input.len() {
        assert_eq!(
            read(input, &[cut], StanzaLimits::default()).unwrap(),
            whole,
            "cut at {cut}"
        );
    }
    let every: Vec<usize> = (1..input.len()).collect();
    assert_eq!(read(input, &every, StanzaLimits::default()).unwrap(), whole);
}

proptest! {
    #[test]
    fn any_cuts_give_the_same_items(mut cuts in proptest::collection::vec(0usize..SERVER.len(), 0..12)) {
        cuts.sort_unstable();
        prop_assert_eq!(read(SERVER.as_bytes(), &cuts, StanzaLimits::default()).unwrap(), expected());
    }
}

#[test]
fn the_elements_read_as_stanzas_and_nonzas() {
    let reader = {
        let mut r = StreamReader::default();
        r.feed(SERVER.as_bytes()[..220].as_ref(), |_| {
            Ok::<_, StreamReadError>(true)
        })
        .unwrap();
        r
    };
    let items = expected();
    let features = reader.read_element(&items[1]).unwrap();
    assert_eq!(
        (features.name.as_str(), features.ns.as_str()),
        ("features", "http://etherx.jabber.org/streams")
    );
    let mechanisms = features
        .get_child("mechanisms", "urn:ietf:params:xml:ns:xmpp-sasl")
        .unwrap();
    let names: Vec<_> = mechanisms
        .children
        .iter()
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(names, ["SCRAM-SHA-1", "PLAIN"]);
    let message = Stanza::parse(&items[3], &StanzaLimits::default()).unwrap();
    assert_eq!(message.id.as_deref(), Some("m&1"));
    assert_eq!(message.payloads[0].text, "a <b> <not> a tag c");
    let iq = Stanza::parse(&items[5], &StanzaLimits::default()).unwrap();
    assert_eq!(iq.payloads[0].get_attr("ver"), Some("v>1"));
}

#[test]
fn white_space_keepalives_are_skipped_and_several_elements_come_from_one_read() {
    let input =
        "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>\n \n<a/> \t<b></b>\n\n\n";
    let got = read(input.as_bytes(), &[], StanzaLimits::default()).unwrap();
    assert_eq!(got, ["header  stream", "<a/>", "<b></b>"]);
}

#[test]
fn an_element_over_the_limit_is_refused_before_more_is_buffered() {
    let limits = StanzaLimits {
        max_len: 64,
        ..StanzaLimits::default()
    };
    let header = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>";
    let fits = format!(
        "{header}<message><body>{}</body></message>",
        "x".repeat(64 - 32)
    );
    assert_eq!(read(fits.as_bytes(), &[], limits).unwrap().len(), 2);
    let over = format!(
        "{header}<message><body>{}</body></message>",
        "x".repeat(64 - 31)
    );
    // Fed one byte at a time: the error comes at the 65th byte of the
    // element, whatever follows.
    let mut reader = StreamReader::new(limits);
    let mut fed = 0;
    let mut failed_at = None;
    for b in over.as_bytes().chunks(1) {
        fed += 1;
        if let Err(e) = reader.feed(b, |_| Ok::<_, StreamReadError>(true)) {
            assert_eq!(e, StreamReadError::TooLong { max: 64 });
            failed_at = Some(fed);
            break;
        }
    }
    assert_eq!(failed_at, Some(header.len() + 65));
    // And the same in one read of a hostile, endless element.
    let endless = format!("{header}<message><body>{}", "x".repeat(10_000));
    assert_eq!(
        read(endless.as_bytes(), &[], limits),
        Err(StreamReadError::TooLong { max: 64 })
    );
}

#[test]
fn depth_and_element_count_are_limited_while_reading() {
    let header = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>";
    let limits = StanzaLimits {
        max_depth: 3,
        max_elements: 4,
        ..StanzaLimits::default()
    };
    let ok = format!("{header}<a><b><c/></b></a>");
    assert!(read(ok.as_bytes(), &[], limits).is_ok());
    let deep = format!("{header}<a><b><c><d/></c></b></a>");
    assert_eq!(
        read(deep.as_bytes(), &[], limits),
        Err(StreamReadError::TooDeep { max: 3 })
    );
    let many = format!("{header}<a><b/><b/><b/><b/></a>");
    assert_eq!(
        read(many.as_bytes(), &[], limits),
        Err(StreamReadError::TooManyElements { max: 4 })
    );
}

#[test]
fn restricted_xml_is_refused() {
    let header = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>";
    for (input, what) in [
        (
            format!("<!DOCTYPE stream [<!ENTITY x 'y'>]>{header}"),
            "a DOCTYPE",
        ),
        (format!("{header}<!-- hello -->"), "a comment"),
        (format!("{header}<a><!-- hello --></a>"), "a comment"),
        (format!("{header}<a><!DOCTYPE x></a>"), "a DOCTYPE"),
        (format!("{header}<?pi x?>"), "a processing instruction"),
        (
            format!("{header}<a><?pi x?></a>"),
            "a processing instruction",
        ),
        (
            format!("<?xml version='1.0'?><?xml version='1.0'?>{header}"),
            "a processing instruction",
        ),
    ] {
        assert_eq!(
            read(input.as_bytes(), &[], StanzaLimits::default()),
            Err(StreamReadError::Restricted(what)),
            "{input}"
        );
    }
}

#[test]
fn malformed_streams_are_refused() {
    let header = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>";
    for input in [
        format!("{header}text between elements"),
        format!("{header}</other>"),
        format!("{header}<a <b>"),
        format!("{header}<a x='<'/>"),
        format!("{header}<a></a <b>"),
        "</stream:stream>".to_owned(),
        "hello".to_owned(),
    ] {
        assert!(
            matches!(
                read(input.as_bytes(), &[], StanzaLimits::default()),
                Err(StreamReadError::NotWellFormed(_))
            ),
            "{input}"
        );
    }
    for input in [
        "<stream:stream xmlns:stream='urn:other'>",
        "<stream:stream>",
        "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>",
        "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>",
        "<stream:stream id='a' id='b' xmlns:stream='http://etherx.jabber.org/streams'>",
    ] {
        assert!(
            matches!(
                read(input.as_bytes(), &[], StanzaLimits::default()),
                Err(StreamReadError::BadHeader(_))
            ),
            "{input}"
        );
    }
    // Not UTF-8 inside an element.
    let mut bytes = b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams'><a>".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    bytes.extend_from_slice(b"</a>");
    assert!(matches!(
        read(&bytes, &[], StanzaLimits::default()),
        Err(StreamReadError::NotWellFormed(_))
    ));
}

#[test]
fn a_restart_reads_a_new_header_and_a_stop_leaves_the_rest() {
    // SASL success, then (in the same read) the restarted stream.
    let first = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' id='1'>\
        <success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
    let second = "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' id='2'><stream:features/>";
    let input = format!("{first}{second}");
    let mut reader = StreamReader::default();
    let mut seen = Vec::new();
    let used = reader
        .feed(input.as_bytes(), |item| {
            let stop = matches!(item, StreamItem::Element(e) if e.starts_with("<success"));
            seen.push(format!("{item:?}"));
            Ok::<_, StreamReadError>(!stop)
        })
        .unwrap();
    assert_eq!(used, first.len());
    assert_eq!(seen.len(), 2);
    reader.restart();
    let mut ids = Vec::new();
    reader
        .feed(&input.as_bytes()[used..], |item| {
            if let StreamItem::Header(h) = item {
                ids.push(h.id.clone());
            }
            Ok::<_, StreamReadError>(true)
        })
        .unwrap();
    assert_eq!(ids, [Some("2".to_owned())]);
}

#[test]
fn another_stream_prefix_is_read_as_declared() {
    let input = "<s:stream xmlns:s='http://etherx.jabber.org/streams'><s:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></s:features></s:stream>";
    let mut reader = StreamReader::default();
    let mut elements = Vec::new();
    let mut closed = false;
    reader
        .feed(input.as_bytes(), |item| {
            match item {
                StreamItem::Element(e) => elements.push(e.to_owned()),
                StreamItem::Closed => closed = true,
                StreamItem::Header(h) => assert_eq!(h.prefix, "s"),
            }
            Ok::<_, StreamReadError>(true)
        })
        .unwrap();
    assert!(closed);
    let features = reader.read_element(&elements[0]).unwrap();
    assert_eq!(features.ns, "http://etherx.jabber.org/streams");
    assert!(
        features
            .get_child("bind", "urn:ietf:params:xml:ns:xmpp-bind")
            .is_some()
    );
}

/// Where a document ends, found in pieces: cut at every byte the end is
/// found at the same place, nothing is kept, and the limits hold.
#[test]
fn a_documents_end_is_found_in_pieces() {
    use iot_xmpp::stream::DocumentEnd;
    let doc = "<?xml version='1.0'?>\n<ns0:rest xmlns:ns0='rest.oic.org'><ns0:url method='Get'>a&gt;b</ns0:url>\
        <ns0:body><![CDATA[</ns0:rest>]]></ns0:body><e a='>'/></ns0:rest>";
    let whole = doc.len();
    let mut end = DocumentEnd::default();
    assert_eq!(end.scan(doc.as_bytes()), Ok(Some(whole)));
    for cut in 1..whole {
        let mut end = DocumentEnd::default();
        let first = end.scan(&doc.as_bytes()[..cut]).unwrap();
        assert_eq!(first, None, "cut at {cut}");
        assert_eq!(
            end.scan(&doc.as_bytes()[cut..]),
            Ok(Some(whole - cut)),
            "cut at {cut}"
        );
    }
    // A comment is not read (the caller falls back to its other rule),
    // nor is a document over the limit.
    assert!(DocumentEnd::default().scan(b"<a><!-- c --></a>").is_err());
    let mut small = DocumentEnd::new(StanzaLimits {
        max_len: 8,
        ..StanzaLimits::default()
    });
    assert!(small.scan(b"<a>0123456789</a>").is_err());
}
