//! An OSAP device on blocking `std::net`: it negotiates with the
//! load-balance service and authenticates (first time), is redirected to
//! the device access service, registers, reports events, answers the
//! platform's operation call, and survives a dropped connection: it keeps
//! its unacknowledged events, reauthenticates (refresh) and registers
//! again, and its events go out again. Then it leaves cleanly.
//!
//! ```sh
//! cargo run -p osap-proto --features tokio --example osap_platform &
//! cargo run -p osap-proto --example osap_device
//! ```
//!
//! Options: `--lbs ADDR` (default 127.0.0.1:18831), `--events N` (default
//! 3).

#![allow(clippy::print_stdout)]

use std::error::Error;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use osap_proto::auth::Enrolled;
use osap_proto::business::{Body, BusinessMessage, Params};
use osap_proto::crypto::{SessionKey, VerificationCode};
use osap_proto::das::{
    DeviceSession, DeviceSessionConfig, DeviceSessionEvent, EventQueue, Overflow, Registration,
};
use osap_proto::{
    DeviceConnection, DeviceConnectionConfig, DeviceConnectionEvent, DeviceNegotiationConfig,
    Input, Machine, Offer, ProtocolGroup,
};
use rand_core::OsRng;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Drives `machine` over `stream` until `on_event` says stop (`false`):
/// writes what it transmits, feeds it what is read, and wakes it at its
/// deadline through the socket's read timeout. The one loop any machine of
/// the crate runs in.
fn drive<M>(
    stream: &mut TcpStream,
    machine: &mut M,
    mut on_event: impl FnMut(&mut M, M::Event) -> bool,
) -> Result<()>
where
    M: Machine<Instant = Instant, Input = [u8], Transmit = Vec<u8>>,
{
    let mut buf = vec![0u8; 4096];
    loop {
        let mut go = true;
        while let Some(event) = machine.poll_event() {
            go &= on_event(machine, event);
        }
        while let Some(frame) = machine.poll_transmit() {
            stream.write_all(&frame)?;
            machine.recycle(frame);
        }
        if !go {
            return Ok(());
        }
        let wait = machine.poll_timeout().map(|d| {
            d.saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1))
        });
        stream.set_read_timeout(wait)?;
        match stream.read(&mut buf) {
            Ok(0) => machine.handle_input(Instant::now(), Input::PeerClosed),
            Ok(n) => machine.handle_input(Instant::now(), Input::Data(&buf[..n])),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                machine.handle_timeout(Instant::now());
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => machine.handle_input(Instant::now(), Input::PeerClosed),
        }
    }
}

