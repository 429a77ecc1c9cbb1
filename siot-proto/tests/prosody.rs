//! Interoperability with a real XMPP server: a thing, an owner, a requestor
//! and the provisioning service log in to Prosody as four accounts and run
//! the whole story through it.
//!
//! `.ci/run` installs Prosody, starts it on 127.0.0.1:15222 with accounts
//! `bulb`, `owner`, `requestor` and `provisioning` (password `secret`) on
//! host `localhost`, and runs this test with `--ignored`. Elsewhere it is
//! ignored: it needs the server. `SIOT_PROSODY` overrides the address.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// `SIOT_PROSODY_TRACE=1` prints the exchange on standard error.
#![allow(clippy::print_stderr)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64::Engine;
use iot_sansio::testing::Node;
use quick_xml::Reader;
use quick_xml::events::Event;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use siot_proto::owner::{Owner, OwnerConfig, OwnerEvent};
use siot_proto::payload::{FriendItem, Name, SIOT_NS};
use siot_proto::provisioning::{ProvisioningEvent, ProvisioningService};
use siot_proto::roster::SubscriptionRequest;
use siot_proto::stanza::{BareJid, DefinedCondition, ErrorType, IqType, Jid, Stanza};
use siot_proto::thing::{Thing, ThingConfig, ThingEvent};
use siot_proto::{Input, Machine};

const HOST: &str = "localhost";
const PASSWORD: &str = "secret";

/// A minimal blocking XMPP client: stream, SASL PLAIN (the test server
/// allows it without TLS on loopback), resource binding, and stanzas split
/// out of the stream.
struct Client {
    tcp: TcpStream,
    buf: String,
    jid: Jid,
}

impl Client {
    fn connect(user: &str, resource: &str) -> Self {
        let addr = std::env::var("SIOT_PROSODY").unwrap_or_else(|_| "127.0.0.1:15222".into());
        let tcp = TcpStream::connect(&addr).unwrap_or_else(|e| panic!("Prosody at {addr}: {e}"));
        tcp.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let mut c = Self {
            tcp,
            buf: String::new(),
            jid: Jid::new(HOST).unwrap(),
        };
        c.open_stream();
        let features = c.next_element(Duration::from_secs(5)).expect("features");
        assert!(features.contains("PLAIN"), "PLAIN not offered: {features}");
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{PASSWORD}"));
        c.send(&format!(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>"
        ));
        let outcome = c
            .next_element(Duration::from_secs(5))
            .expect("SASL outcome");
        assert!(
            outcome.starts_with("<success"),
            "login of {user} failed: {outcome}"
        );
        c.open_stream();
        let features = c
            .next_element(Duration::from_secs(5))
            .expect("features after SASL");
        assert!(features.contains("bind"), "{features}");
        c.send(&format!(
            "<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>{resource}</resource></bind></iq>"
        ));
        let bound = c.next_element(Duration::from_secs(5)).expect("bind result");
        let s = Stanza::parse(&bound, &Default::default()).unwrap();
        let jid = s.payloads[0].children[0].text.clone();
        c.jid = Jid::new(&jid).unwrap();
        // An interested resource (RFC 6121 1.4: it asked for the roster),
        // so the server delivers subscription presence to it, and
        // available, so presence and messages reach it.
        c.send("<iq type='get' id='roster'><query xmlns='jabber:iq:roster'/></iq>");
        let roster = c.next_element(Duration::from_secs(5)).expect("roster");
        assert!(roster.contains("jabber:iq:roster"), "{roster}");
        c.send("<presence/>");
        c
    }

    fn open_stream(&mut self) {
        self.send(&format!(
            "<?xml version='1.0'?><stream:stream to='{HOST}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
        ));
        // Read up to the end of the server's stream header.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(i) = self.buf.find("<stream:stream")
                && let Some(j) = self.buf[i..].find('>')
            {
                self.buf.drain(..i + j + 1);
                return;
            }
            assert!(Instant::now() < deadline, "no stream header: {}", self.buf);
            self.fill();
        }
    }

    fn send(&mut self, xml: &str) {
        self.tcp.write_all(xml.as_bytes()).unwrap();
    }

    fn fill(&mut self) {
        let mut chunk = [0u8; 8192];
        match self.tcp.read(&mut chunk) {
            Ok(0) => panic!("server closed the stream: {}", self.buf),
            Ok(n) => self.buf.push_str(std::str::from_utf8(&chunk[..n]).unwrap()),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("{e}"),
        }
    }

    /// The end of the first complete top-level element in the buffer.
    fn complete(&self) -> Option<usize> {
        let start = self.buf.len() - self.buf.trim_start().len();
        let mut r = Reader::from_str(&self.buf[start..]);
        let mut depth = 0usize;
        loop {
            match r.read_event() {
                Ok(Event::Start(_)) => depth += 1,
                Ok(Event::End(_)) => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(start + usize::try_from(r.buffer_position()).ok()?);
                    }
                }
                Ok(Event::Empty(_)) if depth == 0 => {
                    return Some(start + usize::try_from(r.buffer_position()).ok()?);
                }
                Ok(Event::Eof) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// The next top-level element, waiting up to `wait`.
    fn next_element(&mut self, wait: Duration) -> Option<String> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(end) = self.complete() {
                let element: String = self.buf.drain(..end).collect();
                return Some(element.trim().to_owned());
            }
            if Instant::now() >= deadline {
                return None;
            }
            self.fill();
        }
    }
}

