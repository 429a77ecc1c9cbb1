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

use example_io::xmpp::test_connector;
use iot_sansio::backoff::BackoffConfig;
use iot_sansio::{Input, Machine, Secret};
use iot_xmpp::presence::SubscriptionRequest;
use iot_xmpp::stream::Tls;
use iot_xmpp_net::Transport;
use oic_ra_proto::endpoint::{EndpointEvent, RequestId};
use oic_ra_proto::identity::{BareJid, FullJid, RaeJid};
use oic_ra_proto::presence::PriorityClass;
use oic_ra_proto::rae::{Rae, RaeConfig, RaeEvent};
use oic_ra_proto::resource::ConnectionStatus;
use oic_ra_proto::rest::{Method, RestMessage};
use oic_ra_proto::transport::PeerAccess;
use rand_core::OsRng;
use serde_json::json;

const LIGHT: &str = "rae-server@localhost/OIC/1.0/oic.d.light/0685b960-736f-46f7-bead-0bd3b6d8d1d6";
const CLIENT: &str = "rae-client@localhost/OIC/1.0/Client/6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11";

fn servers() -> Vec<(&'static str, &'static str)> {
    example_io::xmpp::test_servers()
}

type Endpoint = Checked<Rae<Instant, OsRng, OsRng>>;

/// Only the client's account may send requests.
fn client_account(peer: &FullJid, _to: Option<&iot_xmpp::Jid>) -> bool {
    peer.to_bare().as_str() == "rae-client@localhost"
}

/// One RAE on its own connection, and what it reported.
struct Node {
    rae: Endpoint,
    /// Where it connects; `None` while its connection is lost.
    addr: String,
    transport: Option<Transport>,
    events: Vec<RaeEvent>,
}

impl Node {
    fn connect(addr: &str, jid: &str, class: PriorityClass, priority: i8) -> Self {
        Self::with(addr, jid, class, priority, None)
    }

    fn with(
        addr: &str,
        jid: &str,
        class: PriorityClass,
        priority: i8,
        reconnect: Option<BackoffConfig>,
    ) -> Self {
        let mut config =
            RaeConfig::new(jid.parse().unwrap(), Secret::new("secret"), class, priority).unwrap();
        // The two RAEs are on two accounts that subscribed to each other:
        // 5.2's default (one account) would refuse, so the light lets the
        // client's account in, and no one else.
        config.endpoint.access = PeerAccess::Decide(client_account);
        config.reconnect = reconnect;
        let mut rae = Checked::new(Rae::new(config, OsRng, OsRng));
        rae.start(Instant::now());
        Self {
            rae,
            addr: addr.to_owned(),
            transport: Some(
                Transport::dial(&test_connector(addr).unwrap(), "localhost", Tls::StartTls)
                    .unwrap(),
            ),
            events: Vec::new(),
        }
    }