/// Connects, waiting up to 10 s for a platform that is still starting.
fn connect(address: &str) -> Result<TcpStream> {
    let mut tries = 0;
    loop {
        match TcpStream::connect(address) {
            Ok(stream) => return Ok(stream),
            Err(e) if e.kind() == ErrorKind::ConnectionRefused && tries < 50 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// What an LBS connection gave: the DAS address and the sessionkey (and,
/// the first time, the enrolled record).
struct Access {
    das: String,
    key: SessionKey,
}

/// One LBS connection: first authentication when `enrolled` is empty
/// (filling it), reauthentication otherwise.
fn lbs_connection(lbs: &str, enrolled: &mut Option<Enrolled>) -> Result<Access> {
    let offer = Offer {
        protocol_type: 1,
        group: ProtocolGroup::ALL,
    };
    let config = DeviceConnectionConfig::new(DeviceNegotiationConfig::new(vec![offer]));
    let mut connection = match enrolled.clone() {
        None => {
            println!("device: first authentication at the LBS {lbs}");
            DeviceConnection::first(config, OsRng, "SN-1", VerificationCode::new("4711"))
        }
        Some(record) => {
            println!("device: reauthentication (refresh) at the LBS {lbs}");
            DeviceConnection::reauthenticate(config, OsRng, record)
        }
    };
    let mut stream = connect(lbs)?;
    connection.start(Instant::now());
    let mut key = None;
    let mut das = None;
    let mut failure = None;
    drive(&mut stream, &mut connection, |_, event| match event {
        DeviceConnectionEvent::Negotiated(n) => {
            println!("device: negotiated suite {:?}", n.suite);
            true
        }
        DeviceConnectionEvent::Enrolled(record) => {
            println!("device: enrolled as {}", record.devid);
            *enrolled = Some(record);
            true
        }
        DeviceConnectionEvent::SessionKey(k) => {
            key = Some(k);
            true
        }
        DeviceConnectionEvent::DasAddress(address) => {
            println!("device: redirected to the DAS at {address}");
            das = Some(address);
            false
        }
        DeviceConnectionEvent::Reconnect { .. } => {
            failure = Some("the LBS counter-offered".to_owned());
            false
        }
        DeviceConnectionEvent::Ended(end) => {
            failure = Some(end.to_string());
            false
        }
    })?;
    if let Some(failure) = failure {
        return Err(failure.into());
    }
    Ok(Access {
        das: das.ok_or("no DAS address")?,
        key: key.ok_or("no sessionkey")?,
    })
}

/// How a DAS session went.
enum Outcome {
    /// The device left cleanly: done.
    Left,
    /// The connection was lost; these events are still to be delivered.
    Lost(EventQueue),
}

fn motion(n: usize) -> BusinessMessage {
    let mut params = Params::new();
    params.insert("zone".into(), n.into());
    BusinessMessage::new(
        "motion",
        Body::Event {
            name: "detected".into(),
            params,
            id: None,
        },
    )
}

/// One DAS session: registers, reports `to_send` new events, answers
/// operation calls, and leaves once every event is delivered and a call
/// was answered.
fn das_session(
    access: &Access,
    record: &Enrolled,
    counter: u64,
    events: EventQueue,
    to_send: &mut std::ops::Range<usize>,
    delivered: &mut usize,
) -> Result<Outcome> {
    let mut stream = TcpStream::connect(&access.das)?;
    let mut config = DeviceSessionConfig::new(
        Registration::new(record.devid.clone(), counter),
        access.key.clone(),
    );
    config.suite = record.suite;
    config.events = events;
    let mut session = DeviceSession::new(Instant::now(), config, OsRng);
    println!(
        "device: registering as {} (registration {counter}, {} event(s) waiting)",
        record.devid,
        session.events().len()
    );
    let mut answered = false;
    let mut leaving = false;
    let mut ended = None;
    drive(&mut stream, &mut session, |session, event| {
        match event {
            DeviceSessionEvent::Registered => {
                println!("device: registered");
                // One event now; the rest after the first is delivered.
                if let Some(n) = to_send.next() {
                    let _ = session.send_event(Instant::now(), motion(n));
                }
            }
            DeviceSessionEvent::Request(call) => {
                if let Body::OpCall {
                    id, name, input, ..
                } = &call.body
                {
                    let input = serde_json::Value::Object(input.clone());
                    println!("device: operation {name}({input}) called; answering");
                    let mut output = Params::new();
                    output.insert("ok".into(), true.into());
                    let result = BusinessMessage::new(
                        call.area.clone(),
                        Body::OpResult {
                            id: *id,
                            output,
                            error: None,
                        },
                    );
                    answered |= session.send(Instant::now(), &result).is_ok();
                }
            }
            DeviceSessionEvent::EventDelivered(e) => {
                if let Body::Event { name, params, .. } = &e.message.body {
                    let params = serde_json::Value::Object(params.clone());
                    println!("device: event {name} {params} delivered");
                }
                *delivered += 1;
                if let Some(n) = to_send.next() {
                    let _ = session.send_event(Instant::now(), motion(n));
                }
            }
            DeviceSessionEvent::Ended(end) => {
                println!("device: DAS session ended: {end}");
                ended = Some(end);
                return false;
            }
            other => println!("device: {other:?}"),
        }
        if !leaving && answered && *delivered == to_send.end - 1 {
            println!("device: all events delivered, the call answered: leaving");
            leaving = true;
            session.disconnect();
        }
        true
    })?;
    match ended {
        Some(osap_proto::End::Closed) => Ok(Outcome::Left),
        _ => Ok(Outcome::Lost(session.into_events())),
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let lbs = value("--lbs").unwrap_or_else(|| "127.0.0.1:18831".into());
    let count: usize = value("--events").map_or(Ok(3), |n| n.parse())?;

    let mut enrolled = None;
    let mut events = EventQueue::new(64, Overflow::DropOldest);
    let mut to_send = 1..count + 1;
    let mut delivered = 0;
    for counter in 1..=5 {
        let access = lbs_connection(&lbs, &mut enrolled)?;
        let record = enrolled.clone().ok_or("not enrolled")?;
        match das_session(
            &access,
            &record,
            counter,
            events,
            &mut to_send,
            &mut delivered,
        )? {
            Outcome::Left => return Ok(()),
            Outcome::Lost(queue) => {
                println!(
                    "device: connection lost; {} event(s) kept for the next session",
                    queue.len()
                );
                events = queue;
                // While offline, the device keeps reporting into the queue.
                if let Some(n) = to_send.next() {
                    events.push(motion(n));
                    println!("device: event {n} queued while offline");
                }
            }
        }
    }
    Err("gave up after 5 sessions".into())
}
