//! The OSAP platform under a killed node: one LBS and two DAS processes
//! (`osap_node`) over one PostgreSQL database, and 200 simulated devices in
//! this process over loopback.
//!
//! ```sh
//! bash .ci/postgres
//! cargo build -p osap-proto --features tokio --example osap_node --example osap_fault
//! ./target/debug/examples/osap_fault --db postgres://iot@127.0.0.1:15432/iot
//! ```
//!
//! The devices enrol at the LBS (first authentication), are sent to a DAS,
//! register and report events, each as soon as the one before was
//! acknowledged. After a few seconds DAS node 1 is killed with SIGKILL.
//! Its devices see their connections close, keep reporting into their
//! queues while they wait (a backoff of 1.2 to 1.8 s, by which time the
//! node's lease in the store has passed), refresh their sessionkey at the
//! LBS, are sent to node 2, register there, and deliver what they queued.
//! Then every device drains its queue and leaves.
//!
//! Checks (any failing one fails the run):
//! - every event a device queued is stored exactly once under its devid and
//!   number (an event sent again after the kill is refused by the store's
//!   write-if-absent and counted as a duplicate), and nothing else is;
//! - a registration CONNECT captured on its way to one DAS and replayed at
//!   the other is refused (return code 4);
//! - the locator names node 2 for every device once they are back, never
//!   the killed node 1; an application finds a device through it and reads
//!   an attribute (`osap_node --role app`);
//! - no device is sent to the dead node once its lease has passed.
//!
//! It prints the figures (registrations per second, events per second with
//! two DAS processes and with one, database round trips per registration
//! and per event, event latency p50 and p99) and writes them with the
//! machine it ran on to `--out` (default `target/reliability/last.json`),
//! from which `.ci/reliability.py` writes RELIABILITY.md.
//!
//! Options: `--db URL`, `--devices N` (200), `--seconds S` (4: each
//! measured phase), `--out PATH`.

#![allow(clippy::print_stdout)]

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use iot_store_postgres::PgStore;
use osap_proto::auth::Enrolled;
use osap_proto::business::{Body, BusinessMessage, Params};
use osap_proto::crypto::{SessionKey, VerificationCode};
use osap_proto::das::{
    DeviceSession, DeviceSessionConfig, DeviceSessionEvent, EventQueue, Overflow, Pushed,
    Registration,
};
use osap_proto::records::KeyRecord;
use osap_proto::{
    ConnectReturnCode, DeviceConnection, DeviceConnectionConfig, DeviceConnectionEvent,
    DeviceNegotiationConfig, End, Input, Machine, Offer, Packet, ProtocolGroup,
};
use rand_core::{OsRng, RngCore};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

const LBS: &str = "127.0.0.1:18861";
const DAS: [(&str, &str); 2] = [
    ("127.0.0.1:18862", "127.0.0.1:18872"),
    ("127.0.0.1:18863", "127.0.0.1:18873"),
];
/// How many events a device keeps while it has no DAS.
const QUEUE: usize = 256;

// ------------------------------------------------------- the processes

