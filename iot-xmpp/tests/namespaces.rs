//! The element reader by (namespace, local name), the characters XML 1.0
//! forbids, and the cost of hostile input: namespace-equivalent forms read
//! the same, a declaration is not an attribute, attribute checks cost work
//! in proportion to the attributes, and nesting beyond the reader's
//! ceiling is refused without recursion.

#![allow(clippy::unwrap_used, clippy::panic)]

use iot_xmpp::tree::{DEPTH_CEILING, Scope, read_tree, work};
use iot_xmpp::{Element, Stanza, StanzaLimits, StanzaReadError};
use proptest::prelude::*;

#[test]
fn a_prefixed_payload_reads_as_its_default_namespace_form() {
    let plain = ("<iq type='set' id='1'><rest xmlns='rest.oic.org'><url method='GET'>coap://d/a</url></rest></iq>").parse::<Stanza>()
    .unwrap();
    for form in [
        // The default output of common XML libraries: a prefix per namespace.
        "<iq type='set' id='1'><ns0:rest xmlns:ns0='rest.oic.org'><ns0:url method='GET'>coap://d/a</ns0:url></ns0:rest></iq>",
        // An extra declaration on the payload.
        "<iq type='set' id='1'><rest xmlns='rest.oic.org' xmlns:j='urn:xmpp:json:0'><url method='GET'>coap://d/a</url></rest></iq>",
        // A redundant declaration on a child.
        "<iq type='set' id='1'><rest xmlns='rest.oic.org'><url xmlns='rest.oic.org' method='GET'>coap://d/a</url></rest></iq>",
        // The prefix declared on the stanza, the stanza itself prefixed.
        "<c:iq xmlns:c='jabber:client' xmlns:r='rest.oic.org' type='set' id='1'><r:rest><r:url method='GET'>coap://d/a</r:url></r:rest></c:iq>",
    ] {
        assert_eq!(form.parse::<Stanza>().unwrap(), plain, "{form}");
    }
}

#[test]
fn a_declaration_is_not_an_attribute_and_a_default_can_be_undeclared() {
    let s = "<message><x xmlns='urn:x' xmlns:p='urn:p' a='1'><y xmlns=''/></x></message>"
        .parse::<Stanza>()
        .unwrap();
    let x = &s.payloads[0];
    assert_eq!(x.attrs, vec![("a".to_owned(), "1".to_owned())]);
    assert_eq!(x.children[0].ns, "");
    // A prefixed attribute is kept under its expanded name, and written
    // back with a prefix of its own.
    let s = "<message><x xmlns:p='urn:p' p:a='1' xml:lang='en'/></message>"
        .parse::<Stanza>()
        .unwrap();
    assert_eq!(s.payloads[0].get_attr("{urn:p}a"), Some("1"));
    assert_eq!(s.payloads[0].get_attr("xml:lang"), Some("en"));
    assert_eq!((s.to_xml()).parse::<Stanza>().unwrap(), s);
}

#[test]
fn namespace_errors_are_refused() {
    for bad in [
        // Two attributes with the same expanded name.
        "<message><x xmlns:p='urn:u' xmlns:q='urn:u' p:a='1' q:a='2'/></message>",
        // The same declaration twice.
        "<message><x xmlns:p='urn:u' xmlns:p='urn:v'/></message>",
        "<message><x xmlns='urn:u' xmlns='urn:v'/></message>",
        // A prefix undeclared, reserved, or bound to nothing.
        "<message><x p:a='1'/></message>",
        "<message><xmlns:x/></message>",
        "<message><x xmlns:xmlns='urn:u'/></message>",
        "<message><x xmlns:xml='urn:u'/></message>",
        "<message><x xmlns:p=''/></message>",
        // An element in the xml namespace (found by the fuzz target
        // oic_stanza: it could not be written back).
        "<message><xml:lang/></message>",
        // A prefix out of scope once its element closed.
        "<message><a xmlns:p='urn:p'/><p:b/></message>",
    ] {
        assert!(
            matches!(bad.parse::<Stanza>(), Err(StanzaReadError::Xml(_))),
            "{bad}"
        );
    }
}

