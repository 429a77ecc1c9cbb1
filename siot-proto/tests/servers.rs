//! Interoperability with real XMPP servers: a thing, an owner, a requestor
//! and the provisioning service log in as four accounts, each on the
//! workspace's sans-IO client connection (SCRAM over STARTTLS, through
//! `xmpp-net`), and run the whole story through Prosody
//! (127.0.0.1:15222) and ejabberd (127.0.0.1:15223), as `.ci/prosody` and
//! `.ci/ejabberd` start them (accounts `bulb`, `owner`, `requestor` and
//! `provisioning`, password `secret`, host `localhost`). Without a server
//! the test says why and passes; under `CI=true` it fails.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::print_stderr)]

use iot_sansio::testing::Checked;
use std::time::{Duration, Instant};

use iot_sansio::Secret;
use iot_sansio::backoff::BackoffConfig;
use iot_sansio::store::{Deferred, Store};
use iot_sansio::testing::Node;
use iot_xmpp::roster::{Roster, RosterChange};
use iot_xmpp::stream::ClientConfig;
use iot_xmpp_net::ResilientSession;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use siot_proto::owner::{Owner, OwnerConfig, OwnerEvent};
use siot_proto::payload::{FriendItem, Name, SIOT_NS};
use siot_proto::provisioning::{ProvisioningEvent, ProvisioningService, Registry};
use siot_proto::roster::SubscriptionRequest;
use siot_proto::stanza::{BareJid, DefinedCondition, ErrorType, IqType, Stanza};
use siot_proto::thing::{Thing, ThingConfig, ThingEvent};
use siot_proto::{Input, Machine};

const HOST: &str = "localhost";
fn servers() -> Vec<(&'static str, &'static str)> {
    example_io::xmpp::test_servers()
}

/// One logged-in account: an interested, available resource (it asked for
/// the roster and sent presence, RFC 6121 section 1.4), so the server
/// delivers subscription presence to it. The resource names the process,
/// so that a session an interrupted run left for resumption on the server
/// does not meet this run's.
fn connect(addr: &str, user: &str, resource: &str) -> ResilientSession {
    let mut config = ClientConfig::new(
        BareJid::new(&format!("{user}@{HOST}")).unwrap(),
        Secret::new("secret"),
        Some(format!("{resource}-{}", std::process::id())),
    );
    // The connection reads what the machines read: a full pending list.
    config.limits = siot_proto::stanza_limits();
    // Through a proxy that cuts, the session resumes on a new connection.
    // The four sessions run on one thread, so one session's wait before
    // it reconnects holds the other three up: with cuts every second or
    // two, a wait that grew to seconds (a session never stable for long)
    // slowed the story until it missed its deadlines. The waits here stay
    // short, and a second without a cut counts as stable.
    let backoff = BackoffConfig {
        initial: Duration::from_millis(50),
        max: Duration::from_millis(400),
        jitter: 50,
        stable_after: Duration::from_secs(1),
    };
    let connector = example_io::xmpp::test_connector(addr).unwrap();
    let mut session = ResilientSession::login(config, &connector, backoff)
        .unwrap_or_else(|e| panic!("{user} at {addr}: {e}"));
    session
        .send(&iot_xmpp::roster::RosterQuery::get("roster", None))
        .unwrap();
    session
        .send(&Stanza::new(iot_xmpp::StanzaKind::Presence))
        .unwrap();
    session
}

/// Pings the machines sent, all stories together.
static PINGS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// One participant: its machine, as the family's driver sees it.
type Party = dyn Node<Instant, Stanza, Stanza>;

