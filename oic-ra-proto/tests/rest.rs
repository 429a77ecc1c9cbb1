//! The `<rest>` payload of section 7.3.1: both printed examples as test
//! vectors, error paths, and property round trips.

#![allow(clippy::unwrap_used)]

use oic_ra_proto::rest::{Header, Method, RestError, RestLimits, RestMessage};
use proptest::prelude::*;

/// The Get request example of 7.3.1, as printed (indentation kept, line
/// numbers of the PDF extraction removed).
const PRINTED_REQUEST: &str = r#"<rest xmlns="rest.oic.org">
  <url method="Get">coap://mydevice/mybinaryswitch</url>
  <headers>
        <header name="Accept">application/json</header>
        <header name="Accept-Charset">UTF-8</header>
        <header name="Date">Fri, 14 Aug 2015 08:49:37 GMT</header>
  </headers>

</rest>"#;

/// The Response example of 7.3.1, as printed.
const PRINTED_RESPONSE: &str = include_str!("vectors/response-7.3.1.xml");

fn header(name: &str, value: &str) -> Header {
    Header {
        name: name.into(),
        value: value.into(),
    }
}

fn parse(xml: &str) -> Result<RestMessage, RestError> {
    RestMessage::parse(xml, &RestLimits::default())
}

#[test]
fn printed_get_request() {
    let expected = RestMessage {
        method: Method::Get,
        url: "coap://mydevice/mybinaryswitch".into(),
        headers: vec![
            header("Accept", "application/json"),
            header("Accept-Charset", "UTF-8"),
            header("Date", "Fri, 14 Aug 2015 08:49:37 GMT"),
        ],
        body: None,
    };
    assert_eq!(parse(PRINTED_REQUEST).unwrap(), expected);
    let built = expected.to_xml();
    assert_eq!(
        built,
        "<rest xmlns=\"rest.oic.org\"><url method=\"Get\">coap://mydevice/mybinaryswitch</url><headers>\
         <header name=\"Accept\">application/json</header><header name=\"Accept-Charset\">UTF-8</header>\
         <header name=\"Date\">Fri, 14 Aug 2015 08:49:37 GMT</header></headers></rest>"
    );
    assert_eq!(parse(&built).unwrap(), expected);
    let wire = expected.to_base64();
    assert_eq!(
        RestMessage::from_base64(&wire, &RestLimits::default()).unwrap(),
        expected
    );
}

#[test]
fn printed_response() {
    let message = parse(PRINTED_RESPONSE).unwrap();
    assert_eq!(message.method, Method::Response);
    assert_eq!(message.url, "200 OK");
    assert_eq!(message.status(), Some(200));
    assert_eq!(
        message.headers,
        [
            header("Content-Encoding", "Application/JSON"),
            header("Accept-Charset", "UTF-8"),
            // The printed value has a leading space; header values are
            // trimmed, as HTTP reads them.
            header("Date", "Fri, 14 Aug 2015 08:49:38 GMT"),
        ]
    );
    assert_eq!(message.header("accept-charset"), Some("UTF-8"));
    let json = message.json().unwrap().unwrap();
    assert_eq!(
        json,
        serde_json::json!({"rt": "oic.r.switch.binary", "id": "unique_example_id", "value": false})
    );
    let built = message.to_xml();
    assert!(built.contains("<body><json xmlns=\"urn:xmpp:json:0\">{"));
    assert_eq!(parse(&built).unwrap(), message);
    // The same message built from its parts.
    let from_parts = RestMessage::response(200, "OK")
        .with_header("Content-Encoding", "Application/JSON")
        .with_header("Accept-Charset", "UTF-8")
        .with_header("Date", "Fri, 14 Aug 2015 08:49:38 GMT")
        .with_json(&json);
    assert_eq!(
        parse(&from_parts.to_xml())
            .unwrap()
            .json()
            .unwrap()
            .unwrap(),
        json
    );
}

#[test]
fn only_xml_white_space_is_trimmed() {
    let doc = "<rest xmlns=\"rest.oic.org\"><url method=\"Get\">\t u \r\n</url><headers><header name=\"a\">\u{a0}v\u{a0}</header></headers></rest>";
    let m = parse(doc).unwrap();
    assert_eq!(m.url, "u");
    assert_eq!(m.headers[0].value, "\u{a0}v\u{a0}");
}