/// An `osap_node` process, its output in a file.
struct Node {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Node {
    fn start(name: &str, args: &[&str]) -> Res<Self> {
        let exe = std::env::current_exe()?;
        let dir = exe.parent().ok_or("no directory")?;
        let log =
            std::env::temp_dir().join(format!("osap-fault-{name}-{}.log", std::process::id()));
        let out = std::fs::File::create(&log)?;
        let child = Command::new(dir.join("osap_node"))
            .args(args)
            .stdout(out.try_clone()?)
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()?;
        let node = Self {
            name: name.to_owned(),
            child,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !node.output()?.contains("serving") {
            if Instant::now() > deadline {
                return Err(format!("{name} did not start:\n{}", node.output()?).into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(node)
    }

    fn output(&self) -> Res<String> {
        Ok(std::fs::read_to_string(&self.log)?)
    }

    /// SIGKILL, and wait for the process to be gone.
    fn kill(&mut self) -> Res<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            println!("{}:\n{}", self.name, self.output().unwrap_or_default());
        }
    }
}

/// Asks a DAS's relay address one line and returns its answer.
async fn relay(address: &str, request: &Value) -> Res<Value> {
    let stream = TcpStream::connect(address).await?;
    let (read, mut write) = stream.into_split();
    write.write_all(format!("{request}\n").as_bytes()).await?;
    let mut line = String::new();
    BufReader::new(read).read_line(&mut line).await?;
    Ok(serde_json::from_str(&line)?)
}

async fn stats(address: &str) -> Res<Value> {
    relay(address, &json!({ "stats": null }))
        .await?
        .get("stats")
        .cloned()
        .ok_or_else(|| "no stats".into())
}

// ---------------------------------------------------------- the devices

/// What the devices share with the run.
#[derive(Default)]
struct Metrics {
    /// When each registration was accepted.
    registrations: Vec<Instant>,
    /// When each event was acknowledged.
    deliveries: Vec<Instant>,
    /// From `send_event` to the acknowledgement, for events sent while
    /// registered.
    latencies: Vec<Duration>,
    /// The events each device queued, by devid: their numbers.
    produced: BTreeMap<String, BTreeSet<u64>>,
    /// Devices registered now.
    online: usize,
    /// Connections lost, and DAS connections that could not be made.
    lost: u64,
    refused: u64,
    /// DAS addresses the LBS gave after the kill's lease ran out that name
    /// the killed node.
    sent_to_dead: u64,
    /// Events the queue refused (it was full).
    overflowed: u64,
    /// The first registration CONNECT of device 0, and the DAS it went to.
    captured: Option<(String, Vec<u8>)>,
}

struct Run {
    metrics: Mutex<Metrics>,
    producing: AtomicBool,
    leaving: AtomicBool,
    /// When the killed node's lease has surely passed (`None` before the
    /// kill).
    dead_after: Mutex<Option<Instant>>,
}

impl Run {
    fn metrics(&self) -> MutexGuard<'_, Metrics> {
        self.metrics
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Drives a device machine over `stream` until `on_event` says stop.
async fn drive<M>(
    stream: &mut TcpStream,
    machine: &mut M,
    mut on_event: impl FnMut(&mut M, M::Event) -> bool,
) -> Res<()>
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
            stream.write_all(&frame).await?;
            machine.recycle(frame);
        }
        if !go {
            return Ok(());
        }
        let pause = machine
            .poll_timeout()
            .map(|d| d.saturating_duration_since(Instant::now()));
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => machine.handle_input(Instant::now(), Input::PeerClosed),
                Ok(n) => machine.handle_input(Instant::now(), Input::Data(&buf[..n])),
            },
            () = sleep(pause) => machine.handle_timeout(Instant::now()),
        }
    }
}

async fn sleep(pause: Option<Duration>) {
    match pause {
        Some(p) => tokio::time::sleep(p).await,
        None => std::future::pending().await,
    }
}

struct Device {
    serial: String,
    code: VerificationCode,
    enrolled: Option<Enrolled>,
    events: EventQueue,
    /// When each queued event was handed to a registered session.
    sent: BTreeMap<u64, Instant>,
    /// The number the queue gives the next event.
    next_seq: u64,
    counter: u64,
}

impl Device {
    fn event(&self) -> BusinessMessage {
        let mut params = Params::new();
        params.insert("reading".into(), self.next_seq.into());
        BusinessMessage::new(
            "meter",
            Body::Event {
                name: "reading".into(),
                params,
                id: None,
            },
        )
    }

