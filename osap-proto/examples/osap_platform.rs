//! An OSAP platform in one tokio process: a load-balance service (LBS) and
//! a device access service (DAS) on loopback TCP, each connection driven
//! by the crate's sans-IO machines (`LbsConnection`, `DasSession`).
//!
//! ```sh
//! cargo run -p osap-proto --features tokio --example osap_platform
//! # then, in another shell:
//! cargo run -p osap-proto --example osap_device
//! ```
//!
//! The LBS knows one device (serial `SN-1`, verification code `4711`) and
//! sends every device to this DAS, storing the sessionkeys it issues where
//! the DAS reads them. Both ask their store with requests, which the
//! connection tasks answer from one shared table.
//! The DAS calls the operation `set-brightness` on each device that
//! registers and prints what the device reports. To show a device
//! surviving a lost connection, it drops the first device connection, as
//! a crashed server would, right after it stored the first event and
//! before the event's PUBACK went (which waits for the store): the device
//! sends the event again, with the number it had, and the DAS stores it
//! once. It exits
//! after `--leaves N` clean leaves (default 1).
//!
//! Options: `--lbs ADDR` (default 127.0.0.1:18831), `--das ADDR` (default
//! 127.0.0.1:18832), `--leaves N`.

#![allow(clippy::print_stdout)]

use std::collections::BTreeSet;
use std::error::Error;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use iot_sansio::store::Deferred;
use osap_proto::auth::MemoryDirectory;
use osap_proto::business::{Body, BusinessMessage, Params};
use osap_proto::crypto::VerificationCode;
use osap_proto::das::{DasSession, DasSessionConfig, DasSessionEvent};
use osap_proto::{
    End, Input, LbsConnection, LbsConnectionConfig, LbsConnectionEvent, LbsNegotiationConfig,
    Machine, Offer, ProtocolGroup,
};
use rand_core::OsRng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What the LBS and the DAS share: the directory of devices, with the
/// sessionkey records the LBS writes and the DAS reads and writes. One
/// process here; a deployment with many LBS and DAS processes answers the
/// same requests from a shared store instead (the writes are
/// compare-and-set on versioned records).
struct Platform {
    directory: MemoryDirectory<Instant>,
    /// The events stored, by devid and the device's number for each: a
    /// copy sent again after a lost connection is stored once.
    events: BTreeSet<(String, u64)>,
}