#[test]
fn characters_xml_forbids_are_refused_literal_or_as_references() {
    for bad in [
        "<message><body>a\u{1}b</body></message>",
        "<message><body>a&#x1F;b</body></message>",
        "<message><body>a&#xFFFE;b</body></message>",
        "<message><body>a\u{FFFF}b</body></message>",
        "<message><body a='&#8;'/></message>",
        "<message id='&#x1b;'/>",
        "<message><body><![CDATA[\u{2}]]></body></message>",
    ] {
        assert!(
            matches!(bad.parse::<Stanza>(), Err(StanzaReadError::Char(_))),
            "{bad:?}"
        );
    }
    // quick-xml refuses a reference to U+0000 itself.
    assert!(
        "<message><body>a&#0;b</body></message>"
            .parse::<Stanza>()
            .is_err()
    );
    let ok = "<message><body a='&#9;'>tab\tline&#10;cr&#13;</body></message>"
        .parse::<Stanza>()
        .unwrap();
    assert_eq!(ok.payloads[0].text, "tab\tline\ncr\r");
    // Nor can they be written.
    let s = Stanza::new(iot_xmpp::StanzaKind::Message)
        .with_payload(Element::new("body", "jabber:client").with_text("\u{0}"));
    assert_eq!(s.check_xml_chars(), Err(StanzaReadError::Char('\u{0}')));
    let s = Stanza::new(iot_xmpp::StanzaKind::Message).with_id("\u{1b}");
    assert_eq!(s.check_xml_chars(), Err(StanzaReadError::Char('\u{1b}')));
}

/// A stanza within the default length of ~27,000 empty attributes, which
/// cost about 0.3 s when every pair was compared, is refused after the
/// limit of attributes per element.
#[test]
fn many_attributes_are_refused_after_the_limit() {
    let attrs: String = (0..27_000).map(|i| format!(" a{i}=''")).collect();
    let xml = format!("<message{attrs}/>");
    assert!(xml.len() <= StanzaLimits::default().max_len);
    assert_eq!(
        xml.parse::<Stanza>(),
        Err(StanzaReadError::TooManyAttributes { max: 64 })
    );
    let on_child = format!("<message><x{attrs}/></message>");
    assert_eq!(
        on_child.parse::<Stanza>(),
        Err(StanzaReadError::TooManyAttributes { max: 64 })
    );
}

/// The attribute check's work (comparisons of names, counted by the
/// reader) grows as `n log n` with the attributes of an element, and with
/// the limit at its default, by at most the same per element whatever the
/// stanza's length.
#[test]
fn attribute_checks_cost_work_in_proportion_to_the_attributes() {
    let limits = StanzaLimits {
        max_attributes: 1 << 20,
        max_len: 1 << 24,
        ..StanzaLimits::default()
    };
    let cost = |n: usize| {
        let attrs: String = (0..n).map(|i| format!(" a{i}=''")).collect();
        let xml = format!("<message{attrs}/>");
        let before = work();
        Stanza::parse(&xml, &limits).unwrap();
        work() - before
    };
    for n in [1_000usize, 4_000, 16_000, 64_000] {
        let log = usize::BITS - n.leading_zeros();
        let bound = (n as u64) * (u64::from(log) + 2);
        let w = cost(n);
        assert!(
            w <= bound,
            "{n} attributes cost {w} comparisons, over {bound}"
        );
    }
    // Within the default limits, the work per element is bounded: a
    // stanza of 255 elements of 63 attributes each.
    let child: String = (0..63).map(|i| format!(" a{i}=''")).collect();
    let xml = format!("<message>{}</message>", format!("<x{child}/>").repeat(255));
    let before = work();
    xml.parse::<Stanza>().unwrap();
    let w = work() - before;
    assert!(w <= 255 * 63 * 8, "{w}");
}

/// However high `max_depth` is raised, the reader serves at most
/// [`DEPTH_CEILING`], refuses deeper nesting without recursing, and what
/// it returns can be dropped, compared and written on a small stack.
#[test]
fn nesting_is_bounded_by_the_ceiling_and_served_on_a_small_stack() {
    let limits = StanzaLimits {
        max_depth: usize::MAX,
        max_elements: usize::MAX,
        max_len: usize::MAX,
        ..StanzaLimits::default()
    };
    let deep = |n: usize| format!("<message>{}{}</message>", "<a>".repeat(n), "</a>".repeat(n));
    let too_deep = deep(1_000_000);
    let ok = deep(DEPTH_CEILING - 1);
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            assert_eq!(
                Stanza::parse(&too_deep, &limits),
                Err(StanzaReadError::TooDeep { max: DEPTH_CEILING })
            );
            let s = Stanza::parse(&ok, &limits).unwrap();
            let copy = s.clone();
            assert_eq!(Stanza::parse(&s.to_xml(), &limits).unwrap(), copy);
            drop(s);
            drop(copy);
        })
        .unwrap()
        .join()
        .unwrap();
}

