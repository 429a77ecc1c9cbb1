//! Interoperability with a real MQTT broker (OSAP draft sections 6 and 7
//! ride on MQTT 3.1.1): Mosquitto accepts the CONNECT, SUBSCRIBE,
//! PUBLISH (QoS 0, 1 and 2), PUBACK, PUBREC, PUBREL, PUBCOMP, PINGREQ and
//! DISCONNECT bytes this crate writes, and this crate's decoder reads
//! everything Mosquitto sends: CONNACK, SUBACK, PUBLISH at every QoS,
//! PUBACK, PUBREC, PUBREL, PUBCOMP, PINGRESP, and what `mosquitto_pub`
//! publishes; and two devices exchange sealed business events through it.
//!
//! `.ci/run` starts the broker with `.ci/mosquitto` on 127.0.0.1:18830
//! (`OSAP_MOSQUITTO` overrides the address). Without a broker the tests say
//! why and pass, except under `CI=true`, where a missing broker fails them.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Saying why a test skips is the point.
#![allow(clippy::print_stderr)]

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::num::NonZeroU16;
use std::process::Command;
use std::time::{Duration, Instant};

use osap_proto::{
    ConnAck, Connect, ConnectReturnCode, Delivery, FrameDecoder, Packet, Publish, QoS, Subscribe,
    SubscribeReturnCode, TopicFilters, TopicName,
};

const TIMEOUT: Duration = Duration::from_secs(5);

fn address() -> String {
    std::env::var("OSAP_MOSQUITTO").unwrap_or_else(|_| "127.0.0.1:18830".into())
}

/// A connection to the broker, or `None` (after saying why) when there is
/// no broker and the run is not CI.
fn connect_tcp(test: &str) -> Option<TcpStream> {
    match TcpStream::connect(address()) {
        Ok(tcp) => {
            tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
            tcp.set_nodelay(true).unwrap();
            Some(tcp)
        }
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{test}: no MQTT broker at {} under CI: {e}", address())
        }
        Err(e) => {
            eprintln!(
                "{test}: skipped, no MQTT broker at {} ({e}); start one with `bash .ci/mosquitto`",
                address()
            );
            None
        }
    }
}

/// One MQTT client connection: packets written with this crate's encoder
/// and read with its decoder.
struct Client {
    tcp: TcpStream,
    decoder: FrameDecoder,
    /// Bytes read and not yet decoded.
    pending: Vec<u8>,
}

impl Client {
    fn open(test: &str, client_id: &str) -> Option<Self> {
        let mut client = Self {
            tcp: connect_tcp(test)?,
            decoder: FrameDecoder::default(),
            pending: Vec::new(),
        };
        client.send(&Packet::Connect(Connect {
            client_id: client_id.into(),
            keep_alive: 30,
            clean_session: true,
            will: None,
            username: None,
            password: None,
        }));
        assert_eq!(
            client.recv(),
            Packet::ConnAck(ConnAck {
                session_present: false,
                code: ConnectReturnCode::Accepted
            })
        );
        Some(client)
    }

    fn send(&mut self, packet: &Packet<'_>) {
        let mut wire = Vec::new();
        packet.encode(&mut wire).unwrap();
        self.tcp.write_all(&wire).unwrap();
    }

    /// The next packet from the broker, read strictly.
    fn recv(&mut self) -> Packet<'static> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let (used, frame) = self.decoder.decode(&self.pending).unwrap();
            let packet = frame.map(|raw| Packet::from_raw(raw).unwrap().into_owned());
            self.pending.drain(..used);
            if let Some(packet) = packet {
                return packet;
            }
            assert!(Instant::now() < deadline, "nothing from the broker");
            let mut buf = [0u8; 4096];
            match self.tcp.read(&mut buf) {
                Ok(0) => panic!("the broker closed the connection"),
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
                    panic!("nothing from the broker within {TIMEOUT:?}")
                }
                Err(e) => panic!("{e}"),
            }
        }
    }

    fn subscribe(&mut self, filter: &str, qos: QoS, id: u16) {
        self.send(&Packet::Subscribe(Subscribe {
            packet_id: NonZeroU16::new(id).unwrap(),
            filters: TopicFilters::subscriptions(&[(filter, qos)]).unwrap(),
        }));
        match self.recv() {
            Packet::SubAck(ack) => {
                assert_eq!(ack.packet_id.get(), id);
                assert_eq!(
                    ack.codes.iter().collect::<Vec<_>>(),
                    [SubscribeReturnCode::Granted(qos)]
                );
            }
            other => panic!("expected SUBACK, got {other:?}"),
        }
    }

    /// Whether the broker closes the connection (read returns 0) in time.
    fn closed_by_peer(&mut self) -> bool {
        let mut buf = [0u8; 64];
        matches!(self.tcp.read(&mut buf), Ok(0))
    }
}

fn publish<'a>(topic: &'a str, payload: &'a [u8], delivery: Delivery) -> Packet<'a> {
    Packet::Publish(Publish {
        delivery,
        retain: false,
        topic: TopicName::new(topic).unwrap(),
        payload: payload.into(),
    })
}

