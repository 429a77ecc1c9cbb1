//! Stanzas as JSON values and back, for tools and logs (feature `json`).
//!
//! A stanza is `{"kind", "from", "to", "id", "type", "payloads"}` and an
//! element `{"name", "ns", "attrs": [[name, value], ...], "text",
//! "children"}`. Reading ignores keys it does not know, so a tool may add
//! its own (an explanation of a payload, say).

use serde_json::{Value, json};

use crate::element::Element;
use crate::stanza::Stanza;
use crate::vocab::StanzaKind;
use jid::Jid;

/// An element as JSON.
#[must_use]
pub fn element_to_json(e: &Element) -> Value {
    json!({
        "name": e.name,
        "ns": e.ns,
        "attrs": e.attrs.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "text": e.text,
        "children": e.children.iter().map(element_to_json).collect::<Vec<_>>(),
    })
}

/// An element from JSON.
///
/// # Errors
///
/// What is missing or mistyped.
pub fn element_from_json(v: &Value) -> Result<Element, String> {
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
    v.get("text")
        .and_then(Value::as_str)
        .unwrap_or("")
        .clone_into(&mut e.text);
    for c in v
        .get("children")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        e.children.push(element_from_json(c)?);
    }
    Ok(e)
}

/// A stanza as JSON.
#[must_use]
pub fn stanza_to_json(s: &Stanza) -> Value {
    json!({
        "kind": s.kind.as_str(),
        "from": s.from.as_ref().map(Jid::as_str),
        "to": s.to.as_ref().map(Jid::as_str),
        "id": s.id,
        "type": s.stanza_type,
        "payloads": s.payloads.iter().map(element_to_json).collect::<Vec<_>>(),
    })
}

/// A stanza from JSON.
///
/// # Errors
///
/// What is missing, mistyped, or not a JID.
pub fn stanza_from_json(v: &Value) -> Result<Stanza, String> {
    let kind = match str_field(v, "kind")? {
        "iq" => StanzaKind::Iq,
        "message" => StanzaKind::Message,
        "presence" => StanzaKind::Presence,
        other => return Err(format!("unknown stanza kind `{other}`")),
    };
    let jid = |name: &str| -> Result<Option<Jid>, String> {
        v.get(name)
            .and_then(Value::as_str)
            .map(|t| crate::jids::read_jid::<Jid>(t).map_err(|e| format!("{name}: {e}")))
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
        s.payloads.push(element_from_json(p)?);
    }
    Ok(s)
}

fn str_field<'a>(v: &'a Value, name: &str) -> Result<&'a str, String> {
    v.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("`{name}` must be a string"))
}
