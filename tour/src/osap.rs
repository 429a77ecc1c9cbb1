//! OSAP (draft-wang-open-service-access-protocol-00): a device negotiates a
//! protocol with a load-balance service, as in Figures 1 and 2.

use std::error::Error;
use std::time::{Duration, Instant};

use iot_sansio::store::Deferred;

use iot_sansio::testing::{Driver, pair};
use osap_proto::{
    ControlFrame, DeviceNegotiation, DeviceNegotiationConfig, DeviceNegotiationEvent,
    LbsNegotiation, LbsNegotiationConfig, LbsNegotiationEvent, Machine, Offer, ProtocolGroup,
    Suite,
};

/// Prints one control frame: direction, hex and its fields.
fn show(from: &str, to: &str, bytes: &[u8]) {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    println!("  {from} -> {to}: {hex}");
    match ControlFrame::parse(bytes) {
        Ok(f) => println!(
            "      type 0x{:x}, flags 0x{:x} (ECDH mode {}), protocol type {}, group {:?}, version {}.{}.{}, transaction {:?}",
            f.kind,
            f.flags.bits(),
            f.flags.ecdh(),
            f.protocol_type,
            f.protocol_group,
            f.version.form,
            f.version.high,
            f.version.low,
            String::from_utf8_lossy(&f.content),
        ),
        Err(e) => println!("      (not a control frame: {e})"),
    }
}

/// Runs one connection: the device's request, the LBS's answer.
fn connection(
    device: &mut DeviceNegotiation<Instant>,
    lbs_config: &LbsNegotiationConfig,
    now: Instant,
) -> Result<LbsNegotiationEvent, Box<dyn Error>> {
    let mut lbs = LbsNegotiation::new(now, lbs_config.clone());
    pump(device, &mut lbs, now, show);
    lbs.poll_event()
        .ok_or_else(|| "the LBS reported nothing".into())
}

/// A machine on an OSAP connection, as the driver sees it.
trait Node: iot_sansio::testing::Node<Instant, [u8], Vec<u8>> {}
impl<T: iot_sansio::testing::Node<Instant, [u8], Vec<u8>>> Node for T {}

/// Moves frames between a device and an LBS machine until both are quiet,
/// printing each with `print`.
fn pump(device: &mut dyn Node, lbs: &mut dyn Node, now: Instant, print: fn(&str, &str, &[u8])) {
    pump_with(device, lbs, "LBS", now, print);
}

/// As [`pump`], with the peer named `peer`.
fn pump_with(
    device: &mut dyn Node,
    peer_node: &mut dyn Node,
    peer: &str,
    now: Instant,
    print: fn(&str, &str, &[u8]),
) {
    Driver::new(now).run(
        &mut [device, peer_node],
        pair(|from, bytes: &Vec<u8>| match from {
            0 => print("device", peer, bytes),
            _ => print(peer, "device", bytes),
        }),
    );
}

/// Figure 1, then Figure 2.
pub(crate) fn negotiation() -> Result<(), Box<dyn Error>> {
    println!("== OSAP: device and load-balance service negotiate a protocol (draft section 5)");
    let now = Instant::now();
    let all = ProtocolGroup::ALL;

    println!("-- Figure 1: the LBS supports protocol type 1");
    let mut config = DeviceNegotiationConfig::new(vec![Offer {
        protocol_type: 1,
        group: all,
    }]);
    config.transaction = b"txn-1".to_vec();
    let mut device = DeviceNegotiation::new(config);
    let lbs_config = LbsNegotiationConfig::new(vec![Offer {
        protocol_type: 1,
        group: ProtocolGroup::of(&[Suite::Aes128Ecb, Suite::Aes128Cbc, Suite::Aes128Gcm]),
    }]);
    device.start(now);
    let lbs_event = connection(&mut device, &lbs_config, now)?;
    println!("  LBS: {lbs_event:?}");
    println!("  device: {:?}", device.poll_event());

    println!("-- Figure 2: the LBS supports protocol type 2 only, with group (2,4,8)");
    let mut config = DeviceNegotiationConfig::new(vec![
        Offer {
            protocol_type: 1,
            group: all,
        },
        Offer {
            protocol_type: 2,
            group: all,
        },
    ]);
    config.transaction = b"txn-2".to_vec();
    let mut device = DeviceNegotiation::new(config);
    let lbs_config = LbsNegotiationConfig::new(vec![Offer {
        protocol_type: 2,
        group: ProtocolGroup::of(&[Suite::Aes128Cbc, Suite::Aes128Gcm, Suite::Reserved8]),
    }]);
    device.start(now);
    let lbs_event = connection(&mut device, &lbs_config, now)?;
    println!("  LBS: {lbs_event:?}");
    let event = device.poll_event();
    println!("  device: {event:?}");
    if let Some(DeviceNegotiationEvent::Reconnect { .. }) = event {
        println!("  (the connection is closed; the device connects again)");
        device.reconnected(now);
        let lbs_event = connection(&mut device, &lbs_config, now)?;
        println!("  LBS: {lbs_event:?}");
        println!("  device: {:?}", device.poll_event());
    }
    Ok(())
}

