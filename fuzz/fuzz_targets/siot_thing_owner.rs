//! A Simple IoT thing (set up, registered, claimed) and an owner, each fed
//! arbitrary stanzas, some from the provisioning service (so that they pass
//! the sender checks), some from the owner or a requestor, some from
//! strangers, with clock ticks between them. Nothing may panic; under the
//! family's contract checker each ends at most once and reports nothing
//! after its end; a stanza that claims to
//! come from the provisioning service and does not never changes the
//! thing's owner; the owner never has more requests waiting than it sent.
//! Both carry a keepalive (XEP-0199) that the clock ticks drive: its pings
//! and their answers, or its end, interleave with the rest.
#![no_main]

mod common;

use std::time::Duration;

use iot_sansio::testing::Checked;
use iot_xmpp::keepalive::KeepaliveConfig;
use libfuzzer_sys::fuzz_target;
use siot_proto::owner::{Owner, OwnerConfig, OwnerEvent};
use siot_proto::payload::{Name, SiotPayload};
use siot_proto::stanza::{BareJid, Jid, Stanza};
use siot_proto::thing::{Thing, ThingConfig};
use siot_proto::{Input, Machine};

const PS: &str = "provisioning.example.org";
const THING: &str = "bulb@example.org/f65dece8";
const OWNER: &str = "owner@example.com/76a60ed0";

fuzz_target!(|data: &[u8]| {
    let (Ok(ps), Ok(thing_jid), Ok(owner_jid), Ok(stranger)) = (
        Jid::new(PS),
        Jid::new(THING),
        Jid::new(OWNER),
        Jid::new("mallory@example.net/x"),
    ) else {
        return;
    };
    let keepalive = Some(KeepaliveConfig {
        interval: Duration::from_secs(20),
        timeout: Duration::from_secs(10),
    });
    let mut thing_config = ThingConfig::new(
        ps.clone(),
        vec![Name {
            lang: None,
            text: "Bulb".into(),
        }],
    );
    thing_config.keepalive = keepalive;
    let mut thing = Checked::new(Thing::<Duration, _>::new(
        thing_config,
        iot_sansio::testing::rng(1),
    ));
    let mut owner_config = OwnerConfig::new(ps.clone());
    owner_config.keepalive = keepalive;
    let mut owner = Checked::new(Owner::<Duration>::new(owner_config));
    let mut now = Duration::ZERO;
    thing.setup(now);
    // The service accepts the registration and tells the thing its owner.
    let register = thing.poll_transmit();
    if let Some(r) = register {
        let mut ok = r.result_reply();
        ok.from = Some(ps.clone());
        thing.handle_input(now, Input::Data(&ok));
    }
    let Ok(owner_bare) = BareJid::new("owner@example.com") else {
        return;
    };
    let mut told = SiotPayload::Owner {
        jid: owner_bare.clone(),
    }
    .to_stanza(thing_jid.clone(), "o1");
    told.from = Some(ps.clone());
    thing.handle_input(now, Input::Data(&told));
    common::drain(&mut thing);
    assert_eq!(thing.owner(), Some(&owner_bare));
    let senders = [ps.clone(), owner_jid.clone(), thing_jid.clone(), stranger];
    let mut asked = 0usize;
    for (op, chunk) in common::ops(data, |op| usize::from(op >> 3)) {
        match op & 7 {
            0 => {
                now += Duration::from_secs(15);
                thing.handle_timeout(now);
                owner.handle_timeout(now);
            }
            1 => {
                thing.handle_input(now, Input::PeerClosed);
                owner.handle_input(now, Input::PeerClosed);
            }
            2 => {
                owner.query_pending(now);
                asked += 1;
            }
            _ => {
                let Some((&who, text)) = chunk.split_first() else {
                    continue;
                };
                let Ok(text) = std::str::from_utf8(text) else {
                    continue;
                };
                let Ok(mut s) = Stanza::parse(text, &siot_proto::stanza_limits()) else {
                    continue;
                };
                let from = senders[usize::from(who) % senders.len()].clone();
                let spoofed = from != ps;
                s.from = Some(from);
                let before = thing.owner().cloned();
                thing.handle_input(now, Input::Data(&s));
                owner.handle_input(now, Input::Data(&s));
                if spoofed {
                    assert_eq!(thing.owner(), before.as_ref(), "an owner set by a stranger");
                }
            }
        }
        common::drain(&mut thing);
        for e in common::drain(&mut owner) {
            if let OwnerEvent::Pending(_) | OwnerEvent::Failed(_) = e {
                assert!(asked > 0, "an answer to nothing asked");
                asked -= 1;
            }
        }
    }
});
