//! Friendship (sections 6 to 9), as steps over the store: is-friend
//! answers, requests pending an owner's decision, the owner's decisions
//! and the notices to its things, and the thing's approval of the
//! service's subscription.

use iot_sansio::store::Store;
use iot_xmpp::{BareJid, DefinedCondition, ErrorType, Jid, Stanza};

use super::kinds::{Ctx, ProvisioningEvent};
use super::records::{
    OwnerEntry, Record, ThingEntry, bare, contains_sorted, insert_sorted, remove_sorted, thing_key,
};
use super::tx::{Step, Tx};
use crate::limits::{item_len, list_base, runs};
use crate::payload::{FriendItem, Friendship, SiotPayload};

/// The answer an is-friend query gets from a thing's record: `Pending`
/// when the owner has not decided.
pub(super) fn friendship(thing: Option<&ThingEntry>, requestor: &str) -> Friendship {
    let Some(t) = thing else {
        return Friendship::No;
    };
    match &t.owner {
        None => Friendship::No,
        Some(o) if o == requestor => Friendship::Yes,
        Some(_) if contains_sorted(&t.friends, requestor) => Friendship::Yes,
        Some(_) if contains_sorted(&t.refused, requestor) => Friendship::No,
        Some(_) => Friendship::Pending,
    }
}

/// Where a requestor's pending request is in an owner's sorted list.
fn pending_at(owner: &OwnerEntry, requestor: &str) -> Result<usize, usize> {
    owner
        .pending
        .binary_search_by(|(r, _)| r.as_str().cmp(requestor))
}

/// Refuses what only a registered thing or an owner may ask.
pub(super) fn refuse<S: Store<String, Record>>(
    tx: &mut Tx<'_, S>,
    stanza: &Stanza,
    what: &'static str,
) {
    tx.send(stanza.error_reply(ErrorType::Auth, DefinedCondition::Forbidden));
    tx.event(ProvisioningEvent::Refused {
        from: stanza.from.clone(),
        what,
    });
}

/// A thing asks whether a requestor is a friend (section 6); an
/// undecided request is kept for the owner, who is told (section 7).
pub(super) fn is_friend<S: Store<String, Record>>(
    ctx: &mut Ctx,
    tx: &mut Tx<'_, S>,
    stanza: &Stanza,
    thing: &BareJid,
    requestor: &BareJid,
) -> Step<()> {
    let me = thing.to_string();
    let Some(entry) = tx.thing(&me)? else {
        refuse(tx, stanza, "is-friend-query");
        return Ok(());
    };
    let who = requestor.to_string();
    let mut answer = friendship(Some(&entry), &who);
    if answer == Friendship::Pending
        && let Some(owner) = entry.owner
    {
        let mut record = tx.owner(&owner)?;
        match pending_at(&record, &who) {
            // Already waiting, the owner told; this thing is one more it
            // asked about.
            Ok(at) => {
                if let Some((_, asked)) = record.pending.get_mut(at) {
                    insert_sorted(asked, &me);
                }
                tx.put(Record::Owner(record));
            }
            Err(_) if record.pending.len() >= ctx.config.max_pending_per_owner => {
                answer = Friendship::No;
            }
            Err(at) => {
                record.pending.insert(at, (who, vec![me]));
                tx.put(Record::Owner(record));
                if let Ok(owner) = bare(&owner) {
                    let id = ctx.ids.next_id();
                    tx.send(SiotPayload::PendingFriendNotification.to_stanza(owner, &id));
                }
            }
        }
    }
    tx.send(SiotPayload::IsFriendResult { friend: answer }.reply_to(stanza));
    Ok(())
}

/// An owner asks for the requests pending its decision (section 7): as
/// many as it reads in one stanza; the rest once it decided those and
/// asks again.
pub(super) fn pending<S: Store<String, Record>>(
    ctx: &Ctx,
    tx: &mut Tx<'_, S>,
    stanza: &Stanza,
    owner: &BareJid,
) -> Step<()> {
    let record = tx.owner(&owner.to_string())?;
    if record.things.is_empty() {
        refuse(tx, stanza, "pending-friend-query");
        return Ok(());
    }
    let jids: Vec<BareJid> = record
        .pending
        .iter()
        .filter_map(|(r, _)| bare(r).ok())
        .collect();
    let empty = SiotPayload::PendingFriendRequests { jids: Vec::new() }.reply_to(stanza);
    let base = list_base(&empty, "pending-friend-requests");
    let first = runs(&jids, base, ctx.config.limits.max_len, |j| {
        item_len("pending-friend", j, 0)
    })
    .first()
    .map(|r| r.to_vec())
    .unwrap_or_default();
    tx.send(SiotPayload::PendingFriendRequests { jids: first }.reply_to(stanza));
    Ok(())
}