/// Prints one authentication frame: direction, message and sizes.
fn show_auth(from: &str, to: &str, bytes: &[u8]) {
    use osap_proto::auth::AuthFrame;
    let described = ControlFrame::parse(bytes)
        .map_err(|e| e.to_string())
        .and_then(|c| AuthFrame::from_control(&c).map_err(|e| e.to_string()));
    match described {
        Ok(frame) => {
            let nonce: String = frame
                .nonce
                .iter()
                .take(4)
                .map(|b| format!("{b:02x}"))
                .collect();
            let name = format!("{:?}", frame.message);
            let name = name.split([' ', '{']).next().unwrap_or_default().to_owned();
            println!(
                "  {from} -> {to}: type 0x{:x} {name}, {} bytes, suite {:?}, nonce {nonce}...",
                frame.message.kind().code(),
                bytes.len(),
                frame.suite
            );
        }
        Err(e) => println!("  {from} -> {to}: {} bytes ({e})", bytes.len()),
    }
}

/// Negotiation, first authentication with the DAS redirect (Figure 3,
/// section 6) on one connection, then reauthentication on a new one
/// (Figure 4), each side one connection machine.
pub(crate) fn authentication() -> Result<(), Box<dyn Error>> {
    use osap_proto::auth::MemoryDirectory;
    use osap_proto::crypto::VerificationCode;
    use osap_proto::{
        DeviceConnection, DeviceConnectionConfig, DeviceConnectionEvent, LbsConnection,
        LbsConnectionConfig,
    };
    use rand_core::OsRng;

    println!("== OSAP: ECDH authentication and DAS redirect (draft sections 5 and 6)");
    let now = Instant::now();
    let mut directory = MemoryDirectory::new("das-07.iot.example.com:8883");
    directory.add_device("SN-2024-0001", VerificationCode::new("739105"));
    let offer = Offer {
        protocol_type: 1,
        group: ProtocolGroup::ALL,
    };
    let lbs_config = LbsConnectionConfig::new(LbsNegotiationConfig::new(vec![offer]));

    println!(
        "-- Figure 1 then Figure 3: negotiation, first authentication, DAS address (one connection)"
    );
    let mut device = DeviceConnection::first(
        DeviceConnectionConfig::new(DeviceNegotiationConfig::new(vec![offer])),
        OsRng,
        "SN-2024-0001",
        VerificationCode::new("739105"),
    );
    let mut lbs = LbsConnection::new(now, lbs_config.clone(), OsRng, Deferred);
    device.start(now);
    let reported = pump_lbs(&mut device, &mut lbs, &mut directory, now)?;
    let mut enrolled = None;
    let mut session = None;
    while let Some(event) = device.poll_event() {
        match event {
            DeviceConnectionEvent::Negotiated(n) => {
                println!(
                    "  device: negotiated protocol type {}, suite {:?}",
                    n.protocol_type, n.suite
                );
            }
            DeviceConnectionEvent::Enrolled(record) => {
                println!(
                    "  device: enrolled as {} (record kept for reauthentication)",
                    record.devid
                );
                enrolled = Some(record);
            }
            DeviceConnectionEvent::SessionKey(key) => {
                println!("  device: sessionkey issued");
                session = Some(key);
            }
            DeviceConnectionEvent::DasAddress(address) => {
                println!("  device: connect to the DAS at {address}");
            }
            other => return Err(format!("{other:?}").into()),
        }
    }
    for event in reported {
        println!("  LBS: {event:?}");
    }
    let key = session.ok_or("no sessionkey was issued")?;
    let enrolled = enrolled.ok_or("the device did not enroll")?;
    // The DAS reads the sessionkey record the LBS stored.
    das_session(
        &enrolled.devid,
        key,
        enrolled.suite,
        directory.keys_mut(),
        now,
    )?;

    println!("-- Figure 4: the connection drops; the device reauthenticates on a new one");
    let mut device = DeviceConnection::reauthenticate(
        DeviceConnectionConfig::new(DeviceNegotiationConfig::new(vec![offer])),
        OsRng,
        enrolled,
    );
    let mut lbs = LbsConnection::new(now, lbs_config, OsRng, Deferred);
    device.start(now);
    for event in pump_lbs(&mut device, &mut lbs, &mut directory, now)? {
        println!("  LBS: {event:?}");
    }
    while let Some(event) = device.poll_event() {
        match event {
            DeviceConnectionEvent::SessionKey(_) => println!("  device: sessionkey refreshed"),
            DeviceConnectionEvent::DasAddress(address) => {
                println!("  device: connect to the DAS at {address}");
            }
            other => println!("  device: {other:?}"),
        }
    }
    Ok(())
}

