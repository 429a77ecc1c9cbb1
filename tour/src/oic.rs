//! OIC Remote Access (sections 7.1-7.4): an RAE client reaches a binary
//! switch behind an RAE server through an XMPP server, in memory: presence
//! and discovery from the roster, then CRUDN over In-Band Bytestreams
//! (GET /oic/res, GET and POST the switch, an observe), then a keepalive
//! ping.

use std::error::Error;
use std::time::{Duration, Instant};

use iot_sansio::testing::Driver;
use iot_xmpp::testing::Server;
use oic_ra_proto::endpoint::{Endpoint, EndpointConfig, EndpointEvent, RequestId};
use oic_ra_proto::ibb::IbbPayload;
use oic_ra_proto::identity::{BareJid, FullJid, RaeJid, Uuid, discover};
use oic_ra_proto::ping::{Keepalive, KeepaliveConfig};
use oic_ra_proto::presence::{Presence, PriorityClass};
use oic_ra_proto::resource::{RaResources, Requester, url_path};
use oic_ra_proto::rest::{Method, RestMessage};
use oic_ra_proto::stanza::Stanza;
use oic_ra_proto::{End, Machine};
use rand_core::OsRng;
use serde_json::{Value, json};

/// The RAE server's application: a binary switch, discovery, and the two
/// remote-access resources.
struct Light {
    on: bool,
    remote_access: RaResources,
    observers: Vec<RequestId>,
}

impl Light {
    fn answer(&mut self, request: &RestMessage) -> RestMessage {
        let ok = |body: &Value| RestMessage::response(200, "OK").with_json(body);
        match (request.method, url_path(&request.url)) {
            (Method::Get, "/oic/res") => ok(&json!([
                {"href": "/a/switch", "rt": ["oic.r.switch.binary"], "if": ["oic.if.a", "oic.if.baseline"], "p": {"bm": 3}},
                {"href": "/XMPPResURI", "rt": ["oic.ra.xmpp"], "if": ["oic.if.s"]},
                {"href": "/XMPPUserResURI", "rt": ["oic.ra.user"], "if": ["oic.if.s"]},
            ])),
            (Method::Get, "/a/switch") => ok(&self.state()),
            (Method::Post, "/a/switch") => match request.json().and_then(Result::ok) {
                Some(Value::Object(o)) if o.get("value").is_some_and(Value::is_boolean) => {
                    self.on = o.get("value").and_then(Value::as_bool).unwrap_or(self.on);
                    ok(&self.state())
                }
                _ => RestMessage::response(400, "Bad Request"),
            },
            (_, "/XMPPResURI" | "/XMPPUserResURI") => {
                self.remote_access.handle(request, Requester::Normal).0
            }
            _ => RestMessage::response(404, "Not Found"),
        }
    }

    fn state(&self) -> Value {
        json!({"rt": "oic.r.switch.binary", "value": self.on})
    }
}

/// Prints one stanza in a line, and the `<rest>` document a data block
/// carries.
fn show(from: &str, to: &str, s: &Stanza) {
    let what = match IbbPayload::from_stanza(s) {
        Ok(IbbPayload::Open {
            sid,
            block_size,
            stanza,
        }) => {
            format!("<iq type=set> IBB open sid={sid} block-size={block_size} stanza={stanza:?}")
        }
        Ok(IbbPayload::Close { sid }) => format!("<iq type=set> IBB close sid={sid}"),
        Ok(IbbPayload::Data { sid, seq, data }) => {
            let doc = String::from_utf8_lossy(&data).into_owned();
            format!(
                "<message> IBB data sid={sid} seq={seq} ({} bytes):\n      {doc}",
                data.len()
            )
        }
        Err(_) => format!(
            "<{} type={} id={}>",
            s.kind.as_str(),
            s.type_str(),
            s.id.as_deref().unwrap_or("")
        ),
    };
    println!("  {from} -> {to}: {what}");
}

struct World {
    client: Endpoint<Instant, OsRng>,
    server: Endpoint<Instant, OsRng>,
    server_jid: FullJid,
    xmpp: Server,
    light: Light,
    driver: Driver<Instant>,
}

impl World {
    /// Carries stanzas until both sides are quiet, letting the light answer
    /// requests; returns what the client saw.
    fn run(&mut self) -> Result<Vec<EndpointEvent>, Box<dyn Error>> {
        loop {
            let xmpp = &mut self.xmpp;
            let moved = self
                .driver
                .run(&mut [&mut self.client, &mut self.server], |from, s| {
                    let (who, other) = if from == 0 {
                        ("client", "light")
                    } else {
                        ("light", "client")
                    };
                    show(who, other, &s);
                    xmpp.route(from, s)
                });
            let mut answered = false;
            while let Some(e) = self.server.poll_event() {
                match e {
                    EndpointEvent::Request {
                        id,
                        message,
                        observe,
                        ..
                    } => {
                        let reply = self.light.answer(&message);
                        if observe && reply.status() == Some(200) {
                            self.light.observers.push(id);
                        }
                        self.server.respond(self.driver.now(), id, &reply)?;
                        answered = true;
                    }
                    EndpointEvent::PeerEnded { id } => self.light.observers.retain(|o| *o != id),
                    _ => {}
                }
            }
            if moved == 0 && !answered {
                return Ok(std::iter::from_fn(|| self.client.poll_event()).collect());
            }
        }
    }

