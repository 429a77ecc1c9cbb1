//! An RAE client on tokio: it logs in under its OIC full JID (7.1.1) with
//! SCRAM over STARTTLS, asks for the light account's presence, discovers
//! the light when it comes online (an RAE full JID on presence, 7.3),
//! reads its `/oic/res`, turns the switch on with a POST, reads it back,
//! and leaves.
//!
//! ```sh
//! bash .ci/prosody
//! cargo run -p oic-ra-proto --example rae_light &
//! cargo run -p oic-ra-proto --example rae_client
//! ```
//!
//! Options: `--server ADDR` (default 127.0.0.1:15222), `--account NAME`
//! (default `rae-client`; `rae-server`, the light's own account, is let in
//! as 5.2 does by default); the certificate to
//! trust is `$XMPP_CERT_DIR/localhost.crt` (default `/tmp/xmpp-cert`).

#![allow(clippy::print_stdout)]

use std::error::Error;
use std::time::{Duration, Instant};

use iot_sansio::{Machine, Secret};
use iot_xmpp::presence::SubscriptionRequest;
use iot_xmpp::stream::Tls;
use iot_xmpp_net::asynch::AsyncTransport;
use oic_ra_proto::endpoint::{EndpointEvent, RequestId};
use oic_ra_proto::identity::{BareJid, FullJid, Role};
use oic_ra_proto::presence::PriorityClass;
use oic_ra_proto::rae::{Rae, RaeConfig, RaeEvent};
use oic_ra_proto::rest::{Method, RestMessage};
use rand_core::OsRng;
use serde_json::json;

/// The client's resource (7.1.1); its account is `--account NAME`
/// (default `rae-client`, another account than the light's; the light's
/// own account, `rae-server`, is let in as 5.2 does by default).
const RESOURCE: &str = "OIC/1.0/Client/6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11";

/// Where the client is in its errand.
enum Step {
    Discovering,
    Resources(RequestId),
    Status(RequestId),
    SwitchOn(RequestId),
    ReadBack(RequestId),
    Leaving,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let server = example_io::xmpp::server_arg();
    let connector = example_io::xmpp::test_connector(&server)?;

    let args: Vec<String> = std::env::args().collect();
    let account = args
        .iter()
        .position(|a| a == "--account")
        .and_then(|i| args.get(i + 1))
        .map_or("rae-client", String::as_str);
    let jid = format!("{account}@localhost/{RESOURCE}");
    let config = RaeConfig::new(
        jid.parse()?,
        Secret::new("secret"),
        PriorityClass::ClientWithFeatures,
        50,
    )?;
    let mut rae = Rae::new(config, OsRng, OsRng);
    let mut transport = AsyncTransport::dial(&connector, "localhost", Tls::StartTls).await?;
    rae.start(Instant::now());
    let give_up = Instant::now() + Duration::from_secs(30);
    let mut step = Step::Discovering;
    let mut light: Option<FullJid> = None;
    loop {
        if Instant::now() > give_up {
            return Err("the errand took more than 30 s".into());
        }
        transport
            .round(&mut rae, Instant::now() + Duration::from_millis(200))
            .await?;
        while let Some(event) = rae.poll_event() {
            match event {
                RaeEvent::StartTls => {
                    transport.start_tls().await?;
                    rae.tls_started(Instant::now());
                }
                RaeEvent::Status(status) => {
                    println!("client: {status:?} (oic.ra.xmpp status {})", status.wire());
                    if status == oic_ra_proto::resource::ConnectionStatus::Connected {
                        let light_account = BareJid::new("rae-server@localhost")?;
                        println!("client: asking for {light_account}'s presence");
                        rae.send(&SubscriptionRequest::Subscribe.to(&light_account, "sub-1"));
                    }
                }
                RaeEvent::Stanza(s)
                    if SubscriptionRequest::of(&s) == Some(SubscriptionRequest::Subscribe) =>
                {
                    if let Some(from) = s.from.as_ref().map(iot_xmpp::Jid::to_bare) {
                        rae.send(&SubscriptionRequest::Subscribed.to(&from, "approve"));
                    }
                }
                RaeEvent::PeerOnline { jid, priority } => {
                    if let (Step::Discovering, Role::Server { device_type }) = (&step, jid.role()) {
                        println!(
                            "client: discovered {device_type} at {} (priority {priority})",
                            jid.jid()
                        );
                        let id = rae.request(
                            Instant::now(),
                            jid.jid(),
                            &RestMessage::request(Method::Get, "coap://light/oic/res"),
                        )?;
                        light = Some(jid.jid().clone());
                        step = Step::Resources(id);
                    }
                }
                RaeEvent::Endpoint(EndpointEvent::Response { id, message }) => {
                    let body = message.json().and_then(Result::ok).unwrap_or_default();
                    let to = light.clone().ok_or("no light")?;
                    step = match step {
                        Step::Resources(r) if r == id => {
                            println!("client: /oic/res says {body}");
                            // The light's own view of its connection
                            // (oic.ra.xmpp, Figure 4), in the RAML's
                            // interface.
                            let get = RestMessage::request(
                                Method::Get,
                                "coap://light/XMPPResURI?if=oic.if.s",
                            );
                            Step::Status(rae.request(Instant::now(), &to, &get)?)
                        }
                        Step::Status(r) if r == id => {
                            println!(
                                "client: the light's oic.ra.xmpp status is {}",
                                body["status"].as_str().unwrap_or("missing")
                            );
                            let on = RestMessage::request(Method::Post, "coap://light/a/light")
                                .with_json(&json!({"value": true}));
                            Step::SwitchOn(rae.request(Instant::now(), &to, &on)?)
                        }
                        Step::SwitchOn(r) if r == id => {
                            println!(
                                "client: POST /a/light answered {} {body}",
                                message.status().unwrap_or(0)
                            );
                            let get = RestMessage::request(Method::Get, "coap://light/a/light");
                            Step::ReadBack(rae.request(Instant::now(), &to, &get)?)
                        }
                        Step::ReadBack(r) if r == id => {
                            println!(
                                "client: the light is {}",
                                if body["value"] == json!(true) {
                                    "on"
                                } else {
                                    "off"
                                }
                            );
                            if body["value"] != json!(true) {
                                return Err("the light did not turn on".into());
                            }
                            rae.close(Instant::now());
                            Step::Leaving
                        }
                        other => other,
                    };
                }
                RaeEvent::Endpoint(EndpointEvent::Failed { reason, .. }) => {
                    return Err(format!("a request failed: {reason:?}").into());
                }
                RaeEvent::Ended(end) => {
                    println!("client: connection ended: {end}");
                    return if matches!(step, Step::Leaving) {
                        Ok(())
                    } else {
                        Err(end.to_string().into())
                    };
                }
                _ => {}
            }
        }
    }
}