/// A topic of this run's own, so that runs and tests do not see each
/// other's messages.
fn topic(test: &str) -> String {
    format!("osap/{}/{test}", std::process::id())
}

#[test]
fn connect_ping_and_disconnect() {
    let Some(mut c) = Client::open("connect_ping_and_disconnect", "osap-ping") else {
        return;
    };
    c.send(&Packet::PingReq);
    assert_eq!(c.recv(), Packet::PingResp);
    c.send(&Packet::Disconnect);
    assert!(c.closed_by_peer(), "the broker closes after DISCONNECT");
}

#[test]
fn publish_at_qos_0_and_1_through_the_broker() {
    let test = "publish_at_qos_0_and_1";
    let Some(mut subscriber) = Client::open(test, "osap-sub") else {
        return;
    };
    let Some(mut publisher) = Client::open(test, "osap-pub") else {
        return;
    };
    let base = topic(test);
    subscriber.subscribe(&format!("{base}/#"), QoS::AtLeastOnce, 1);

    let events = format!("{base}/event");
    publisher.send(&publish(&events, b"qos 0", Delivery::AtMostOnce));
    match subscriber.recv() {
        Packet::Publish(p) => {
            assert_eq!(
                (p.topic.as_ref(), p.payload.as_ref()),
                (events.as_str(), &b"qos 0"[..])
            );
            assert_eq!(p.delivery, Delivery::AtMostOnce);
        }
        other => panic!("expected PUBLISH, got {other:?}"),
    }

    let id = NonZeroU16::new(7).unwrap();
    let at_least_once = Delivery::AtLeastOnce {
        packet_id: id,
        dup: false,
    };
    publisher.send(&publish(&events, b"qos 1", at_least_once));
    assert_eq!(publisher.recv(), Packet::PubAck(id));
    match subscriber.recv() {
        Packet::Publish(p) => {
            assert_eq!(p.payload.as_ref(), b"qos 1");
            let Delivery::AtLeastOnce { packet_id, dup } = p.delivery else {
                panic!("expected QoS 1, got {:?}", p.delivery);
            };
            assert!(!dup);
            // The broker numbers its own deliveries; the subscriber
            // acknowledges with the broker's identifier.
            subscriber.send(&Packet::PubAck(packet_id));
        }
        other => panic!("expected PUBLISH, got {other:?}"),
    }
    // The broker has the acknowledgement: a ping round trip comes back
    // with nothing redelivered before it.
    subscriber.send(&Packet::PingReq);
    assert_eq!(subscriber.recv(), Packet::PingResp);
    publisher.send(&Packet::Disconnect);
    subscriber.send(&Packet::Disconnect);
}

/// MQTT 3.1.1 section 4.3.3: a subscriber that asked for QoS 2 gets the
/// whole QoS 2 flow from the broker, and every frame of it decodes: the
/// publisher's PUBREC and PUBCOMP, the subscriber's PUBLISH at QoS 2 and
/// PUBREL; what `mosquitto_pub -q 2` publishes too.
#[test]
fn the_qos_2_flow_through_the_broker_decodes() {
    let test = "qos_2_flow";
    let Some(mut subscriber) = Client::open(test, "osap-sub-qos2") else {
        return;
    };
    let Some(mut publisher) = Client::open(test, "osap-pub-qos2") else {
        return;
    };
    let base = topic(test);
    subscriber.subscribe(&format!("{base}/#"), QoS::ExactlyOnce, 3);
    let events = format!("{base}/event");
    let id = NonZeroU16::new(9).unwrap();
    let exactly_once = Delivery::ExactlyOnce {
        packet_id: id,
        dup: false,
    };
    publisher.send(&publish(&events, b"qos 2", exactly_once));
    assert_eq!(publisher.recv(), Packet::PubRec(id));
    publisher.send(&Packet::PubRel(id));
    assert_eq!(publisher.recv(), Packet::PubComp(id));
    receive_exactly_once(&mut subscriber, &events, b"qos 2");

    if let Some(status) = mosquitto_pub(test, &["-q", "2", "-t", &events, "-m", "cli"]) {
        assert!(status.success(), "mosquitto_pub: {status}");
        receive_exactly_once(&mut subscriber, &events, b"cli");
    }
    subscriber.send(&Packet::PingReq);
    assert_eq!(subscriber.recv(), Packet::PingResp);
    publisher.send(&Packet::Disconnect);
    subscriber.send(&Packet::Disconnect);
}

/// The subscriber's half of a QoS 2 delivery: PUBLISH, PUBREC, PUBREL,
/// PUBCOMP.
fn receive_exactly_once(subscriber: &mut Client, topic: &str, payload: &[u8]) {
    let packet_id = match subscriber.recv() {
        Packet::Publish(p) => {
            assert_eq!((p.topic.as_ref(), p.payload.as_ref()), (topic, payload));
            let Delivery::ExactlyOnce { packet_id, dup } = p.delivery else {
                panic!("expected QoS 2, got {:?}", p.delivery);
            };
            assert!(!dup);
            packet_id
        }
        other => panic!("expected PUBLISH, got {other:?}"),
    };
    subscriber.send(&Packet::PubRec(packet_id));
    assert_eq!(subscriber.recv(), Packet::PubRel(packet_id));
    subscriber.send(&Packet::PubComp(packet_id));
}

