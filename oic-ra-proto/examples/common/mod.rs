//! What the `decode` and `encode` examples share: the JSON form of stanzas
//! and `<rest>` documents, and the run of one input.

// Each example uses one direction of the conversion.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::process::ExitCode;

use oic_ra_proto::ibb::IbbPayload;
use oic_ra_proto::identity::Jid;
use oic_ra_proto::rest::{Header, Method, RestLimits, RestMessage};
use oic_ra_proto::stanza::{Element, Stanza, StanzaKind};
use serde_json::{Value, json};

/// Reads all of standard input, converts it, prints the result; an error
/// is one line on standard error and exit status 1.
pub(crate) fn run(convert: impl Fn(&str) -> Result<String, String>) -> ExitCode {
    let mut input = String::new();
    let result = std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| e.to_string())
        .and_then(|_| convert(&input));
    match result {
        Ok(out) => {
            let _ = writeln!(std::io::stdout(), "{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {}", e.replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

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

fn element_to_json(e: &Element) -> Value {
    let mut out = json!({
        "name": e.name,
        "ns": e.ns,
        "attrs": e.attrs.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "text": e.text,
        "children": e.children.iter().map(element_to_json).collect::<Vec<_>>(),
    });
    // What the IBB element means, for reading only (encode ignores it).
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

fn json_to_element(v: &Value) -> Result<Element, String> {
    let mut e = Element::new(str_field(v, "name")?, str_field(v, "ns")?);
    for a in v
        .get("attrs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match a.as_array().map(Vec::as_slice) {
            Some([Value::String(k), Value::String(val)]) => e.attrs.push((k.clone(), val.clone())),
            _ => return Err("an attribute is [name, value]".into()),
        }
    }
    e.text = v
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    for c in v
        .get("children")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        e.children.push(json_to_element(c)?);
    }
    Ok(e)
}

pub(crate) fn stanza_to_json(s: &Stanza) -> Value {
    json!({
        "kind": s.kind.as_str(),
        "from": s.from.as_ref().map(Jid::as_str),
        "to": s.to.as_ref().map(Jid::as_str),
        "id": s.id,
        "type": s.stanza_type,
        "payloads": s.payloads.iter().map(element_to_json).collect::<Vec<_>>(),
    })
}

pub(crate) fn json_to_stanza(v: &Value) -> Result<Stanza, String> {
    let kind = match str_field(v, "kind")? {
        "iq" => StanzaKind::Iq,
        "message" => StanzaKind::Message,
        "presence" => StanzaKind::Presence,
        other => return Err(format!("unknown stanza kind `{other}`")),
    };
    let jid = |name: &str| -> Result<Option<Jid>, String> {
        v.get(name)
            .and_then(Value::as_str)
            .map(|t| Jid::new(t).map_err(|e| format!("{name}: {e}")))
            .transpose()
    };
    let mut s = Stanza::new(kind);
    s.from = jid("from")?;
    s.to = jid("to")?;
    s.id = v.get("id").and_then(Value::as_str).map(str::to_owned);
    s.stanza_type = v.get("type").and_then(Value::as_str).map(str::to_owned);
    for p in v
        .get("payloads")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        s.payloads.push(json_to_element(p)?);
    }
    Ok(s)
}

fn str_field<'a>(v: &'a Value, name: &str) -> Result<&'a str, String> {
    v.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("`{name}` must be a string"))
}
