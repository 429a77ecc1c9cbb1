//! One process of an OSAP platform spread over several, sharing a
//! PostgreSQL database through `iot-store-postgres`: a load-balance
//! service (`--role lbs`), a device access service (`--role das`), or an
//! application that reads an attribute of, or calls an operation on, any
//! registered device (`--role app`).
//!
//! ```sh
//! bash .ci/postgres   # PostgreSQL on 127.0.0.1:15432
//! DB=postgres://iot@127.0.0.1:15432/iot
//! cargo run -p osap-proto --features tokio --example osap_node -- \
//!     --role das --db $DB --node 1 --listen 127.0.0.1:18841 --relay 127.0.0.1:18851 &
//! cargo run -p osap-proto --features tokio --example osap_node -- \
//!     --role das --db $DB --node 2 --listen 127.0.0.1:18842 --relay 127.0.0.1:18852 &
//! cargo run -p osap-proto --features tokio --example osap_node -- \
//!     --role lbs --db $DB --listen 127.0.0.1:18831 --devices 10 &
//! # devices SN-0 .. SN-9 (verification codes code-0 ..) enrol, register,
//! # report; then, for one of them:
//! cargo run -p osap-proto --features tokio --example osap_node -- \
//!     --role app --db $DB --devid dev-SN-1 --get level
//! ```
//!
//! `osap_fault` runs such a platform (one LBS, two DAS processes) with 200
//! simulated devices, kills a DAS, and checks that nothing was lost.
//!
//! The LBS answers its connections' directory requests, and the DAS its
//! sessions' sessionkey requests, through `iot_store_postgres::osap::
//! PgDirectory` (the crate's `osap` feature). What the processes keep in
//! the database, under `--space S` (default `osap`), one space per kind of
//! record:
//!
//! - `S/device`: each serial number's `DeviceEntry` (verification code,
//!   enrolment), written by the LBS. `--devices N` provisions `SN-0` to
//!   `SN-{N-1}` with verification codes `code-0` and so on.
//! - `S/key`: each devid's `KeyRecord`: the sessionkey the LBS issued,
//!   the registration counter the DAS accepted, and the node holding the
//!   device's session, which is the locator an application reads.
//! - `S/node`: each DAS node's `DasNode`, written at every heartbeat
//!   (every 250 ms, live for a second after): its device address, its relay
//!   address, its session count. The LBS sends each device to the
//!   least-loaded live node (`DasBalancer`) and never to one whose lease
//!   has passed.
//! - `S/event`: each event a device reported, under its devid and the
//!   device's number for it: written only if absent, so an event sent again
//!   after a lost connection is stored once (and counted as a duplicate).
//!
//! Every request of the machines is answered from the store; nothing
//! the peer is told waits on anything else. The clocks of the processes are
//! `SystemTime`, which all processes share, so that a sessionkey's expiry
//! and a node's lease mean one thing everywhere.
//!
//! A DAS relays an application's request over its relay address: one JSON
//! object per line, `{"devid": D, "message": M}` with `M` a business
//! message (an attribute read, set or operation call, a `BusinessMessage`
//! in JSON), answered by `{"message": ...}` or `{"error": ...}`;
//! `{"stats": null}` answers the node's counters.

#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::error::Error;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use iot_sansio::store::{Deferred, StoreAnswer, StoreOp, Version};
use iot_store_postgres::PgStore;
use iot_store_postgres::osap::{OsapSpaces, PgDirectory};
use osap_proto::business::{Body, BusinessMessage};
use osap_proto::crypto::VerificationCode;
use osap_proto::das::{DasSession, DasSessionConfig, DasSessionEvent};
use osap_proto::records::DasNode;
use osap_proto::{
    Input, LbsConnection, LbsConnectionConfig, LbsConnectionEvent, LbsNegotiationConfig, Machine,
    Offer, ProtocolGroup,
};
use rand_core::OsRng;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// A DAS's heartbeat: how often it writes its record, and how long the
/// record keeps it live.
const HEARTBEAT: Duration = Duration::from_millis(250);
const LEASE: Duration = Duration::from_secs(1);
/// The longest relay request line.
const MAX_LINE: u64 = 64 * 1024;
/// How long a relayed request waits for the device.
const RELAY_TIMEOUT: Duration = Duration::from_secs(10);

