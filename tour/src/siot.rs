//! Simple IoT (urn:xmpp:siot:1): a bulb registers with its provisioning
//! service, its owner claims it with the key it shows, a requestor asks for
//! friendship, the owner approves, and the bulb accepts; in memory, through
//! an XMPP server that routes by JID and stamps `from`.

use std::error::Error;
use std::time::Instant;

use iot_sansio::store::{Deferred, Store, StoreAnswer, StoreOp};
use iot_sansio::testing::{Driver, Node};
use iot_xmpp::testing::Server;
use rand_core::OsRng;
use siot_proto::owner::{Owner, OwnerConfig, OwnerEvent};
use siot_proto::payload::{FriendItem, Name};
use siot_proto::provisioning::{ProvisioningEvent, ProvisioningService, Registry};
use siot_proto::roster::SubscriptionRequest;
use siot_proto::stanza::{BareJid, Jid, Stanza};
use siot_proto::thing::{Thing, ThingConfig};
use siot_proto::{Input, Machine};

const BULB: &str = "bulb@example.org/f65dece8";
const PS: &str = "provisioning.example.org";
const OWNER: &str = "owner@example.com/76a60ed0";
const REQUESTOR: &str = "requestor@example.net/10b798d6";

struct World {
    bulb: Thing<Instant, OsRng>,
    ps: ProvisioningService<Instant, Deferred>,
    /// The service's store, which its runtime (here) answers from.
    store: Registry,
    owner: Owner<Instant>,
    /// The XMPP server: routes by JID and stamps `from` (a bare JID on
    /// subscription presence, RFC 6121 3.1.2).
    xmpp: Server,
    driver: Driver<Instant>,
}

impl World {
    fn nodes(&mut self) -> [&mut dyn Node<Instant, Stanza, Stanza>; 3] {
        [&mut self.bulb, &mut self.ps, &mut self.owner]
    }

    /// A stanza from someone without a machine here (the requestor).
    fn inject(&mut self, from: &str, stanza: Stanza) -> Result<(), Box<dyn Error>> {
        let now = self.driver.now();
        if let Some((to, s)) = self.xmpp.inject(&Jid::new(from)?, stanza) {
            println!("  {}", s.to_xml());
            if let Some(node) = self.nodes().into_iter().nth(to) {
                node.input(now, Input::Data(&s));
            }
        }
        Ok(())
    }

    /// Carries stanzas until all are quiet, printing each as delivered.
    /// The service asks its store for what it reads and writes; its answers
    /// go once its runtime (here) has stored each of its writes.
    fn run(&mut self) -> Result<(), Box<dyn Error>> {
        loop {
            let xmpp = &mut self.xmpp;
            self.driver.run(
                &mut [&mut self.bulb, &mut self.ps, &mut self.owner],
                |from, s| {
                    let routed = xmpp.route(from, s);
                    if let Some((_, s)) = &routed {
                        println!("  {}", s.to_xml());
                    }
                    routed
                },
            );
            let mut stored = false;
            while let Some(event) = self.ps.poll_event() {
                if let ProvisioningEvent::Store(request) = event {
                    let answer = self.store.answer_now(&request.op).ok_or("no answer")?;
                    if let (StoreOp::Put { key, .. }, StoreAnswer::Stored(v)) =
                        (&request.op, &answer)
                    {
                        println!("  (the service's record {key} is stored, {v})");
                    }
                    self.ps.provide(self.driver.now(), request.id, answer)?;
                    stored = true;
                }
            }
            if !stored {
                return Ok(());
            }
        }
    }
}

pub(crate) fn story() -> Result<(), Box<dyn Error>> {
    println!("Simple IoT: a bulb, its provisioning service, its owner and a requestor");
    let names = vec![
        Name {
            lang: None,
            text: "Futuretec Light Bulb 10X".into(),
        },
        Name {
            lang: Some("de".into()),
            text: "Futuretec Glühbirne 10X".into(),
        },
    ];
    let mut w = World {
        bulb: Thing::new(ThingConfig::new(Jid::new(PS)?, names), OsRng),
        ps: ProvisioningService::with_store(Default::default(), Deferred),
        store: Registry::new(),
        owner: Owner::new(OwnerConfig::new(Jid::new(PS)?)),
        xmpp: Server::new([
            Jid::new(BULB)?,
            Jid::new(PS)?,
            Jid::new(OWNER)?,
            Jid::new(REQUESTOR)?,
        ]),
        driver: Driver::new(Instant::now()),
    };
    let now = w.driver.now();

    println!("  -- setup: the bulb makes a key, registers, approves the service (section 4)");
    let key = w.bulb.setup(now).clone();
    println!("  the bulb shows its key: {}", key.expose());
    w.run()?;

    println!("  -- the owner claims it with the name and the key (section 5)");
    w.owner.claim(now, "Futuretec Light Bulb 10X", &key);
    w.run()?;

    println!("  -- a requestor asks for friendship (section 6); the owner has not decided");
    let subscribe = SubscriptionRequest::Subscribe.to(&Jid::new(BULB)?.to_bare(), "subscribe-1");
    w.inject(REQUESTOR, subscribe)?;
    w.run()?;

    println!("  -- the owner lists pending requests and approves (sections 7 and 8)");
    w.owner.query_pending(now);
    w.run()?;
    let requestor: BareJid = Jid::new(REQUESTOR)?.to_bare();
    let pending: Vec<BareJid> = std::iter::from_fn(|| w.owner.poll_event())
        .filter_map(|e| match e {
            OwnerEvent::Pending(j) => Some(j),
            _ => None,
        })
        .flatten()
        .collect();
    println!(
        "  owner sees pending: {:?}",
        pending.iter().map(|j| j.as_str()).collect::<Vec<_>>()
    );
    w.owner.update(
        now,
        vec![FriendItem {
            jid: requestor.clone(),
            friend: true,
        }],
    );
    w.run()?;
    println!(
        "  the bulb's owner is {:?}; the requestor is a friend: {}",
        w.bulb.owner().map(|j| j.as_str()),
        w.bulb.is_friend(&requestor)
    );
    Ok(())
}
