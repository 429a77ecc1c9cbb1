//! What the `decode` and `encode` examples share: the JSON form of stanzas
//! and `<rest>` documents, and the run of one input.

// Each example uses one direction of the conversion.
#![allow(dead_code)]

pub(crate) use example_io::run;

use oic_ra_proto::ibb::IbbPayload;
use oic_ra_proto::rest::{Header, Method, RestLimits, RestMessage};
use oic_ra_proto::stanza::{Element, Stanza, json};
use serde_json::{Value, json};

pub(crate) fn rest_to_json(m: &RestMessage) -> Result<Value, String> {
    let body = match m.json() {
        Some(v) => v.map_err(|e| e.to_string())?,
        None => Value::Null,
    };
    let headers: Vec<Value> = m.headers.iter().map(|h| json!([h.name, h.value])).collect();
    Ok(json!({ "method": m.method.as_str(), "url": m.url, "headers": headers, "body": body }))
}

pub(crate) fn json_to_rest(v: &Value) -> Result<RestMessage, String> {
    let method = str_field(v, "method")?;
    let method = Method::parse(method).ok_or_else(|| format!("unknown method `{method}`"))?;
    let mut m = RestMessage::request(method, str_field(v, "url")?);
    for h in v
        .get("headers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match h.as_array().map(Vec::as_slice) {
            Some([Value::String(name), Value::String(value)]) => m.headers.push(Header {
                name: name.clone(),
                value: value.clone(),
            }),
            _ => return Err("a header is [name, value]".into()),
        }
    }
    match v.get("body") {
        None | Some(Value::Null) => {}
        Some(body) => m = m.with_json(body),
    }
    // Check it as a receiver would.
    RestMessage::parse(&m.to_xml(), &RestLimits::default()).map_err(|e| e.to_string())
}

/// An element as JSON, IBB elements explained (`encode` ignores the
/// explanation).
fn element_to_json(e: &Element) -> Value {
    let mut out = json::element_to_json(e);
    if let Ok(ibb) = IbbPayload::from_element(e) {
        let meaning = match &ibb {
            IbbPayload::Open {
                block_size, stanza, ..
            } => {
                json!({ "open": { "block_size": block_size, "stanza": format!("{stanza:?}").to_lowercase() } })
            }
            IbbPayload::Data { seq, data, .. } => {
                let rest = std::str::from_utf8(data)
                    .ok()
                    .and_then(|t| RestMessage::parse(t, &RestLimits::default()).ok())
                    .and_then(|m| rest_to_json(&m).ok());
                json!({ "data": { "seq": seq, "len": data.len(), "rest": rest } })
            }
            IbbPayload::Close { .. } => json!({ "close": {} }),
        };
        out["ibb"] = meaning;
    }
    out
}

pub(crate) fn stanza_to_json(s: &Stanza) -> Value {
    let mut v = json::stanza_to_json(s);
    v["payloads"] = s.payloads.iter().map(element_to_json).collect();
    v
}

pub(crate) fn json_to_stanza(v: &Value) -> Result<Stanza, String> {
    json::stanza_from_json(v)
}

fn str_field<'a>(v: &'a Value, name: &str) -> Result<&'a str, String> {
    v.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("`{name}` must be a string"))
}
