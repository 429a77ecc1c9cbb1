//! The roster (RFC 6121 section 2): its items, the get and its result,
//! pushes and their answers, and versioning (section 2.6), as a typed
//! codec and a copy a client keeps.

use std::collections::BTreeMap;

use jid::{BareJid, FullJid};

use crate::element::Element;
use crate::stanza::Stanza;
use crate::vocab::{IqType, QUERY, ROSTER_NS, Subscription};

/// One roster item (RFC 6121 section 2.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterItem {
    /// The contact.
    pub jid: BareJid,
    /// The name the user gave it.
    pub name: Option<String>,
    /// The subscription state.
    pub subscription: Subscription,
    /// Whether a subscription request of the user is pending (`ask`).
    pub pending_out: bool,
    /// The groups.
    pub groups: Vec<String>,
}

/// Why a stanza is not the roster element it claims to be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RosterError {
    /// An item without a bare JID.
    #[error("a roster item's jid: {0}")]
    Jid(String),
    /// A `subscription` value RFC 6121 does not define.
    #[error("unknown subscription `{0}`")]
    Subscription(String),
    /// A push with more or fewer than one item (RFC 6121 section 2.1.6).
    #[error("a roster push carries {0} items, not one")]
    PushItems(usize),
    /// A push from someone other than the user's own account (RFC 6121
    /// section 2.1.6: ignored as an attack).
    #[error("a roster push from {0}")]
    PushFrom(String),
}

/// What an item in a query says: an item, or its removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosterEntry {
    /// The item as it is now.
    Item(RosterItem),
    /// `subscription='remove'`: the item is gone.
    Removed(BareJid),
}

/// A `<query xmlns='jabber:iq:roster'>`: the version and the entries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RosterQuery {
    /// The version (`ver`), when the server versions rosters.
    pub ver: Option<String>,
    /// The entries.
    pub entries: Vec<RosterEntry>,
}

impl RosterQuery {
    /// Whether a stanza carries a roster query (a request, result or
    /// push), without reading it.
    #[must_use]
    pub fn is_in(stanza: &Stanza) -> bool {
        stanza.payload(QUERY, ROSTER_NS).is_some()
    }

    /// The roster query of a stanza, if it carries one.
    ///
    /// # Errors
    ///
    /// A [`RosterError`] for an item that is not one.
    pub fn of(stanza: &Stanza) -> Result<Option<Self>, RosterError> {
        let Some(query) = stanza.payload(QUERY, ROSTER_NS) else {
            return Ok(None);
        };
        let mut entries = Vec::new();
        for item in query.children.iter().filter(|c| c.name == "item") {
            let jid = item
                .get_attr("jid")
                .ok_or_else(|| RosterError::Jid("missing".into()))
                .and_then(|j| {
                    crate::jids::read_jid::<BareJid>(j).map_err(|e| RosterError::Jid(e.to_string()))
                })?;
            let subscription = item.get_attr("subscription").unwrap_or("none");
            if subscription == "remove" {
                entries.push(RosterEntry::Removed(jid));
                continue;
            }
            let subscription = subscription
                .parse::<Subscription>()
                .map_err(|_| RosterError::Subscription(subscription.to_owned()))?;
            entries.push(RosterEntry::Item(RosterItem {
                jid,
                name: item.get_attr("name").map(str::to_owned),
                subscription,
                pending_out: item.get_attr("ask") == Some("subscribe"),
                groups: item
                    .children
                    .iter()
                    .filter(|g| g.name == "group")
                    .map(|g| g.text.clone())
                    .collect(),
            }));
        }
        Ok(Some(Self {
            ver: query.get_attr("ver").map(str::to_owned),
            entries,
        }))
    }

    /// The roster get (RFC 6121 section 2.1.3), with the version the
    /// client holds when the server versions rosters (section 2.6.2).
    #[must_use]
    pub fn get(id: &str, ver: Option<&str>) -> Stanza {
        let mut query = Element::new(QUERY, ROSTER_NS);
        if let Some(ver) = ver {
            query = query.attr("ver", ver);
        }
        Stanza::iq(IqType::Get).with_id(id).with_payload(query)
    }

