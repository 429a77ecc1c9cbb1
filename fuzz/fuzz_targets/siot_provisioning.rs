//! Drives a provisioning service with a registered, claimed thing and then
//! arbitrary stanzas, some from the thing or the owner (so that they pass
//! the sender checks), some from strangers; checks, under the family's
//! contract checker, that nothing panics and that the owner stays the
//! owner unless the thing re-registers.
#![no_main]

mod common;

use std::time::Duration;

use iot_sansio::WriteToken;
use iot_sansio::testing::Checked;
use libfuzzer_sys::fuzz_target;
use siot_proto::key::Key;
use siot_proto::payload::{Name, SiotPayload};
use siot_proto::provisioning::{ProvisioningEvent, ProvisioningService};
use siot_proto::stanza::{Jid, Stanza};
use siot_proto::{Input, Machine};

const THING: &str = "bulb@example.org/f65dece8";
const OWNER: &str = "owner@example.com/76a60ed0";

/// Takes what the service queued as a runtime does, keeping the writes
/// it asked for; unless `how` says to wait, confirms every write kept, in
/// order or in reverse.
fn confirm(ps: &mut Checked<ProvisioningService<Duration>>, writes: &mut Vec<WriteToken>, how: u8) {
    for event in common::drain(ps) {
        if let ProvisioningEvent::Saved { write, .. } = event {
            writes.push(write);
        }
    }
    if how & 0x80 != 0 {
        return;
    }
    if how & 0x40 != 0 {
        writes.reverse();
    }
    for write in writes.drain(..) {
        ps.persisted(Duration::ZERO, write);
    }
    common::drain(ps);
}

fuzz_target!(|data: &[u8]| {
    let (Ok(ps_jid), Ok(thing), Ok(owner), Ok(key)) = (
        Jid::new("provisioning.example.org"),
        Jid::new(THING),
        Jid::new(OWNER),
        Key::parse("TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW"),
    ) else {
        return;
    };
    let mut ps = Checked::new(ProvisioningService::<Duration>::new(Default::default()));
    let now = Duration::ZERO;
    let setup = [
        (
            &thing,
            SiotPayload::Register {
                key: key.clone(),
                names: vec![Name {
                    lang: None,
                    text: "Bulb".into(),
                }],
            },
        ),
        (
            &owner,
            SiotPayload::Claim {
                name: "Bulb".into(),
                key,
            },
        ),
    ];
    let mut writes = Vec::new();
    for (from, p) in setup {
        let mut s = p.to_stanza(ps_jid.clone(), "s");
        s.from = Some(from.clone());
        ps.handle_input(now, Input::Data(&s));
        confirm(&mut ps, &mut writes, 0);
    }
    let senders = [
        thing.clone(),
        owner.clone(),
        Jid::new("mallory@example.net/x").unwrap_or_else(|_| unreachable!()),
    ];
    let mut reregistered = false;
    for chunk in data.split(|b| *b == 0) {
        let Some((&who, text)) = chunk.split_first() else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(text) else {
            continue;
        };
        let Ok(mut s) = Stanza::parse(text, &Default::default()) else {
            continue;
        };
        let from = &senders[usize::from(who) % senders.len()];
        s.from = Some(from.clone());
        if from == &thing
            && matches!(
                SiotPayload::from_stanza(&s),
                Ok(Some(SiotPayload::Register { .. }))
            )
        {
            reregistered = true;
        }
        ps.handle_input(now, Input::Data(&s));
        // The runtime stores the records the service saved: now, in
        // order or not, or later.
        confirm(&mut ps, &mut writes, who);
        if !reregistered {
            assert_eq!(ps.owner_of(&thing.to_bare()), Some(&owner.to_bare()));
        }
    }
});