/// Runs an LBS connection until both sides are quiet, answering the LBS's
/// directory requests from `directory` as a runtime over a shared store
/// would; returns what else the LBS reported.
fn pump_lbs(
    device: &mut dyn Node,
    lbs: &mut osap_proto::LbsConnection<Instant, rand_core::OsRng, Deferred>,
    directory: &mut osap_proto::auth::MemoryDirectory<Instant>,
    now: Instant,
) -> Result<Vec<osap_proto::LbsConnectionEvent<Instant>>, Box<dyn Error>> {
    use osap_proto::LbsConnectionEvent;
    let mut reported = Vec::new();
    loop {
        pump(device, lbs, now, show_lbs_connection);
        let mut asked = false;
        while let Some(event) = lbs.poll_event() {
            let LbsConnectionEvent::Directory(request) = event else {
                reported.push(event);
                continue;
            };
            println!("  LBS -> directory: {}", describe(&request.op));
            let answer = directory.answer(&request.op);
            lbs.provide(now, request.id, answer)?;
            asked = true;
        }
        if !asked {
            return Ok(reported);
        }
    }
}

/// What the LBS asks its directory, in words.
fn describe(op: &osap_proto::auth::DirectoryOp<Instant>) -> String {
    use iot_sansio::store::StoreOp;
    use osap_proto::auth::DirectoryOp;
    match op {
        DirectoryOp::Device { serial } => format!("the entry of serial number {serial}"),
        DirectoryOp::ProposeDevid { serial } => format!("a devid for {serial}"),
        DirectoryOp::Enroll {
            enrolled, expected, ..
        } => format!(
            "keep {} enrolled, if the entry is still at {expected}",
            enrolled.devid
        ),
        DirectoryOp::Enrolled { devid } => format!("the enrolment of {devid}"),
        DirectoryOp::DasAddress { devid } => format!("the DAS for {devid}"),
        DirectoryOp::Key(StoreOp::Get(devid)) => format!("the sessionkey record of {devid}"),
        DirectoryOp::Key(StoreOp::Put {
            key,
            expected,
            record,
        }) => format!(
            "store sessionkey epoch {} of {key}, if the record is still at {expected}",
            record.epoch
        ),
    }
}

/// Prints a frame of an LBS connection: a negotiation frame (types 0x1
/// and 0x2 with a transaction content shorter than a nonce) or an
/// authentication frame.
fn show_lbs_connection(from: &str, to: &str, bytes: &[u8]) {
    let negotiation = ControlFrame::parse(bytes)
        .is_ok_and(|f| f.kind <= 2 && f.content.len() < osap_proto::auth::NONCE_LEN);
    if negotiation {
        show(from, to, bytes);
    } else {
        show_auth(from, to, bytes);
    }
}

/// Prints an MQTT packet on the DAS connection, a business PUBLISH by its
/// topic.
fn show_mqtt(from: &str, to: &str, bytes: &[u8]) {
    match osap_proto::Packet::parse(bytes) {
        Ok(osap_proto::Packet::Publish(p)) => println!(
            "  {from} -> {to}: PUBLISH {} ({:?}, {} sealed bytes)",
            p.topic,
            p.delivery,
            p.payload.len()
        ),
        Ok(osap_proto::Packet::Connect(c)) => println!(
            "  {from} -> {to}: CONNECT client id {}, user name {}, keep-alive {} s, 32-byte proof",
            c.client_id,
            c.username.as_deref().unwrap_or(""),
            c.keep_alive
        ),
        Ok(packet) => println!("  {from} -> {to}: {packet:?}"),
        Err(e) => println!("  {from} -> {to}: {} bytes ({e})", bytes.len()),
    }
}

