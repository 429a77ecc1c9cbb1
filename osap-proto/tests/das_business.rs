//! Business on a registered DAS connection, device against DAS in memory
//! (draft sections 2, 6 and 7): attributes read and set, operations
//! answered and timed out each way, events delivered and acknowledged,
//! events during an outage delivered in order after recovery with DUP,
//! queue overflow reported, and replayed and reordered PUBLISH packets refused.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iot_sansio::testing::Checked;
use std::time::Duration;

use iot_sansio::testing::{Driver, Node, pair};
use osap_proto::business::{Body, BusinessError, BusinessMessage, Params};
use osap_proto::crypto::SessionKey;
use osap_proto::das::{
    DasSession, DasSessionConfig, DasSessionEvent, DeviceSession, DeviceSessionConfig,
    DeviceSessionEvent, EventQueue, KeyTable, Overflow, Pushed, Registration, SessionError,
};
use osap_proto::{Delivery, End, Input, Machine, Packet, PacketId, Suite};

type Rng = rand_chacha::ChaCha20Rng;
type Device = Checked<DeviceSession<Duration, Rng>>;
type Das<'k> = Checked<DasSession<Duration, &'k mut KeyTable<Duration>, Rng>>;

const T0: Duration = Duration::ZERO;
const DEVID: &str = "cam-42";

fn key() -> SessionKey {
    SessionKey::from_bytes([0x33; 16])
}

fn table() -> KeyTable<Duration> {
    let mut keys = KeyTable::new();
    keys.issue(DEVID, key(), Suite::Aes128Cbc, None);
    keys
}

fn device_with(counter: u64, events: EventQueue) -> Device {
    let mut config = DeviceSessionConfig::new(Registration::new(DEVID, counter), key());
    config.suite = Suite::Aes128Cbc;
    config.events = events;
    Checked::new(DeviceSession::new(
        T0,
        config,
        iot_sansio::testing::rng(counter),
    ))
}

fn das(keys: &mut KeyTable<Duration>) -> Das<'_> {
    Checked::new(DasSession::new(
        T0,
        DasSessionConfig::default(),
        keys,
        iot_sansio::testing::rng(99),
    ))
}

