//! `TopicName`: a topic name checked once, when it is made, read or
//! deserialized (MQTT 3.1.1 section 4.7), and then used as text.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use osap_proto::{FieldError, FrameError, Packet, TopicName};

#[test]
fn a_topic_name_reads_as_its_text() {
    let topic = TopicName::new("osap/dev-1/up/light/event").unwrap();
    assert_eq!(topic, "osap/dev-1/up/light/event");
    assert_eq!("osap/dev-1/up/light/event", topic);
    assert_eq!(topic, String::from("osap/dev-1/up/light/event"));
    assert_eq!(String::from("osap/dev-1/up/light/event"), topic);
    assert_eq!(topic.as_str(), topic.as_ref() as &str);
    assert_eq!(topic.len(), 25, "derefs to str");
    assert_eq!(topic.to_string(), "osap/dev-1/up/light/event");
    assert_eq!(format!("{topic:?}"), "\"osap/dev-1/up/light/event\"");
    assert_eq!(topic.clone().into_owned(), topic);
    assert_eq!(topic.into_string(), "osap/dev-1/up/light/event");
}

#[test]
fn conversions_check_like_new() {
    let owned: TopicName<'static> = String::from("a/b").try_into().unwrap();
    let lent: TopicName<'_> = "a/b".try_into().unwrap();
    assert_eq!(owned, lent);
    assert_eq!(
        TopicName::try_from("a/+"),
        Err(FrameError::Malformed {
            field: "topic name",
            reason: FieldError::Invalid("must not contain wildcards")
        })
    );
    assert!(TopicName::try_from(String::from("#")).is_err());
}

#[cfg(feature = "serde")]
#[test]
fn a_topic_name_reads_from_json_only_when_it_is_one() {
    let topic = TopicName::new("a/b").unwrap();
    let json = serde_json::to_string(&topic).unwrap();
    assert_eq!(json, "\"a/b\"");
    assert_eq!(serde_json::from_str::<TopicName<'_>>(&json).unwrap(), topic);
    for bad in ["\"a/#\"", "\"\"", "\"a\\u0000b\"", "7"] {
        assert!(serde_json::from_str::<TopicName<'_>>(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_publish_read_from_the_wire_holds_a_checked_topic() {
    // PUBLISH, QoS 0, topic "a/b", payload "hi" (MQTT 3.1.1 section 3.3).
    let wire = [0x30, 0x07, 0x00, 0x03, b'a', b'/', b'b', b'h', b'i'];
    let Packet::Publish(p) = Packet::parse(&wire).unwrap() else {
        panic!("not a PUBLISH")
    };
    assert_eq!(p.topic, TopicName::new("a/b").unwrap());
    let mut out = Vec::new();
    p.encode(&mut out).unwrap();
    assert_eq!(out, wire);
    // The same bytes with a wildcard in the topic are refused when read.
    let wildcard = [0x30, 0x07, 0x00, 0x03, b'a', b'/', b'#', b'h', b'i'];
    assert_eq!(
        Packet::parse(&wildcard),
        Err(FrameError::Malformed {
            field: "topic name",
            reason: FieldError::Invalid("must not contain wildcards")
        })
    );
}
