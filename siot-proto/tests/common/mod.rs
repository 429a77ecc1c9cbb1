//! What the tests of the provisioning service share: what may happen to
//! a service, as the stanzas its peers send.

#![allow(clippy::unwrap_used, dead_code, unreachable_pub)]

use iot_sansio::testing::rng;
use proptest::prelude::*;
use siot_proto::key::Key;
use siot_proto::payload::{FriendItem, Name, SiotPayload};
use siot_proto::roster::SubscriptionRequest;
use siot_proto::stanza::{BareJid, Jid, Stanza};

/// What may happen to a provisioning service.
#[derive(Debug, Clone)]
pub enum Op {
    Register {
        thing: u8,
        key_seed: u8,
    },
    Approve {
        thing: u8,
    },
    Claim {
        thing: u8,
        owner: u8,
    },
    Ask {
        thing: u8,
        requestor: u8,
    },
    Decide {
        owner: u8,
        requestor: u8,
        friend: bool,
    },
}

pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..4u8, 0..3u8).prop_map(|(thing, key_seed)| Op::Register { thing, key_seed }),
        (0..4u8).prop_map(|thing| Op::Approve { thing }),
        (0..4u8, 0..3u8).prop_map(|(thing, owner)| Op::Claim { thing, owner }),
        (0..4u8, 0..6u8).prop_map(|(thing, requestor)| Op::Ask { thing, requestor }),
        (0..3u8, 0..6u8, any::<bool>()).prop_map(|(owner, requestor, friend)| Op::Decide {
            owner,
            requestor,
            friend
        }),
    ]
}

pub fn key(seed: u8) -> Key {
    Key::generate(&mut rng(u64::from(seed)))
}

pub fn thing_jid(n: u8) -> Jid {
    format!("thing{n}@example.org/t").parse().unwrap()
}

pub fn owner_jid(n: u8) -> Jid {
    format!("owner{n}@example.com/o").parse().unwrap()
}

pub fn requestor(n: u8) -> BareJid {
    format!("requestor{n}@example.net").parse().unwrap()
}

/// The stanzas an operation sends the service, each from its sender.
pub fn stanzas(op: &Op) -> Vec<Stanza> {
    let to: Jid = "provisioning.example.org".parse().unwrap();
    let mut out = Vec::new();
    let mut deliver = |from: Jid, stanza: Stanza| out.push(stanza.with_from(from));
    match *op {
        Op::Register { thing, key_seed } => {
            let names = vec![Name {
                lang: None,
                text: format!("Thing {thing}"),
            }];
            let p = SiotPayload::Register {
                key: key(key_seed),
                names,
            };
            deliver(thing_jid(thing), p.to_stanza(to, "r"));
        }
        Op::Approve { thing } => {
            let s = SubscriptionRequest::Subscribed
                .to(&"provisioning.example.org".parse().unwrap(), "a");
            deliver(thing_jid(thing), s);
        }
        Op::Claim { thing, owner } => {
            // The key of the thing's latest registration is not known
            // here: claim with each seed, one of which may match.
            for seed in 0..3 {
                let p = SiotPayload::Claim {
                    name: format!("Thing {thing}"),
                    key: key(seed),
                };
                deliver(owner_jid(owner), p.to_stanza(to.clone(), "c"));
            }
        }
        Op::Ask {
            thing,
            requestor: r,
        } => {
            let p = SiotPayload::IsFriendQuery { jid: requestor(r) };
            deliver(thing_jid(thing), p.to_stanza(to, "q"));
        }
        Op::Decide {
            owner,
            requestor: r,
            friend,
        } => {
            let p = SiotPayload::FriendStateUpdate {
                items: vec![FriendItem {
                    jid: requestor(r),
                    friend,
                }],
            };
            deliver(owner_jid(owner), p.to_stanza(to, "u"));
        }
    }
    out
}
