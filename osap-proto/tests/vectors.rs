//! Test vectors in both directions: the MQTT 3.1.1 byte examples, every
//! packet kind, the OSAP control frame layout and the exact field values of
//! the negotiation in Figures 1 and 2 of the draft.

// Test fixtures fail loudly: a fixture that does not build is a bug.
#![allow(clippy::unwrap_used, clippy::needless_pass_by_value)]

use std::num::NonZeroU16;

use osap_proto::{
    ConnAck, Connect, ConnectReturnCode, ControlFlags, ControlFrame, Delivery, FieldError,
    FrameError, NegotiationKind, NegotiationMessage, Packet, Password, ProtocolGroup,
    ProtocolVersion, Publish, QoS, ReturnCodes, SubAck, Subscribe, SubscribeReturnCode, Suite,
    TopicFilters, TopicName, Unsubscribe, Will,
};

fn id(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap()
}

/// Encodes `packet`, compares with `wire`, parses `wire` back.
fn packet_vector(packet: Packet<'_>, wire: &[u8]) {
    let mut out = Vec::new();
    packet.encode(&mut out).unwrap();
    assert_eq!(out, wire, "encoding {packet:?}");
    assert_eq!(packet.encoded_len().unwrap(), wire.len());
    assert_eq!(Packet::parse(wire).unwrap(), packet, "parsing {wire:02x?}");
}

fn control_vector(frame: ControlFrame<'_>, wire: &[u8]) {
    let mut out = bytes::BytesMut::new();
    frame.encode(&mut out).unwrap();
    assert_eq!(&out[..], wire, "encoding {frame:?}");
    assert_eq!(frame.encoded_len(), wire.len());
    assert_eq!(
        ControlFrame::parse(wire).unwrap(),
        frame,
        "parsing {wire:02x?}"
    );
}

/// MQTT 3.1.1 section 3.1.2.10, Figure 3.6: the variable header of a
/// CONNECT with protocol name "MQTT", level 4, connect flags 0xCE (user
/// name, password, will QoS 1, will flag, clean session) and keep alive 10.
#[test]
fn connect_variable_header_of_mqtt_figure_3_6() {
    let packet = Packet::Connect(Connect {
        client_id: "c".into(),
        keep_alive: 10,
        clean_session: true,
        will: Some(Will {
            topic: TopicName::new("w").unwrap(),
            message: b"bye".as_slice().into(),
            qos: QoS::AtLeastOnce,
            retain: false,
        }),
        username: Some("u".into()),
        password: Some(Password::new(b"p".as_slice())),
    });
    let wire = [
        0x10, 0x1b, // fixed header, remaining length 27
        0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xce, 0x00, 0x0a, // Figure 3.6
        0x00, 0x01, b'c', // client identifier
        0x00, 0x01, b'w', // will topic
        0x00, 0x03, b'b', b'y', b'e', // will message
        0x00, 0x01, b'u', // user name
        0x00, 0x01, b'p', // password
    ];
    packet_vector(packet, &wire);
}

#[test]
fn connect_minimal() {
    let packet = Packet::Connect(Connect {
        client_id: "dev1".into(),
        keep_alive: 30,
        clean_session: true,
        will: None,
        username: None,
        password: None,
    });
    packet_vector(
        packet,
        &[
            0x10, 0x10, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 30, 0, 4, b'd', b'e', b'v', b'1',
        ],
    );
}

#[test]
fn connack_every_return_code() {
    packet_vector(
        Packet::ConnAck(ConnAck {
            session_present: true,
            code: ConnectReturnCode::Accepted,
        }),
        &[0x20, 0x02, 0x01, 0x00],
    );
    for code in 1..=5u8 {
        packet_vector(
            Packet::ConnAck(ConnAck {
                session_present: false,
                code: ConnectReturnCode::try_from(code).unwrap(),
            }),
            &[0x20, 0x02, 0x00, code],
        );
    }
}

/// MQTT 3.1.1 section 3.3.2.3, Figure 3.11: topic "a/b", packet
/// identifier 10.
#[test]
fn publish_variable_header_of_mqtt_figure_3_11() {
    packet_vector(
        Packet::Publish(Publish {
            delivery: Delivery::AtLeastOnce {
                packet_id: id(10),
                dup: false,
            },
            retain: false,
            topic: TopicName::new("a/b").unwrap(),
            payload: b"".as_slice().into(),
        }),
        &[0x32, 0x07, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x0a],
    );
    packet_vector(
        Packet::Publish(Publish {
            delivery: Delivery::AtLeastOnce {
                packet_id: id(10),
                dup: true,
            },
            retain: true,
            topic: TopicName::new("a/b").unwrap(),
            payload: b"x".as_slice().into(),
        }),
        &[0x3b, 0x08, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x0a, b'x'],
    );
}

