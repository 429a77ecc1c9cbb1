//! An account server registers a device with a message server, in memory,
//! end to end (8.2): registration with additional parameters (Message 2),
//! a second registration of the same ID (421, Table 1), a modification
//! (Message 4), the message server synchronizing a reset verification code
//! back to the account server (Message 7), and deletion (Message 6), twice.
//!
//! ```sh
//! cargo run -q -p irsp-proto --example register_device
//! ```
#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::error::Error;

use irsp_proto::{
    AccountAuth, AdditionalParams, ClientExchange, DeviceAccount, DeviceName, DeviceRemoval,
    Dispatcher, Outcome, Peer, Request, Secret, ServerRole, ServiceRoutes, Status, VerifyCodeReset,
};

/// A message server's device accounts, keyed by local part.
struct MessageServer {
    dispatcher: Dispatcher,
    devices: HashMap<String, DeviceAccount>,
}

impl MessageServer {
    /// Answers one HTTP request with a status code and body.
    fn handle(&mut self, path: &str, query: &str) -> (u16, String) {
        // The account server, as its TLS client certificate would show.
        let peer = Peer::server(ServerRole::Account, "account server");
        let request = match self.dispatcher.dispatch(&peer, "GET", path, query) {
            Ok(request) => request,
            Err(e) => {
                return (
                    e.http_status(),
                    e.response().map(Status::body).unwrap_or_default(),
                );
            }
        };
        let status = match &request {
            Request::RegisterDevice(m) if self.devices.contains_key(m.name.as_str()) => {
                Status::IdExisted
            }
            Request::RegisterDevice(m) => {
                self.devices.insert(m.name.to_string(), m.clone());
                Status::Ok
            }
            Request::ModifyDevice(m) => match self.devices.get_mut(m.name.as_str()) {
                Some(stored) => {
                    *stored = m.clone();
                    Status::Ok
                }
                None => Status::IdNotExisted,
            },
            Request::RemoveDevice(m) => match self.devices.remove(m.name.as_str()) {
                Some(_) => Status::Ok,
                None => Status::IdNotExisted,
            },
            _ => Status::BadRequest,
        };
        match self.dispatcher.respond(&request, status) {
            Ok(response) => (response.status_code(), response.body()),
            Err(_) => (500, Status::InternalError.body()),
        }
    }
}

/// Sends `request` through `server` and prints the exchange.
fn send(
    label: &str,
    request: Request,
    routes: &ServiceRoutes,
    server: &mut dyn FnMut(&str, &str) -> (u16, String),
) -> Result<Outcome, Box<dyn Error>> {
    let exchange = ClientExchange::new(request);
    let target = exchange.target(routes);
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let (code, body) = server(path, query);
    println!("{label}\n  GET {target}\n  -> {code} {body}");
    let outcome = exchange.handle_response(code, body.as_bytes())?;
    println!("  outcome: {outcome:?}");
    Ok(outcome)
}

fn main() -> Result<(), Box<dyn Error>> {
    let routes = ServiceRoutes::new(
        "/upload/user",
        "/upload/device",
        "/notify",
        "/push",
        "/exchange",
    )?;
    let credentials = AccountAuth {
        appid: "account-server".into(),
        token: Secret::new("assigned-by-message-server"),
    };
    let mut message_server = MessageServer {
        dispatcher: Dispatcher::new(ServerRole::Message, routes.clone())
            .accept_account_server(credentials.clone()),
        devices: HashMap::new(),
    };
    let mut to_message_server = |path: &str, query: &str| message_server.handle(path, query);

    let name = DeviceName::new("#livingroom-tv")?;
    let mut additional = AdditionalParams::new();
    additional.push("location", "living room")?;
    additional.push("firmware", "2.1.0+build.7")?;
    let account = DeviceAccount {
        auth: credentials.clone(),
        name: name.clone(),
        password: Secret::new("tv password & more"),
        verifycode: Some(Secret::new("482913")),
        device_type: Some("television".into()),
        vendor: Some("IGRS Lab".into()),
        model: Some("TV-55".into()),
        additional,
    };

    let first = send(
        "Message 2, register",
        Request::RegisterDevice(account.clone()),
        &routes,
        &mut to_message_server,
    )?;
    assert_eq!(first, Outcome::Success);
    let again = send(
        "Message 2, same ID again",
        Request::RegisterDevice(account.clone()),
        &routes,
        &mut to_message_server,
    )?;
    assert_eq!(again, Outcome::Refused(Status::IdExisted));

    let mut modified = account;
    modified.model = Some("TV-65".into());
    send(
        "Message 4, modify",
        Request::ModifyDevice(modified),
        &routes,
        &mut to_message_server,
    )?;

    // The message server tells the account server about a reset code.
    let account_server = Dispatcher::new(ServerRole::Account, routes.clone());
    let mut to_account_server = |path: &str, query: &str| match account_server.dispatch(
        &Peer::server(ServerRole::Message, "message server"),
        "GET",
        path,
        query,
    ) {
        Ok(request) => match account_server.respond(&request, Status::Ok) {
            Ok(r) => (r.status_code(), r.body()),
            Err(_) => (500, Status::InternalError.body()),
        },
        Err(e) => (
            e.http_status(),
            e.response().map(Status::body).unwrap_or_default(),
        ),
    };
    let reset = Request::ResetVerifyCode(VerifyCodeReset {
        deviceid: name.clone(),
        verifycode: Secret::new("771204"),
    });
    send(
        "Message 7, reset verification code",
        reset,
        &routes,
        &mut to_account_server,
    )?;

    let remove = Request::RemoveDevice(DeviceRemoval {
        auth: credentials,
        name,
    });
    send(
        "Message 6, remove",
        remove.clone(),
        &routes,
        &mut to_message_server,
    )?;
    let gone = send(
        "Message 6, remove again",
        remove,
        &routes,
        &mut to_message_server,
    )?;
    assert_eq!(gone, Outcome::Refused(Status::IdNotExisted));
    Ok(())
}
