//! The main job of the workspace: runs a complete in-memory session of each
//! protocol implemented so far and prints every message exchanged.
//!
//! Run it with `cargo run -q -p tour`.
#![allow(clippy::print_stdout)]

mod oic;
mod osap;
mod siot;

use std::collections::HashSet;
use std::error::Error;

use irsp_proto::{
    AccountAuth, ClientExchange, DeviceAccount, DeviceData, DeviceName, DeviceNotice, Dispatcher,
    Outcome, Request, Secret, ServerRole, ServiceRoutes, Status, UserAccount, UserName,
};

fn main() -> Result<(), Box<dyn Error>> {
    osap::negotiation()?;
    println!();
    osap::authentication()?;
    println!();
    irsp()?;
    println!();
    oic::remote_access()?;
    println!();
    siot::story()?;
    Ok(())
}

/// Prints one HTTP exchange: the request target and the response.
fn show(from: &str, to: &str, target: &str, code: u16, body: &str) {
    println!("  {from} -> {to}: GET {target}");
    if body.is_empty() {
        println!("  {to} -> {from}: {code}");
    } else {
        println!("  {to} -> {from}: {code} {body}");
    }
}

/// The message server's account store: which user and device local
/// parts exist.
#[derive(Default)]
struct Accounts(HashSet<String>);

impl Accounts {
    /// Applies a request to the store and picks the status Tables 1, 2, 3
    /// and 6 give for it.
    fn apply(&mut self, request: &Request) -> Status {
        let (name, create, remove) = match request {
            Request::RegisterUser(m) => (m.name.as_str(), true, false),
            Request::RegisterDevice(m) => (m.name.as_str(), true, false),
            Request::RemoveUser(m) => (m.name.as_str(), false, true),
            Request::PushToDevice(m) => (m.deviceid.as_str(), false, false),
            _ => return Status::Ok,
        };
        let exists = self.0.contains(name);
        match (create, exists) {
            (true, true) => Status::IdExisted,
            (true, false) => {
                self.0.insert(name.to_owned());
                Status::Ok
            }
            (false, false) => Status::IdNotExisted,
            (false, true) => {
                if remove {
                    self.0.remove(name);
                }
                Status::Ok
            }
        }
    }
}

/// Sends `request` from a client to the `server` dispatcher, whose
/// `accounts` decide the answer, and prints both.
fn exchange(
    from: &str,
    to: &str,
    server: &Dispatcher,
    accounts: &mut Accounts,
    routes: &ServiceRoutes,
    request: Request,
) -> Result<Outcome, Box<dyn Error>> {
    let client = ClientExchange::new(request);
    let target = client.target(routes);
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    // The sender as its TLS client certificate would name it.
    let peer = irsp_proto::Peer::server(client.request().kind().sender(), "peer");
    let (code, body) = match server.dispatch(&peer, "GET", path, query) {
        Ok(received) => {
            let response = server.respond(&received, accounts.apply(&received))?;
            (response.status_code(), response.body())
        }
        Err(e) => (
            e.http_status(),
            e.response().map(Status::body).unwrap_or_default(),
        ),
    };
    show(from, to, &target, code, &body);
    Ok(client.handle_response(code, body.as_bytes())?)
}

/// IRSP (ISO/IEC 14543-5-9 clause 8): an account server registers a user
/// and a device with a message server; the message server reports the
/// device online to an application server, which pushes data to the device.
fn irsp() -> Result<(), Box<dyn Error>> {
    println!(
        "== IRSP: account server, message server and application server (ISO/IEC 14543-5-9 clause 8)"
    );
    let routes = ServiceRoutes::new(
        "/upload/user",
        "/upload/device",
        "/notify",
        "/push",
        "/exchange",
    )?;
    let credentials = AccountAuth {
        appid: "account-server-1".into(),
        token: Secret::new("pre-assigned token"),
    };
    let message_server = Dispatcher::new(ServerRole::Message, routes.clone())
        .accept_account_server(credentials.clone());
    let application_server = Dispatcher::new(ServerRole::Application, routes.clone());
    let device = DeviceName::new("#igrsdevice")?;
    let mut accounts = Accounts::default();
    let mut apps = Accounts::default();

    let user = Request::RegisterUser(UserAccount {
        auth: credentials.clone(),
        name: UserName::new("igrsuser")?,
        password: Secret::new("correct horse"),
    });
    let outcome = exchange(
        "account",
        "message",
        &message_server,
        &mut accounts,
        &routes,
        user,
    )?;
    println!("  Message 1 outcome: {outcome:?}");

    let register = Request::RegisterDevice(DeviceAccount {
        auth: credentials,
        name: device.clone(),
        password: Secret::new("device&pass"),
        verifycode: Some(Secret::new("8472")),
        device_type: Some("television".into()),
        vendor: Some("IGRS".into()),
        model: None,
        additional: Default::default(),
    });
    let outcome = exchange(
        "account",
        "message",
        &message_server,
        &mut accounts,
        &routes,
        register.clone(),
    )?;
    println!("  Message 2 outcome: {outcome:?}");
    let outcome = exchange(
        "account",
        "message",
        &message_server,
        &mut accounts,
        &routes,
        register,
    )?;
    println!("  Message 2 again outcome: {outcome:?}");

    let online = Request::DeviceOnline(DeviceNotice {
        deviceid: device.clone(),
    });
    let outcome = exchange(
        "message",
        "application",
        &application_server,
        &mut apps,
        &routes,
        online,
    )?;
    println!("  Message 10 outcome: {outcome:?}");

    let push = Request::PushToDevice(DeviceData {
        deviceid: device,
        data: "channel=5 & volume=12".into(),
    });
    let outcome = exchange(
        "application",
        "message",
        &message_server,
        &mut accounts,
        &routes,
        push,
    )?;
    println!("  Message 13 outcome: {outcome:?}");
    let push = Request::PushToDevice(DeviceData {
        deviceid: DeviceName::new("#unknown")?,
        data: "hello".into(),
    });
    let outcome = exchange(
        "application",
        "message",
        &message_server,
        &mut accounts,
        &routes,
        push,
    )?;
    println!("  Message 13 to an unknown device outcome: {outcome:?}");

    let forged = Request::RemoveUser(irsp_proto::UserRemoval {
        auth: AccountAuth {
            appid: "account-server-1".into(),
            token: Secret::new("guessed"),
        },
        name: UserName::new("igrsuser")?,
    });
    let outcome = exchange(
        "intruder",
        "message",
        &message_server,
        &mut accounts,
        &routes,
        forged,
    )?;
    println!("  Message 5 with a wrong token outcome: {outcome:?}");
    Ok(())
}