/// The QoS 2 flow (MQTT 3.1.1 sections 3.3, 3.5-3.7): a PUBLISH at QoS 2
/// carries a packet identifier like QoS 1 (flags `0100`, with DUP `1100`);
/// PUBREL's flags are `0010`.
#[test]
fn the_qos_2_flow() {
    packet_vector(
        Packet::Publish(Publish {
            delivery: Delivery::ExactlyOnce {
                packet_id: id(10),
                dup: true,
            },
            retain: false,
            topic: TopicName::new("a/b").unwrap(),
            payload: b"x".as_slice().into(),
        }),
        &[0x3c, 0x08, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x0a, b'x'],
    );
    packet_vector(Packet::PubRec(id(10)), &[0x50, 0x02, 0x00, 0x0a]);
    packet_vector(Packet::PubRel(id(10)), &[0x62, 0x02, 0x00, 0x0a]);
    packet_vector(Packet::PubComp(id(10)), &[0x70, 0x02, 0x00, 0x0a]);
}

#[test]
fn puback_unsuback_ping_disconnect() {
    packet_vector(Packet::PubAck(id(10)), &[0x40, 0x02, 0x00, 0x0a]);
    packet_vector(Packet::UnsubAck(id(0x1234)), &[0xb0, 0x02, 0x12, 0x34]);
    packet_vector(Packet::PingReq, &[0xc0, 0x00]);
    packet_vector(Packet::PingResp, &[0xd0, 0x00]);
    packet_vector(Packet::Disconnect, &[0xe0, 0x00]);
}

/// MQTT 3.1.1 section 3.8.3.1, Figure 3.22: filters "a/b" at QoS 1 and
/// "c/d" at QoS 2; section 3.9.3.1, Figure 3.26: return codes 0, 1, 2 and
/// 0x80 in a SUBACK.
#[test]
fn subscribe_and_suback_of_mqtt_figures_3_22_and_3_26() {
    let filters =
        TopicFilters::subscriptions(&[("a/b", QoS::AtLeastOnce), ("c/d", QoS::ExactlyOnce)])
            .unwrap();
    assert_eq!(
        filters.iter().collect::<Vec<_>>(),
        [
            ("a/b", Some(QoS::AtLeastOnce)),
            ("c/d", Some(QoS::ExactlyOnce))
        ]
    );
    packet_vector(
        Packet::Subscribe(Subscribe {
            packet_id: id(10),
            filters,
        }),
        &[
            0x82, 0x0e, 0x00, 0x0a, 0x00, 0x03, b'a', b'/', b'b', 0x01, 0x00, 0x03, b'c', b'/',
            b'd', 0x02,
        ],
    );
    let codes = [
        SubscribeReturnCode::Granted(QoS::AtMostOnce),
        SubscribeReturnCode::Granted(QoS::AtLeastOnce),
        SubscribeReturnCode::Granted(QoS::ExactlyOnce),
        SubscribeReturnCode::Failure,
    ];
    packet_vector(
        Packet::SubAck(SubAck {
            packet_id: id(10),
            codes: ReturnCodes::new(&codes).unwrap(),
        }),
        &[0x90, 0x06, 0x00, 0x0a, 0x00, 0x01, 0x02, 0x80],
    );
}

/// MQTT 3.1.1 section 3.10.3.1, Figure 3.30: filters "a/b" and "c/d".
#[test]
fn unsubscribe_of_mqtt_figure_3_30() {
    packet_vector(
        Packet::Unsubscribe(Unsubscribe {
            packet_id: id(10),
            filters: TopicFilters::filters(&["a/b", "c/d"]).unwrap(),
        }),
        &[
            0xa2, 0x0c, 0x00, 0x0a, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x03, b'c', b'/', b'd',
        ],
    );
}