#[test]
fn methods_are_read_without_case() {
    for (text, method) in [
        ("GET", Method::Get),
        ("post", Method::Post),
        ("Put", Method::Put),
        ("DELETE", Method::Delete),
        ("RESPONSE", Method::Response),
    ] {
        assert_eq!(Method::parse(text), Some(method));
    }
    assert_eq!(Method::parse("PATCH"), None);
}

#[test]
fn error_paths() {
    let rest = |inner: &str| format!("<rest xmlns=\"rest.oic.org\">{inner}</rest>");
    assert_eq!(
        parse("<rest><url method=\"Get\">x</url></rest>"),
        Err(RestError::Namespace {
            element: "rest",
            namespace: "rest.oic.org"
        })
    );
    assert_eq!(
        parse("<rest xmlns=\"other\"><url method=\"Get\">x</url></rest>"),
        Err(RestError::Namespace {
            element: "rest",
            namespace: "rest.oic.org"
        })
    );
    assert!(matches!(
        parse("<other/>"),
        Err(RestError::UnexpectedElement { .. })
    ));
    assert_eq!(parse(&rest("")), Err(RestError::MissingUrl));
    assert_eq!(
        parse(&rest("<url>x</url>")),
        Err(RestError::MissingAttribute {
            element: "url",
            attribute: "method"
        })
    );
    assert_eq!(
        parse(&rest("<url method=\"PATCH\">x</url>")),
        Err(RestError::Method("PATCH".into()))
    );
    assert_eq!(
        parse(&rest("<url method=\"Get\"> </url>")),
        Err(RestError::EmptyUrl)
    );
    assert_eq!(
        parse(&rest("<url method=\"Response\">OK</url>")),
        Err(RestError::StatusLine("OK".into()))
    );
    assert_eq!(
        parse(&rest("<url method=\"Response\">2000 OK</url>")),
        Err(RestError::StatusLine("2000 OK".into()))
    );
    assert!(matches!(
        parse(&rest("<url method=\"Get\" x=\"1\">u</url>")),
        Err(RestError::UnknownAttribute { element: "url", .. })
    ));
    assert!(matches!(
        parse(&rest("<url method=\"Get\">u</url><headers><h/></headers>")),
        Err(RestError::UnexpectedElement { .. })
    ));
    assert_eq!(
        parse(&rest(
            "<url method=\"Get\">u</url><headers><header>v</header></headers>"
        )),
        Err(RestError::MissingAttribute {
            element: "header",
            attribute: "name"
        })
    );
    assert!(matches!(
        parse(&rest(
            "<url method=\"Get\">u</url><body><json xmlns=\"urn:xmpp:json:0\">{nope</json></body>"
        )),
        Err(RestError::Json(_))
    ));
    assert_eq!(
        parse(&rest(
            "<url method=\"Get\">u</url><body><json>{}</json></body>"
        )),
        Err(RestError::Namespace {
            element: "json",
            namespace: "urn:xmpp:json:0"
        })
    );
    assert!(matches!(
        parse(&rest("<url method=\"Get\">u</url><extra/>")),
        Err(RestError::UnexpectedElement { .. })
    ));
    assert!(matches!(
        parse(&format!("{}<x/>", rest("<url method=\"Get\">u</url>"))),
        Err(RestError::UnexpectedElement { .. })
    ));
    assert!(matches!(
        parse(&rest("<url method=\"Get\">&nope;</url>")),
        Err(RestError::Xml(_))
    ));
    assert!(matches!(
        parse("<!DOCTYPE rest><rest/>"),
        Err(RestError::Xml(_))
    ));
    assert!(matches!(
        parse(&rest("<url method=\"Get\">u")),
        Err(RestError::Xml(_))
    ));
    let small = RestLimits {
        max_document_len: 10,
        max_headers: 1,
    };
    assert!(matches!(
        RestMessage::parse(&rest("<url method=\"Get\">u</url>"), &small),
        Err(RestError::TooLong { .. })
    ));
    assert!(matches!(
        RestMessage::from_base64(&"QUFB".repeat(10), &small),
        Err(RestError::TooLong { .. })
    ));
    let two = RestLimits {
        max_document_len: 1 << 20,
        max_headers: 1,
    };
    let doc = rest(
        "<url method=\"Get\">u</url><headers><header name=\"a\">1</header><header name=\"b\">2</header></headers>",
    );
    assert_eq!(
        RestMessage::parse(&doc, &two),
        Err(RestError::TooManyHeaders { max: 1 })
    );
    // Empty headers count towards the limit too.
    let empty_headers = rest(
        "<url method=\"Get\">u</url><headers><header name=\"a\"/><header name=\"b\"/></headers>",
    );
    assert_eq!(
        RestMessage::parse(&empty_headers, &two),
        Err(RestError::TooManyHeaders { max: 1 })
    );
    for doubled in [
        "<url method=\"Get\" method=\"Put\">u</url>",
        "<url method=\"Get\">u</url><headers><header name=\"a\" name=\"b\">1</header></headers>",
        "<url method=\"Get\">u</url><body><json xmlns=\"urn:xmpp:json:0\" xmlns=\"urn:xmpp:json:0\">1</json></body>",
    ] {
        assert!(
            matches!(parse(&rest(doubled)), Err(RestError::Xml(m)) if m.contains("given twice")),
            "{doubled}"
        );
    }
    assert_eq!(
        RestMessage::from_base64("not base64!", &RestLimits::default()),
        Err(RestError::Base64)
    );
    assert_eq!(
        RestMessage::from_base64("/w==", &RestLimits::default()),
        Err(RestError::Utf8)
    );
}