/// One participant: its machine, as the family's driver sees it.
type Party = dyn Node<Instant, Stanza, Stanza>;

/// Sends what the machine has and feeds it what arrives, for `wait`.
fn pump(client: &mut Client, party: &mut Party, wait: Duration) -> Vec<Stanza> {
    let mut seen = Vec::new();
    let deadline = Instant::now() + wait;
    loop {
        while let Some(x) = party.transmit() {
            if std::env::var_os("SIOT_PROSODY_TRACE").is_some() {
                eprintln!("{} -> {}", client.jid, x.to_xml());
            }
            client.send(&x.to_xml());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return seen;
        }
        if let Some(x) = client.next_element(left.min(Duration::from_millis(100))) {
            if std::env::var_os("SIOT_PROSODY_TRACE").is_some() {
                eprintln!("{} <- {x}", client.jid);
            }
            if let Ok(s) = Stanza::parse(&x, &Default::default()) {
                party.input(Instant::now(), Input::Data(&s));
                // What no machine here serves (a roster push) is answered as
                // RFC 6120 8.4 asks.
                let ours = s.payloads.iter().any(|p| p.ns == SIOT_NS);
                if !ours && matches!(s.iq_type(), Some(IqType::Get | IqType::Set)) {
                    let refusal =
                        s.error_reply(ErrorType::Cancel, DefinedCondition::ServiceUnavailable);
                    client.send(&refusal.to_xml());
                }
                seen.push(s);
            }
        }
    }
}

/// The four parties, their connections and what each reported.
struct Net {
    clients: [Client; 4],
    bulb: Thing<Instant, ChaCha20Rng>,
    ps: ProvisioningService<Instant>,
    owner: Owner<Instant>,
    requestor_seen: Vec<Stanza>,
    bulb_events: Vec<ThingEvent>,
    ps_events: Vec<ProvisioningEvent>,
    owner_events: Vec<OwnerEvent>,
}

impl Net {
    /// Runs all four until `done` holds; fails after 10 s.
    fn until(&mut self, what: &str, done: impl Fn(&Self) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let slice = Duration::from_millis(50);
        while !done(self) {
            assert!(Instant::now() < deadline, "stalled waiting for {what}");
            let [b, p, o, r] = &mut self.clients;
            pump(b, &mut self.bulb, slice);
            pump(p, &mut self.ps, slice);
            pump(o, &mut self.owner, slice);
            while let Some(x) = r.next_element(Duration::from_millis(10)) {
                if let Ok(s) = Stanza::parse(&x, &Default::default()) {
                    self.requestor_seen.push(s);
                }
            }
            self.bulb_events
                .extend(std::iter::from_fn(|| self.bulb.poll_event()));
            self.ps_events
                .extend(std::iter::from_fn(|| self.ps.poll_event()));
            self.owner_events
                .extend(std::iter::from_fn(|| self.owner.poll_event()));
        }
    }
}

#[test]
#[ignore = "needs the Prosody server that .ci/run starts"]
fn the_whole_story_through_prosody() {
    let mut clients = [
        Client::connect("bulb", "f65dece8"),
        Client::connect("provisioning", "ps"),
        Client::connect("owner", "76a60ed0"),
        Client::connect("requestor", "10b798d6"),
    ];
    let ps_jid = clients[1].jid.clone();
    assert_eq!(ps_jid.as_str(), "provisioning@localhost/ps");
    let bulb_bare: BareJid = clients[0].jid.to_bare();
    let owner_bare: BareJid = clients[2].jid.to_bare();
    let requestor_bare: BareJid = clients[3].jid.to_bare();
    // A previous run may have left roster state: start from none.
    for c in &mut clients {
        for other in ["bulb", "owner", "requestor", "provisioning"] {
            if c.jid.node().is_some_and(|n| n.as_str() == other) {
                continue;
            }
            let j = BareJid::new(&format!("{other}@{HOST}")).unwrap();
            c.send(&SubscriptionRequest::Unsubscribed.to(&j, "clean").to_xml());
            c.send(&SubscriptionRequest::Unsubscribe.to(&j, "clean").to_xml());
        }
    }
    let name = "Futuretec Light Bulb 10X";
    let mut net = Net {
        clients,
        bulb: Thing::new(
            ThingConfig::new(
                ps_jid.clone(),
                vec![Name {
                    lang: None,
                    text: name.into(),
                }],
            ),
            ChaCha20Rng::seed_from_u64(1),
        ),
        ps: ProvisioningService::new(Default::default()),
        owner: Owner::new(OwnerConfig::new(ps_jid)),
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
    assert!(
        net.owner_events
            .contains(&OwnerEvent::Claimed(bulb_bare.clone()))
    );

    // Section 6: the requestor asks; the owner has not decided.
    let subscribe = SubscriptionRequest::Subscribe.to(&bulb_bare, "subscribe-1");
    net.clients[3].send(&subscribe.to_xml());
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
            .contains(&ThingEvent::FriendAdded(requestor_bare))
    );
    assert!(net.owner_events.contains(&OwnerEvent::Updated));
}