#[test]
fn publish_at_remaining_length_boundaries() {
    // A topic of one byte: body = 2 + 1 + payload.
    for (body, header) in [
        (127usize, vec![0x30, 0x7f]),
        (128, vec![0x30, 0x80, 0x01]),
        (16_383, vec![0x30, 0xff, 0x7f]),
        (16_384, vec![0x30, 0x80, 0x80, 0x01]),
        (2_097_151, vec![0x30, 0xff, 0xff, 0x7f]),
        (2_097_152, vec![0x30, 0x80, 0x80, 0x80, 0x01]),
    ] {
        let payload = vec![0xa5; body - 3];
        let packet = Packet::Publish(Publish {
            delivery: Delivery::AtMostOnce,
            retain: false,
            topic: TopicName::new("t").unwrap(),
            payload: payload.as_slice().into(),
        });
        let mut wire = header.clone();
        wire.extend_from_slice(&[0x00, 0x01, b't']);
        wire.extend_from_slice(&payload);
        packet_vector(packet, &wire);
    }
}

fn negotiation(
    kind: NegotiationKind,
    protocol_type: u8,
    group: ProtocolGroup,
    transaction: &[u8],
) -> ControlFrame<'_> {
    NegotiationMessage {
        flags: ControlFlags::ORIGINAL,
        protocol_type,
        protocol_group: group,
        version: ProtocolVersion::DEFAULT,
        transaction: transaction.into(),
    }
    .to_frame(kind)
    .into_owned()
}

/// Figure 1: request with control message type 0x1, control flag 0x1,
/// protocol type 1, protocol group (1,2,4,8); response with type 0x2, flag
/// 0x1, protocol type 1 and (this crate's reading) the one suite chosen.
#[test]
fn figure_1_consistent_negotiation() {
    let request = negotiation(NegotiationKind::Request, 1, ProtocolGroup::ALL, b"xxxxxx");
    control_vector(
        request,
        &[
            0x11, 0x0d, 0x01, 0x0f, 0x00, 0x09, 0x01, 0x01, 0x00, b'x', b'x', b'x', b'x', b'x',
            b'x',
        ],
    );
    let response = negotiation(
        NegotiationKind::Response,
        1,
        ProtocolGroup::single(Suite::Aes128Gcm),
        b"xxxxxx",
    );
    control_vector(
        response,
        &[
            0x21, 0x0d, 0x01, 0x04, 0x00, 0x09, 0x01, 0x01, 0x00, b'x', b'x', b'x', b'x', b'x',
            b'x',
        ],
    );
}

/// Figure 2: the LBS answers protocol type 2 with group (2,4,8); the device
/// reconnects and offers type 2 with its group (1,2,4,8); the LBS answers
/// type 2 with the suite chosen.
#[test]
fn figure_2_inconsistent_negotiation() {
    let group_248 = ProtocolGroup::of(&[Suite::Aes128Cbc, Suite::Aes128Gcm, Suite::Reserved8]);
    assert_eq!(group_248.bits(), 0x0e);
    control_vector(
        negotiation(NegotiationKind::Response, 2, group_248, b"xxxx"),
        &[
            0x21, 0x0b, 0x02, 0x0e, 0x00, 0x07, 0x01, 0x01, 0x00, b'x', b'x', b'x', b'x',
        ],
    );
    control_vector(
        negotiation(NegotiationKind::Request, 2, ProtocolGroup::ALL, b"xxxx"),
        &[
            0x11, 0x0b, 0x02, 0x0f, 0x00, 0x07, 0x01, 0x01, 0x00, b'x', b'x', b'x', b'x',
        ],
    );
}

#[test]
fn ecdh_flag_round_trips() {
    let mut frame = negotiation(NegotiationKind::Request, 1, ProtocolGroup::ALL, b"");
    frame.flags = ControlFlags::ECDH;
    let mut wire = Vec::new();
    frame.encode(&mut wire).unwrap();
    assert_eq!(wire[0], 0x13);
    let parsed = ControlFrame::parse(&wire).unwrap();
    assert!(parsed.flags.ecdh());
    assert_eq!(parsed, frame);
}

#[test]
fn control_frame_with_application_payload() {
    let frame = ControlFrame {
        kind: 0x7,
        flags: ControlFlags::ECDH,
        protocol_type: 1,
        protocol_group: ProtocolGroup::single(Suite::Aes128Gcm),
        version: ProtocolVersion {
            form: 2,
            high: 3,
            low: 4,
        },
        content: b"ab".as_slice().into(),
        application: b"cde".as_slice().into(),
    };
    control_vector(
        frame,
        &[
            0x73, 0x0c, 0x01, 0x04, 0x00, 0x05, 0x02, 0x03, 0x04, b'a', b'b', b'c', b'd', b'e',
        ],
    );
}