    /// A roster set that adds or updates `item` (RFC 6121 section 2.1.5),
    /// or removes it (section 2.5).
    #[must_use]
    pub fn set(id: &str, entry: &RosterEntry) -> Stanza {
        let item = match entry {
            RosterEntry::Removed(jid) => Element::new("item", ROSTER_NS)
                .attr("jid", jid.as_str())
                .attr("subscription", "remove"),
            RosterEntry::Item(item) => {
                let mut e = Element::new("item", ROSTER_NS).attr("jid", item.jid.as_str());
                if let Some(name) = &item.name {
                    e = e.attr("name", name.clone());
                }
                for group in &item.groups {
                    e = e.child(Element::new("group", ROSTER_NS).with_text(group.clone()));
                }
                e
            }
        };
        Stanza::iq(IqType::Set)
            .with_id(id)
            .with_payload(Element::new(QUERY, ROSTER_NS).child(item))
    }
}

/// What changed in the roster a client keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosterChange {
    /// An item was added or changed.
    Updated(RosterItem),
    /// An item was removed.
    Removed(BareJid),
}

/// The roster a client keeps: filled from the get's result, kept current
/// by pushes, with the version to ask with next time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    items: BTreeMap<BareJid, RosterItem>,
    ver: Option<String>,
}

impl Roster {
    /// An empty roster.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A roster restored from items and a version kept earlier (RFC 6121
    /// section 2.6: the client asks with that version, and the server
    /// may answer with pushes only).
    #[must_use]
    pub fn restore(items: Vec<RosterItem>, ver: Option<String>) -> Self {
        Self {
            items: items.into_iter().map(|i| (i.jid.clone(), i)).collect(),
            ver,
        }
    }

    /// The version to ask with.
    #[must_use]
    pub fn ver(&self) -> Option<&str> {
        self.ver.as_deref()
    }

    /// The item of a contact.
    #[must_use]
    pub fn get(&self, jid: &BareJid) -> Option<&RosterItem> {
        self.items.get(jid)
    }

    /// Every item.
    pub fn items(&self) -> impl Iterator<Item = &RosterItem> {
        self.items.values()
    }

    /// Takes the result of a roster get: the whole roster, or (with
    /// versioning) an empty result meaning nothing changed and pushes
    /// follow (RFC 6121 section 2.6.3). Returns what changed.
    ///
    /// # Errors
    ///
    /// A [`RosterError`] for an item that is not one.
    pub fn take_result(&mut self, result: &Stanza) -> Result<Vec<RosterChange>, RosterError> {
        let Some(query) = RosterQuery::of(result)? else {
            return Ok(Vec::new());
        };
        let mut changes = Vec::new();
        let mut fresh = BTreeMap::new();
        for entry in query.entries {
            if let RosterEntry::Item(item) = entry {
                if self.items.get(&item.jid) != Some(&item) {
                    changes.push(RosterChange::Updated(item.clone()));
                }
                fresh.insert(item.jid.clone(), item);
            }
        }
        for jid in self.items.keys() {
            if !fresh.contains_key(jid) {
                changes.push(RosterChange::Removed(jid.clone()));
            }
        }
        self.items = fresh;
        self.ver = query.ver;
        Ok(changes)
    }

    /// Takes a roster push (RFC 6121 section 2.1.6) received by `own`:
    /// returns the change and the result to send back.
    ///
    /// # Errors
    ///
    /// [`RosterError::PushFrom`] for a push that is not from the user's
    /// own account (ignore it; RFC 6121 says not to answer it as a push),
    /// [`RosterError::PushItems`] for a push with other than one item,
    /// and the errors of [`RosterQuery::of`].
    pub fn take_push(
        &mut self,
        push: &Stanza,
        own: &FullJid,
    ) -> Result<(RosterChange, Stanza), RosterError> {
        if let Some(from) = &push.from
            && (from.is_full() || from.node() != own.node() || from.domain() != own.domain())
        {
            return Err(RosterError::PushFrom(from.to_string()));
        }
        let query = RosterQuery::of(push)?.unwrap_or_default();
        let [entry] = <[RosterEntry; 1]>::try_from(query.entries)
            .map_err(|e| RosterError::PushItems(e.len()))?;
        if query.ver.is_some() {
            self.ver = query.ver;
        }
        let change = match entry {
            RosterEntry::Item(item) => {
                self.items.insert(item.jid.clone(), item.clone());
                RosterChange::Updated(item)
            }
            RosterEntry::Removed(jid) => {
                self.items.remove(&jid);
                RosterChange::Removed(jid)
            }
        };
        Ok((change, push.result_reply()))
    }
}