fn params(pairs: &[(&str, serde_json::Value)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn event(n: u64) -> BusinessMessage {
    BusinessMessage::new(
        "alarm",
        Body::Event {
            name: "motion".into(),
            params: params(&[("n", n.into())]),
            id: None,
        },
    )
}

/// Event `n` as the DAS receives it: numbered by the device's queue.
fn received(n: u64, seq: u64) -> BusinessMessage {
    let mut message = event(n);
    if let Body::Event { id, .. } = &mut message.body {
        *id = Some(seq);
    }
    message
}

/// Delivers everything both ways, the DAS's runtime storing each event
/// (and confirming it, so its PUBACK goes); returns what each side
/// reported.
fn run(
    driver: &mut Driver<Duration>,
    d: &mut Device,
    s: &mut Das<'_>,
) -> (Vec<DeviceSessionEvent>, Vec<DasSessionEvent<Duration>>) {
    let mut platform = Vec::new();
    loop {
        let mut nodes: [&mut dyn Node<Duration, [u8], Vec<u8>>; 2] = [&mut *d, &mut *s];
        driver.run(&mut nodes, pair(|_, _| {}));
        let mut stored = false;
        while let Some(event) = s.poll_event() {
            if let DasSessionEvent::Event { write, .. } = &event {
                s.persisted(driver.now(), *write);
                stored = true;
            }
            platform.push(event);
        }
        if !stored {
            break;
        }
    }
    (std::iter::from_fn(|| d.poll_event()).collect(), platform)
}

/// The events among what the DAS reported.
fn delivered_events(platform: &[DasSessionEvent<Duration>]) -> Vec<BusinessMessage> {
    platform
        .iter()
        .filter_map(|e| match e {
            DasSessionEvent::Event { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

fn registered<'k>(
    driver: &mut Driver<Duration>,
    keys: &'k mut KeyTable<Duration>,
    d: &mut Device,
) -> Das<'k> {
    let mut s = das(keys);
    let (dev, _) = run(driver, d, &mut s);
    assert_eq!(dev.first(), Some(&DeviceSessionEvent::Registered));
    s
}

#[test]
fn attributes_are_read_and_set() {
    let mut keys = table();
    let mut driver = Driver::new(T0);
    let mut d = device_with(1, EventQueue::new(8, Overflow::RefuseNew));
    let mut s = registered(&mut driver, &mut keys, &mut d);
    let get = BusinessMessage::new(
        "video",
        Body::AttrGet {
            id: 1,
            names: vec!["fps".into()],
        },
    );
    s.send(T0, &get).unwrap();
    let (dev, _) = run(&mut driver, &mut d, &mut s);
    assert_eq!(dev, [DeviceSessionEvent::Request(get)]);
    let values = BusinessMessage::new(
        "video",
        Body::AttrValues {
            id: 1,
            values: params(&[("fps", 25.into())]),
            error: None,
        },
    );
    d.send(T0, &values).unwrap();
    let (_, platform) = run(&mut driver, &mut d, &mut s);
    assert_eq!(platform, [DasSessionEvent::Answer(values.clone())]);

    let mut set = BusinessMessage::new(
        "video",
        Body::AttrSet {
            id: 2,
            values: params(&[("fps", 30.into())]),
        },
    );
    set.resource = Some("channel-2".into());
    s.send(T0, &set).unwrap();
    let (dev, _) = run(&mut driver, &mut d, &mut s);
    assert_eq!(dev, [DeviceSessionEvent::Request(set)]);
    let mut refused = BusinessMessage::new(
        "video",
        Body::AttrValues {
            id: 2,
            values: Params::new(),
            error: Some("read-only".into()),
        },
    );
    refused.resource = Some("channel-2".into());
    d.send(T0, &refused).unwrap();
    let (_, platform) = run(&mut driver, &mut d, &mut s);
    assert_eq!(platform, [DasSessionEvent::Answer(refused)]);
    // The same answer again is late: nothing waits for it.
    d.send(T0, &values).unwrap();
    let (_, platform) = run(&mut driver, &mut d, &mut s);
    assert_eq!(platform, [DasSessionEvent::Late(values)]);
}

#[test]
fn operations_are_answered_or_time_out_both_ways() {
    let mut keys = table();
    let mut driver = Driver::new(T0);
    let mut d = device_with(1, EventQueue::new(8, Overflow::RefuseNew));
    let mut s = registered(&mut driver, &mut keys, &mut d);
    // The platform calls; the device answers.
    let call = BusinessMessage::new(
        "ptz",
        Body::OpCall {
            id: 7,
            name: "move".into(),
            input: params(&[("pan", 10.into())]),
            timeout_ms: 5_000,
        },
    );
    s.send(T0, &call).unwrap();
    assert_eq!(s.send(T0, &call), Err(SessionError::DuplicateRequest(7)));
    let (dev, _) = run(&mut driver, &mut d, &mut s);
    assert_eq!(dev, [DeviceSessionEvent::Request(call)]);
    let result = BusinessMessage::new(
        "ptz",
        Body::OpResult {
            id: 7,
            output: params(&[("at", 10.into())]),
            error: None,
        },
    );
    d.send(T0, &result).unwrap();
    let (_, platform) = run(&mut driver, &mut d, &mut s);
    assert_eq!(platform, [DasSessionEvent::Answer(result)]);
    // The device calls; nobody answers: it times out after its timeout.
    let sync = BusinessMessage::new(
        "clock",
        Body::OpCall {
            id: 1,
            name: "sync".into(),
            input: Params::new(),
            timeout_ms: 2_000,
        },
    );
    d.send(T0, &sync).unwrap();
    let (_, platform) = run(&mut driver, &mut d, &mut s);
    assert_eq!(platform, [DasSessionEvent::Request(sync)]);
    assert_eq!(d.poll_timeout(), Some(Duration::from_secs(2)));
    d.handle_timeout(Duration::from_secs(2));
    assert_eq!(
        d.poll_event(),
        Some(DeviceSessionEvent::CallTimedOut { id: 1 })
    );
    // Its answer now is late.
    let late = BusinessMessage::new(
        "clock",
        Body::OpResult {
            id: 1,
            output: Params::new(),
            error: None,
        },
    );
    s.send(Duration::from_secs(2), &late).unwrap();
    driver = Driver::new(Duration::from_secs(2));
    let (dev, _) = run(&mut driver, &mut d, &mut s);
    assert_eq!(dev, [DeviceSessionEvent::Late(late)]);
    // A platform read the device never answers times out on the DAS.
    let get = BusinessMessage::new(
        "video",
        Body::AttrGet {
            id: 9,
            names: vec![],
        },
    );
    s.send(Duration::from_secs(2), &get).unwrap();
    assert_eq!(s.poll_timeout(), Some(Duration::from_secs(12)));
    s.handle_timeout(Duration::from_secs(12));
    assert_eq!(
        s.poll_event(),
        Some(DasSessionEvent::RequestTimedOut { id: 9 })
    );
}

#[test]
fn events_are_delivered_acknowledged_and_survive_an_outage_in_order() {
    let mut keys = table();
    let mut driver = Driver::new(T0);
    let mut d = device_with(1, EventQueue::new(8, Overflow::RefuseNew));
    // Before registration, events wait.
    assert_eq!(d.send_event(T0, event(1)).unwrap(), Pushed::Queued);
    let mut s = das(&mut keys);
    let (dev, platform) = run(&mut driver, &mut d, &mut s);
    assert!(matches!(
        platform.first(),
        Some(DasSessionEvent::Registered { .. })
    ));
    assert_eq!(delivered_events(&platform), [received(1, 1)]);
    assert!(matches!(
        dev.as_slice(),
        [DeviceSessionEvent::Registered, DeviceSessionEvent::EventDelivered(e)] if e.seq == 1
    ));
    assert!(d.events().is_empty());

    // The DAS connection drops with events 2 and 3 sent but not
    // acknowledged; 4 and 5 happen during the outage.
    d.send_event(T0, event(2)).unwrap();
    d.send_event(T0, event(3)).unwrap();
    let in_flight: Vec<Vec<u8>> = std::iter::from_fn(|| d.poll_transmit()).collect();
    assert_eq!(in_flight.len(), 2);
    d.handle_input(T0, Input::PeerClosed);
    assert_eq!(
        d.poll_event(),
        Some(DeviceSessionEvent::Ended(End::PeerClosed))
    );
    let mut queue = d.into_inner().into_events();
    assert_eq!(queue.push(event(4)), Pushed::Queued);
    assert_eq!(queue.push(event(5)), Pushed::Queued);

    // Recovery: a new registration (counter 2); everything goes in order,
    // the ones sent before with DUP.
    let mut d = device_with(2, queue);
    let mut s = das(&mut keys);
    let mut dups = Vec::new();
    let mut nodes: [&mut dyn Node<Duration, [u8], Vec<u8>>; 2] = [&mut d, &mut s];
    driver.run(
        &mut nodes,
        pair(|from, frame: &Vec<u8>| {
            if from == 0
                && let Ok(Packet::Publish(p)) = Packet::parse(frame)
                && let Delivery::AtLeastOnce { dup, .. } = p.delivery
            {
                dups.push(dup);
            }
        }),
    );
    assert_eq!(dups, [true, true, false, false]);
    // Nothing is acknowledged before the DAS's runtime stored it.
    assert!(
        std::iter::from_fn(|| d.poll_event())
            .all(|e| !matches!(e, DeviceSessionEvent::EventDelivered(_)))
    );
    let (dev, platform) = run(&mut driver, &mut d, &mut s);
    // Events 2 and 3 come again with the numbers they had: the platform
    // keeps one copy of each.
    assert_eq!(
        delivered_events(&platform),
        [
            received(2, 2),
            received(3, 3),
            received(4, 4),
            received(5, 5)
        ]
    );
    let delivered: Vec<u64> = dev
        .into_iter()
        .filter_map(|e| match e {
            DeviceSessionEvent::EventDelivered(e) => Some(e.seq),
            _ => None,
        })
        .collect();
    assert_eq!(delivered, [2, 3, 4, 5]);
    assert!(d.events().is_empty());
}

#[test]
fn a_full_queue_reports_every_event_it_drops() {
    let mut d = device_with(1, EventQueue::new(2, Overflow::DropOldest));
    for n in 1..=4 {
        d.send_event(T0, event(n)).unwrap();
    }
    let dropped: Vec<u64> = std::iter::from_fn(|| d.poll_event())
        .map(|e| match e {
            DeviceSessionEvent::EventDropped(e) => e.seq,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(dropped, [1, 2]);
    let mut d = device_with(1, EventQueue::new(1, Overflow::RefuseNew));
    d.send_event(T0, event(1)).unwrap();
    assert!(matches!(d.send_event(T0, event(2)).unwrap(), Pushed::Refused(e) if e.seq == 2));
    assert!(matches!(d.poll_event(), Some(DeviceSessionEvent::EventDropped(e)) if e.seq == 2));
}

#[test]
fn replayed_and_reordered_publishes_are_refused_and_not_acknowledged() {
    let mut keys = table();
    let mut driver = Driver::new(T0);
    let mut d = device_with(1, EventQueue::new(8, Overflow::RefuseNew));
    let mut s = registered(&mut driver, &mut keys, &mut d);
    d.send_event(T0, event(1)).unwrap();
    d.send_event(T0, event(2)).unwrap();
    let first = d.poll_transmit().unwrap();
    let second = d.poll_transmit().unwrap();
    // Reordered: the second first; the first, late, is refused and not
    // acknowledged (the device keeps it, and sends it again, numbered as
    // it was, on its next connection).
    s.handle_input(T0, Input::Data(&second));
    s.handle_input(T0, Input::Data(&first));
    s.handle_input(T0, Input::Data(&second));
    let platform: Vec<DasSessionEvent<Duration>> = std::iter::from_fn(|| s.poll_event()).collect();
    let DasSessionEvent::Event { message, write } = &platform[0] else {
        panic!("{platform:?}")
    };
    assert_eq!(*message, received(2, 2));
    assert_eq!(
        s.poll_transmit(),
        None,
        "no PUBACK before the event is stored"
    );
    s.persisted(T0, *write);
    assert!(matches!(
        platform[1],
        DasSessionEvent::Rejected(BusinessError::Stale {
            counter: 1,
            last: 2
        })
    ));
    assert!(matches!(
        platform[2],
        DasSessionEvent::Rejected(BusinessError::Stale { .. })
    ));
    let acks: Vec<Packet<'static>> = std::iter::from_fn(|| s.poll_transmit())
        .map(|f| Packet::parse(&f).unwrap().into_owned())
        .collect();
    assert_eq!(acks, [Packet::PubAck(PacketId::new(2).unwrap())]);
    // A PUBLISH replayed onto the next connection is refused there too.
    d.disconnect();
    let mut d2 = device_with(2, EventQueue::new(8, Overflow::RefuseNew));
    let mut s2 = registered(&mut driver, &mut keys, &mut d2);
    s2.handle_input(T0, Input::Data(&second));
    assert!(matches!(
        s2.poll_event(),
        Some(DasSessionEvent::Rejected(BusinessError::Crypto(_)))
    ));
}

#[test]
fn business_calls_are_refused_before_registration_and_in_the_wrong_direction() {
    let mut keys = table();
    let mut d = device_with(1, EventQueue::new(8, Overflow::RefuseNew));
    let report = BusinessMessage::new(
        "a",
        Body::AttrReport {
            values: Params::new(),
        },
    );
    assert_eq!(d.send(T0, &report), Err(SessionError::NotRegistered));
    let mut s = das(&mut keys);
    let get = BusinessMessage::new(
        "a",
        Body::AttrGet {
            id: 1,
            names: vec![],
        },
    );
    assert_eq!(s.send(T0, &get), Err(SessionError::NotRegistered));
    let mut driver = Driver::new(T0);
    let (_, _) = run(&mut driver, &mut d, &mut s);
    assert_eq!(
        d.send(T0, &get),
        Err(SessionError::Business(BusinessError::Direction("attr-get")))
    );
    assert_eq!(
        s.send(T0, &report),
        Err(SessionError::Business(BusinessError::Direction(
            "attr-report"
        )))
    );
    assert_eq!(d.send(T0, &event(1)), Err(SessionError::UseSendEvent));
    assert!(matches!(
        d.send_event(T0, report),
        Err(SessionError::Business(_))
    ));
}

/// More events wait at the CONNACK than MQTT can number (65,535 packet
/// identifiers): the session returns, sends the window's worth, and each
/// PUBACK lets exactly one more out, so every flush looks at no more than
/// the window; all are delivered, in order, once.
#[test]
fn more_events_than_packet_ids_go_out_through_the_window() {
    const N: u64 = 66_000;
    let mut config = DeviceSessionConfig::new(Registration::new(DEVID, 1), key());
    config.events = EventQueue::new(usize::try_from(N).unwrap(), Overflow::RefuseNew);
    config.in_flight_window = 8;
    let mut d = Checked::new(DeviceSession::new(T0, config, iot_sansio::testing::rng(1)));
    while d.poll_transmit().is_some() {}
    for n in 1..=N {
        assert_eq!(d.send_event(T0, event(n)).unwrap(), Pushed::Queued);
    }
    assert_eq!(d.poll_transmit(), None, "nothing before the CONNACK");
    d.handle_input(T0, Input::Data(&[0x20, 0x02, 0x00, 0x00]));
    let publishes = |d: &mut Device| -> Vec<PacketId> {
        std::iter::from_fn(|| d.poll_transmit())
            .map(|frame| match Packet::parse(&frame).unwrap() {
                Packet::Publish(p) => p.delivery.packet_id().unwrap().0,
                other => panic!("{other:?}"),
            })
            .collect()
    };
    let mut in_flight = publishes(&mut d);
    assert_eq!(in_flight.len(), 8);
    let mut delivered = 0u64;
    while let Some(id) = in_flight.first().copied() {
        in_flight.remove(0);
        let mut ack = Vec::new();
        Packet::PubAck(id).encode(&mut ack).unwrap();
        d.handle_input(T0, Input::Data(&ack));
        let more = publishes(&mut d);
        assert!(more.len() <= 1, "one PUBACK, at most one more PUBLISH");
        in_flight.extend(more);
        assert!(in_flight.len() <= 8);
        for e in std::iter::from_fn(|| d.poll_event()) {
            if let DeviceSessionEvent::EventDelivered(e) = e {
                delivered += 1;
                assert_eq!(e.seq, delivered);
            }
        }
    }
    assert_eq!(delivered, N);
    assert!(d.events().is_empty());
}

/// Section 2.1.4 under the driver's crash mode: the DAS's runtime stores
/// each event the device reports (one copy per event number), and the
/// crash comes at every such write, before or after the store applied
/// it. The device then reconnects with its queue: no event it was told
/// delivered is missing from the store, and once it is through, every
/// event is stored exactly once.
#[test]
fn no_event_the_device_forgot_is_lost_and_none_is_stored_twice() {
    use iot_sansio::testing::{WriteFate, every_crash};
    use std::collections::BTreeMap;
    let runs = every_crash(|plan| {
        let mut keys = table();
        let mut driver = Driver::new(T0);
        let mut stored: BTreeMap<u64, BusinessMessage> = BTreeMap::new();
        let mut forgotten = Vec::new();
        let mut queue = EventQueue::new(8, Overflow::RefuseNew);
        for n in 1..=3 {
            assert_eq!(queue.push(event(n)), Pushed::Queued);
        }
        for counter in 1..=2 {
            let mut d = device_with(counter, queue);
            let mut s = das(&mut keys);
            let mut crashed = false;
            while !crashed {
                let mut nodes: [&mut dyn Node<Duration, [u8], Vec<u8>>; 2] = [&mut d, &mut s];
                driver.run(&mut nodes, pair(|_, _| {}));
                let mut wrote = false;
                while let Some(e) = s.poll_event() {
                    let DasSessionEvent::Event { message, write } = e else {
                        continue;
                    };
                    let Body::Event { id: Some(id), .. } = &message.body else {
                        panic!("an event without its number")
                    };
                    let id = *id;
                    match plan.write() {
                        WriteFate::CrashBefore => crashed = true,
                        WriteFate::CrashAfter => {
                            stored.entry(id).or_insert(message);
                            crashed = true;
                        }
                        WriteFate::Apply => {
                            stored.entry(id).or_insert(message);
                            s.persisted(driver.now(), write);
                            wrote = true;
                        }
                    }
                    if crashed {
                        break;
                    }
                }
                if !wrote {
                    break;
                }
            }
            for e in std::iter::from_fn(|| d.poll_event()) {
                if let DeviceSessionEvent::EventDelivered(e) = e {
                    forgotten.push(e.seq);
                }
            }
            // Every event the device forgot is stored.
            assert!(forgotten.iter().all(|seq| stored.contains_key(seq)));
            // The connection drops (the DAS crashed, or the device left);
            // the device keeps what is not acknowledged.
            d.handle_input(driver.now(), Input::PeerClosed);
            queue = d.into_inner().into_events();
        }
        // Through: each event stored once, with the message it was sent as.
        assert!(queue.is_empty());
        assert_eq!(stored.keys().copied().collect::<Vec<_>>(), [1, 2, 3]);
        for (seq, message) in &stored {
            assert_eq!(*message, received(*seq, *seq));
        }
    });
    // Three events on the first connection, each crashed before and after.
    assert_eq!(runs, 6);
}