#[test]
fn control_frame_errors() {
    fn f(wire: &[u8]) -> Result<ControlFrame<'_>, FrameError> {
        ControlFrame::parse(wire)
    }
    assert_eq!(f(&[0x01, 0x00]), Err(FrameError::UnknownType(0)));
    assert_eq!(
        f(&[0x10, 0x07, 1, 1, 0, 3, 1, 1, 0]),
        Err(FrameError::Malformed {
            field: "control flags",
            reason: FieldError::Invalid("bit 0 must be set")
        })
    );
    assert_eq!(
        f(&[0x11, 0x07, 1, 0x1f, 0, 3, 1, 1, 0]),
        Err(FrameError::Malformed {
            field: "protocol group",
            reason: FieldError::ReservedBits(0x10)
        })
    );
    assert!(matches!(
        f(&[0x11, 0x06, 1, 1, 0, 2, 1, 1]),
        Err(FrameError::Malformed {
            field: "general payload length",
            ..
        })
    ));
    assert_eq!(
        f(&[0x11, 0x07, 1, 1, 0, 9, 1, 1, 0]),
        Err(FrameError::Malformed {
            field: "general payload",
            reason: FieldError::Truncated
        })
    );
    assert_eq!(
        f(&[0x11, 0x01, 1]),
        Err(FrameError::Malformed {
            field: "protocol group",
            reason: FieldError::Truncated
        })
    );
    // Reserved flag bits are kept, for the state machines to refuse.
    let parsed = f(&[0x1d, 0x07, 1, 1, 0, 3, 1, 1, 0]).unwrap();
    assert_eq!(parsed.flags.reserved_bits(), 0xc);
    assert!(!parsed.flags.ecdh());
}