/// Runs `mosquitto_pub` against the broker; `None` (after saying why)
/// when it is missing outside CI.
fn mosquitto_pub(test: &str, args: &[&str]) -> Option<std::process::ExitStatus> {
    let (host, port) = address()
        .rsplit_once(':')
        .map(|(h, p)| (h.to_owned(), p.to_owned()))
        .unwrap();
    match Command::new("mosquitto_pub")
        .args(["-h", &host, "-p", &port])
        .args(args)
        .status()
    {
        Ok(status) => Some(status),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("mosquitto_pub is needed under CI: {e}")
        }
        Err(e) => {
            eprintln!("{test}: skipped, mosquitto_pub not found ({e})");
            None
        }
    }
}

#[test]
fn what_mosquitto_pub_publishes_is_read() {
    let test = "mosquitto_pub";
    let Some(mut subscriber) = Client::open(test, "osap-sub-cli") else {
        return;
    };
    let base = topic(test);
    subscriber.subscribe(&format!("{base}/#"), QoS::AtLeastOnce, 2);
    let events = format!("{base}/attr/report");
    let body = r#"{"power":"on","brightness":80}"#;
    let Some(status) = mosquitto_pub(test, &["-q", "1", "-t", &events, "-m", body]) else {
        return;
    };
    assert!(status.success(), "mosquitto_pub: {status}");
    match subscriber.recv() {
        Packet::Publish(p) => {
            assert_eq!(p.topic, events);
            assert_eq!(p.payload.as_ref(), body.as_bytes());
            if let Delivery::AtLeastOnce { packet_id, .. } = p.delivery {
                subscriber.send(&Packet::PubAck(packet_id));
            }
        }
        other => panic!("expected PUBLISH, got {other:?}"),
    }
    subscriber.send(&Packet::Disconnect);
}

#[test]
fn two_devices_exchange_sealed_events_through_the_broker() {
    use osap_proto::Suite;
    use osap_proto::business::{Body, BusinessChannel, BusinessMessage, Direction, Params};
    use osap_proto::crypto::SessionKey;

    let test = "sealed_events";
    let Some(mut camera) = Client::open(test, "osap-camera") else {
        return;
    };
    let Some(mut watcher) = Client::open(test, "osap-watcher") else {
        return;
    };
    // The camera seals with its sessionkey; the watcher holds the same key
    // (as a DAS would) and opens. The devid is unique to this run so that
    // the topic is too.
    let devid = format!("cam-{}", std::process::id());
    let key = SessionKey::from_bytes([0x42; 16]);
    let mut sender = BusinessChannel::new(
        Suite::Aes128Gcm,
        key.clone(),
        devid.clone(),
        1,
        Direction::Up,
    );
    let mut receiver =
        BusinessChannel::new(Suite::Aes128Gcm, key, devid.clone(), 1, Direction::Down);
    watcher.subscribe(&format!("osap/{devid}/up/#"), QoS::AtLeastOnce, 3);
    let mut rng = iot_sansio::testing::rng(5);
    let events: Vec<BusinessMessage> = (1..=3)
        .map(|n: u64| {
            let mut params = Params::new();
            params.insert("n".into(), n.into());
            BusinessMessage::new(
                "motion",
                Body::Event {
                    name: "detected".into(),
                    params,
                    id: None,
                },
            )
        })
        .collect();
    let mut sealed = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let s = sender.seal(event, &mut rng).unwrap();
        let id = NonZeroU16::new(u16::try_from(i + 1).unwrap()).unwrap();
        camera.send(&publish(
            &s.topic,
            &s.payload,
            Delivery::AtLeastOnce {
                packet_id: id,
                dup: false,
            },
        ));
        assert_eq!(camera.recv(), Packet::PubAck(id));
        sealed.push(s);
    }
    for event in &events {
        match watcher.recv() {
            Packet::Publish(p) => {
                assert_eq!(&receiver.open(&p.topic, &p.payload).unwrap(), event);
                if let Delivery::AtLeastOnce { packet_id, .. } = p.delivery {
                    watcher.send(&Packet::PubAck(packet_id));
                }
            }
            other => panic!("expected PUBLISH, got {other:?}"),
        }
    }
    // The first event published again through the broker is refused.
    let replay = &sealed[0];
    camera.send(&publish(
        &replay.topic,
        &replay.payload,
        Delivery::AtMostOnce,
    ));
    match watcher.recv() {
        Packet::Publish(p) => assert!(receiver.open(&p.topic, &p.payload).is_err()),
        other => panic!("expected PUBLISH, got {other:?}"),
    }
    camera.send(&Packet::Disconnect);
    watcher.send(&Packet::Disconnect);
}
