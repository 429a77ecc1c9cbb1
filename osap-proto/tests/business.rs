//! The business messages of draft section 2 sealed for the DAS connection
//! (PROFILE.md section 10): every kind both ways it may travel, and every
//! way a message can be refused: replayed, duplicated, reordered, from
//! another registration, tampered, on the wrong topic or direction.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use osap_proto::Suite;
use osap_proto::business::{
    Body, BusinessChannel, BusinessError, BusinessMessage, BusinessTopic, Direction, Params,
};
use osap_proto::crypto::SessionKey;
use proptest::prelude::*;
use serde_json::json;

fn key() -> SessionKey {
    SessionKey::from_bytes([0x11; 16])
}

fn channels(suite: Suite) -> (BusinessChannel, BusinessChannel) {
    (
        BusinessChannel::new(suite, key(), "dev-7", 3, Direction::Up),
        BusinessChannel::new(suite, key(), "dev-7", 3, Direction::Down),
    )
}

fn params(v: serde_json::Value) -> Params {
    match v {
        serde_json::Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn rng() -> rand_chacha::ChaCha20Rng {
    iot_sansio::testing::rng(9)
}

#[test]
fn every_kind_travels_its_way_with_its_topic() {
    for suite in [Suite::Aes128Gcm, Suite::Aes128Cbc, Suite::Aes128Ecb] {
        let (mut device, mut platform) = channels(suite);
        let mut rng = rng();
        let down = [
            Body::AttrGet {
                id: 1,
                names: vec!["power".into()],
            },
            Body::AttrSet {
                id: 2,
                values: params(json!({"power": "off"})),
            },
            Body::OpCall {
                id: 3,
                name: "reboot".into(),
                input: params(json!({"delay": 5})),
                timeout_ms: 30_000,
            },
            Body::OpResult {
                id: 4,
                output: Params::new(),
                error: Some("busy".into()),
            },
        ];
        for body in down {
            let message = BusinessMessage::new("power", body);
            let sealed = platform.seal(&message, &mut rng).unwrap();
            assert_eq!(
                sealed.topic,
                format!("osap/dev-7/down/power/{}", message.body.kind().0)
            );
            assert_eq!(
                device.open(&sealed.topic, &sealed.payload).unwrap(),
                message
            );
        }
        let up = [
            Body::AttrValues {
                id: 1,
                values: params(json!({"power": "on"})),
                error: None,
            },
            Body::AttrReport {
                values: params(json!({"brightness": 80})),
            },
            Body::OpCall {
                id: 5,
                name: "sync".into(),
                input: Params::new(),
                timeout_ms: 1,
            },
            Body::OpResult {
                id: 3,
                output: params(json!({"ok": true})),
                error: None,
            },
            Body::Event {
                name: "motion".into(),
                params: params(json!({"zone": 2})),
                id: None,
            },
        ];
        for body in up {
            let mut message = BusinessMessage::new("video", body);
            message.resource = Some("channel-1".into());
            let sealed = device.seal(&message, &mut rng).unwrap();
            assert_eq!(
                sealed.topic,
                format!("osap/dev-7/up/video/{}", message.body.kind().0)
            );
            assert_eq!(
                platform.open(&sealed.topic, &sealed.payload).unwrap(),
                message
            );
        }
        assert_eq!(device.counters(), (5, 4));
        assert_eq!(platform.counters(), (4, 5));
    }
}

#[test]
fn replayed_duplicated_and_reordered_messages_are_refused() {
    let (mut device, mut platform) = channels(Suite::Aes128Gcm);
    let mut rng = rng();
    let event = |n: u64| {
        BusinessMessage::new(
            "alarm",
            Body::Event {
                name: "door".into(),
                params: params(json!({ "n": n })),
                id: None,
            },
        )
    };
    let first = device.seal(&event(1), &mut rng).unwrap();
    let second = device.seal(&event(2), &mut rng).unwrap();
    let third = device.seal(&event(3), &mut rng).unwrap();
    // The second arrives first: the first, late, is refused.
    assert_eq!(
        platform.open(&second.topic, &second.payload).unwrap(),
        event(2)
    );
    assert_eq!(
        platform.open(&first.topic, &first.payload),
        Err(BusinessError::Stale {
            counter: 1,
            last: 2
        })
    );
    // A duplicate is refused; the next one is accepted.
    assert!(matches!(
        platform.open(&second.topic, &second.payload),
        Err(BusinessError::Stale { .. })
    ));
    assert_eq!(
        platform.open(&third.topic, &third.payload).unwrap(),
        event(3)
    );
}

#[test]
fn a_message_from_another_registration_or_key_is_refused() {
    let mut rng = rng();
    let mut old = BusinessChannel::new(Suite::Aes128Gcm, key(), "dev-7", 2, Direction::Up);
    let captured = old
        .seal(
            &BusinessMessage::new(
                "a",
                Body::AttrReport {
                    values: Params::new(),
                },
            ),
            &mut rng,
        )
        .unwrap();
    // The next connection registered with counter 3: its counters start
    // again, but the registration is bound in.
    let (_, mut platform) = channels(Suite::Aes128Gcm);
    assert!(matches!(
        platform.open(&captured.topic, &captured.payload),
        Err(BusinessError::Crypto(_))
    ));
    let mut other_key = BusinessChannel::new(
        Suite::Aes128Gcm,
        SessionKey::from_bytes([2; 16]),
        "dev-7",
        3,
        Direction::Up,
    );
    let forged = other_key
        .seal(
            &BusinessMessage::new(
                "a",
                Body::AttrReport {
                    values: Params::new(),
                },
            ),
            &mut rng,
        )
        .unwrap();
    assert!(matches!(
        platform.open(&forged.topic, &forged.payload),
        Err(BusinessError::Crypto(_))
    ));
    // Nothing was accepted: counter 1 from the right channel opens.
    let (mut device, _) = channels(Suite::Aes128Gcm);
    let good = device
        .seal(
            &BusinessMessage::new(
                "a",
                Body::AttrReport {
                    values: Params::new(),
                },
            ),
            &mut rng,
        )
        .unwrap();
    assert!(platform.open(&good.topic, &good.payload).is_ok());
}

#[test]
fn tampering_with_any_byte_or_the_topic_is_refused() {
    let (mut device, mut platform) = channels(Suite::Aes128Cbc);
    let mut rng = rng();
    let message = BusinessMessage::new(
        "light",
        Body::Event {
            name: "on".into(),
            params: Params::new(),
            id: None,
        },
    );
    let sealed = device.seal(&message, &mut rng).unwrap();
    for at in 0..sealed.payload.len() {
        let mut bad = sealed.payload.clone();
        bad[at] ^= 0x80;
        assert!(platform.open(&sealed.topic, &bad).is_err(), "byte {at}");
    }
    // Moved to another area, device or kind: the topic is bound in.
    for topic in [
        "osap/dev-7/up/heater/event",
        "osap/dev-7/up/light/attr-report",
    ] {
        assert!(
            matches!(
                platform.open(topic, &sealed.payload),
                Err(BusinessError::Crypto(_))
            ),
            "{topic}"
        );
    }
    for topic in [
        "osap/dev-8/up/light/event",
        "osap/dev-7/down/light/event",
        "osap/dev-7/up/light/unknown",
        "osap/dev-7/up/light",
        "osap/dev-7/up//event",
        "other/dev-7/up/light/event",
    ] {
        assert_eq!(
            platform.open(topic, &sealed.payload),
            Err(BusinessError::Topic),
            "{topic}"
        );
    }
    assert_eq!(
        platform.open(&sealed.topic, &[1, 2, 3]),
        Err(BusinessError::Truncated)
    );
    // After all that, the genuine message still opens.
    assert_eq!(
        platform.open(&sealed.topic, &sealed.payload).unwrap(),
        message
    );
}

#[test]
fn messages_only_travel_their_way_and_areas_are_one_level() {
    let (mut device, mut platform) = channels(Suite::Aes128Gcm);
    let mut rng = rng();
    let get = BusinessMessage::new(
        "a",
        Body::AttrGet {
            id: 1,
            names: vec![],
        },
    );
    assert_eq!(
        device.seal(&get, &mut rng),
        Err(BusinessError::Direction("attr-get"))
    );
    let event = BusinessMessage::new(
        "a",
        Body::Event {
            name: "x".into(),
            params: Params::new(),
            id: None,
        },
    );
    assert_eq!(
        platform.seal(&event, &mut rng),
        Err(BusinessError::Direction("event"))
    );
    for area in ["", "a/b", "a+", "#"] {
        let report = BusinessMessage::new(
            area,
            Body::AttrReport {
                values: Params::new(),
            },
        );
        assert_eq!(
            device.seal(&report, &mut rng),
            Err(BusinessError::Topic),
            "{area:?}"
        );
    }
    // Refusals use no counter.
    assert_eq!(device.counters(), (0, 0));
}

fn body() -> impl Strategy<Value = Body> {
    let text = "[a-z0-9 éλ\"\\\\]{0,12}";
    let value = prop_oneof![
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        text.prop_map(serde_json::Value::from),
    ];
    let map = prop::collection::btree_map(text, value, 0..4)
        .prop_map(|m| m.into_iter().collect::<Params>());
    prop_oneof![
        (any::<u64>(), map.clone()).prop_map(|(id, values)| Body::AttrValues {
            id,
            values,
            error: None
        }),
        map.clone().prop_map(|values| Body::AttrReport { values }),
        (any::<u64>(), text, map.clone(), any::<u32>()).prop_map(
            |(id, name, input, timeout_ms)| Body::OpCall {
                id,
                name,
                input,
                timeout_ms
            }
        ),
        (any::<u64>(), map.clone(), prop::option::of(text))
            .prop_map(|(id, output, error)| Body::OpResult { id, output, error }),
        (text, map).prop_map(|(name, params)| Body::Event {
            name,
            params,
            id: None
        }),
    ]
}

proptest! {
    #[test]
    fn sealed_messages_open_to_themselves(
        area in "[a-z][a-z0-9_-]{0,10}",
        resource in prop::option::of("[a-z0-9-]{1,8}"),
        bodies in prop::collection::vec(body(), 1..5),
    ) {
        let (mut device, mut platform) = channels(Suite::Aes128Gcm);
        let mut rng = rng();
        for body in bodies {
            let mut message = BusinessMessage::new(area.clone(), body);
            message.resource.clone_from(&resource);
            let sealed = device.seal(&message, &mut rng).unwrap();
            prop_assert_eq!(
                BusinessTopic::parse(&sealed.topic),
                Ok(BusinessTopic {
                    devid: "dev-7",
                    direction: Direction::Up,
                    area: &area,
                    kind: message.body.kind().0,
                })
            );
            prop_assert_eq!(platform.open(&sealed.topic, &sealed.payload).unwrap(), message);
        }
    }

    /// The topic reader never panics, and what it reads is the topic.
    #[test]
    fn any_topic_reads_as_its_levels_or_is_refused(topic in "(osap/)?[a-z/+#]{0,24}") {
        if let Ok(t) = BusinessTopic::parse(&topic) {
            prop_assert_eq!(
                format!("osap/{}/{}/{}/{}", t.devid, t.direction.as_str(), t.area, t.kind),
                topic
            );
        }
    }
}

#[test]
fn business_topics_are_read_without_a_session() {
    // The event the decode example explains, and this file's topics.
    for (topic, devid, direction, area, kind) in [
        (
            "osap/cam-1/up/motion/event",
            "cam-1",
            Direction::Up,
            "motion",
            "event",
        ),
        (
            "osap/dev-7/down/power/op-call",
            "dev-7",
            Direction::Down,
            "power",
            "op-call",
        ),
        (
            "osap/dev-7/up/video/attr-values",
            "dev-7",
            Direction::Up,
            "video",
            "attr-values",
        ),
    ] {
        assert_eq!(
            BusinessTopic::parse(topic),
            Ok(BusinessTopic {
                devid,
                direction,
                area,
                kind
            }),
            "{topic}"
        );
    }
    for topic in [
        "",
        "osap",
        "osap/",
        "mqtt/cam-1/up/motion/event",
        "osap/cam-1/up/motion",
        "osap/cam-1/up/motion/event/more",
        "osap//up/motion/event",
        "osap/cam-1/sideways/motion/event",
        "osap/cam-1/up//event",
        "osap/cam-1/up/motion/reboot",
        "osap/cam-1/up/motion/",
        "osap/cam+/up/motion/event",
        "osap/cam-1/up/mo#/event",
    ] {
        assert_eq!(
            BusinessTopic::parse(topic),
            Err(BusinessError::Topic),
            "{topic:?}"
        );
    }
}