#[derive(Clone)]
struct Shared(Arc<Mutex<Platform>>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Platform> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What a connection task does after an event.
enum Flow {
    Go,
    /// Write what is queued, then close.
    Close,
    /// Close at once, writing nothing more (a crash).
    Drop,
}

/// Drives `machine` over `stream` until `on_event` closes the connection:
/// writes what it transmits, feeds it what is read, and wakes it at its
/// deadline. The one loop any machine of the crate runs in.
async fn drive<M>(
    stream: &mut TcpStream,
    machine: &mut M,
    mut on_event: impl FnMut(&mut M, M::Event) -> Flow,
) -> Result<(), Box<dyn Error + Send + Sync>>
where
    M: Machine<Instant = Instant, Input = [u8], Transmit = Vec<u8>>,
{
    let mut buf = vec![0u8; 4096];
    loop {
        let mut flow = Flow::Go;
        while let Some(event) = machine.poll_event() {
            match on_event(machine, event) {
                Flow::Go => {}
                other => flow = other,
            }
        }
        if matches!(flow, Flow::Drop) {
            return Ok(());
        }
        while let Some(frame) = machine.poll_transmit() {
            stream.write_all(&frame).await?;
            machine.recycle(frame);
        }
        if matches!(flow, Flow::Close) {
            return Ok(());
        }
        let deadline = machine.poll_timeout();
        tokio::select! {
            read = stream.read(&mut buf) => match read? {
                0 => machine.handle_input(Instant::now(), Input::PeerClosed),
                n => machine.handle_input(Instant::now(), Input::Data(&buf[..n])),
            },
            () = sleep_until(deadline) => machine.handle_timeout(Instant::now()),
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
        None => std::future::pending().await,
    }
}

/// One device connection to the LBS.
async fn lbs_connection(
    mut stream: TcpStream,
    shared: Shared,
) -> Result<(), Box<dyn Error + Send + Sync>> {
    let offer = Offer {
        protocol_type: 1,
        group: ProtocolGroup::ALL,
    };
    let config = LbsConnectionConfig::new(LbsNegotiationConfig::new(vec![offer]));
    // Every question the LBS has about a device leaves it as a request,
    // answered here as a runtime over a networked store would.
    let mut lbs = LbsConnection::new(Instant::now(), config, OsRng, Deferred);
    drive(&mut stream, &mut lbs, |lbs, event| match event {
        LbsConnectionEvent::Directory(request) => {
            let answer = shared.lock().directory.answer(&request.op);
            if let Err(e) = lbs.provide(Instant::now(), request.id, answer) {
                println!("LBS: directory answer not taken: {e}");
            }
            Flow::Go
        }
        LbsConnectionEvent::Negotiated(n) => {
            println!(
                "LBS: negotiated protocol type {}, suite {:?}",
                n.protocol_type, n.suite
            );
            Flow::Go
        }
        LbsConnectionEvent::Enrolled { devid } => {
            println!("LBS: {devid} enrolled");
            Flow::Go
        }
        LbsConnectionEvent::Redirected { devid, address } => {
            println!("LBS: {devid} sent to the DAS at {address}");
            Flow::Close
        }
        LbsConnectionEvent::Ended(end) => {
            println!("LBS: connection ended: {end}");
            Flow::Close
        }
    })
    .await
}

/// One device connection to the DAS; `crash` drops it after the first
/// event. Returns whether the device left cleanly.
async fn das_connection(
    mut stream: TcpStream,
    shared: Shared,
    crash: bool,
) -> Result<bool, Box<dyn Error + Send + Sync>> {
    // Every read and write of the device's record leaves the session as a
    // request, answered here as a runtime over a networked store would.
    let mut das = DasSession::new(Instant::now(), DasSessionConfig::default(), Deferred, OsRng);
    let mut will = false;
    let mut devid = String::new();
    let mut left = false;
    drive(&mut stream, &mut das, |das, event| match event {
        DasSessionEvent::Store(request) => {
            let answer = shared.lock().directory.keys_mut().answer(&request.op);
            if let Err(e) = das.provide(Instant::now(), request.id, answer) {
                println!("DAS: store answer not taken: {e}");
            }
            Flow::Go
        }
        DasSessionEvent::Registered {
            devid: registered,
            keep_alive,
            ..
        } => {
            devid.clone_from(&registered);
            let devid = registered;
            println!("DAS: {devid} registered, heartbeat every {keep_alive} s");
            let mut input = Params::new();
            input.insert("level".into(), 80.into());
            let call = BusinessMessage::new(
                "light",
                Body::OpCall {
                    id: 1,
                    name: "set-brightness".into(),
                    input,
                    timeout_ms: 5_000,
                },
            );
            match das.send(Instant::now(), &call) {
                Ok(()) => println!("DAS: calls set-brightness(level 80)"),
                Err(e) => println!("DAS: cannot call: {e}"),
            }
            Flow::Go
        }
        DasSessionEvent::Event { message, write } => {
            if let Body::Event { name, params, id } = &message.body {
                let params = serde_json::Value::Object(params.clone());
                let key = (devid.clone(), id.unwrap_or_default());
                if shared.lock().events.insert(key) {
                    println!("DAS: event {name} {params} in area {} stored", message.area);
                } else {
                    println!("DAS: event {name} again (sent before), stored already");
                }
            }
            if crash {
                println!(
                    "DAS: (dropping this connection before the PUBACK went, as a crash would)"
                );
                return Flow::Drop;
            }
            // Stored: the PUBACK may go, and the device forget the event.
            das.persisted(Instant::now(), write);
            Flow::Go
        }
        DasSessionEvent::Answer(message) => {
            if let Body::OpResult { id, output, error } = &message.body {
                let output = serde_json::Value::Object(output.clone());
                println!("DAS: call {id} answered: {output} (error: {error:?})");
            }
            Flow::Go
        }
        DasSessionEvent::Will(w) => {
            println!("DAS: the device vanished; its will goes to {}", w.topic);
            will = true;
            Flow::Go
        }
        DasSessionEvent::Ended(end) => {
            left = matches!(end, End::PeerClosed) && !will;
            println!("DAS: session ended: {end}");
            Flow::Close
        }
        other => {
            println!("DAS: {other:?}");
            Flow::Go
        }
    })
    .await?;
    Ok(left)
}

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.into())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let lbs_addr = arg("--lbs", "127.0.0.1:18831");
    let das_addr = arg("--das", "127.0.0.1:18832");
    let leaves: usize = arg("--leaves", "1").parse()?;

    let mut directory = MemoryDirectory::new(das_addr.clone());
    directory.add_device("SN-1", VerificationCode::new("4711"));
    let shared = Shared(Arc::new(Mutex::new(Platform {
        directory,
        events: BTreeSet::new(),
    })));

    let lbs = TcpListener::bind(&lbs_addr).await?;
    let das = TcpListener::bind(&das_addr).await?;
    println!("platform: LBS on {lbs_addr}, DAS on {das_addr}");
    let (left_tx, mut left_rx) = mpsc::unbounded_channel();
    let mut das_connections = 0usize;
    let mut clean_leaves = 0usize;
    loop {
        tokio::select! {
            accepted = lbs.accept() => {
                let (stream, _) = accepted?;
                let shared = shared.clone();
                tokio::spawn(async move {
                    if let Err(e) = lbs_connection(stream, shared).await {
                        println!("LBS: connection failed: {e}");
                    }
                });
            }
            accepted = das.accept() => {
                let (stream, _) = accepted?;
                das_connections += 1;
                let crash = das_connections == 1;
                let shared = shared.clone();
                let left_tx = left_tx.clone();
                tokio::spawn(async move {
                    match das_connection(stream, shared, crash).await {
                        Ok(left) => { let _ = left_tx.send(left); }
                        Err(e) => println!("DAS: connection failed: {e}"),
                    }
                });
            }
            Some(left) = left_rx.recv() => {
                clean_leaves += usize::from(left);
                if clean_leaves >= leaves {
                    println!("platform: {clean_leaves} device(s) left cleanly; stopping");
                    return Ok(());
                }
            }
        }
    }
}
