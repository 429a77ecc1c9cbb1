//! Property tests: build-then-parse is the identity for every frame kind,
//! and the streaming decoder gives the same frames for every split of the
//! same byte stream.

#![allow(clippy::unwrap_used)]

use std::num::NonZeroU16;

use osap_proto::{
    ConnAck, Connect, ConnectReturnCode, ControlFlags, ControlFrame, Delivery, FrameDecoder,
    Packet, Password, ProtocolGroup, ProtocolVersion, Publish, QoS, RawFrame, ReturnCodes, SubAck,
    Subscribe, SubscribeReturnCode, TopicFilters, TopicName, Unsubscribe, Will,
};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|s| s.replace('\0', ""))
}

fn topic() -> impl Strategy<Value = TopicName<'static>> {
    "[a-z0-9/ é]{1,20}".prop_map(|t| TopicName::new(t).unwrap())
}

fn filter() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9/]{1,12}",
        Just("#".to_owned()),
        Just("a/+/c".to_owned()),
        Just("+/#".to_owned())
    ]
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

fn packet_id() -> impl Strategy<Value = NonZeroU16> {
    (1u16..).prop_map(|n| NonZeroU16::new(n).unwrap())
}

fn packet() -> impl Strategy<Value = Packet<'static>> {
    let connect = (
        text(),
        any::<u16>(),
        any::<bool>(),
        proptest::option::of((topic(), bytes(32), qos(), any::<bool>())),
        proptest::option::of((text(), proptest::option::of(bytes(16)))),
    )
        .prop_map(|(client_id, keep_alive, clean_session, will, login)| {
            let (username, password) = match login {
                Some((u, p)) => (Some(u.into()), p.map(Password::new)),
                None => (None, None),
            };
            Packet::Connect(Connect {
                client_id: client_id.into(),
                keep_alive,
                clean_session,
                will: will.map(|(topic, message, qos, retain)| Will {
                    topic,
                    message: message.into(),
                    qos,
                    retain,
                }),
                username,
                password,
            })
        });
    let connack = (any::<bool>(), 0u8..=5).prop_map(|(sp, code)| {
        let code = ConnectReturnCode::try_from(code).unwrap();
        Packet::ConnAck(ConnAck {
            session_present: sp && code == ConnectReturnCode::Accepted,
            code,
        })
    });
    let publish = (
        proptest::option::of((packet_id(), any::<bool>(), any::<bool>())),
        any::<bool>(),
        topic(),
        bytes(300),
    )
        .prop_map(|(delivery, retain, topic, payload)| {
            Packet::Publish(Publish {
                delivery: match delivery {
                    None => Delivery::AtMostOnce,
                    Some((packet_id, dup, false)) => Delivery::AtLeastOnce { packet_id, dup },
                    Some((packet_id, dup, true)) => Delivery::ExactlyOnce { packet_id, dup },
                },
                retain,
                topic,
                payload: payload.into(),
            })
        });
    let subscribe = (
        packet_id(),
        proptest::collection::vec((filter(), qos()), 1..5),
    )
        .prop_map(|(id, items)| {
            let items: Vec<(&str, QoS)> = items.iter().map(|(f, q)| (f.as_str(), *q)).collect();
            Packet::Subscribe(Subscribe {
                packet_id: id,
                filters: TopicFilters::subscriptions(&items).unwrap(),
            })
        });
    let unsubscribe =
        (packet_id(), proptest::collection::vec(filter(), 1..5)).prop_map(|(id, items)| {
            let items: Vec<&str> = items.iter().map(String::as_str).collect();
            Packet::Unsubscribe(Unsubscribe {
                packet_id: id,
                filters: TopicFilters::filters(&items).unwrap(),
            })
        });
    let code = prop_oneof![
        qos().prop_map(SubscribeReturnCode::Granted),
        Just(SubscribeReturnCode::Failure)
    ];
    let suback = (packet_id(), proptest::collection::vec(code, 1..6)).prop_map(|(id, codes)| {
        Packet::SubAck(SubAck {
            packet_id: id,
            codes: ReturnCodes::new(&codes).unwrap(),
        })
    });
    prop_oneof![
        connect,
        connack,
        publish,
        packet_id().prop_map(Packet::PubAck),
        packet_id().prop_map(Packet::PubRec),
        packet_id().prop_map(Packet::PubRel),
        packet_id().prop_map(Packet::PubComp),
        subscribe,
        suback,
        unsubscribe,
        packet_id().prop_map(Packet::UnsubAck),
        Just(Packet::PingReq),
        Just(Packet::PingResp),
        Just(Packet::Disconnect),
    ]
}

