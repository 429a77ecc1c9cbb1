//! What the `decode` and `encode` examples share: the JSON form of stanzas
//! and `<rest>` documents, and the run of one input.

// Each example uses one direction of the conversion.
#![allow(dead_code)]

pub(crate) use example_io::run;

use oic_ra_proto::ibb::{IBB_NS, IbbPayload};
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
/// explanation). An IBB element that breaks XEP-0047's rules, or a data
/// block that is not a `<rest>` document, is an error (or, with
/// `--lenient`, shown with an `"error"` field).
fn element_to_json(e: &Element) -> Result<Value, String> {
    let mut out = json::element_to_json(e);
    if e.ns != IBB_NS {
        return Ok(out);
    }
    let ibb = match IbbPayload::from_element(e) {
        Ok(ibb) => ibb,
        Err(error) => {
            out["error"] = example_io::recognised_but_invalid("IBB", &error.to_string())?.into();
            return Ok(out);
        }
    };
    {
        let meaning = match &ibb {
            IbbPayload::Open {
                block_size, stanza, ..
            } => {
                json!({ "open": { "block_size": block_size, "stanza": format!("{stanza:?}").to_lowercase() } })
            }
            IbbPayload::Data { seq, data, .. } => {
                let rest = std::str::from_utf8(data)
                    .map_err(|e| e.to_string())
                    .and_then(|t| {
                        RestMessage::parse(t, &RestLimits::default()).map_err(|e| e.to_string())
                    })
                    .and_then(|m| rest_to_json(&m));
                match rest {
                    Ok(rest) => json!({ "data": { "seq": seq, "len": data.len(), "rest": rest } }),
                    Err(error) => {
                        let error = example_io::recognised_but_invalid(
                            "the data block's <rest> document",
                            &error,
                        )?;
                        json!({ "data": { "seq": seq, "len": data.len(), "error": error } })
                    }
                }
            }
            IbbPayload::Close { .. } => json!({ "close": {} }),
        };
        out["ibb"] = meaning;
    }
    Ok(out)
}

pub(crate) fn stanza_to_json(s: &Stanza) -> Result<Value, String> {
    let mut v = json::stanza_to_json(s);
    v["payloads"] = s
        .payloads
        .iter()
        .map(element_to_json)
        .collect::<Result<_, _>>()?;
    Ok(v)
}

pub(crate) fn json_to_stanza(v: &Value) -> Result<Stanza, String> {
    json::stanza_from_json(v)
}

fn str_field<'a>(v: &'a Value, name: &str) -> Result<&'a str, String> {
    v.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("`{name}` must be a string"))
}
