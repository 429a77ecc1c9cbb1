//! Structure-aware: any stanza the fuzzer can describe (kind, JIDs, id,
//! type, and a tree of elements with arbitrary text and attribute values,
//! built through the crate's public types), written with `to_xml`, then
//! read back: the reader gives the same stanza (or refuses it, when it
//! holds a character XML 1.0 forbids, which `check_xml_chars` finds). Element and attribute
//! names are drawn from XML names, which the writer takes as given; JIDs
//! are read from arbitrary text with `read_jid`, as every reader does.
#![no_main]

use iot_xmpp::jids::read_jid;
use iot_xmpp::{Element, Jid, Stanza, StanzaKind, StanzaLimits};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

fn name(u: &mut Unstructured<'_>) -> Result<String> {
    const FIRST: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";
    const REST: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-._";
    let mut s = String::from(char::from(*u.choose(FIRST)?));
    for _ in 0..u.int_in_range(0..=8u8)? {
        s.push(char::from(*u.choose(REST)?));
    }
    Ok(s)
}

fn jid(u: &mut Unstructured<'_>) -> Result<Option<Jid>> {
    if !u.arbitrary::<bool>()? {
        return Ok(None);
    }
    let local: String = u.arbitrary()?;
    let domain = name(u)?;
    let resource: Option<String> = u.arbitrary()?;
    let text = match resource {
        Some(r) => format!("{local}@{domain}.example/{r}"),
        None => format!("{local}@{domain}.example"),
    };
    Ok(read_jid::<Jid>(&text).ok())
}

fn element(u: &mut Unstructured<'_>, depth: u8) -> Result<Element> {
    let ns = format!("urn:x:{}", name(u)?);
    let mut e = Element::new(&name(u)?, &ns);
    for _ in 0..u.int_in_range(0..=3u8)? {
        // An attribute in no namespace, or one in a namespace (its
        // expanded name in Clark notation, which the writer declares).
        let n = if u.arbitrary()? {
            format!("{{urn:a:{}}}{}", name(u)?, name(u)?)
        } else {
            name(u)?
        };
        if n != "xmlns" && !e.attrs.iter().any(|(a, _)| *a == n) {
            e.attrs.push((n, u.arbitrary()?));
        }
    }
    e.text = u.arbitrary()?;
    if depth < 4 {
        for _ in 0..u.int_in_range(0..=3u8)? {
            e.children.push(element(u, depth + 1)?);
        }
    }
    Ok(e)
}

fn stanza(u: &mut Unstructured<'_>) -> Result<Stanza> {
    let kind = *u.choose(&[StanzaKind::Iq, StanzaKind::Message, StanzaKind::Presence])?;
    let mut s = Stanza::new(kind);
    s.from = jid(u)?;
    s.to = jid(u)?;
    s.id = u.arbitrary()?;
    s.stanza_type = u.arbitrary()?;
    for _ in 0..u.int_in_range(0..=3u8)? {
        s.payloads.push(element(u, 0)?);
    }
    Ok(s)
}

fuzz_target!(|data: &[u8]| {
    let Ok(stanza) = stanza(&mut Unstructured::new(data)) else {
        return;
    };
    let xml = stanza.to_xml();
    let limits = StanzaLimits {
        max_len: usize::MAX,
        ..StanzaLimits::default()
    };
    // A stanza holding a character XML forbids cannot be written: the
    // client refuses to send it, and the reader refuses its text.
    if stanza.check_xml_chars().is_err() {
        assert!(Stanza::parse(&xml, &limits).is_err(), "{xml}");
        return;
    }
    assert_eq!(Stanza::parse(&xml, &limits).as_ref(), Ok(&stanza), "{xml}");
});