/// Sends what the machine has and feeds it what arrives, for `wait`; the
/// roster result and pushes go to `roster` (pushes answered as RFC 6121
/// 2.1.6 asks), and what changed in it is returned.
fn pump(
    client: &mut ResilientSession,
    roster: &mut Roster,
    party: &mut Party,
    wait: Duration,
) -> Vec<RosterChange> {
    let mut changes = Vec::new();
    let deadline = Instant::now() + wait;
    loop {
        // The machine's timers: its keepalive's pings, its requests'
        // deadlines.
        if party.next_timeout().is_some_and(|t| t <= Instant::now()) {
            party.timeout(Instant::now());
        }
        while let Some(x) = party.transmit() {
            if iot_xmpp::keepalive::is_ping(&x) {
                PINGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            client.send(&x).unwrap();
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return changes;
        }
        if let Some(s) = client.recv(left.min(Duration::from_millis(100))).unwrap() {
            if s.id.as_deref() == Some("roster") && s.iq_type() == Some(IqType::Result) {
                changes.extend(roster.take_result(&s).unwrap());
                continue;
            }
            if s.iq_type() == Some(IqType::Set)
                && let Ok((change, reply)) = roster.take_push(&s, &client.jid().clone())
            {
                client.send(&reply).unwrap();
                changes.push(change);
                continue;
            }
            party.input(Instant::now(), Input::Data(&s));
            // What no machine here serves (a roster push) is answered as
            // RFC 6120 8.4 asks; a ping the machine's keepalive answered.
            let ours =
                s.payloads.iter().any(|p| p.ns == SIOT_NS) || iot_xmpp::keepalive::is_ping(&s);
            if !ours && matches!(s.iq_type(), Some(IqType::Get | IqType::Set)) {
                let refusal =
                    s.error_reply(ErrorType::Cancel, DefinedCondition::ServiceUnavailable);
                client.send(&refusal).unwrap();
            }
        }
    }
}

/// The four parties, their connections and what each reported.
struct Net {
    clients: [ResilientSession; 4],
    rosters: [Roster; 4],
    bulb_roster_changes: usize,
    bulb: Checked<Thing<Instant, ChaCha20Rng>>,
    ps: Checked<ProvisioningService<Instant, Deferred>>,
    /// The service's store, which its runtime answers from.
    store: Registry,
    owner: Checked<Owner<Instant>>,
    requestor_seen: Vec<Stanza>,
    bulb_events: Vec<ThingEvent>,
    ps_events: Vec<ProvisioningEvent>,
    owner_events: Vec<OwnerEvent>,
}

impl Net {
    /// Runs all four until `done` holds; fails after 30 s.
    fn until(&mut self, what: &str, done: impl Fn(&Self) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let slice = Duration::from_millis(50);
        while !done(self) {
            assert!(Instant::now() < deadline, "stalled waiting for {what}");
            let [b, p, o, r] = &mut self.clients;
            let [rb, rp, ro, _] = &mut self.rosters;
            // The thing takes its roster from the connection's copy.
            for change in pump(b, rb, &mut self.bulb, slice) {
                self.bulb.apply_roster_change(&change);
                self.bulb_roster_changes += 1;
            }
            pump(p, rp, &mut self.ps, slice);
            pump(o, ro, &mut self.owner, slice);
            while let Some(s) = r.recv(Duration::from_millis(10)).unwrap() {
                self.requestor_seen.push(s);
            }
            self.bulb_events
                .extend(std::iter::from_fn(|| self.bulb.poll_event()));
            // The service's runtime answers what it asks of its store;
            // its answers go out once its writes are stored.
            while let Some(event) = self.ps.poll_event() {
                match event {
                    ProvisioningEvent::Store(request) => {
                        let answer = self.store.answer_now(&request.op).unwrap();
                        self.ps.provide(Instant::now(), request.id, answer).unwrap();
                    }
                    other => self.ps_events.push(other),
                }
            }
            self.owner_events
                .extend(std::iter::from_fn(|| self.owner.poll_event()));
        }
    }
}

/// The tests log in as the same accounts: one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn the_whole_story_through_each_server() {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for (name, addr) in servers() {
        eprintln!("the Simple IoT story through {name}");
        let stats = story(addr);
        assert_eq!(stats.lost, 0, "{name}: {stats:?}");
    }
}

