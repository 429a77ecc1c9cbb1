//! An RAE server on blocking `std::net` and rustls: a light that logs in
//! under its OIC full JID (7.1.1) with SCRAM over STARTTLS, announces a
//! server's priority (7.3), and serves `/oic/res`, a binary switch
//! (`/a/light`: GET, POST, observe) and the remote-access resources
//! (`/XMPPResURI`, whose status follows its connection and can be
//! observed, and `/XMPPUserResURI`, for onboarding only) over IBB (7.3.1).
//!
//! ```sh
//! bash .ci/prosody      # an XMPP server on 127.0.0.1:15222 (or .ci/ejabberd: 15223)
//! cargo run -p oic-ra-proto --example rae_light &
//! cargo run -p oic-ra-proto --example rae_client
//! ```
//!
//! It approves every subscription request (and asks back), so a client
//! account sees it on its roster. With `--until-client-leaves` it exits
//! once a client that used the switch went offline. Options: `--server
//! ADDR`; the certificate to trust is `$XMPP_CERT_DIR/localhost.crt`
//! (default `/tmp/xmpp-cert`, made by `.ci/xmpp-cert`).

#![allow(clippy::print_stdout)]

use std::error::Error;
use std::time::{Duration, Instant};

use iot_sansio::{Machine, Secret};
use iot_xmpp::presence::SubscriptionRequest;
use iot_xmpp::stream::Tls;
use iot_xmpp_net::Transport;
use oic_ra_proto::endpoint::{EndpointEvent, RequestId};
use oic_ra_proto::identity::FullJid;
use oic_ra_proto::presence::PriorityClass;
use oic_ra_proto::rae::{Rae, RaeConfig, RaeEvent};
use oic_ra_proto::resource::{
    INTERFACE, RaResources, Requester, USER_RT, USER_URI, XMPP_RT, XMPP_URI,
};
use oic_ra_proto::rest::{Method, RestMessage};
use oic_ra_proto::transport::PeerAccess;
use rand_core::OsRng;
use serde_json::json;

const JID: &str = "rae-server@localhost/OIC/1.0/oic.d.light/0685b960-736f-46f7-bead-0bd3b6d8d1d6";

/// Who may send requests: this light's own account (the RAEs 5.2 admits
/// by default, a client logged in under it included), and the client
/// example's account beside it.
fn client_account(peer: &FullJid, to: Option<&iot_xmpp::Jid>) -> bool {
    let account = peer.to_bare();
    to.is_some_and(|to| to.to_bare() == account) || account.as_str() == "rae-client@localhost"
}

fn main() -> Result<(), Box<dyn Error>> {
    let server = example_io::xmpp::server_arg();
    let until_client_leaves = std::env::args().any(|a| a == "--until-client-leaves");
    let connector = example_io::xmpp::test_connector(&server)?;

    let mut config = RaeConfig::new(
        JID.parse()?,
        Secret::new("secret"),
        PriorityClass::ServerWithFeatures,
        10,
    )?;
    // The client example is another account (subscribed to this one):
    // 5.2's default admits only this account's own RAEs, so let that
    // account in beside them.
    config.endpoint.access = PeerAccess::Decide(client_account);
    let mut rae = Rae::new(config, OsRng, OsRng);
    let mut transport = Transport::dial(&connector, "localhost", Tls::StartTls)?;
    rae.start(Instant::now());

    let mut on = false;
    let mut observers: Vec<RequestId> = Vec::new();
    // oic.ra.xmpp and oic.ra.user (Annex A), the status mirrored from the
    // connection (Figure 4), and the observers of that status.
    let mut resources = RaResources::new();
    let mut status_observers: Vec<RequestId> = Vec::new();
    let mut clients = Vec::new();
    loop {
        transport.round(&mut rae, Instant::now() + Duration::from_millis(200))?;
        while let Some(event) = rae.poll_event() {
            match event {
                RaeEvent::StartTls => {
                    transport.start_tls()?;
                    rae.tls_started(Instant::now());
                }
                RaeEvent::Status(status) => {
                    println!("light: {status:?} (oic.ra.xmpp status {})", status.wire());
                    if let Some(note) = resources.mirror(&status) {
                        status_observers.retain(|o| rae.respond(Instant::now(), *o, &note).is_ok());
                    }
                }
                RaeEvent::Stanza(s)
                    if SubscriptionRequest::of(&s) == Some(SubscriptionRequest::Subscribe) =>
                {
                    if let Some(from) = s.from.as_ref().map(iot_xmpp::Jid::to_bare) {
                        println!("light: {from} asks for its presence: approved");
                        rae.send(&SubscriptionRequest::Subscribed.to(&from, "approve"));
                        rae.send(&SubscriptionRequest::Subscribe.to(&from, "ask-back"));
                    }
                }
                RaeEvent::PeerOnline { jid, priority } => {
                    println!("light: {} online (priority {priority})", jid.jid());
                }
                RaeEvent::PeerOffline(jid) => {
                    println!("light: {jid} offline");
                    if until_client_leaves && clients.contains(&jid) {
                        rae.close(Instant::now());
                    }
                }
                RaeEvent::Endpoint(EndpointEvent::Request {
                    id,
                    from,
                    message,
                    observe,
                }) => {
                    if !clients.contains(&from) {
                        clients.push(from.clone());
                    }
                    let path = oic_ra_proto::resource::url_path(&message.url).to_owned();
                    println!("light: {} {} from {from}", message.method.as_str(), path);
                    let reply = match (message.method, path.as_str()) {
                        (_, XMPP_URI | USER_URI) => {
                            // Only onboarding may touch the account; this
                            // example onboards nobody.
                            let (reply, _) = resources.handle(&message, Requester::Normal);
                            if observe && reply.status() == Some(200) {
                                status_observers.push(id);
                            }
                            reply
                        }
                        (Method::Get, "/oic/res") => RestMessage::response(200, "OK")
                            .with_json(&json!([
                                {"href": "/a/light", "rt": ["oic.r.switch.binary"], "if": ["oic.if.a"]},
                                {"href": XMPP_URI, "rt": [XMPP_RT], "if": [INTERFACE]},
                                {"href": USER_URI, "rt": [USER_RT], "if": [INTERFACE]},
                            ])),
                        (Method::Get, "/a/light") => {
                            if observe {
                                observers.push(id);
                            }
                            RestMessage::response(200, "OK").with_json(&json!({"value": on}))
                        }
                        (Method::Post, "/a/light") => match message.json().and_then(Result::ok) {
                            Some(body) if body["value"].is_boolean() => {
                                on = body["value"].as_bool().unwrap_or(on);
                                println!("light: switched {}", if on { "on" } else { "off" });
                                RestMessage::response(200, "OK").with_json(&json!({"value": on}))
                            }
                            _ => RestMessage::response(400, "Bad Request"),
                        },
                        _ => RestMessage::response(404, "Not Found"),
                    };
                    rae.respond(Instant::now(), id, &reply)?;
                    if message.method == Method::Post {
                        let note =
                            RestMessage::response(200, "OK").with_json(&json!({"value": on}));
                        observers.retain(|o| rae.respond(Instant::now(), *o, &note).is_ok());
                    }
                }
                RaeEvent::Endpoint(EndpointEvent::PeerEnded { id }) => {
                    observers.retain(|o| *o != id);
                    status_observers.retain(|o| *o != id);
                }
                RaeEvent::Ended(end) => {
                    println!("light: connection ended: {end}");
                    return Ok(());
                }
                _ => {}
            }
        }
    }
}
