//! Structure-aware: any Simple IoT payload (registration with names and
//! languages, claims, friendship queries, answers, pending lists and
//! updates, with arbitrary names and JIDs, built through the crate's
//! public types), put in its stanza, written as XML, read back as a
//! stanza and as a payload: the same payload (a thing's names trimmed of
//! XML white space, as the reader reads names the printed examples
//! indent), or a typed error when a value breaks the protocol's rules;
//! never another payload.
#![no_main]

use iot_xmpp::jids::read_jid;
use iot_xmpp::{BareJid, Jid, Stanza};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use rand_core::SeedableRng;
use siot_proto::key::Key;
use siot_proto::payload::{FriendItem, Friendship, Name, SiotPayload};

fn bare(u: &mut Unstructured<'_>) -> Result<Option<BareJid>> {
    let local: String = u.arbitrary()?;
    let domain = *u.choose(&["example.org", "example.com", "xn--bcher-kva.example"])?;
    Ok(read_jid::<BareJid>(&format!("{local}@{domain}")).ok())
}

fn bares(u: &mut Unstructured<'_>) -> Result<Vec<BareJid>> {
    let mut out = Vec::new();
    for _ in 0..u.int_in_range(0..=4u8)? {
        if let Some(j) = bare(u)? {
            out.push(j);
        }
    }
    Ok(out)
}

fn key(u: &mut Unstructured<'_>) -> Result<Key> {
    Ok(Key::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(
        u.arbitrary()?,
    )))
}

fn payload(u: &mut Unstructured<'_>) -> Result<Option<SiotPayload>> {
    Ok(Some(match u.int_in_range(0..=10u8)? {
        0 => {
            let mut names = Vec::new();
            for _ in 0..u.int_in_range(0..=3u8)? {
                names.push(Name {
                    lang: u.arbitrary()?,
                    text: u.arbitrary()?,
                });
            }
            SiotPayload::Register {
                key: key(u)?,
                names,
            }
        }
        1 => SiotPayload::Claim {
            name: u.arbitrary()?,
            key: key(u)?,
        },
        2..=4 => {
            let Some(jid) = bare(u)? else {
                return Ok(None);
            };
            match u.int_in_range(0..=2u8)? {
                0 => SiotPayload::Claimed { jid },
                1 => SiotPayload::Owner { jid },
                _ => SiotPayload::IsFriendQuery { jid },
            }
        }
        5 => SiotPayload::IsFriendResult {
            friend: *u.choose(&[Friendship::Yes, Friendship::No, Friendship::Pending])?,
        },
        6 => SiotPayload::PendingFriendNotification,
        7 => SiotPayload::PendingFriendQuery,
        8 => SiotPayload::PendingFriendRequests { jids: bares(u)? },
        _ => {
            let mut items = Vec::new();
            for jid in bares(u)? {
                items.push(FriendItem {
                    jid,
                    friend: u.arbitrary()?,
                });
            }
            if u.arbitrary()? {
                SiotPayload::FriendStateUpdate { items }
            } else {
                SiotPayload::FriendshipStates { items }
            }
        }
    }))
}

/// The payload as the reader gives it back: names trimmed.
fn as_read(payload: &SiotPayload) -> SiotPayload {
    match payload {
        SiotPayload::Register { key, names } => SiotPayload::Register {
            key: key.clone(),
            names: names
                .iter()
                .map(|n| Name {
                    lang: n.lang.clone(),
                    text: n.text.trim_matches([' ', '\t', '\r', '\n']).to_owned(),
                })
                .collect(),
        },
        other => other.clone(),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(Some(payload)), Ok(id)) = (payload(&mut u), u.arbitrary::<String>()) else {
        return;
    };
    let Ok(to) = Jid::new("provisioning.example.org") else {
        return;
    };
    let stanza = payload.to_stanza(to, &id);
    let read = Stanza::parse(&stanza.to_xml(), &siot_proto::stanza_limits());
    // A character XML forbids (in the id, say) cannot be written: the
    // client refuses to send such a stanza and the reader refuses it.
    if stanza.check_xml_chars().is_err() {
        assert!(read.is_err(), "{stanza:?} read back");
        return;
    }
    let stanza_back = read.unwrap_or_else(|e| panic!("{stanza:?} not read back: {e}"));
    assert_eq!(stanza_back, stanza);
    match SiotPayload::from_stanza(&stanza_back) {
        Ok(Some(back)) => assert_eq!(back, as_read(&payload)),
        Ok(None) => panic!("{payload:?} lost"),
        Err(_) => {}
    }
});