    fn request(&mut self, m: &RestMessage) -> Result<Vec<EndpointEvent>, Box<dyn Error>> {
        println!("  client asks: {} {}", m.method, m.url);
        self.client
            .request(self.driver.now(), &self.server_jid, m)?;
        let events = self.run()?;
        print_events(&events);
        Ok(events)
    }
}

fn print_events(events: &[EndpointEvent]) {
    for e in events {
        match e {
            EndpointEvent::Response { message, .. } => println!(
                "  client got the response: {} {}",
                message.url,
                message.body.as_deref().unwrap_or("")
            ),
            EndpointEvent::Notification { message, .. } => println!(
                "  client got a notification: {} {}",
                message.url,
                message.body.as_deref().unwrap_or("")
            ),
            other => println!("  client got: {other:?}"),
        }
    }
}

pub(crate) fn remote_access() -> Result<(), Box<dyn Error>> {
    println!("OIC Remote Access: an RAE client and a light's RAE server over one XMPP account");
    let account = BareJid::new("alice@example.org")?;
    let client = RaeJid::client(&account, Uuid::new("6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11")?)?;
    let light = RaeJid::server(
        &account,
        "oic.d.light",
        Uuid::new("0685b960-736f-46f7-bead-0bd3b6d8d1d6")?,
    )?;
    println!("  client full JID (7.1.1): {}", client.jid());
    println!("  light full JID (7.1.1):  {}", light.jid());

    // 7.3: presence with a priority in each class's range.
    let light_presence = Presence::available(PriorityClass::Server, -50)?;
    let client_presence = Presence::available(PriorityClass::Client, -10)?;
    println!("  light announces:  {}", light_presence.to_xml());
    println!("  client announces: {}", client_presence.to_xml());
    let roster = [light.jid().clone(), client.jid().clone()];
    for found in discover(&roster) {
        println!(
            "  discovered from presence: {:?} {:?}",
            found.role(),
            found.device_type()
        );
    }

    let mut world = World {
        client: Endpoint::new(EndpointConfig::default(), OsRng),
        server: Endpoint::new(EndpointConfig::default(), OsRng),
        server_jid: light.jid().clone(),
        xmpp: Server::new([client.jid().clone().into(), light.jid().clone().into()]),
        light: Light {
            on: false,
            remote_access: RaResources::new(),
            observers: Vec::new(),
        },
        driver: Driver::new(Instant::now()),
    };

    println!();
    world.request(
        &RestMessage::request(Method::Get, "coap://light/oic/res")
            .with_header("Accept", "application/json"),
    )?;
    println!();
    world.request(&RestMessage::request(Method::Get, "coap://light/a/switch"))?;
    println!();
    world.request(
        &RestMessage::request(Method::Post, "coap://light/a/switch")
            .with_json(&json!({"value": true})),
    )?;

    println!();
    let events = world.request(
        &RestMessage::request(Method::Get, "coap://light/a/switch").with_header("Observe", "0"),
    )?;
    let Some(EndpointEvent::Response { id: observe, .. }) = events.first() else {
        return Err("the observe was not accepted".into());
    };
    println!("  someone presses the light's button: the light notifies its observer");
    world.light.on = false;
    let state = world.light.state();
    for id in world.light.observers.clone() {
        world.server.respond(
            world.driver.now(),
            id,
            &RestMessage::response(200, "OK")
                .with_header("Observe", "1")
                .with_json(&state),
        )?;
    }
    print_events(&world.run()?);
    println!("  the client deregisters by closing the session");
    world.client.cancel(world.driver.now(), *observe)?;
    world.run()?;
    println!("  observers left: {}", world.light.observers.len());

    // 7.4: the client pings the server after a silent minute; no answer
    // comes, so the keepalive reports the connection dead.
    println!();
    let config = KeepaliveConfig {
        interval: Duration::from_secs(60),
        timeout: Duration::from_secs(10),
    };
    let mut keepalive = Keepalive::new(world.driver.now(), config, None);
    let mut driver = world.driver;
    driver.advance_to_next_timer(&mut [&mut keepalive]);
    if let Some(ping) = keepalive.poll_transmit() {
        println!(
            "  client -> XMPP server after 60 s of silence: {}",
            ping.to_xml()
        );
    }
    driver.advance_to_next_timer(&mut [&mut keepalive]);
    let end = keepalive.poll_event();
    println!("  10 s without an answer: {end:?}");
    if end != Some(oic_ra_proto::KeepaliveEvent::Ended(End::TimedOut)) {
        return Err("the keepalive did not time out".into());
    }
    Ok(())
}