/// Runs the device and the DAS until both are quiet, answering the DAS as
/// its runtime would: its store requests from `keys`, and each event the
/// device reports stored (then confirmed, and only then acknowledged to
/// the device); prints what else the DAS reports.
fn run_das<R: rand_core::CryptoRngCore>(
    device: &mut dyn Node,
    das: &mut osap_proto::das::DasSession<Instant, Deferred, R>,
    keys: &mut osap_proto::das::KeyTable<Instant>,
    now: Instant,
) -> Result<(), Box<dyn Error>> {
    use iot_sansio::store::StoreOp;
    use osap_proto::das::DasSessionEvent;
    loop {
        pump_with(device, das, "DAS", now, show_mqtt);
        let mut served = false;
        while let Some(event) = das.poll_event() {
            served |= matches!(
                event,
                DasSessionEvent::Store(_) | DasSessionEvent::Event { .. }
            );
            match event {
                DasSessionEvent::Store(request) => {
                    match &request.op {
                        StoreOp::Get(devid) => {
                            println!("  DAS -> store: read the record of {devid}");
                        }
                        StoreOp::Put {
                            key,
                            expected,
                            record,
                        } => println!(
                            "  DAS -> store: write counter {:?} for {key} if still at {expected}",
                            record.last_registration
                        ),
                    }
                    let answer = keys.answer(&request.op);
                    das.provide(now, request.id, answer)?;
                }
                DasSessionEvent::Event { message, write } => {
                    println!(
                        "  DAS: {:?} in area {}, stored; its PUBACK goes now",
                        message.body, message.area
                    );
                    das.persisted(now, write);
                }
                DasSessionEvent::Answer(m) => println!("  DAS: {:?} in area {}", m.body, m.area),
                other => println!("  DAS: {other:?}"),
            }
        }
        if !served {
            return Ok(());
        }
    }
}

/// Registration with the DAS (Figure 5), an event, an attribute read,
/// a heartbeat (Figure 6) and a clean leave, with the sessionkey just
/// issued (sections 2, 6 and 7).
fn das_session(
    devid: &str,
    key: osap_proto::crypto::SessionKey,
    suite: Suite,
    keys: &mut osap_proto::das::KeyTable<Instant>,
    now: Instant,
) -> Result<(), Box<dyn Error>> {
    use osap_proto::business::{Body, BusinessMessage, Params};
    use osap_proto::das::{
        DasSession, DasSessionConfig, DeviceSession, DeviceSessionConfig, Registration,
    };
    use rand_core::OsRng;

    println!("-- Figure 5 and section 2: the device registers with the DAS and does business");
    // The DAS asks for the record the LBS stored with requests, as it would
    // ask a store shared by many DAS processes.
    let mut config = DeviceSessionConfig::new(Registration::new(devid, 1), key);
    config.suite = suite;
    let mut device = DeviceSession::new(now, config, OsRng);
    let mut das = DasSession::new(now, DasSessionConfig::default(), Deferred, OsRng);
    let mut params = Params::new();
    params.insert("zone".into(), 3.into());
    device.send_event(
        now,
        BusinessMessage::new(
            "motion",
            Body::Event {
                name: "detected".into(),
                params,
                id: None,
            },
        ),
    )?;
    // The CONNECT is checked against the store; the CONNACK goes out only
    // once the counter is stored.
    run_das(&mut device, &mut das, keys, now)?;
    let get = BusinessMessage::new(
        "light",
        Body::AttrGet {
            id: 1,
            names: vec!["power".into()],
        },
    );
    das.send(now, &get)?;
    run_das(&mut device, &mut das, keys, now)?;
    while let Some(event) = device.poll_event() {
        println!("  device: {event:?}");
        if let osap_proto::das::DeviceSessionEvent::Request(request) = event {
            let mut values = Params::new();
            values.insert("power".into(), "on".into());
            let Body::AttrGet { id, .. } = request.body else {
                continue;
            };
            device.send(
                now,
                &BusinessMessage::new(
                    "light",
                    Body::AttrValues {
                        id,
                        values,
                        error: None,
                    },
                ),
            )?;
        }
    }
    run_das(&mut device, &mut das, keys, now)?;
    println!("-- Figure 6: thirty seconds without sending, the device pings");
    let later = now + Duration::from_secs(30);
    device.handle_timeout(later);
    run_das(&mut device, &mut das, keys, later)?;
    println!("-- Figure 5, F3: the device leaves");
    device.disconnect();
    run_das(&mut device, &mut das, keys, later)?;
    Ok(())
}
