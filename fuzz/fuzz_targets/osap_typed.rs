//! Structure-aware: any MQTT packet or OSAP control frame the fuzzer can
//! describe (arbitrary strings, topics, filters, lengths and flags, built
//! through the crate's public types), encoded, then decoded. The encoder
//! either refuses the value with a typed error or writes exactly
//! `encoded_len` bytes that decode to the same value.
#![no_main]

use std::num::NonZeroU16;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use osap_proto::{
    ConnAck, Connect, ConnectReturnCode, ControlFlags, ControlFrame, Delivery, Packet, Password,
    ProtocolGroup, ProtocolVersion, Publish, QoS, ReturnCodes, SubAck, Subscribe,
    SubscribeReturnCode, TopicFilters, TopicName, Unsubscribe, Will,
};

fn qos(u: &mut Unstructured<'_>) -> Result<QoS> {
    Ok(*u.choose(&[QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce])?)
}

fn packet_id(u: &mut Unstructured<'_>) -> Result<NonZeroU16> {
    Ok(NonZeroU16::new(u.arbitrary::<u16>()?).unwrap_or(NonZeroU16::MIN))
}

/// A packet, or `None` when the crate's constructors refuse the parts.
fn packet(u: &mut Unstructured<'_>) -> Result<Option<Packet<'static>>> {
    Ok(Some(match u.int_in_range(0..=10u8)? {
        0 => {
            let will = if u.arbitrary()? {
                let Ok(topic) = TopicName::new(u.arbitrary::<String>()?) else {
                    return Ok(None);
                };
                Some(Will {
                    topic,
                    message: u.arbitrary::<Vec<u8>>()?.into(),
                    qos: qos(u)?,
                    retain: u.arbitrary()?,
                })
            } else {
                None
            };
            Packet::Connect(Connect {
                client_id: u.arbitrary::<String>()?.into(),
                keep_alive: u.arbitrary()?,
                clean_session: u.arbitrary()?,
                will,
                username: u.arbitrary::<Option<String>>()?.map(Into::into),
                password: u.arbitrary::<Option<Vec<u8>>>()?.map(Password::new),
            })
        }
        1 => {
            let Ok(code) = ConnectReturnCode::try_from(u.arbitrary::<u8>()?) else {
                return Ok(None);
            };
            Packet::ConnAck(ConnAck {
                session_present: u.arbitrary()?,
                code,
            })
        }
        2 => Packet::Publish(Publish {
            topic: match TopicName::new(u.arbitrary::<String>()?) {
                Ok(topic) => topic,
                Err(_) => return Ok(None),
            },
            delivery: match u.int_in_range(0..=2u8)? {
                0 => Delivery::AtMostOnce,
                1 => Delivery::AtLeastOnce {
                    packet_id: packet_id(u)?,
                    dup: u.arbitrary()?,
                },
                _ => Delivery::ExactlyOnce {
                    packet_id: packet_id(u)?,
                    dup: u.arbitrary()?,
                },
            },
            retain: u.arbitrary()?,
            payload: u.arbitrary::<Vec<u8>>()?.into(),
        }),
        3 => match u.int_in_range(0..=3u8)? {
            0 => Packet::PubAck(packet_id(u)?),
            1 => Packet::PubRec(packet_id(u)?),
            2 => Packet::PubRel(packet_id(u)?),
            _ => Packet::PubComp(packet_id(u)?),
        },
        4 => {
            let mut items = Vec::new();
            for _ in 0..u.int_in_range(0..=6u8)? {
                items.push((u.arbitrary::<String>()?, qos(u)?));
            }
            let refs: Vec<(&str, QoS)> = items.iter().map(|(f, q)| (f.as_str(), *q)).collect();
            let Ok(filters) = TopicFilters::subscriptions(&refs) else {
                return Ok(None);
            };
            Packet::Subscribe(Subscribe {
                packet_id: packet_id(u)?,
                filters,
            })
        }
        5 => {
            let mut codes = Vec::new();
            for _ in 0..u.int_in_range(0..=8u8)? {
                codes.push(if u.arbitrary()? {
                    SubscribeReturnCode::Granted(qos(u)?)
                } else {
                    SubscribeReturnCode::Failure
                });
            }
            let Ok(codes) = ReturnCodes::new(&codes) else {
                return Ok(None);
            };
            Packet::SubAck(SubAck {
                packet_id: packet_id(u)?,
                codes,
            })
        }
        6 => {
            let items: Vec<String> = u.arbitrary()?;
            let refs: Vec<&str> = items.iter().map(String::as_str).collect();
            let Ok(filters) = TopicFilters::filters(&refs) else {
                return Ok(None);
            };
            Packet::Unsubscribe(Unsubscribe {
                packet_id: packet_id(u)?,
                filters,
            })
        }
        7 => Packet::UnsubAck(packet_id(u)?),
        8 => Packet::PingReq,
        9 => Packet::PingResp,
        _ => Packet::Disconnect,
    }))
}

fn control(u: &mut Unstructured<'_>) -> Result<Option<ControlFrame<'static>>> {
    let Ok(protocol_group) = ProtocolGroup::from_bits(u.arbitrary()?) else {
        return Ok(None);
    };
    Ok(Some(ControlFrame {
        kind: u.arbitrary()?,
        flags: ControlFlags::new(u.arbitrary()?),
        protocol_type: u.arbitrary()?,
        protocol_group,
        version: ProtocolVersion {
            form: u.arbitrary()?,
            high: u.arbitrary()?,
            low: u.arbitrary()?,
        },
        content: u.arbitrary::<Vec<u8>>()?.into(),
        application: u.arbitrary::<Vec<u8>>()?.into(),
    }))
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(is_packet) = u.arbitrary::<bool>() else {
        return;
    };
    let mut wire = Vec::new();
    if is_packet {
        let Ok(Some(packet)) = packet(&mut u) else {
            return;
        };
        let Ok(len) = packet.encoded_len() else {
            assert!(
                packet.encode(&mut wire).is_err(),
                "encoded what has no length"
            );
            return;
        };
        if packet.encode(&mut wire).is_err() {
            return;
        }
        assert_eq!(wire.len(), len);
        assert_eq!(Packet::parse(&wire).as_ref(), Ok(&packet));
    } else {
        let Ok(Some(frame)) = control(&mut u) else {
            return;
        };
        if frame.encode(&mut wire).is_err() {
            return;
        }
        assert_eq!(wire.len(), frame.encoded_len());
        assert_eq!(ControlFrame::parse(&wire).as_ref(), Ok(&frame));
    }
});