fn control() -> impl Strategy<Value = ControlFrame<'static>> {
    (
        1u8..=15,
        any::<bool>(),
        any::<u8>(),
        0u8..16,
        any::<[u8; 3]>(),
        bytes(64),
        bytes(64),
    )
        .prop_map(
            |(kind, ecdh, protocol_type, group, [form, high, low], content, application)| {
                ControlFrame {
                    kind,
                    flags: ControlFlags::new(ecdh),
                    protocol_type,
                    protocol_group: ProtocolGroup::from_bits(group).unwrap(),
                    version: ProtocolVersion { form, high, low },
                    content: content.into(),
                    application: application.into(),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn packets_round_trip(packet in packet()) {
        let mut wire = Vec::new();
        packet.encode(&mut wire).unwrap();
        prop_assert_eq!(wire.len(), packet.encoded_len().unwrap());
        prop_assert_eq!(Packet::parse(&wire).unwrap(), packet.clone());
        // And through JSON, as the examples carry them; a password is
        // redacted there, so such a packet does not come back.
        let json = serde_json::to_string(&packet).unwrap();
        let has_password = matches!(&packet, Packet::Connect(c) if c.password.is_some());
        prop_assert_eq!(json.contains("<redacted>"), has_password);
        match serde_json::from_str::<Packet<'_>>(&json) {
            Ok(back) => prop_assert_eq!(back, packet),
            Err(_) => prop_assert!(has_password),
        }
    }

    #[test]
    fn control_frames_round_trip(frame in control()) {
        let mut wire = Vec::new();
        frame.encode(&mut wire).unwrap();
        prop_assert_eq!(wire.len(), frame.encoded_len());
        prop_assert_eq!(ControlFrame::parse(&wire).unwrap(), frame.clone());
        let json = serde_json::to_string(&frame).unwrap();
        prop_assert_eq!(serde_json::from_str::<ControlFrame<'_>>(&json).unwrap(), frame);
    }

    #[test]
    fn every_split_gives_the_same_frames(
        packets in proptest::collection::vec(packet(), 1..6),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..10),
    ) {
        let mut stream = Vec::new();
        for p in &packets {
            p.encode(&mut stream).unwrap();
        }
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        cuts.push(0);
        cuts.push(stream.len());
        cuts.sort_unstable();
        let mut decoder = FrameDecoder::new(1 << 20);
        let mut got = Vec::new();
        for piece in cuts.windows(2).map(|w| &stream[w[0]..w[1]]) {
            let mut rest = piece;
            loop {
                let (used, frame) = decoder.decode(rest).unwrap();
                rest = &rest[used..];
                match frame {
                    Some(raw) => got.push(Packet::from_raw(raw).unwrap().into_owned()),
                    None => break,
                }
            }
            prop_assert!(rest.is_empty());
        }
        prop_assert_eq!(got, packets);
        prop_assert!(!decoder.has_partial_frame());
    }

    #[test]
    fn one_byte_at_a_time(frame in control()) {
        let mut wire = Vec::new();
        frame.encode(&mut wire).unwrap();
        let mut decoder = FrameDecoder::new(1 << 20);
        let mut got = None;
        for (i, b) in wire.iter().enumerate() {
            let (used, out) = decoder.decode(std::slice::from_ref(b)).unwrap();
            prop_assert_eq!(used, 1);
            if let Some(raw) = out {
                prop_assert_eq!(i, wire.len() - 1);
                got = Some(ControlFrame::from_raw(raw).unwrap().into_owned());
            } else {
                prop_assert!(decoder.needed() >= 1);
            }
        }
        prop_assert_eq!(got, Some(frame));
    }

    #[test]
    fn parsing_never_panics(input in bytes(512)) {
        if let Ok(raw) = RawFrame::parse(&input) {
            let _ = Packet::from_raw(raw);
            let _ = ControlFrame::from_raw(raw);
        }
        let mut decoder = FrameDecoder::new(256);
        let _ = decoder.decode(&input);
    }
}
