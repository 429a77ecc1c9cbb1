//! Which step serves an input: the dispatch of a received stanza to the
//! registration, claim and friendship steps.

use iot_sansio::store::Store;
use iot_xmpp::{DefinedCondition, ErrorType, IqType, Stanza};

use super::kinds::{Ctx, Work};
use super::records::Record;
use super::tx::{Step, Tx};
use super::{claims, friends};
use crate::payload::SiotPayload;
use crate::roster::SubscriptionRequest;

/// Whether a stanza is one the service serves (this protocol's `iq`
/// requests, and `subscribed` presence).
pub(super) fn is_ours(stanza: &Stanza) -> bool {
    if SubscriptionRequest::of(stanza) == Some(SubscriptionRequest::Subscribed) {
        return true;
    }
    matches!(stanza.iq_type(), Some(IqType::Get | IqType::Set))
        && stanza
            .payloads
            .iter()
            .any(|e| e.ns == crate::payload::SIOT_NS)
}

/// One run of an input's steps.
pub(super) fn steps<S: Store<String, Record>>(
    ctx: &mut Ctx,
    tx: &mut Tx<'_, S>,
    work: &Work,
) -> Step<()> {
    let stanza = match work {
        Work::Subscribed(thing) => {
            if ctx.roster_to.contains(thing) {
                friends::subscribed(tx, thing)?;
            }
            return Ok(());
        }
        Work::Stanza(stanza) => stanza,
    };
    if SubscriptionRequest::of(stanza) == Some(SubscriptionRequest::Subscribed) {
        return match &stanza.from {
            Some(from) => friends::subscribed(tx, &from.to_bare()),
            None => Ok(()),
        };
    }
    let payload = match SiotPayload::from_stanza(stanza) {
        Ok(Some(p)) => p,
        Ok(None) => return Ok(()),
        Err(_) => {
            tx.send(stanza.error_reply(ErrorType::Modify, DefinedCondition::BadRequest));
            return Ok(());
        }
    };
    let Some(from) = stanza.from.clone() else {
        friends::refuse(tx, stanza, payload.name());
        return Ok(());
    };
    match payload {
        SiotPayload::Register { key, names } => {
            claims::register(ctx, tx, stanza, &from, &key, &names)
        }
        SiotPayload::Claim { name, key } => {
            claims::claim(ctx, tx, stanza, &from.to_bare(), &name, &key)
        }
        SiotPayload::IsFriendQuery { jid } => {
            friends::is_friend(ctx, tx, stanza, &from.to_bare(), &jid)
        }
        SiotPayload::PendingFriendQuery => friends::pending(ctx, tx, stanza, &from.to_bare()),
        SiotPayload::FriendStateUpdate { items } => {
            friends::update(ctx, tx, stanza, &from.to_bare(), &items)
        }
        _ => {
            tx.send(stanza.error_reply(ErrorType::Cancel, DefinedCondition::FeatureNotImplemented));
            Ok(())
        }
    }
}