/// The scope a stream header gives: a stream bound to another prefix.
#[test]
fn a_scope_binds_the_headers_prefixes() {
    let prefixes = [(
        "s".to_owned(),
        "http://etherx.jabber.org/streams".to_owned(),
    )];
    let scope = Scope {
        default: "jabber:client",
        prefixes: &prefixes,
    };
    let e: Element = read_tree(
        "<s:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></s:features>",
        &StanzaLimits::default(),
        scope,
    )
    .unwrap();
    assert!(e.is("features", "http://etherx.jabber.org/streams"));
    assert!(e.children[0].is("bind", "urn:ietf:params:xml:ns:xmpp-bind"));
    // Out of that scope, the prefix means nothing.
    assert!(
        read_tree::<String>(
            "<s:features/>",
            &StanzaLimits::default(),
            Scope::default_ns("jabber:client")
        )
        .is_err()
    );
}

fn ncname() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9._-]{0,8}"
}

fn tree(depth: u32) -> BoxedStrategy<Element> {
    let ns = prop::sample::select(vec!["urn:a", "urn:b", "jabber:client", "rest.oic.org"]);
    let leaf = (
        ncname(),
        ns,
        prop::collection::btree_map(ncname(), "[ -~]{0,8}", 0..3),
        "[ -~\u{a0}-\u{2ff}]{0,12}",
    )
        .prop_map(|(name, ns, attrs, text)| {
            let mut e = Element::new(&name, ns).with_text(text);
            for (k, v) in attrs {
                if k != "xmlns" {
                    e = e.attr(&k, v);
                }
            }
            e
        })
        .boxed();
    if depth == 0 {
        return leaf;
    }
    (leaf, prop::collection::vec(tree(depth - 1), 0..3))
        .prop_map(|(mut e, children)| {
            if !children.is_empty() {
                e.text.clear();
            }
            e.children = children;
            e
        })
        .boxed()
}

/// How one element is written in a namespace-equivalent form.
#[derive(Debug, Clone, Copy)]
enum Form {
    /// `xmlns` only where the namespace changes.
    Plain,
    /// A redundant `xmlns` on the element.
    Redundant,
    /// A prefix of its own, declared on it.
    Prefixed,
    /// An extra, unused declaration beside its namespace.
    Extra,
}

/// Writes `e` with the forms taken in turn from `forms`.
fn write(e: &Element, parent_ns: &str, forms: &[Form], i: &mut usize, out: &mut String) {
    let form = forms[*i % forms.len()];
    *i += 1;
    let esc = |s: &str| iot_xmpp::escape_attr(s).into_owned();
    let (qname, decl) = match form {
        Form::Prefixed => (
            format!("p{i}:{}", e.name),
            format!(" xmlns:p{i}='{}'", esc(&e.ns)),
        ),
        Form::Redundant => (e.name.clone(), format!(" xmlns='{}'", esc(&e.ns))),
        Form::Extra if e.ns == parent_ns => (e.name.clone(), " xmlns:unused='urn:j'".to_owned()),
        Form::Extra => (
            e.name.clone(),
            format!(" xmlns:unused='urn:j' xmlns='{}'", esc(&e.ns)),
        ),
        Form::Plain if e.ns == parent_ns => (e.name.clone(), String::new()),
        Form::Plain => (e.name.clone(), format!(" xmlns='{}'", esc(&e.ns))),
    };
    // The default namespace in scope for the children: a prefixed element
    // leaves it as its parent had it.
    let default = match form {
        Form::Prefixed => parent_ns,
        _ => e.ns.as_str(),
    };
    out.push_str(&format!("<{qname}{decl}"));
    for (k, v) in &e.attrs {
        out.push_str(&format!(" {k}='{}'", esc(v)));
    }
    out.push('>');
    out.push_str(&iot_xmpp::escape_text(&e.text));
    for c in &e.children {
        write(c, default, forms, i, out);
    }
    out.push_str(&format!("</{qname}>"));
}

proptest! {
    /// Any namespace-equivalent form of a stanza reads as the same stanza.
    #[test]
    fn namespace_equivalent_forms_read_the_same(
        payloads in prop::collection::vec(tree(2), 1..3),
        forms in prop::collection::vec(
            prop::sample::select(vec![Form::Plain, Form::Redundant, Form::Prefixed, Form::Extra]),
            1..6,
        ),
    ) {
        let mut s = Stanza::new(iot_xmpp::StanzaKind::Message);
        s.payloads = payloads;
        let canonical = s.to_xml();
        let mut other = String::from("<message xmlns='jabber:client'>");
        let mut i = 0;
        for p in &s.payloads {
            write(p, "jabber:client", &forms, &mut i, &mut other);
        }
        other.push_str("</message>");
        prop_assert_eq!(canonical.parse::<Stanza>().unwrap(), s.clone());
        prop_assert_eq!(other.parse::<Stanza>().unwrap(), s);
    }
}
