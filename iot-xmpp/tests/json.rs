//! Stanzas as JSON values and back (feature `json`): the round trip, and
//! every way a JSON value fails to be a stanza.
#![cfg(feature = "json")]

use iot_xmpp::json::{element_from_json, element_to_json, stanza_from_json, stanza_to_json};
use iot_xmpp::{Stanza, StanzaLimits};
use serde_json::json;

const PING: &str = "<iq xmlns='jabber:client' from='a@example.org/r' to='b@example.org' type='get' id='p1'><ping xmlns='urn:xmpp:ping'><x a='1' b='&amp;'>t&lt;</x></ping></iq>";

#[test]
fn a_stanza_survives_json_and_back() {
    let stanza = Stanza::parse(PING, &StanzaLimits::default()).unwrap();
    let value = stanza_to_json(&stanza);
    assert_eq!(value["kind"], "iq");
    assert_eq!(value["from"], "a@example.org/r");
    assert_eq!(
        value["payloads"][0]["children"][0]["attrs"],
        json!([["a", "1"], ["b", "&"]])
    );
    assert_eq!(value["payloads"][0]["children"][0]["text"], "t<");
    assert_eq!(stanza_from_json(&value).unwrap(), stanza);
    for kind in ["message", "presence"] {
        let s = stanza_from_json(&json!({ "kind": kind })).unwrap();
        assert_eq!(s.kind.as_str(), kind);
        assert!(s.from.is_none() && s.to.is_none() && s.id.is_none() && s.payloads.is_empty());
    }
}

#[test]
fn an_element_survives_json_and_back_and_unknown_keys_are_ignored() {
    let stanza = Stanza::parse(PING, &StanzaLimits::default()).unwrap();
    let mut value = element_to_json(&stanza.payloads[0]);
    value["explained"] = json!("a ping");
    assert_eq!(element_from_json(&value).unwrap(), stanza.payloads[0]);
}

#[test]
fn each_fault_is_named() {
    let err = |v| stanza_from_json(&v).unwrap_err();
    assert_eq!(err(json!({})), "`kind` must be a string");
    assert_eq!(err(json!({ "kind": 3 })), "`kind` must be a string");
    assert_eq!(
        err(json!({ "kind": "stream" })),
        "unknown stanza kind `stream`"
    );
    assert!(err(json!({ "kind": "iq", "to": "@example.org" })).starts_with("to: "));
    assert!(err(json!({ "kind": "iq", "from": "a@/r" })).starts_with("from: "));
    assert_eq!(
        err(json!({ "kind": "iq", "payloads": [{ "ns": "x" }] })),
        "`name` must be a string"
    );
    assert_eq!(
        err(json!({ "kind": "iq", "payloads": [{ "name": "x" }] })),
        "`ns` must be a string"
    );
    let bad_attr =
        json!({ "kind": "iq", "payloads": [{ "name": "x", "ns": "y", "attrs": [["a"]] }] });
    assert_eq!(err(bad_attr), "an attribute is [name, value]");
    let bad_child = json!({ "name": "x", "ns": "y", "children": [{ "name": 1, "ns": "y" }] });
    assert_eq!(
        element_from_json(&bad_child).unwrap_err(),
        "`name` must be a string"
    );
}
