//! Structure-aware: any CRUDN message (method, URL or status line,
//! headers, JSON body as arbitrary text) and any IBB element (open, data,
//! close with arbitrary session ids, sizes and bytes), built through the
//! crate's public types, written, then read back, as XML and as base64.
//!
//! The writer takes any value; the reader refuses, with a typed error, a
//! document whose values break section 7.3.1 (an empty URL, a response
//! whose status line is not `NNN reason`), and trims the URL, header
//! values and body of white space (the printed examples indent them). So a
//! message read back is the one written with its values trimmed, never
//! another one; and a message built by the rules (a status line of a code
//! and a reason, a `coap://` URL, token header names, a JSON body) is
//! always read back.
//! An IBB element is read back as written, or refused with a typed error.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use oic_ra_proto::ibb::{DataStanza, IbbPayload};
use oic_ra_proto::rest::{Header, Method, RestLimits, RestMessage};

fn token(u: &mut Unstructured<'_>) -> Result<String> {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-";
    let mut s = String::new();
    for _ in 0..u.int_in_range(1..=12u8)? {
        s.push(char::from(*u.choose(CHARS)?));
    }
    Ok(s)
}

/// A message, and whether it was built by the rules of section 7.3.1.
fn message(u: &mut Unstructured<'_>) -> Result<(RestMessage, bool)> {
    let by_the_rules: bool = u.arbitrary()?;
    let method = *u.choose(&[
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Delete,
        Method::Response,
    ])?;
    let url = match (by_the_rules, method) {
        (false, _) => u.arbitrary()?,
        (true, Method::Response) => format!("{} {}", u.int_in_range(100..=599u16)?, token(u)?),
        (true, _) => format!("coap://{}/{}", token(u)?, token(u)?),
    };
    let mut m = RestMessage {
        method,
        url,
        headers: Vec::new(),
        body: if by_the_rules {
            // A JSON body: a string value or an object of one.
            match u.arbitrary::<Option<(bool, String)>>()? {
                None => None,
                Some((false, text)) => Some(serde_json::Value::String(text).to_string()),
                Some((true, text)) => Some(serde_json::json!({ "value": text }).to_string()),
            }
        } else {
            u.arbitrary()?
        },
    };
    for _ in 0..u.int_in_range(0..=4u8)? {
        m.headers.push(Header {
            name: if by_the_rules {
                token(u)?
            } else {
                u.arbitrary()?
            },
            value: u.arbitrary()?,
        });
    }
    Ok((m, by_the_rules))
}

fn ibb(u: &mut Unstructured<'_>) -> Result<IbbPayload> {
    let sid = u.arbitrary()?;
    Ok(match u.int_in_range(0..=2u8)? {
        0 => IbbPayload::Open {
            sid,
            block_size: u.arbitrary()?,
            stanza: *u.choose(&[DataStanza::Iq, DataStanza::Message])?,
        },
        1 => IbbPayload::Data {
            sid,
            seq: u.arbitrary()?,
            data: u.arbitrary()?,
        },
        _ => IbbPayload::Close { sid },
    })
}

/// XML white space (space, tab, CR, LF), the only white space trimmed.
fn xml_trim(s: &str) -> String {
    s.trim_matches([' ', '\t', '\r', '\n']).to_owned()
}

/// What the reader gives for `m`: its values trimmed.
fn trimmed(m: &RestMessage) -> RestMessage {
    RestMessage {
        method: m.method,
        url: xml_trim(&m.url),
        headers: m
            .headers
            .iter()
            .map(|h| Header {
                name: h.name.clone(),
                value: xml_trim(&h.value),
            })
            .collect(),
        body: m.body.as_deref().map(xml_trim),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(rest) = u.arbitrary::<bool>() else {
        return;
    };
    if rest {
        let Ok((m, by_the_rules)) = message(&mut u) else {
            return;
        };
        let limits = RestLimits::default();
        let back = RestMessage::parse(&m.to_xml(), &limits);
        assert_eq!(
            RestMessage::from_base64(&m.to_base64(), &limits),
            back.clone()
        );
        // A character XML forbids cannot stand in a document, whatever
        // else the rules say: such a message is refused.
        let writable = [m.url.as_str()]
            .into_iter()
            .chain(
                m.headers
                    .iter()
                    .flat_map(|h| [h.name.as_str(), h.value.as_str()]),
            )
            .chain(m.body.as_deref())
            .all(|t| iot_xmpp::tree::check_xml_chars(t).is_ok());
        match back {
            Ok(back) => assert_eq!(back, trimmed(&m)),
            Err(e) => assert!(!(by_the_rules && writable), "{m:?} refused: {e}"),
        }
    } else {
        let Ok(p) = ibb(&mut u) else {
            return;
        };
        if let Ok(back) = IbbPayload::from_element(&p.to_element()) {
            assert_eq!(back, p);
        }
    }
});