fn text() -> impl Strategy<Value = String> {
    // Anything XML 1.0 can carry, including what must be escaped.
    proptest::collection::vec(
        prop_oneof![
            Just('<'),
            Just('>'),
            Just('&'),
            Just('"'),
            Just('\''),
            proptest::char::range('a', 'z'),
            proptest::char::range('\u{a0}', '\u{d7ff}'),
        ],
        1..24,
    )
    .prop_map(|v| v.into_iter().collect::<String>())
}

fn message() -> impl Strategy<Value = RestMessage> {
    let method = proptest::sample::select(Method::ALL.to_vec());
    (
        method,
        text(),
        proptest::collection::vec((text(), text()), 0..4),
        any::<Option<(String, i64, bool)>>(),
    )
        .prop_map(|(method, url, headers, body)| RestMessage {
            method,
            url: if method == Method::Response {
                format!("404 {url}")
            } else {
                url
            },
            headers: headers
                .into_iter()
                .map(|(name, value)| Header { name, value })
                .collect(),
            body: body.map(|(s, n, b)| serde_json::json!({"s": s, "n": n, "b": b}).to_string()),
        })
}

/// The printed request in the forms namespace-aware XML libraries write:
/// a prefix per namespace (their default output), an extra declaration on
/// `<rest>`, a redundant `xmlns` on a child; each reads as the printed
/// form (Namespaces in XML: a declaration is not an attribute).
#[test]
fn namespace_equivalent_documents_read_the_same() {
    let printed = parse(PRINTED_REQUEST).unwrap();
    for form in [
        r#"<ns0:rest xmlns:ns0="rest.oic.org"><ns0:url method="Get">coap://mydevice/mybinaryswitch</ns0:url><ns0:headers><ns0:header name="Accept">application/json</ns0:header><ns0:header name="Accept-Charset">UTF-8</ns0:header><ns0:header name="Date">Fri, 14 Aug 2015 08:49:37 GMT</ns0:header></ns0:headers></ns0:rest>"#,
        r#"<rest xmlns="rest.oic.org" xmlns:j="urn:xmpp:json:0"><url method="Get">coap://mydevice/mybinaryswitch</url><headers><header name="Accept">application/json</header><header name="Accept-Charset">UTF-8</header><header name="Date">Fri, 14 Aug 2015 08:49:37 GMT</header></headers></rest>"#,
        r#"<rest xmlns="rest.oic.org"><url xmlns="rest.oic.org" method="Get">coap://mydevice/mybinaryswitch</url><headers xmlns="rest.oic.org"><header name="Accept">application/json</header><header xmlns="rest.oic.org" name="Accept-Charset">UTF-8</header><header name="Date">Fri, 14 Aug 2015 08:49:37 GMT</header></headers></rest>"#,
    ] {
        assert_eq!(parse(form).unwrap(), printed, "{form}");
    }
    // The body's namespace by prefix, declared on <rest>.
    let response = parse(PRINTED_RESPONSE).unwrap();
    let prefixed = response
        .to_xml()
        .replace(
            r#"<rest xmlns="rest.oic.org">"#,
            r#"<rest xmlns="rest.oic.org" xmlns:j="urn:xmpp:json:0">"#,
        )
        .replace(r#"<json xmlns="urn:xmpp:json:0">"#, "<j:json>")
        .replace("</json>", "</j:json>");
    assert_eq!(parse(&prefixed).unwrap(), response);
    // A prefix bound to another namespace is another element; a prefixed
    // attribute is another attribute.
    assert_eq!(
        parse(r#"<p:rest xmlns:p="other"><p:url method="Get">u</p:url></p:rest>"#),
        Err(RestError::Namespace {
            element: "rest",
            namespace: "rest.oic.org"
        })
    );
    assert!(matches!(
        parse(
            r#"<rest xmlns="rest.oic.org" xmlns:p="rest.oic.org"><url p:method="Get">u</url></rest>"#
        ),
        Err(RestError::UnknownAttribute { element: "url", .. })
    ));
}

/// The canonical form of `message` rewritten with a prefix for each
/// namespace, redundant declarations on children, or both.
fn rewritten(message: &RestMessage, prefixed: bool, redundant: bool) -> String {
    let mut xml = message.to_xml();
    if redundant {
        for name in ["url", "headers", "header", "body"] {
            // `<name ` first, so that the declaration added is not matched
            // again.
            xml = xml.replace(
                &format!("<{name} "),
                &format!(r#"<{name} xmlns="rest.oic.org" "#),
            );
            xml = xml.replace(
                &format!("<{name}>"),
                &format!(r#"<{name} xmlns="rest.oic.org">"#),
            );
        }
    }
    if prefixed {
        for name in ["url", "headers", "header", "body"] {
            xml = xml.replace(&format!("<{name}>"), &format!("<r:{name}>"));
            xml = xml.replace(&format!("<{name} "), &format!("<r:{name} "));
            xml = xml.replace(&format!("</{name}>"), &format!("</r:{name}>"));
        }
        xml = xml
            .replace(
                r#"<rest xmlns="rest.oic.org">"#,
                r#"<r:rest xmlns:r="rest.oic.org" xmlns:j="urn:xmpp:json:0">"#,
            )
            .replace("</rest>", "</r:rest>")
            .replace(r#"<json xmlns="urn:xmpp:json:0">"#, "<j:json>")
            .replace("</json>", "</j:json>");
    }
    xml
}

proptest! {
    /// Any namespace-equivalent form of a message reads as the message.
    #[test]
    fn namespace_equivalent_forms_read_the_same(
        message in message(),
        prefixed in any::<bool>(),
        redundant in any::<bool>(),
    ) {
        let xml = rewritten(&message, prefixed, redundant);
        prop_assert_eq!(parse(&xml).unwrap(), message);
    }

    #[test]
    fn round_trip(message in message()) {
        let xml = message.to_xml();
        let parsed = parse(&xml).unwrap();
        prop_assert_eq!(&parsed, &message);
        let in_place = RestMessage::parse_ref(&xml, &RestLimits::default()).unwrap();
        prop_assert_eq!(&in_place.to_xml(), &xml);
        prop_assert_eq!(&in_place.to_owned_message(), &message);
        prop_assert_eq!(RestMessage::from_base64(&message.to_base64(), &RestLimits::default()).unwrap(), message);
    }

    #[test]
    fn parsing_never_panics(input in any::<String>()) {
        let in_place = RestMessage::parse_ref(&input, &RestLimits::default());
        prop_assert_eq!(parse(&input), in_place.map(|m| m.to_owned_message()));
        let _ = RestMessage::from_base64(&input, &RestLimits::default());
    }
}