#[test]
fn packet_errors() {
    fn p(wire: &[u8]) -> Result<Packet<'_>, FrameError> {
        Packet::parse(wire)
    }
    let malformed =
        |field: &'static str, reason: FieldError| Err(FrameError::Malformed { field, reason });
    assert_eq!(p(&[0x00, 0x00]), Err(FrameError::UnknownType(0)));
    assert_eq!(p(&[0xf0, 0x00]), Err(FrameError::UnknownType(15)));
    // The QoS 2 flow: PUBREL's flags are 0010, the others' 0000; a
    // QoS 2 PUBLISH has a packet identifier.
    assert_eq!(
        p(&[0x60, 0x02, 0, 1]),
        malformed("fixed header flags", FieldError::ReservedBits(0x2))
    );
    assert_eq!(
        p(&[0x52, 0x02, 0, 1]),
        malformed("fixed header flags", FieldError::ReservedBits(0x2))
    );
    assert!(matches!(
        p(&[0x70, 0x03, 0, 1, 0]),
        Err(FrameError::Malformed { .. })
    ));
    assert!(matches!(
        p(&[0x34, 0x03, 0, 1, b't']),
        Err(FrameError::Malformed { .. })
    ));
    assert!(matches!(
        p(&[0x34, 0x05, 0, 1, b't', 0, 0]),
        Err(FrameError::Malformed { .. })
    ));
    assert_eq!(
        p(&[0x36, 0x03, 0, 1, b't']),
        malformed("fixed header flags", FieldError::OutOfRange(3))
    );
    assert!(matches!(
        p(&[0x38, 0x03, 0, 1, b't']),
        Err(FrameError::Malformed {
            field: "fixed header flags",
            ..
        })
    ));
    assert_eq!(
        p(&[0xc1, 0x00]),
        malformed("fixed header flags", FieldError::ReservedBits(1))
    );
    assert_eq!(
        p(&[0x80, 0x06, 0, 1, 0, 1, b'a', 0]),
        malformed("fixed header flags", FieldError::ReservedBits(2))
    );
    assert_eq!(
        p(&[0xc0, 0x01, 0]),
        malformed("body", FieldError::TrailingBytes)
    );
    assert_eq!(
        p(&[0x40, 0x02, 0, 0]),
        malformed("packet identifier", FieldError::Invalid("must not be 0"))
    );
    assert_eq!(
        p(&[0x40, 0x01, 0]),
        malformed("packet identifier", FieldError::Truncated)
    );
    assert_eq!(
        p(&[0x20, 0x02, 0x02, 0]),
        malformed("connect acknowledge flags", FieldError::ReservedBits(2))
    );
    assert_eq!(
        p(&[0x20, 0x02, 0x00, 6]),
        malformed("connect return code", FieldError::OutOfRange(6))
    );
    assert!(matches!(
        p(&[0x20, 0x02, 0x01, 1]),
        Err(FrameError::Malformed {
            field: "connect acknowledge flags",
            ..
        })
    ));
    // Topic names: UTF-8, no U+0000, no wildcards, not empty.
    assert_eq!(
        p(&[0x30, 0x03, 0, 1, 0xff]),
        malformed("topic name", FieldError::InvalidUtf8)
    );
    assert_eq!(
        p(&[0x30, 0x03, 0, 1, 0x00]),
        malformed("topic name", FieldError::NullCharacter)
    );
    assert!(matches!(
        p(&[0x30, 0x03, 0, 1, b'#']),
        Err(FrameError::Malformed {
            field: "topic name",
            ..
        })
    ));
    assert!(matches!(
        p(&[0x30, 0x02, 0, 0]),
        Err(FrameError::Malformed {
            field: "topic name",
            ..
        })
    ));
    // Subscriptions.
    assert!(matches!(
        p(&[0x82, 0x02, 0, 1]),
        Err(FrameError::Malformed {
            field: "topic filters",
            ..
        })
    ));
    assert_eq!(
        p(&[0x82, 0x06, 0, 1, 0, 1, b'a', 0x04]),
        malformed("requested qos", FieldError::ReservedBits(4))
    );
    assert_eq!(
        p(&[0x82, 0x06, 0, 1, 0, 1, b'a', 0x03]),
        malformed("requested qos", FieldError::OutOfRange(3))
    );
    assert!(matches!(
        p(&[0x82, 0x07, 0, 1, 0, 2, b'#', b'a', 0]),
        Err(FrameError::Malformed {
            field: "topic filter",
            ..
        })
    ));
    assert!(matches!(
        p(&[0x82, 0x07, 0, 1, 0, 2, b'a', b'+', 0]),
        Err(FrameError::Malformed {
            field: "topic filter",
            ..
        })
    ));
    assert!(matches!(
        p(&[0x90, 0x02, 0, 1]),
        Err(FrameError::Malformed {
            field: "return codes",
            ..
        })
    ));
    assert_eq!(
        p(&[0x90, 0x03, 0, 1, 3]),
        malformed("subscribe return code", FieldError::OutOfRange(3))
    );
    // CONNECT.
    let connect = |flags: u8, rest: &[u8]| {
        let mut v = vec![0x10, 0];
        v.extend_from_slice(&[0, 4, b'M', b'Q', b'T', b'T', 4, flags, 0, 30]);
        v.extend_from_slice(rest);
        v[1] = u8::try_from(v.len() - 2).unwrap();
        Packet::parse(&v).map(Packet::into_owned)
    };
    assert_eq!(
        connect(0x03, &[0, 0]),
        malformed("connect flags", FieldError::ReservedBits(1))
    );
    assert!(matches!(
        connect(0x20, &[0, 0]),
        Err(FrameError::Malformed {
            field: "connect flags",
            ..
        })
    ));
    assert!(matches!(
        connect(0x40, &[0, 0]),
        Err(FrameError::Malformed {
            field: "connect flags",
            ..
        })
    ));
    assert_eq!(
        connect(0x1c, &[0, 0]),
        malformed("will qos", FieldError::OutOfRange(3))
    );
    assert_eq!(
        connect(0x80, &[0, 0]),
        malformed("user name", FieldError::Truncated)
    );
    assert_eq!(
        connect(0x02, &[0, 0, 9]),
        malformed("connect payload", FieldError::TrailingBytes)
    );
    let mut v = vec![0x10, 12, 0, 4, b'M', b'Q', b'T', b'X', 4, 2, 0, 30, 0, 0];
    assert!(matches!(
        Packet::parse(&v),
        Err(FrameError::Malformed {
            field: "protocol name",
            ..
        })
    ));
    v[7] = b'T';
    v[8] = 3;
    assert_eq!(
        Packet::parse(&v),
        malformed("protocol level", FieldError::OutOfRange(3))
    );
}