    /// Notes an event given to the queue.
    fn queued(&mut self, run: &Run, pushed: &Pushed) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut metrics = run.metrics();
        if matches!(pushed, Pushed::Queued) {
            metrics
                .produced
                .entry(format!("dev-{}", self.serial))
                .or_default()
                .insert(seq);
        } else {
            metrics.overflowed += 1;
        }
    }

    /// First authentication or a refresh at the LBS: the DAS address and
    /// a sessionkey.
    async fn lbs(&mut self) -> Res<(String, SessionKey)> {
        let offer = Offer {
            protocol_type: 1,
            group: ProtocolGroup::ALL,
        };
        let config = DeviceConnectionConfig::new(DeviceNegotiationConfig::new(vec![offer]));
        let mut connection = match self.enrolled.clone() {
            None => DeviceConnection::first(config, OsRng, &*self.serial, self.code.clone()),
            Some(record) => DeviceConnection::reauthenticate(config, OsRng, record),
        };
        let mut stream = TcpStream::connect(LBS).await?;
        stream.set_nodelay(true)?;
        connection.start(Instant::now());
        let (mut key, mut das, mut failure) = (None, None, None);
        let enrolled = &mut self.enrolled;
        drive(&mut stream, &mut connection, |_, event| match event {
            DeviceConnectionEvent::Enrolled(record) => {
                *enrolled = Some(record);
                true
            }
            DeviceConnectionEvent::SessionKey(k) => {
                key = Some(k);
                true
            }
            DeviceConnectionEvent::DasAddress(address) => {
                das = Some(address);
                false
            }
            DeviceConnectionEvent::Negotiated(_) => true,
            DeviceConnectionEvent::Reconnect { .. } => {
                failure = Some("counter-offered".to_owned());
                false
            }
            DeviceConnectionEvent::Ended(end) => {
                failure = Some(end.to_string());
                false
            }
        })
        .await?;
        if let Some(failure) = failure {
            return Err(failure.into());
        }
        Ok((das.ok_or("no DAS address")?, key.ok_or("no sessionkey")?))
    }

    /// One DAS session, until it ends; `true` when the device left.
    async fn das(&mut self, run: &Run, address: &str, key: SessionKey) -> Res<bool> {
        let Ok(mut stream) = TcpStream::connect(address).await else {
            run.metrics().refused += 1;
            return Ok(false);
        };
        stream.set_nodelay(true)?;
        let record = self.enrolled.clone().ok_or("not enrolled")?;
        self.counter += 1;
        let mut config =
            DeviceSessionConfig::new(Registration::new(record.devid.clone(), self.counter), key);
        config.suite = record.suite;
        config.events =
            std::mem::replace(&mut self.events, EventQueue::new(1, Overflow::RefuseNew));
        let mut session = DeviceSession::new(Instant::now(), config, OsRng);
        let capture = self.serial == "SN-0" && run.metrics().captured.is_none();
        let mut first = true;
        let mut registered = false;
        let mut leaving = false;
        let mut left = false;
        let mut buf = vec![0u8; 4096];
        loop {
            let mut ended = false;
            while let Some(event) = session.poll_event() {
                match event {
                    DeviceSessionEvent::Registered => {
                        registered = true;
                        let mut metrics = run.metrics();
                        metrics.registrations.push(Instant::now());
                        metrics.online += 1;
                        drop(metrics);
                        // What was queued goes now; one new event if none.
                        if session.events().is_empty() && run.producing.load(Ordering::Relaxed) {
                            self.send(run, &mut session)?;
                        }
                    }
                    DeviceSessionEvent::Request(request) => {
                        answer(&mut session, &request, self.counter);
                    }
                    DeviceSessionEvent::EventDelivered(e) => {
                        let now = Instant::now();
                        let mut metrics = run.metrics();
                        metrics.deliveries.push(now);
                        if let Some(sent) = self.sent.remove(&e.seq) {
                            metrics.latencies.push(now - sent);
                        }
                        drop(metrics);
                        if session.events().is_empty() && run.producing.load(Ordering::Relaxed) {
                            self.send(run, &mut session)?;
                        }
                    }
                    DeviceSessionEvent::Ended(end) => {
                        left = matches!(end, End::Closed);
                        ended = true;
                    }
                    _ => {}
                }
            }
            while let Some(frame) = session.poll_transmit() {
                if capture && first {
                    run.metrics().captured = Some((address.to_owned(), frame.clone()));
                }
                first = false;
                if stream.write_all(&frame).await.is_err() {
                    session.handle_input(Instant::now(), Input::PeerClosed);
                }
                session.recycle(frame);
            }
            if ended {
                break;
            }
            if registered
                && !leaving
                && run.leaving.load(Ordering::Relaxed)
                && session.events().is_empty()
            {
                leaving = true;
                session.disconnect();
                continue;
            }
            let pause = session
                .poll_timeout()
                .map(|d| d.saturating_duration_since(Instant::now()))
                .map_or(Duration::from_millis(50), |p| {
                    p.min(Duration::from_millis(50))
                });
            tokio::select! {
                read = stream.read(&mut buf) => match read {
                    Ok(0) | Err(_) => session.handle_input(Instant::now(), Input::PeerClosed),
                    Ok(n) => session.handle_input(Instant::now(), Input::Data(&buf[..n])),
                },
                () = tokio::time::sleep(pause) => session.handle_timeout(Instant::now()),
            }
        }
        let mut metrics = run.metrics();
        if registered {
            metrics.online -= 1;
        }
        if !left {
            metrics.lost += 1;
        }
        drop(metrics);
        self.events = session.into_events();
        // Events handed to this session and not acknowledged go again on
        // the next: their latency now includes the outage; not counted.
        self.sent.clear();
        Ok(left)
    }

    /// Queues one new event in a registered session.
    fn send(&mut self, run: &Run, session: &mut DeviceSession<Instant, OsRng>) -> Res<()> {
        let message = self.event();
        self.sent.insert(self.next_seq, Instant::now());
        let pushed = session.send_event(Instant::now(), message)?;
        self.queued(run, &pushed);
        Ok(())
    }

    /// Runs the device until it leaves.
    async fn run(mut self, run: Arc<Run>) -> Res<()> {
        let mut failures = 0;
        loop {
            let (address, key) = match self.lbs().await {
                Ok(access) => access,
                Err(e) => {
                    failures += 1;
                    if failures > 20 {
                        return Err(format!("{}: the LBS failed: {e}", self.serial).into());
                    }
                    self.offline(&run, Duration::from_millis(500)).await;
                    continue;
                }
            };
            let dead_after = *run
                .dead_after
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if dead_after.is_some_and(|t| Instant::now() > t) && address == DAS[0].0 {
                run.metrics().sent_to_dead += 1;
            }
            if self.das(&run, &address, key).await? {
                return Ok(());
            }
            // Lost: wait, reporting into the queue, then refresh.
            let backoff = 1_200 + OsRng.next_u64() % 600;
            self.offline(&run, Duration::from_millis(backoff)).await;
        }
    }

    /// Waits `pause`, queueing an event every 100 ms while producing.
    async fn offline(&mut self, run: &Run, pause: Duration) {
        let until = Instant::now() + pause;
        while Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(100).min(until - Instant::now())).await;
            if run.producing.load(Ordering::Relaxed) {
                let pushed = self.events.push(self.event());
                self.queued(run, &pushed);
            }
        }
    }
}

