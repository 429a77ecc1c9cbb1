//! Registration and claims (sections 4 and 5), as steps over the store:
//! the thing's record, the claim index, and the owner's record.

use iot_sansio::Secret;
use iot_sansio::store::Store;
use iot_xmpp::{BareJid, DefinedCondition, ErrorType, Jid, Stanza};

use super::kinds::{Ctx, ProvisioningEvent};
use super::records::{
    ClaimEntry, Record, ThingEntry, claim_key, insert_sorted, owner_key, remove_sorted, thing_key,
};
use super::tx::{Step, Tx};
use crate::key::Key;
use crate::payload::{Name, SiotPayload};
use crate::roster::SubscriptionRequest;

/// Where a claim looks: a digest of the name and the key it must match
/// (SHA-256 over the name's length, the name and the key), so that a
/// claim costs one digest and one read whatever is registered, and its
/// time tells nothing of how many units share a product name.
fn claim_index(name: &str, key: &Key) -> String {
    use core::fmt::Write as _;
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(u64::try_from(name.len()).unwrap_or(u64::MAX).to_be_bytes());
    h.update(name.as_bytes());
    h.update(key.expose().as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in h.finalize() {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// A thing registers (section 4). The same key keeps what the thing had;
/// a new key is a new setup (a factory reset): no owner, no friends. The
/// old owner's record is written first, the thing's next, its claim
/// entries last, so that an input run again after a conflict finds what
/// is still to do.
pub(super) fn register<S: Store<String, Record>>(
    ctx: &mut Ctx,
    tx: &mut Tx<'_, S>,
    stanza: &Stanza,
    from: &Jid,
    key: &Key,
    names: &[Name],
) -> Step<()> {
    let bare = from.to_bare();
    let thing = bare.to_string();
    let indexes: Vec<String> = names.iter().map(|n| claim_index(&n.text, key)).collect();
    let mut keys = vec![thing_key(&thing)];
    keys.extend(indexes.iter().map(|i| claim_key(i)));
    let found = tx.get_all(&keys)?;
    let old = match found.first().cloned().flatten() {
        Some(Record::Thing(t)) => Some(t),
        _ => None,
    };
    let kept = match old {
        Some(old) if old.has_key(key) => Some(old),
        Some(old) => {
            if let Some(owner) = &old.owner {
                let mut o = tx.owner(owner)?;
                remove_sorted(&mut o.things, &thing);
                tx.put(Record::Owner(o));
            }
            None
        }
        None => None,
    };
    let names: Vec<(Option<String>, String)> = names
        .iter()
        .map(|n| (n.lang.clone(), n.text.clone()))
        .collect();
    let mut entry = match kept {
        Some(old) => ThingEntry {
            address: from.to_string(),
            names,
            ..old
        },
        None => ThingEntry {
            jid: thing.clone(),
            address: from.to_string(),
            names,
            key: Secret::new(key.expose().to_owned()),
            owner: None,
            friends: Vec::new(),
            refused: Vec::new(),
            subscribed: false,
        },
    };
    let subscribed = !entry.subscribed && ctx.roster_to.contains(&bare);
    entry.subscribed |= subscribed;
    tx.put(Record::Thing(entry));
    for index in indexes {
        tx.put(Record::Claim(ClaimEntry {
            index,
            thing: thing.clone(),
        }));
    }
    if subscribed {
        tx.event(ProvisioningEvent::Subscribed(bare.clone()));
    }
    tx.send(stanza.result_reply());
    // Section 4: subscribe to the thing's presence after the result.
    let id = ctx.ids.next_id();
    tx.send(SubscriptionRequest::Subscribe.to(&bare, &id));
    tx.event(ProvisioningEvent::Registered(bare));
    Ok(())
}

/// An owner claims a thing by name and key (section 5). The thing's
/// record, which decides who owns it, is written first (two claims of one
/// thing at two services: the second write conflicts, and that claim,
/// run again, finds the thing owned); the owner's record next.
pub(super) fn claim<S: Store<String, Record>>(
    ctx: &mut Ctx,
    tx: &mut Tx<'_, S>,
    stanza: &Stanza,
    owner: &BareJid,
    name: &str,
    key: &Key,
) -> Step<()> {
    let found = tx.get_all(&[claim_key(&claim_index(name, key))])?;
    let thing = match found.into_iter().next().flatten() {
        Some(Record::Claim(c)) => Some(c.thing),
        _ => None,
    };
    let me = owner.to_string();
    let entry = match thing {
        Some(thing) => {
            let both = tx.get_all(&[thing_key(&thing), owner_key(&me)])?;
            match both.into_iter().next().flatten() {
                // The key of the thing found is compared again, in
                // constant time.
                Some(Record::Thing(t)) if t.has_key(key) && t.has_name(name) => Some(t),
                _ => None,
            }
        }
        None => None,
    };
    let Some(mut entry) = entry else {
        refused(tx, stanza, owner, DefinedCondition::ItemNotFound);
        return Ok(());
    };
    if entry.owner.as_ref().is_some_and(|o| *o != me) {
        refused(tx, stanza, owner, DefinedCondition::Conflict);
        return Ok(());
    }
    entry.owner = Some(me.clone());
    remove_sorted(&mut entry.friends, &me);
    remove_sorted(&mut entry.refused, &me);
    let thing = entry.jid.clone();
    let address = entry.address.clone();
    tx.put(Record::Thing(entry));
    let mut o = tx.owner(&me)?;
    insert_sorted(&mut o.things, &thing);
    tx.put(Record::Owner(o));
    let thing = super::records::bare(&thing).map_err(|_| super::tx::Stop::Unavailable)?;
    tx.send(SiotPayload::Claimed { jid: thing.clone() }.reply_to(stanza));
    if let Ok(address) = address.parse::<Jid>() {
        let id = ctx.ids.next_id();
        tx.send(SiotPayload::Owner { jid: owner.clone() }.to_stanza(address, &id));
    }
    tx.event(ProvisioningEvent::Claimed {
        thing,
        owner: owner.clone(),
    });
    Ok(())
}

fn refused<S: Store<String, Record>>(
    tx: &mut Tx<'_, S>,
    stanza: &Stanza,
    by: &BareJid,
    condition: DefinedCondition,
) {
    tx.send(stanza.error_reply(ErrorType::Cancel, condition));
    tx.event(ProvisioningEvent::ClaimRefused {
        by: by.clone(),
        condition,
    });
}