fn now() -> SystemTime {
    SystemTime::now()
}

/// What a DAS counts: database round trips by purpose, and what they were
/// for (its relay's `stats`).
#[derive(Default)]
struct Counters {
    registrations: AtomicU64,
    registration_trips: AtomicU64,
    end_trips: AtomicU64,
    events: AtomicU64,
    duplicates: AtomicU64,
    event_trips: AtomicU64,
    heartbeat_trips: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn json(&self) -> Value {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        json!({
            "registrations": get(&self.registrations),
            "registration_trips": get(&self.registration_trips),
            "end_trips": get(&self.end_trips),
            "events": get(&self.events),
            "duplicates": get(&self.duplicates),
            "event_trips": get(&self.event_trips),
            "heartbeat_trips": get(&self.heartbeat_trips),
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Writes what `machine` transmits.
async fn flush<M>(stream: &mut TcpStream, machine: &mut M) -> Res<()>
where
    M: Machine<Instant = SystemTime, Input = [u8], Transmit = Vec<u8>>,
{
    while let Some(frame) = machine.poll_transmit() {
        stream.write_all(&frame).await?;
        machine.recycle(frame);
    }
    Ok(())
}

/// Waits for bytes, the machine's deadline, or a relayed request; feeds
/// the machine what came and returns a relayed request.
async fn wait<M>(
    stream: &mut TcpStream,
    machine: &mut M,
    buf: &mut [u8],
    relay: Option<&mut mpsc::Receiver<Relay>>,
) -> Option<Relay>
where
    M: Machine<Instant = SystemTime, Input = [u8], Transmit = Vec<u8>>,
{
    let pause = machine
        .poll_timeout()
        .map(|d| d.duration_since(now()).unwrap_or(Duration::ZERO));
    let relayed = async {
        match relay {
            Some(rx) => rx.recv().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        read = stream.read(buf) => match read {
            Ok(0) | Err(_) => machine.handle_input(now(), Input::PeerClosed),
            Ok(n) => machine.handle_input(now(), Input::Data(&buf[..n])),
        },
        () = async {
            match pause {
                Some(p) => tokio::time::sleep(p).await,
                None => std::future::pending().await,
            }
        } => machine.handle_timeout(now()),
        Some(request) = relayed => return Some(request),
    }
    None
}

// ---------------------------------------------------------------- LBS

/// One device connection to the LBS.
async fn lbs_connection(mut stream: TcpStream, directory: Arc<PgDirectory<SystemTime>>) -> Res<()> {
    let offer = Offer {
        protocol_type: 1,
        group: ProtocolGroup::ALL,
    };
    let config = LbsConnectionConfig::new(LbsNegotiationConfig::new(vec![offer]));
    let mut machine = LbsConnection::new(now(), config, OsRng, Deferred);
    let mut buf = vec![0u8; 4096];
    loop {
        let mut done = false;
        while let Some(event) = machine.poll_event() {
            match event {
                LbsConnectionEvent::Directory(request) => {
                    let answer = directory.answer(now(), &request.op).await;
                    // A late answer (the machine timed out) is not taken.
                    let _ = machine.provide(now(), request.id, answer);
                }
                LbsConnectionEvent::Redirected { .. } | LbsConnectionEvent::Ended(_) => {
                    done = true;
                }
                LbsConnectionEvent::Negotiated(_) | LbsConnectionEvent::Enrolled { .. } => {}
            }
        }
        flush(&mut stream, &mut machine).await?;
        if done {
            return Ok(());
        }
        wait(&mut stream, &mut machine, &mut buf, None).await;
    }
}

async fn run_lbs(directory: PgDirectory<SystemTime>, listen: &str, devices: u32) -> Res<()> {
    // The devices that may enrol: SN-0 .. with codes code-0 ..
    for n in 0..devices {
        let code = VerificationCode::new(format!("code-{n}"));
        if directory.add_device(&format!("SN-{n}"), code).await == StoreAnswer::Unavailable {
            return Err("the database is unavailable".into());
        }
    }
    let directory = Arc::new(directory);
    let listener = TcpListener::bind(listen).await?;
    println!("lbs: serving on {listen}");
    loop {
        let (stream, _) = listener.accept().await?;
        // Frames are small and answered at once: no Nagle delay.
        stream.set_nodelay(true)?;
        let directory = directory.clone();
        tokio::spawn(async move {
            if let Err(e) = lbs_connection(stream, directory).await {
                println!("lbs: connection failed: {e}");
            }
        });
    }
}

// ---------------------------------------------------------------- DAS

/// An application's request for a device, and where its answer goes.
struct Relay {
    message: BusinessMessage,
    reply: oneshot::Sender<Result<BusinessMessage, String>>,
}

struct Das {
    directory: PgDirectory<SystemTime>,
    /// Where events are kept.
    events: String,
    node: u64,
    /// The live sessions, by devid: where to send a relayed request.
    sessions: Mutex<HashMap<String, mpsc::Sender<Relay>>>,
    counters: Counters,
}

/// The id of a request, which its answer repeats.
fn request_id(body: &mut Body) -> Option<&mut u64> {
    match body {
        Body::AttrGet { id, .. }
        | Body::AttrSet { id, .. }
        | Body::OpCall { id, .. }
        | Body::AttrValues { id, .. }
        | Body::OpResult { id, .. } => Some(id),
        Body::AttrReport { .. } | Body::Event { .. } => None,
    }
}

impl Das {
    /// Stores an event once, under its devid and number: `true` once it
    /// is stored, now or before (a copy sent again); `false` when the
    /// store cannot say, and the event must not be acknowledged.
    async fn store_event(&self, devid: &str, message: &BusinessMessage) -> bool {
        let Body::Event { id, .. } = &message.body else {
            return false;
        };
        let key = match id {
            Some(id) => format!("{devid}/{id}"),
            // Not numbered by the device: kept under the time it came.
            None => format!("{devid}/t{:?}", now()),
        };
        let Ok(record) = serde_json::to_value(message) else {
            return false;
        };
        let put = StoreOp::Put {
            key,
            expected: Version::ABSENT,
            record: json!({ "node": self.node, "message": record }),
        };
        Counters::add(&self.counters.event_trips);
        match self.directory.store().answer(&self.events, &put).await {
            StoreAnswer::Stored(_) => Counters::add(&self.counters.events),
            StoreAnswer::Conflict => Counters::add(&self.counters.duplicates),
            _ => return false,
        }
        true
    }
}

/// One device connection to the DAS.
async fn das_connection(mut stream: TcpStream, das: Arc<Das>) -> Res<()> {
    let config = DasSessionConfig {
        node: Some(das.node),
        ..DasSessionConfig::default()
    };
    let mut session = DasSession::new(now(), config, Deferred, OsRng);
    let (tx, mut rx) = mpsc::channel(16);
    let mut devid: Option<String> = None;
    // Relayed requests awaiting the device: our id -> (theirs, reply).
    let mut pending: HashMap<u64, (u64, oneshot::Sender<Result<BusinessMessage, String>>)> =
        HashMap::new();
    let mut next_id = 0u64;
    let mut buf = vec![0u8; 4096];
    loop {
        let mut done = false;
        while let Some(event) = session.poll_event() {
            match event {
                DasSessionEvent::Store(request) => {
                    Counters::add(if devid.is_some() {
                        &das.counters.end_trips
                    } else {
                        &das.counters.registration_trips
                    });
                    let answer = das.directory.answer_key(&request.op).await;
                    let _ = session.provide(now(), request.id, answer);
                }
                DasSessionEvent::Registered {
                    devid: registered, ..
                } => {
                    Counters::add(&das.counters.registrations);
                    lock(&das.sessions).insert(registered.clone(), tx.clone());
                    devid = Some(registered);
                }
                DasSessionEvent::Event { message, write } => {
                    let stored = match &devid {
                        Some(devid) => das.store_event(devid, &message).await,
                        None => false,
                    };
                    if stored {
                        session.persisted(now(), write);
                    } else {
                        // Not stored: no PUBACK. The session ends here (its
                        // locator entry cleared) and the device sends the
                        // event again on its next connection.
                        session.handle_input(now(), Input::PeerClosed);
                    }
                }
                DasSessionEvent::Answer(mut message) => {
                    if let Some(id) = request_id(&mut message.body)
                        && let Some((theirs, reply)) = pending.remove(id)
                    {
                        *id = theirs;
                        let _ = reply.send(Ok(message));
                    }
                }
                DasSessionEvent::RequestTimedOut { id } => {
                    if let Some((_, reply)) = pending.remove(&id) {
                        let _ = reply.send(Err("the device did not answer".into()));
                    }
                }
                DasSessionEvent::Ended(_) => done = true,
                _ => {}
            }
        }
        flush(&mut stream, &mut session).await?;
        if done {
            break;
        }
        if let Some(mut relay) = wait(&mut stream, &mut session, &mut buf, Some(&mut rx)).await {
            next_id += 1;
            let Some(id) = request_id(&mut relay.message.body) else {
                let _ = relay.reply.send(Err("not a request".into()));
                continue;
            };
            let theirs = std::mem::replace(id, next_id);
            match session.send(now(), &relay.message) {
                Ok(()) => {
                    pending.insert(next_id, (theirs, relay.reply));
                }
                Err(e) => {
                    let _ = relay.reply.send(Err(e.to_string()));
                }
            }
        }
    }
    if let Some(devid) = devid {
        let mut sessions = lock(&das.sessions);
        if sessions.get(&devid).is_some_and(|s| s.same_channel(&tx)) {
            sessions.remove(&devid);
        }
    }
    for (_, (_, reply)) in pending {
        let _ = reply.send(Err("the device's session ended".into()));
    }
    Ok(())
}

/// Writes the node's record every [`HEARTBEAT`], live for [`LEASE`].
async fn heartbeat(das: Arc<Das>, address: String, relay: String) {
    let mut expected = None;
    let mut tick = tokio::time::interval(HEARTBEAT);
    loop {
        tick.tick().await;
        let version = match expected {
            Some(v) => v,
            // The node's last version, as a process started again finds it.
            None => {
                Counters::add(&das.counters.heartbeat_trips);
                match das.directory.node(das.node).await {
                    StoreAnswer::Found(found) => found.version,
                    StoreAnswer::Missing => Version::ABSENT,
                    _ => continue,
                }
            }
        };
        let record = DasNode {
            address: address.clone(),
            relay: relay.clone(),
            sessions: lock(&das.sessions).len() as u64,
            live_until: now() + LEASE,
        };
        Counters::add(&das.counters.heartbeat_trips);
        expected = match das.directory.announce(das.node, version, record).await {
            StoreAnswer::Stored(v) => Some(v),
            _ => None,
        };
    }
}

/// Serves an application's requests on one relay connection.
async fn relay_connection(stream: TcpStream, das: Arc<Das>) -> Res<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let mut line = String::new();
        let n = (&mut read).take(MAX_LINE).read_line(&mut line).await?;
        if n == 0 {
            return Ok(());
        }
        if !line.ends_with('\n') {
            write.write_all(b"{\"error\":\"line too long\"}\n").await?;
            return Ok(());
        }
        let answer = relay_answer(&das, &line).await;
        write.write_all(format!("{answer}\n").as_bytes()).await?;
    }
}

async fn relay_answer(das: &Das, line: &str) -> Value {
    let request: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return json!({ "error": e.to_string() }),
    };
    if request.get("stats").is_some() {
        let mut stats = das.counters.json();
        stats["sessions"] = json!(lock(&das.sessions).len());
        return json!({ "stats": stats });
    }
    let devid = request.get("devid").and_then(Value::as_str).unwrap_or("");
    let message: BusinessMessage =
        match serde_json::from_value(request.get("message").cloned().unwrap_or(Value::Null)) {
            Ok(m) => m,
            Err(e) => return json!({ "error": format!("message: {e}") }),
        };
    let Some(session) = lock(&das.sessions).get(devid).cloned() else {
        return json!({ "error": format!("{devid} has no session here") });
    };
    let (reply, answer) = oneshot::channel();
    if session.send(Relay { message, reply }).await.is_err() {
        return json!({ "error": format!("{devid}'s session ended") });
    }
    match tokio::time::timeout(RELAY_TIMEOUT, answer).await {
        Ok(Ok(Ok(message))) => json!({ "message": message }),
        Ok(Ok(Err(e))) => json!({ "error": e }),
        _ => json!({ "error": "no answer" }),
    }
}

async fn run_das(
    directory: PgDirectory<SystemTime>,
    events: String,
    node: u64,
    listen: &str,
    relay: &str,
) -> Res<()> {
    let das = Arc::new(Das {
        directory,
        events,
        node,
        sessions: Mutex::new(HashMap::new()),
        counters: Counters::default(),
    });
    let devices = TcpListener::bind(listen).await?;
    let relays = TcpListener::bind(relay).await?;
    tokio::spawn(heartbeat(das.clone(), listen.to_owned(), relay.to_owned()));
    println!("das {node}: serving devices on {listen}, relaying on {relay}");
    loop {
        tokio::select! {
            accepted = devices.accept() => {
                let (stream, _) = accepted?;
                stream.set_nodelay(true)?;
                let das = das.clone();
                tokio::spawn(async move {
                    if let Err(e) = das_connection(stream, das).await {
                        println!("das: connection failed: {e}");
                    }
                });
            }
            accepted = relays.accept() => {
                let (stream, _) = accepted?;
                let das = das.clone();
                tokio::spawn(async move {
                    let _ = relay_connection(stream, das).await;
                });
            }
        }
    }
}

// ---------------------------------------------------------------- app

/// Finds the device's node through the locator, and asks it to relay.
async fn run_app(
    directory: PgDirectory<SystemTime>,
    devid: &str,
    message: BusinessMessage,
) -> Res<()> {
    let get = StoreOp::Get(devid.to_owned());
    let record = match directory.answer_key(&get).await {
        StoreAnswer::Found(found) => found.record,
        StoreAnswer::Missing => return Err(format!("{devid} is not registered").into()),
        _ => return Err("the database is unavailable".into()),
    };
    let node = record
        .node
        .ok_or_else(|| format!("{devid} has no live session"))?;
    let node = match directory.node(node).await {
        StoreAnswer::Found(found) if found.record.is_live(now()) => found.record,
        _ => return Err(format!("{devid}'s DAS node {node} is not live").into()),
    };
    let stream = TcpStream::connect(&node.relay).await?;
    let (read, mut write) = stream.into_split();
    let request = json!({ "devid": devid, "message": message });
    write.write_all(format!("{request}\n").as_bytes()).await?;
    let mut line = String::new();
    BufReader::new(read)
        .take(MAX_LINE)
        .read_line(&mut line)
        .await?;
    let answer: Value = serde_json::from_str(&line)?;
    match answer.get("message") {
        Some(message) => {
            println!("app: {devid} answered {message}");
            Ok(())
        }
        None => Err(format!("app: {answer}").into()),
    }
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Res<()> {
    let role = arg("--role").ok_or("--role lbs|das|app")?;
    let db = arg("--db").unwrap_or_else(|| "postgres://iot@127.0.0.1:15432/iot".into());
    let prefix = arg("--space").unwrap_or_else(|| "osap".into());
    let store = PgStore::connect(&db, 16)?;
    store.migrate().await?;
    let directory = PgDirectory::new(store, OsapSpaces::new(&prefix));
    match role.as_str() {
        "lbs" => {
            let listen = arg("--listen").unwrap_or_else(|| "127.0.0.1:18831".into());
            let devices = arg("--devices").map_or(Ok(0), |n| n.parse())?;
            run_lbs(directory, &listen, devices).await
        }
        "das" => {
            let node = arg("--node").ok_or("--node N")?.parse()?;
            let listen = arg("--listen").ok_or("--listen ADDR")?;
            let relay = arg("--relay").ok_or("--relay ADDR")?;
            run_das(directory, format!("{prefix}/event"), node, &listen, &relay).await
        }
        "app" => {
            let devid = arg("--devid").ok_or("--devid D")?;
            let area = arg("--area").unwrap_or_else(|| "light".into());
            let body = match (arg("--get"), arg("--call")) {
                (Some(name), _) => Body::AttrGet {
                    id: 1,
                    names: vec![name],
                },
                (None, Some(name)) => Body::OpCall {
                    id: 1,
                    name,
                    input: serde_json::Map::new(),
                    timeout_ms: 5_000,
                },
                (None, None) => return Err("--get NAME or --call NAME".into()),
            };
            run_app(directory, &devid, BusinessMessage::new(area, body)).await
        }
        other => Err(format!("unknown role {other}").into()),
    }
}