/// Answers an attribute read or an operation call.
fn answer(session: &mut DeviceSession<Instant, OsRng>, request: &BusinessMessage, level: u64) {
    let body = match &request.body {
        Body::AttrGet { id, .. } => {
            let mut values = Params::new();
            values.insert("level".into(), level.into());
            Body::AttrValues {
                id: *id,
                values,
                error: None,
            }
        }
        Body::OpCall { id, .. } => Body::OpResult {
            id: *id,
            output: Params::new(),
            error: None,
        },
        _ => return,
    };
    let _ = session.send(
        Instant::now(),
        &BusinessMessage::new(request.area.clone(), body),
    );
}

// ------------------------------------------------------------- the run

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Waits until `done` holds, at most `limit`.
async fn until(run: &Run, limit: Duration, what: &str, done: impl Fn(&Metrics) -> bool) -> Res<()> {
    let deadline = Instant::now() + limit;
    while !done(&run.metrics()) {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// The `per_mille`th of `sorted`, in milliseconds.
fn percentile(sorted: &[Duration], per_mille: usize) -> f64 {
    let rank = sorted.len().saturating_sub(1) * per_mille / 1000;
    sorted.get(rank).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn count_between(times: &[Instant], from: Instant, to: Instant) -> usize {
    times.iter().filter(|t| **t >= from && **t < to).count()
}

/// Sends device 0's captured CONNECT to the DAS it did not go to and
/// returns the return code.
async fn replay(captured: &(String, Vec<u8>)) -> Res<ConnectReturnCode> {
    let (went_to, connect) = captured;
    let other = DAS
        .iter()
        .find(|(d, _)| d != went_to)
        .ok_or("no other DAS")?
        .0;
    let mut stream = TcpStream::connect(other).await?;
    stream.write_all(connect).await?;
    let mut connack = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut connack)).await??;
    match Packet::parse(&connack)? {
        Packet::ConnAck(ack) => Ok(ack.code),
        other => Err(format!("not a CONNACK: {other:?}").into()),
    }
}

/// Runs `osap_node --role app` with `args`; its answer must name
/// `expected`.
fn app(common: &[&str], args: &[&str], expected: &str) -> Res<()> {
    let exe = std::env::current_exe()?;
    let app = Command::new(exe.parent().ok_or("no directory")?.join("osap_node"))
        .args(common)
        .args(["--role", "app"])
        .args(args)
        .output()?;
    let said = String::from_utf8_lossy(&app.stdout);
    print!("fault: {said}");
    if !app.status.success() || !said.contains(expected) {
        let why = String::from_utf8_lossy(&app.stderr);
        return Err(format!("the application's {args:?} failed: {why}").into());
    }
    Ok(())
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or_else(|_| "unknown".into(), |k| k.trim().to_owned());
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map_or(0, usize::from),
        "kernel": kernel,
        "profile": if cfg!(debug_assertions) { "dev (cryptography optimized)" } else { "release" },
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::too_many_lines)]
async fn main() -> Res<()> {
    let db = arg("--db").unwrap_or_else(|| "postgres://iot@127.0.0.1:15432/iot".into());
    let devices: usize = arg("--devices").map_or(Ok(200), |n| n.parse())?;
    let phase = Duration::from_secs(arg("--seconds").map_or(Ok(4), |n| n.parse())?);
    let out = PathBuf::from(arg("--out").unwrap_or_else(|| "target/reliability/last.json".into()));
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)?
        .as_nanos();
    let space = format!("fault-{}-{nanos}", std::process::id());

    let common = ["--db", db.as_str(), "--space", space.as_str()];
    let mut das1 = Node::start(
        "das1",
        &[
            &common[..],
            &[
                "--role", "das", "--node", "1", "--listen", DAS[0].0, "--relay", DAS[0].1,
            ],
        ]
        .concat(),
    )?;
    let das2 = Node::start(
        "das2",
        &[
            &common[..],
            &[
                "--role", "das", "--node", "2", "--listen", DAS[1].0, "--relay", DAS[1].1,
            ],
        ]
        .concat(),
    )?;
    let count = devices.to_string();
    let lbs = Node::start(
        "lbs",
        &[
            &common[..],
            &["--role", "lbs", "--listen", LBS, "--devices", &count],
        ]
        .concat(),
    )?;
    // Both nodes have announced themselves.
    tokio::time::sleep(Duration::from_millis(600)).await;
    println!("fault: LBS and two DAS processes up over {space}; {devices} devices start");

    let run = Arc::new(Run {
        metrics: Mutex::new(Metrics::default()),
        producing: AtomicBool::new(true),
        leaving: AtomicBool::new(false),
        dead_after: Mutex::new(None),
    });
    let started = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..devices {
        let device = Device {
            serial: format!("SN-{n}"),
            code: VerificationCode::new(format!("code-{n}")),
            enrolled: None,
            events: EventQueue::new(QUEUE, Overflow::RefuseNew),
            sent: BTreeMap::new(),
            next_seq: 1,
            counter: 0,
        };
        tasks.push(tokio::spawn(device.run(run.clone())));
    }
    until(
        &run,
        Duration::from_secs(120),
        "every device to register",
        |m| m.online == devices,
    )
    .await?;
    let registered = Instant::now();
    let registration_rate = devices as f64 / (registered - started).as_secs_f64();
    println!(
        "fault: {devices} devices enrolled and registered in {:.2} s ({registration_rate:.0}/s)",
        (registered - started).as_secs_f64()
    );

    // Two DAS processes.
    tokio::time::sleep(phase).await;
    let two_das = count_between(&run.metrics().deliveries, registered, registered + phase) as f64
        / phase.as_secs_f64();
    println!("fault: {two_das:.0} events/s with two DAS processes");

    // A replayed registration is refused.
    let captured = run
        .metrics()
        .captured
        .clone()
        .ok_or("no CONNECT captured")?;
    let code = replay(&captured).await?;
    println!("fault: device 0's CONNECT replayed at the other DAS: {code:?}");
    if code != ConnectReturnCode::BadUsernameOrPassword {
        return Err(format!("the replayed CONNECT was answered {code:?}").into());
    }

    // The kill.
    let before_kill = stats(DAS[0].1).await?;
    let on_node1 = before_kill["sessions"].as_u64().unwrap_or(0);
    let lost_before = run.metrics().lost;
    das1.kill()?;
    let killed = Instant::now();
    // The node's last lease ran at most a second past its last heartbeat.
    *run.dead_after
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) =
        Some(killed + Duration::from_millis(1_050));
    println!("fault: DAS node 1 killed (SIGKILL) with {on_node1} device sessions");
    tokio::time::sleep(Duration::from_secs(2)).await;
    until(
        &run,
        Duration::from_secs(60),
        "the devices to come back",
        |m| m.online == devices,
    )
    .await?;
    let back = run
        .metrics()
        .registrations
        .last()
        .copied()
        .ok_or("no registration")?;
    let lost_at_kill = run.metrics().lost - lost_before;
    println!(
        "fault: {lost_at_kill} connections lost; all devices registered again {:.2} s after the kill",
        (back - killed).as_secs_f64()
    );

    // One DAS process.
    tokio::time::sleep(phase).await;
    let one_das =
        count_between(&run.metrics().deliveries, back, back + phase) as f64 / phase.as_secs_f64();
    println!("fault: {one_das:.0} events/s with one DAS process");

    // Stop producing; let the queues drain.
    run.producing.store(false, Ordering::Relaxed);
    let produced: usize = run.metrics().produced.values().map(BTreeSet::len).sum();
    until(&run, Duration::from_secs(60), "the queues to drain", |m| {
        m.deliveries.len() >= m.produced.values().map(BTreeSet::len).sum::<usize>()
    })
    .await?;

    // The locator: every device on node 2.
    let store = PgStore::connect(&db, 2)?;
    let keys = store
        .list::<KeyRecord<SystemTime>>(&format!("{space}/key"), 100_000)
        .await
        .ok_or("the key records do not read")?;
    let on_node = |n: u64| {
        keys.iter()
            .filter(|(_, r)| r.record.node == Some(n))
            .count()
    };
    println!(
        "fault: the locator: {} device(s) on node 1, {} on node 2",
        on_node(1),
        on_node(2)
    );
    if keys.len() != devices || on_node(1) != 0 || on_node(2) != devices {
        return Err("the locator does not place every device on node 2".into());
    }

    // An application reads an attribute of one device and calls an
    // operation on another, each through the locator and node 2.
    app(
        &common,
        &["--devid", "dev-SN-0", "--get", "level"],
        "attr-values",
    )?;
    let last = format!("dev-SN-{}", devices - 1);
    app(&common, &["--devid", &last, "--call", "blink"], "op-result")?;

    let after = stats(DAS[1].1).await?;

    // Leave.
    run.leaving.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await??;
    }
    // A DAS clears a device's locator entry once it has read the
    // device's DISCONNECT, which may be just after the device is gone.
    let mut still = usize::MAX;
    let deadline = Instant::now() + Duration::from_secs(10);
    while still > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let keys = store
            .list::<KeyRecord<SystemTime>>(&format!("{space}/key"), 100_000)
            .await
            .ok_or("the key records do not read")?;
        still = keys.iter().filter(|(_, r)| r.record.node.is_some()).count();
    }
    println!("fault: every device left; {still} locator entries remain");

    // Every event stored exactly once.
    let stored = store
        .list::<Value>(&format!("{space}/event"), 10_000_000)
        .await
        .ok_or("the events do not read")?;
    let stored: BTreeSet<String> = stored.into_iter().map(|(key, _)| key).collect();
    let metrics = run.metrics();
    let expected: BTreeSet<String> = metrics
        .produced
        .iter()
        .flat_map(|(devid, seqs)| seqs.iter().map(move |s| format!("{devid}/{s}")))
        .collect();
    let lost = expected.difference(&stored).count();
    let phantom = stored.difference(&expected).count();
    let get = |v: &Value, k: &str| v[k].as_u64().unwrap_or(0);
    let duplicates = get(&before_kill, "duplicates") + get(&after, "duplicates");
    let registrations = get(&before_kill, "registrations") + get(&after, "registrations");
    let registration_trips =
        get(&before_kill, "registration_trips") + get(&after, "registration_trips");
    let event_writes = get(&before_kill, "event_trips") + get(&after, "event_trips");
    let mut latencies = metrics.latencies.clone();
    latencies.sort();
    let (p50, p99) = (percentile(&latencies, 500), percentile(&latencies, 990));
    println!(
        "fault: {produced} events produced, {} stored, {lost} lost, {phantom} not produced, {duplicates} duplicates refused",
        stored.len()
    );
    println!(
        "fault: {:.2} round trips per registration, {:.2} per event; latency p50 {p50:.2} ms, p99 {p99:.2} ms",
        registration_trips as f64 / registrations.max(1) as f64,
        event_writes as f64 / stored.len().max(1) as f64,
    );
    println!(
        "fault: {} device(s) sent to the dead node after its lease; {} DAS connection(s) refused",
        metrics.sent_to_dead, metrics.refused
    );

    let passed = lost == 0
        && phantom == 0
        && metrics.overflowed == 0
        && metrics.sent_to_dead == 0
        && still == 0;
    let report = json!({
        "machine": machine(),
        "load": {
            "devices": devices,
            "das_processes": 2,
            "lbs_processes": 1,
            "phase_seconds": phase.as_secs(),
            "events_produced": produced,
        },
        "faults": [{
            "kind": "SIGKILL",
            "target": "DAS node 1",
            "sessions": on_node1,
            "connections_lost": lost_at_kill,
            "recovered_seconds": (back - killed).as_secs_f64(),
        }],
        "figures": {
            "registrations_per_second": registration_rate,
            "events_per_second_two_das": two_das,
            "events_per_second_one_das": one_das,
            "round_trips_per_registration": registration_trips as f64 / registrations.max(1) as f64,
            "round_trips_per_event": event_writes as f64 / stored.len().max(1) as f64,
            "latency_ms_p50": p50,
            "latency_ms_p99": p99,
        },
        "checks": {
            "events_stored": stored.len(),
            "events_lost": lost,
            "events_not_produced": phantom,
            "duplicates_refused": duplicates,
            "queue_overflows": metrics.overflowed,
            "replayed_connect": format!("{code:?}"),
            "locator_on_killed_node": on_node(1),
            "sent_to_dead_node": metrics.sent_to_dead,
            "das_connections_refused": metrics.refused,
            "locator_entries_after_leaving": still,
        },
        "passed": passed,
        "date": format!("{:?}", SystemTime::now().duration_since(SystemTime::UNIX_EPOCH)?.as_secs()),
    });
    drop(metrics);
    drop(lbs);
    drop(das2);
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
    println!("fault: figures written to {}", out.display());
    if !passed {
        return Err("fault: failed".into());
    }
    println!("fault: passed");
    Ok(())
}