#[test]
fn encoding_errors() {
    let mut out = Vec::new();
    let no_user = Packet::Connect(Connect {
        client_id: "c".into(),
        keep_alive: 0,
        clean_session: true,
        will: None,
        username: None,
        password: Some(Password::new(b"p".as_slice())),
    });
    assert!(no_user.encode(&mut out).is_err());
    // A topic name is checked when it is made (section 4.7), so no
    // PUBLISH holds one that cannot be written.
    for (topic, reason) in [
        ("a/#", FieldError::Invalid("must not contain wildcards")),
        ("a/+/b", FieldError::Invalid("must not contain wildcards")),
        ("", FieldError::Invalid("must not be empty")),
        ("a\0b", FieldError::NullCharacter),
    ] {
        assert_eq!(
            TopicName::new(topic),
            Err(FrameError::Malformed {
                field: "topic name",
                reason
            }),
            "{topic:?}"
        );
    }
    assert_eq!(
        TopicName::new("x".repeat(70_000)),
        Err(FrameError::Malformed {
            field: "topic name",
            reason: FieldError::TooLong(70_000)
        })
    );
    assert!(TopicName::new("x".repeat(65_535)).is_ok());
    assert!(out.is_empty(), "nothing is written when encoding fails");
    assert!(TopicFilters::filters(&[]).is_err());
    assert!(ReturnCodes::new(&[]).is_err());
    let mut frame = negotiation(NegotiationKind::Request, 1, ProtocolGroup::ALL, b"");
    frame.kind = 16;
    assert_eq!(frame.encode(&mut out), Err(FrameError::UnknownType(16)));
}

#[test]
fn password_is_redacted_and_compared_whole() {
    let p = Password::new(b"secret".as_slice());
    let shown = format!("{p:?}");
    assert!(
        shown.starts_with("Password(") && shown.contains("REDACTED"),
        "{shown}"
    );
    assert!(!shown.contains("115"), "no byte of it");
    // JSON shows the placeholder, and refuses it when read back.
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(json, "\"<redacted>\"");
    assert!(serde_json::from_str::<Password>(&json).is_err());
    assert_eq!(
        serde_json::from_str::<Password>("\"736563726574\"").unwrap(),
        p
    );
    assert_ne!(p, Password::new(b"secreT".as_slice()));
    assert_eq!(p, Password::new(b"secret".to_vec()));
}

/// The topic name of a PUBLISH is checked in one pass; the errors keep
/// their order: UTF-8 first, then U+0000, then empty, then wildcards.
#[test]
fn topic_name_errors_keep_their_order() {
    let publish = |topic: &[u8]| {
        let mut wire = vec![0x30, u8::try_from(2 + topic.len()).unwrap(), 0x00];
        wire.push(u8::try_from(topic.len()).unwrap());
        wire.extend_from_slice(topic);
        Packet::parse(&wire).map(Packet::into_owned)
    };
    let field = |reason| {
        Err(FrameError::Malformed {
            field: "topic name",
            reason,
        })
    };
    assert_eq!(publish(b"a/\xff\x00#"), field(FieldError::InvalidUtf8));
    assert_eq!(publish(b"a\x00/#"), field(FieldError::NullCharacter));
    assert_eq!(
        publish(b""),
        field(FieldError::Invalid("must not be empty"))
    );
    assert_eq!(
        publish("Gr\u{fc}n/+".as_bytes()),
        field(FieldError::Invalid("must not contain wildcards"))
    );
    assert_eq!(
        publish(b"a/#"),
        field(FieldError::Invalid("must not contain wildcards"))
    );
    let ok = publish("Gr\u{fc}n/\u{1f4a1}".as_bytes()).unwrap();
    assert!(matches!(ok, Packet::Publish(p) if p.topic == "Gr\u{fc}n/\u{1f4a1}"));
}

/// MQTT 3.1.1 section 1.5.3: a string holds no U+0000. The writer refuses
/// a CONNECT whose client identifier or user name holds one, as the reader
/// refuses it (found by the structure-aware fuzz target `osap_typed`).
#[test]
fn connect_strings_with_u0000_are_not_written() {
    let connect = |client_id: &'static str, username: Option<&'static str>| {
        Packet::Connect(Connect {
            client_id: client_id.into(),
            keep_alive: 30,
            clean_session: true,
            will: None,
            username: username.map(Into::into),
            password: None,
        })
    };
    for (packet, field) in [
        (connect("a\0b", None), "client identifier"),
        (connect("dev", Some("\0")), "user name"),
    ] {
        let refused = Err(FrameError::Malformed {
            field,
            reason: FieldError::NullCharacter,
        });
        assert_eq!(packet.encoded_len(), refused);
        let mut wire = Vec::new();
        assert_eq!(packet.encode(&mut wire), refused.map(|_| ()));
        assert!(wire.is_empty());
    }
    // Without it, the same packet goes out and reads back.
    let mut wire = Vec::new();
    connect("ab", Some("u")).encode(&mut wire).unwrap();
    assert_eq!(Packet::parse(&wire).unwrap(), connect("ab", Some("u")));
}