    /// One round of I/O, then the events, with STARTTLS done in place. A
    /// transport that fails is the connection lost; a new one is opened
    /// when the RAE asks.
    fn round(&mut self) {
        let deadline = Instant::now() + Duration::from_millis(30);
        let failed = match self.transport.as_mut() {
            Some(transport) => transport.round(&mut self.rae, deadline).is_err(),
            None => {
                let wake = self
                    .rae
                    .poll_timeout()
                    .map_or(deadline, |t| t.min(deadline));
                std::thread::sleep(wake.saturating_duration_since(Instant::now()));
                self.rae.handle_timeout(Instant::now());
                false
            }
        };
        if failed {
            self.rae.handle_input(Instant::now(), Input::PeerClosed);
        }
        while let Some(event) = self.rae.poll_event() {
            match &event {
                RaeEvent::StartTls => {
                    let started = self
                        .transport
                        .as_mut()
                        .is_some_and(|t| t.start_tls().is_ok());
                    if started {
                        self.rae.tls_started(Instant::now());
                    } else {
                        self.rae.handle_input(Instant::now(), Input::PeerClosed);
                    }
                }
                RaeEvent::ConnectionLost => self.transport = None,
                RaeEvent::Connect => {
                    self.transport = Transport::dial(
                        &test_connector(&self.addr).unwrap(),
                        "localhost",
                        Tls::StartTls,
                    )
                    .ok();
                    self.rae.connected(Instant::now());
                    if self.transport.is_none() {
                        self.rae.handle_input(Instant::now(), Input::PeerClosed);
                    }
                }
                _ => {}
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

/// The two accounts subscribe to each other's presence (the roster holds
/// both ways), so each sees the other come online.
fn subscribe(light: &mut Node, client: &mut Node) {
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
    until(light, client, "each other's presence", |l, c| {
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
}

/// The client asks to observe `url` at the light: the request's id at
/// the client, and at the light.
fn observe(light: &mut Node, client: &mut Node, url: &str) -> (RequestId, RequestId) {
    let light_jid = LIGHT.parse::<RaeJid>().unwrap().jid().clone();
    let observe = RestMessage::request(Method::Get, url).with_header("Observe", "0");
    let id = client
        .rae
        .request(Instant::now(), &light_jid, &observe)
        .unwrap();
    let rid = until(light, client, "the observe at the light", |l, _| {
        l.take(|e| match e {
            RaeEvent::Endpoint(EndpointEvent::Request {
                id, observe: true, ..
            }) => Some(*id),
            _ => None,
        })
    });
    (id, rid)
}

/// The tests log in under the same full JIDs: one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[test]
fn an_rae_client_reaches_an_rae_server_through_each_server() {
    let _one = one_at_a_time();
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

    let light_rae: RaeJid = LIGHT.parse().unwrap();
    subscribe(&mut light, &mut client);

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
    let (id, rid) = observe(&mut light, &mut client, "coap://light/a/light");
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
}

/// An observe through cuts: the light notifies every 100 ms while a proxy
/// on loopback cuts both RAEs' connections about ten times a minute; each
/// RAE waits as its reconnection policy says and resumes its session
/// (XEP-0198). Not one notification may be lost or arrive twice (checked
/// by their numbers). `XMPP_CUTS_SECONDS` sets how long (default 60).
#[test]
fn an_observe_survives_connections_cut_ten_times_a_minute() {
    let _one = one_at_a_time();
    let seconds: u64 = std::env::var("XMPP_CUTS_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let runs: Vec<_> = servers()
        .into_iter()
        .map(|(name, addr)| std::thread::spawn(move || observe_through_cuts(name, addr, seconds)))
        .collect();
    for run in runs {
        run.join().unwrap();
    }
}

fn observe_through_cuts(name: &str, server: &str, seconds: u64) {
    let proxy = example_io::proxy::CuttingProxy::start(server).unwrap();
    let policy = Some(BackoffConfig {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(2),
        jitter: 50,
        stable_after: Duration::from_secs(5),
    });
    let mut light = Node::with(
        proxy.addr(),
        LIGHT,
        PriorityClass::ServerWithFeatures,
        10,
        policy,
    );
    let mut client = Node::with(
        proxy.addr(),
        CLIENT,
        PriorityClass::ClientWithFeatures,
        50,
        policy,
    );
    until(&mut light, &mut client, "both logged in", |l, c| {
        (l.rae.status() == &ConnectionStatus::Connected
            && c.rae.status() == &ConnectionStatus::Connected)
            .then_some(())
    });
    subscribe(&mut light, &mut client);
    let (id, rid) = observe(&mut light, &mut client, "coap://light/a/level");

    let mut tally = Tally::default();
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut next_cut = Instant::now() + Duration::from_secs(3);
    let mut next_notification = Instant::now();
    let mut sent = 0u64;
    while Instant::now() < end {
        if Instant::now() >= next_notification {
            let message = RestMessage::response(200, "OK")
                .with_header("Observe", sent.to_string())
                .with_json(&json!({"n": sent}));
            light.rae.respond(Instant::now(), rid, &message).unwrap();
            sent += 1;
            next_notification += Duration::from_millis(100);
        }
        if Instant::now() >= next_cut {
            proxy.cut();
            next_cut = Instant::now() + Duration::from_millis(5_500);
        }
        tally.round(name, id, &mut light, &mut client);
    }
    // No more cuts: the last notifications arrive.
    let settle = Instant::now() + Duration::from_secs(20);
    while Instant::now() < settle && (tally.seen.len() as u64) < sent {
        tally.round(name, id, &mut light, &mut client);
    }
    let Tally {
        seen,
        resumed,
        new_sessions,
    } = tally;
    let missing: Vec<u64> = (0..sent).filter(|n| !seen.contains_key(n)).collect();
    let twice = seen.values().filter(|c| **c > 1).count();
    let figures = format!(
        "{name}: {seconds} s, {} cuts; {sent} notifications, {} received, {} lost, {twice} twice; \
         {resumed} resumptions, {new_sessions} new sessions",
        proxy.cuts(),
        seen.len(),
        missing.len()
    );
    eprintln!("{figures}");
    assert!(missing.is_empty(), "{figures}: missing {missing:?}");
    assert_eq!(twice, 0, "{figures}");
    assert_eq!(new_sessions, 0, "{figures}");
    assert!(resumed > 0, "{figures}");
    // Both leave cleanly, so that the server keeps no session of theirs
    // to resume (the next test logs in under the same full JIDs).
    light.rae.close(Instant::now());
    client.rae.close(Instant::now());
    let deadline = Instant::now() + Duration::from_secs(5);
    let ended = |n: &Node| n.events.iter().any(|e| matches!(e, RaeEvent::Ended(_)));
    while !(ended(&light) && ended(&client)) && Instant::now() < deadline {
        light.round();
        client.round();
    }
}

/// What the observe through cuts counted: each notification's number and
/// how often it came, the resumptions and the new sessions.
#[derive(Default)]
struct Tally {
    seen: std::collections::BTreeMap<u64, usize>,
    resumed: usize,
    new_sessions: usize,
}

impl Tally {
    /// One round of both RAEs, counting what they reported.
    fn round(&mut self, name: &str, id: RequestId, light: &mut Node, client: &mut Node) {
        light.round();
        client.round();
        while let Some(n) = client.take(|e| match e {
            RaeEvent::Endpoint(
                EndpointEvent::Response { id: got, message }
                | EndpointEvent::Notification { id: got, message },
            ) if *got == id => message
                .json()
                .and_then(Result::ok)
                .and_then(|v| v["n"].as_u64()),
            _ => None,
        }) {
            *self.seen.entry(n).or_default() += 1;
        }
        for node in [light, client] {
            for e in node.events.drain(..) {
                match e {
                    RaeEvent::Resumed { .. } => self.resumed += 1,
                    RaeEvent::NewSession => self.new_sessions += 1,
                    RaeEvent::Ended(end) => panic!("{name}: an RAE ended: {end}"),
                    _ => {}
                }
            }
        }
    }
}
