//! Registration and claims (sections 4 and 5): the registry of things, and
//! the index a claim finds its thing by.

use std::collections::HashSet;

use iot_sansio::Instant;
use iot_xmpp::{BareJid, DefinedCondition, ErrorType, Jid, Stanza};

use super::records::ThingRecord;
use super::{ProvisioningEvent, ProvisioningService};
use crate::key::Key;
use crate::payload::{Name, SiotPayload};
use crate::roster::SubscriptionRequest;

/// Where a claim looks: a digest of the name and the key it must match
/// (SHA-256 over the name's length, the name and the key), so that a
/// claim costs one digest and one look-up whatever is registered, and its
/// time tells nothing of how many units share a product name.
pub(super) type ClaimIndex = [u8; 32];

fn claim_index(name: &str, key: &Key) -> ClaimIndex {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(u64::try_from(name.len()).unwrap_or(u64::MAX).to_be_bytes());
    h.update(name.as_bytes());
    h.update(key.expose().as_bytes());
    h.finalize().into()
}

impl<I: Instant> ProvisioningService<I> {
    pub(super) fn register(&mut self, stanza: &Stanza, from: Jid, key: Key, names: Vec<Name>) {
        let thing = from.to_bare();
        let kept = self.things.remove(&thing).and_then(|old| {
            for n in &old.names {
                let at = claim_index(&n.text, &old.key);
                if self.by_claim.get(&at) == Some(&thing) {
                    self.by_claim.remove(&at);
                }
            }
            if old.key == key {
                // The same setup registering again: keep what it had.
                return Some(old);
            }
            // A new key is a new setup (factory reset): no owner, no
            // friends.
            if let Some(owner) = old.owner
                && let Some(o) = self.owners.get_mut(&owner)
            {
                o.things.remove(&thing);
                self.dirty_owners.insert(owner);
            }
            None
        });
        let record = match kept {
            Some(old) => ThingRecord {
                address: from,
                names,
                ..old
            },
            None => ThingRecord {
                address: from,
                names,
                key,
                owner: None,
                friends: HashSet::new(),
                refused: HashSet::new(),
                subscribed: false,
            },
        };
        self.index(&thing, &record);
        self.things.insert(thing.clone(), record);
        self.dirty_things.insert(thing.clone());
        self.roster_subscribed(&thing);
        self.out.send(stanza.result_reply());
        // Section 4: subscribe to the thing's presence after the result.
        let id = self.ids.next_id();
        self.out
            .send(SubscriptionRequest::Subscribe.to(&thing, &id));
        self.out.event(ProvisioningEvent::Registered(thing));
    }

    /// Makes a thing claimable by each of its names with its key; a later
    /// thing with the same name and key takes the place.
    pub(super) fn index(&mut self, jid: &BareJid, thing: &ThingRecord) {
        for n in &thing.names {
            self.by_claim
                .insert(claim_index(&n.text, &thing.key), jid.clone());
        }
    }

    pub(super) fn claim(&mut self, stanza: &Stanza, owner: &BareJid, name: &str, key: &Key) {
        // One digest and one look-up, whatever is registered; the key of
        // the thing found is compared again, in constant time.
        let found = self
            .by_claim
            .get(&claim_index(name, key))
            .filter(|jid| {
                self.things
                    .get(*jid)
                    .is_some_and(|t| t.key == *key && t.names.iter().any(|n| n.text == name))
            })
            .cloned();
        let Some(thing) = found else {
            self.claim_refused(stanza, owner, DefinedCondition::ItemNotFound);
            return;
        };
        let Some(record) = self.things.get_mut(&thing) else {
            return;
        };
        match &record.owner {
            Some(o) if o != owner => {
                self.claim_refused(stanza, owner, DefinedCondition::Conflict);
                return;
            }
            _ => {}
        }
        record.owner = Some(owner.clone());
        record.friends.remove(owner);
        record.refused.remove(owner);
        let address = record.address.clone();
        self.owners
            .entry(owner.clone())
            .or_default()
            .things
            .insert(thing.clone());
        self.dirty_things.insert(thing.clone());
        self.dirty_owners.insert(owner.clone());
        self.out
            .send(SiotPayload::Claimed { jid: thing.clone() }.reply_to(stanza));
        let id = self.ids.next_id();
        self.out
            .send(SiotPayload::Owner { jid: owner.clone() }.to_stanza(address, &id));
        self.out.event(ProvisioningEvent::Claimed {
            thing,
            owner: owner.clone(),
        });
    }

    fn claim_refused(&mut self, stanza: &Stanza, by: &BareJid, condition: DefinedCondition) {
        self.out
            .send(stanza.error_reply(ErrorType::Cancel, condition));
        self.out.event(ProvisioningEvent::ClaimRefused {
            by: by.clone(),
            condition,
        });
    }
}
