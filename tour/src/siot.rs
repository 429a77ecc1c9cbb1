//! Simple IoT (urn:xmpp:siot:1): a bulb registers with its provisioning
//! service, its owner claims it with the key it shows, a requestor asks for
//! friendship, the owner approves, and the bulb accepts; in memory, through
//! an XMPP server that routes by JID and stamps `from`.

use std::error::Error;

use rand_core::OsRng;
use siot_proto::owner::{Owner, OwnerEvent};
use siot_proto::payload::{FriendItem, Name};
use siot_proto::provisioning::ProvisioningService;
use siot_proto::roster::SubscriptionRequest;
use siot_proto::stanza::{BareJid, Jid, Stanza};
use siot_proto::thing::{Thing, ThingConfig};

const BULB: &str = "bulb@example.org/f65dece8";
const PS: &str = "provisioning.example.org";
const OWNER: &str = "owner@example.com/76a60ed0";
const REQUESTOR: &str = "requestor@example.net/10b798d6";

struct World {
    bulb: Thing,
    ps: ProvisioningService,
    owner: Owner,
}

impl World {
    /// The server: stamps `from` (a bare JID on subscription presence, RFC
    /// 6121 3.1.2), prints, and delivers by the addressee's bare JID.
    fn route(&mut self, from: &str, xml: &str) -> Result<(), Box<dyn Error>> {
        let mut s = Stanza::parse(xml, &Default::default())?;
        let sender = Jid::new(from)?;
        s.from = Some(if SubscriptionRequest::of(&s).is_some() {
            sender.to_bare().into()
        } else {
            sender
        });
        let to = s.to.clone().ok_or("no addressee")?.to_bare();
        println!("  {}", s.to_xml());
        if to == Jid::new(BULB)?.to_bare() {
            self.bulb.handle(&s);
        } else if to == Jid::new(PS)?.to_bare() {
            self.ps.handle(&s);
        } else if to == Jid::new(OWNER)?.to_bare() {
            self.owner.handle(&s);
        }
        Ok(())
    }

    fn run(&mut self) -> Result<(), Box<dyn Error>> {
        loop {
            let mut moved = false;
            while let Some(x) = self.bulb.poll_transmit() {
                self.route(BULB, &x)?;
                moved = true;
            }
            while let Some(x) = self.ps.poll_transmit() {
                self.route(PS, &x)?;
                moved = true;
            }
            while let Some(x) = self.owner.poll_transmit() {
                self.route(OWNER, &x)?;
                moved = true;
            }
            if !moved {
                return Ok(());
            }
        }
    }
}

pub(crate) fn story() -> Result<(), Box<dyn Error>> {
    println!("Simple IoT: a bulb, its provisioning service, its owner and a requestor");
    let mut w = World {
        bulb: Thing::new(ThingConfig {
            provisioning: Jid::new(PS)?,
            names: vec![
                Name {
                    lang: None,
                    text: "Futuretec Light Bulb 10X".into(),
                },
                Name {
                    lang: Some("de".into()),
                    text: "Futuretec Glühbirne 10X".into(),
                },
            ],
            limits: Default::default(),
        }),
        ps: ProvisioningService::new(Default::default()),
        owner: Owner::new(Jid::new(PS)?, Default::default()),
    };

    println!("  -- setup: the bulb makes a key, registers, approves the service (section 4)");
    let key = w.bulb.setup(&mut OsRng).clone();
    println!("  the bulb shows its key: {}", key.expose());
    w.run()?;

    println!("  -- the owner claims it with the name and the key (section 5)");
    w.owner.claim("Futuretec Light Bulb 10X", &key);
    w.run()?;

    println!("  -- a requestor asks for friendship (section 6); the owner has not decided");
    let subscribe = SubscriptionRequest::Subscribe.to(&Jid::new(BULB)?.to_bare(), "subscribe-1");
    w.route(REQUESTOR, &subscribe.to_xml())?;
    w.run()?;

    println!("  -- the owner lists pending requests and approves (sections 7 and 8)");
    w.owner.query_pending();
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
    w.owner.update(vec![FriendItem {
        jid: requestor.clone(),
        friend: true,
    }]);
    w.run()?;
    println!(
        "  the bulb's owner is {:?}; the requestor is a friend: {}",
        w.bulb.owner().map(|j| j.as_str()),
        w.bulb.is_friend(&requestor)
    );
    Ok(())
}