/// The story again through a proxy on loopback that cuts every
/// connection every second or two: each party resumes its session
/// (XEP-0198) and the story completes, with no new session.
#[test]
fn the_whole_story_through_connections_cut_every_second_or_two() {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for (name, addr) in servers() {
        let proxy = example_io::proxy::CuttingProxy::start(addr).unwrap();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let cutter = {
            let (proxy, done) = (proxy.clone(), done.clone());
            std::thread::spawn(move || {
                let mut next = Instant::now() + Duration::from_millis(1_500);
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    if Instant::now() >= next {
                        proxy.cut();
                        next = Instant::now() + Duration::from_millis(1_000 + rand_below(1_000));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        let stats = story(proxy.addr());
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        cutter.join().unwrap();
        eprintln!(
            "the Simple IoT story through {name}, cut {} times: {stats:?}, {} pings so far",
            proxy.cuts(),
            PINGS.load(std::sync::atomic::Ordering::Relaxed)
        );
        assert!(proxy.cuts() > 0 && stats.resumed > 0, "{name}: {stats:?}");
        assert_eq!(stats.new_sessions, 0, "{name}: {stats:?}");
    }
}

fn rand_below(n: u64) -> u64 {
    use rand_core::RngCore;
    rand_core::OsRng.next_u64() % n
}

/// The four accounts as a previous run may have left them, cleaned: each
/// cancels every subscription with the others, and the sessions close
/// once the server has acknowledged it all (XEP-0198), so that no
/// cancellation still in flight meets the story's own subscriptions.
fn clean(addr: &str) {
    let mut clients = [
        connect(addr, "bulb", "f65dece8"),
        connect(addr, "provisioning", "ps"),
        connect(addr, "owner", "76a60ed0"),
        connect(addr, "requestor", "10b798d6"),
    ];
    for c in &mut clients {
        for other in ["bulb", "owner", "requestor", "provisioning"] {
            if c.jid().node().is_some_and(|n| n.as_str() == other) {
                continue;
            }
            let j = BareJid::new(&format!("{other}@{HOST}")).unwrap();
            c.send(&SubscriptionRequest::Unsubscribed.to(&j, "clean"))
                .unwrap();
            c.send(&SubscriptionRequest::Unsubscribe.to(&j, "clean"))
                .unwrap();
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while clients.iter().any(|c| c.unacknowledged() > 0) {
        assert!(
            Instant::now() < deadline,
            "the cleaning was not acknowledged"
        );
        for c in &mut clients {
            let _ = c.recv(Duration::from_millis(20)).unwrap();
        }
    }
    for c in clients {
        let _ = c.close();
    }
}

/// Runs the story through `addr`; returns what the four sessions went
/// through together.
fn story(addr: &str) -> iot_xmpp_net::Resilience {
    clean(addr);
    let clients = [
        connect(addr, "bulb", "f65dece8"),
        connect(addr, "provisioning", "ps"),
        connect(addr, "owner", "76a60ed0"),
        connect(addr, "requestor", "10b798d6"),
    ];
    let ps_jid = iot_xmpp::Jid::from(clients[1].jid().clone());
    assert!(ps_jid.as_str().starts_with("provisioning@localhost/ps-"));
    let bulb_bare: BareJid = clients[0].jid().to_bare();
    let owner_bare: BareJid = clients[2].jid().to_bare();
    let requestor_bare: BareJid = clients[3].jid().to_bare();
    let name = "Futuretec Light Bulb 10X";
    // Every machine pings its server after half a second of silence
    // (XEP-0199), and would end if an answer were 10 s late: through the
    // cuts, its pings wait in the resumed session and are answered.
    let keepalive = Some(iot_xmpp::keepalive::KeepaliveConfig {
        interval: Duration::from_millis(500),
        timeout: Duration::from_secs(10),
    });
    let mut bulb_config = ThingConfig::new(
        ps_jid.clone(),
        vec![Name {
            lang: None,
            text: name.into(),
        }],
    );
    bulb_config.keepalive = keepalive;
    let mut owner_config = OwnerConfig::new(ps_jid);
    owner_config.keepalive = keepalive;
    let mut net = Net {
        clients,
        rosters: Default::default(),
        bulb_roster_changes: 0,
        bulb: Checked::new(Thing::new(bulb_config, ChaCha20Rng::seed_from_u64(1))),
        ps: Checked::new(ProvisioningService::with_store(
            siot_proto::provisioning::ProvisioningConfig {
                keepalive,
                ..Default::default()
            },
            Deferred,
        )),
        store: Registry::new(),
        owner: Checked::new(Owner::new(owner_config)),
        requestor_seen: Vec::new(),
        bulb_events: Vec::new(),
        ps_events: Vec::new(),
        owner_events: Vec::new(),
    };

    // Section 4: setup, registration, the service's subscription approved
    // (the approval travels through the server's roster handling).
    let key = net.bulb.setup(Instant::now()).clone();
    net.until("registration", |n| n.bulb.is_registered());
    let thing = bulb_bare.clone();
    net.until("the subscription approval", move |n| {
        n.ps_events
            .contains(&ProvisioningEvent::Subscribed(thing.clone()))
    });

    // Section 5: the owner claims it.
    net.owner.claim(Instant::now(), name, &key);
    let o = owner_bare;
    net.until("the owner update", move |n| n.bulb.owner() == Some(&o));
    // The service's answer to the owner may come after (a cut between).
    let b = bulb_bare.clone();
    net.until("the claim's answer", move |n| {
        n.owner_events.contains(&OwnerEvent::Claimed(b.clone()))
    });

    // Section 6: the requestor asks; the owner has not decided.
    let subscribe = SubscriptionRequest::Subscribe.to(&bulb_bare, "subscribe-1");
    net.clients[3].send(&subscribe).unwrap();
    let r = requestor_bare.clone();
    net.until("the pending notification and the held request", move |n| {
        n.owner_events.contains(&OwnerEvent::PendingNotified)
            && n.bulb_events
                .contains(&ThingEvent::RequestPending(r.clone()))
    });

    // Sections 7-9: the owner lists and approves; the bulb accepts, and
    // the requestor's server delivers the approval.
    net.owner.query_pending(Instant::now());
    let r = requestor_bare.clone();
    net.until("the pending list", move |n| {
        n.owner_events
            .contains(&OwnerEvent::Pending(vec![r.clone()]))
    });
    net.owner.update(
        Instant::now(),
        vec![FriendItem {
            jid: requestor_bare.clone(),
            friend: true,
        }],
    );
    let r = requestor_bare.clone();
    net.until("the friendship", move |n| {
        n.bulb.is_friend(&r)
            && n.requestor_seen
                .iter()
                .any(|s| SubscriptionRequest::of(s) == Some(SubscriptionRequest::Subscribed))
    });
    assert!(
        net.bulb_events
            .contains(&ThingEvent::FriendAdded(requestor_bare.clone()))
    );
    net.until("the update's answer", |n| {
        n.owner_events.contains(&OwnerEvent::Updated)
    });
    // The bulb's friendship is what the server's roster says, once its
    // push arrives (through cuts, maybe after a resumption).
    net.until("the roster push of the friendship", move |n| {
        n.rosters[0]
            .get(&requestor_bare)
            .is_some_and(|i| siot_proto::roster::is_friend(i.subscription))
    });
    assert!(net.bulb_roster_changes > 0);
    // No machine's keepalive found its connection dead.
    assert!(
        !net.bulb_events
            .iter()
            .any(|e| matches!(e, ThingEvent::Ended(_)))
            && !net
                .ps_events
                .iter()
                .any(|e| matches!(e, ProvisioningEvent::Ended(_)))
            && !net
                .owner_events
                .iter()
                .any(|e| matches!(e, OwnerEvent::Ended(_))),
        "{:?} {:?} {:?}",
        net.bulb_events,
        net.ps_events,
        net.owner_events
    );
    let stats = net
        .clients
        .iter()
        .map(ResilientSession::stats)
        .fold(iot_xmpp_net::Resilience::default(), |a, b| a + b);
    // Leave cleanly: the server keeps no session of theirs to resume.
    for client in net.clients {
        let _ = client.close();
    }
    stats
}