/// An owner decides (section 8): a friend on the things it asked about
/// (all the owner's when it asked nothing), a non-friend on all of them;
/// each thing is told (section 9). The things' records are written
/// before the owner's, whose pending requests the decision removes, so
/// that an input run again after a conflict decides the same.
pub(super) fn update<S: Store<String, Record>>(
    ctx: &mut Ctx,
    tx: &mut Tx<'_, S>,
    stanza: &Stanza,
    owner: &BareJid,
    items: &[FriendItem],
) -> Step<()> {
    let me = owner.to_string();
    let mut record = tx.owner(&me)?;
    if record.things.is_empty() {
        refuse(tx, stanza, "friend-state-update");
        return Ok(());
    }
    // The owner is always a friend (section 2.5).
    if items.iter().any(|i| i.jid == *owner && !i.friend) {
        tx.send(stanza.error_reply(ErrorType::Modify, DefinedCondition::NotAcceptable));
        return Ok(());
    }
    let listed = record.things.clone();
    let keys: Vec<String> = listed.iter().map(|t| thing_key(t)).collect();
    let things = tx.get_all(&keys)?;
    let decisions: Vec<(&FriendItem, Option<Vec<String>>)> = items
        .iter()
        .map(|i| {
            let who = i.jid.to_string();
            let asked = pending_at(&record, &who)
                .ok()
                .map(|at| record.pending.remove(at).1);
            (i, asked.filter(|_| i.friend))
        })
        .collect();
    for (jid, entry) in listed.iter().zip(things) {
        // The thing's record decides who owns it: a thing the owner's
        // index lists after a reset or a lost race is dropped from it.
        let Some(Record::Thing(mut t)) = entry
            .filter(|e| matches!(e, Record::Thing(t) if t.owner.as_deref() == Some(me.as_str())))
        else {
            remove_sorted(&mut record.things, jid);
            continue;
        };
        let mine: Vec<FriendItem> = decisions
            .iter()
            .filter(|(_, on)| on.as_ref().is_none_or(|on| contains_sorted(on, &t.jid)))
            .map(|(i, _)| (*i).clone())
            .collect();
        if mine.is_empty() {
            continue;
        }
        for i in &mine {
            let who = i.jid.to_string();
            if i.friend {
                insert_sorted(&mut t.friends, &who);
                remove_sorted(&mut t.refused, &who);
            } else {
                remove_sorted(&mut t.friends, &who);
                insert_sorted(&mut t.refused, &who);
            }
        }
        let address = t.address.parse::<Jid>();
        tx.put(Record::Thing(t));
        let Ok(address) = address else { continue };
        // Within the bytes the thing reads: several notices if need be.
        let id = ctx.ids.next_id();
        let empty =
            SiotPayload::FriendshipStates { items: Vec::new() }.to_stanza(address.clone(), &id);
        let base = list_base(&empty, "friendship-states");
        for run in runs(&mine, base, ctx.config.limits.max_len, |i| {
            item_len("item", &i.jid, 13)
        }) {
            let notice = SiotPayload::FriendshipStates {
                items: run.to_vec(),
            };
            tx.send(notice.to_stanza(address.clone(), &id));
        }
    }
    tx.put(Record::Owner(record));
    tx.send(stanza.result_reply());
    tx.event(ProvisioningEvent::FriendsUpdated {
        owner: owner.clone(),
        items: items.to_vec(),
    });
    Ok(())
}

/// A thing approved the service's presence subscription (section 4), by
/// its `subscribed` presence or as the roster shows.
pub(super) fn subscribed<S: Store<String, Record>>(
    tx: &mut Tx<'_, S>,
    thing: &BareJid,
) -> Step<()> {
    if let Some(mut t) = tx.thing(&thing.to_string())?
        && !t.subscribed
    {
        t.subscribed = true;
        tx.put(Record::Thing(t));
        tx.event(ProvisioningEvent::Subscribed(thing.clone()));
    }
    Ok(())
}
