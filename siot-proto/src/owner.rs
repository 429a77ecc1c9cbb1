//! The owner's side (sections 5, 7 and 8): claiming a thing, listing the
//! friend requests that wait, and deciding them.

use std::collections::HashMap;

use iot_xmpp::{BareJid, Jid, Stanza, StanzaError, StanzaKind, StanzaLimits};

use crate::key::Key;
use crate::payload::{FriendItem, SiotPayload};
use crate::roster::{Outbox, is_from};

/// What an owner reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OwnerEvent {
    /// The claim succeeded: the thing's bare JID.
    Claimed(BareJid),
    /// The claim failed: the stanza error condition (`item-not-found` for
    /// an unknown thing or a wrong key, `conflict` for a thing owned by
    /// someone else).
    ClaimFailed(String),
    /// The provisioning service says requests are waiting (section 7).
    PendingNotified,
    /// The requests that wait.
    Pending(Vec<BareJid>),
    /// A friend state update was applied.
    Updated,
    /// A request was refused: the stanza error condition.
    Failed(String),
    /// A stanza claimed to come from the provisioning service and did not
    /// (section 10); it was ignored.
    Spoofed {
        /// Who sent it.
        from: Option<Jid>,
        /// The element or stanza it carried.
        what: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    Claim,
    Pending,
    Update,
}

/// An owner's client for one provisioning service.
///
/// ```
/// use siot_proto::key::Key;
/// use siot_proto::owner::Owner;
///
/// let mut owner = Owner::new("provisioning.example.org".parse()?, Default::default());
/// owner.claim("Futuretec Light Bulb 10X", &Key::parse("TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW")?);
/// assert!(owner.poll_transmit().unwrap().contains("<claim xmlns=\"urn:xmpp:siot:1\""));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Owner {
    provisioning: Jid,
    limits: StanzaLimits,
    asked: HashMap<String, Asked>,
    out: Outbox<OwnerEvent>,
}

impl Owner {
    /// An owner that talks to this provisioning service.
    #[must_use]
    pub fn new(provisioning: Jid, limits: StanzaLimits) -> Self {
        Self {
            provisioning,
            limits,
            asked: HashMap::new(),
            out: Outbox::new("owner"),
        }
    }

    fn ask(&mut self, payload: &SiotPayload, asked: Asked) {
        let id = self.out.id();
        self.out
            .send(&payload.to_stanza(self.provisioning.clone(), &id));
        self.asked.insert(id, asked);
    }

    /// Claims a thing by its name and the key it shows (section 5).
    pub fn claim(&mut self, name: &str, key: &Key) {
        let claim = SiotPayload::Claim {
            name: name.to_owned(),
            key: key.clone(),
        };
        self.ask(&claim, Asked::Claim);
    }

    /// Asks which friend requests wait (section 7).
    pub fn query_pending(&mut self) {
        self.ask(&SiotPayload::PendingFriendQuery, Asked::Pending);
    }

    /// Decides friendships (section 8).
    pub fn update(&mut self, items: Vec<FriendItem>) {
        self.ask(&SiotPayload::FriendStateUpdate { items }, Asked::Update);
    }

    /// The next stanza to send.
    pub fn poll_transmit(&mut self) -> Option<String> {
        self.out.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<OwnerEvent> {
        self.out.events.pop_front()
    }

    /// Reads a received stanza; `Ok(false)` when it is not for this
    /// machine.
    ///
    /// # Errors
    ///
    /// [`StanzaError`] when the text is not a stanza.
    pub fn handle_stanza(&mut self, xml: &str) -> Result<bool, StanzaError> {
        let stanza = Stanza::parse(xml, &self.limits)?;
        Ok(self.handle(&stanza))
    }

    /// As [`Owner::handle_stanza`], for a parsed stanza.
    pub fn handle(&mut self, stanza: &Stanza) -> bool {
        match (stanza.kind, stanza.type_str()) {
            (StanzaKind::Iq, "result" | "error") => {
                let Some(&asked) = stanza.id.as_ref().and_then(|id| self.asked.get(id)) else {
                    return false;
                };
                if !is_from(&self.provisioning, stanza) {
                    self.spoofed(stanza, "iq answer");
                    return true;
                }
                self.asked.remove(stanza.id.as_deref().unwrap_or_default());
                let event = match (stanza.error(), asked, SiotPayload::from_stanza(stanza)) {
                    (Some(e), Asked::Claim, _) => OwnerEvent::ClaimFailed(e.condition),
                    (Some(e), _, _) => OwnerEvent::Failed(e.condition),
                    (None, Asked::Claim, Ok(Some(SiotPayload::Claimed { jid }))) => {
                        OwnerEvent::Claimed(jid)
                    }
                    (
                        None,
                        Asked::Pending,
                        Ok(Some(SiotPayload::PendingFriendRequests { jids })),
                    ) => OwnerEvent::Pending(jids),
                    (None, Asked::Update, Ok(None)) => OwnerEvent::Updated,
                    (None, _, _) => OwnerEvent::Failed("malformed answer".into()),
                };
                self.out.event(event);
                true
            }
            (StanzaKind::Message, _) => match SiotPayload::from_stanza(stanza) {
                Ok(Some(SiotPayload::PendingFriendNotification)) => {
                    if is_from(&self.provisioning, stanza) {
                        self.out.event(OwnerEvent::PendingNotified);
                    } else {
                        self.spoofed(stanza, "pending-friend-notification");
                    }
                    true
                }
                Ok(None) => false,
                Ok(Some(_)) | Err(_) => true,
            },
            _ => false,
        }
    }

    fn spoofed(&mut self, stanza: &Stanza, what: &str) {
        self.out.event(OwnerEvent::Spoofed {
            from: stanza.from.clone(),
            what: what.to_owned(),
        });
    }
}
