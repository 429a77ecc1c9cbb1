//! Every element of `urn:xmpp:siot:1` (sections 4-9), read from and written
//! to [`Element`]s, and the stanza each travels in.

use iot_xmpp::{BareJid, CLIENT_NS, Element, IqType, MessageType, SERVER_NS, Stanza, StanzaKind};

use crate::key::{Key, KeyError};

/// The namespace of the protocol.
pub const SIOT_NS: &str = "urn:xmpp:siot:1";

/// A thing's name, in one language (section 4: `<name xml:lang=...>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// The `xml:lang`, if any.
    pub lang: Option<String>,
    /// The name.
    pub text: String,
}

/// The answer to an is-friend query (section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Friendship {
    /// `yes`: approve the subscription.
    Yes,
    /// `no`: refuse it.
    No,
    /// `pending`: the owner has not decided; hold it.
    Pending,
}

impl Friendship {
    /// The attribute value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Yes => "yes",
            Self::No => "no",
            Self::Pending => "pending",
        }
    }
}

/// One entry of a friend state update (section 8) or a friendship-states
/// notification (section 9).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FriendItem {
    /// The requestor's bare JID.
    pub jid: BareJid,
    /// Friend or not.
    pub friend: bool,
}

/// Why an element is not a valid protocol element.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SiotError {
    /// A required attribute is missing.
    #[error("<{element}> lacks `{attribute}`")]
    MissingAttribute {
        /// The element.
        element: &'static str,
        /// The attribute.
        attribute: &'static str,
    },
    /// A `jid` attribute that is not a bare JID.
    #[error("<{element}> jid `{value}` is not a bare JID")]
    Jid {
        /// The element.
        element: &'static str,
        /// The value.
        value: String,
    },
    /// A key that breaks section 4's rules.
    #[error("<{element}> key: {error}")]
    Key {
        /// The element.
        element: &'static str,
        /// What is wrong with it.
        error: KeyError,
    },
    /// A `friend` value other than those the element allows.
    #[error("<{element}> friend `{value}` is not one of {allowed}")]
    Friend {
        /// The element.
        element: &'static str,
        /// The value.
        value: String,
        /// The allowed values.
        allowed: &'static str,
    },
    /// A `<register/>` with no `<name/>`, or an empty name.
    #[error("<register> needs at least one non-empty <name>")]
    Name,
    /// A child element the parent does not define.
    #[error("<{parent}> cannot contain <{child}>")]
    Child {
        /// The parent.
        parent: &'static str,
        /// The child found.
        child: String,
    },
    /// An element of the namespace this crate does not know.
    #[error("unknown element <{0}>")]
    Unknown(String),
    /// The element travels in another kind of stanza (say, a `<claim/>` in
    /// a message, or an is-friend query in an `iq` of type `set`).
    #[error("<{element}> must travel in {expected}")]
    WrongStanza {
        /// The element.
        element: &'static str,
        /// Where it belongs.
        expected: &'static str,
    },
}

/// One protocol element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiotPayload {
    /// Section 4: a thing registers (`iq` set to the provisioning service).
    Register {
        /// Its key.
        key: Key,
        /// Its names, at least one.
        names: Vec<Name>,
    },
    /// Section 5: an owner claims a thing (`iq` set).
    Claim {
        /// The thing's name.
        name: String,
        /// Its key.
        key: Key,
    },
    /// Section 5: the claim succeeded (`iq` result).
    Claimed {
        /// The thing's bare JID.
        jid: BareJid,
    },
    /// Section 5: the thing's new owner (message to the thing).
    Owner {
        /// The owner's bare JID.
        jid: BareJid,
    },
    /// Section 6: is this requestor a friend? (`iq` get from the thing).
    IsFriendQuery {
        /// The requestor's bare JID.
        jid: BareJid,
    },
    /// Section 6: the answer (`iq` result).
    IsFriendResult {
        /// Yes, no or pending.
        friend: Friendship,
    },
    /// Section 7: friend requests wait for the owner (message).
    PendingFriendNotification,
    /// Section 7: which requests wait? (`iq` get from the owner).
    PendingFriendQuery,
    /// Section 7: the waiting requestors (`iq` result).
    PendingFriendRequests {
        /// Their bare JIDs.
        jids: Vec<BareJid>,
    },
    /// Section 8: the owner decides (`iq` set).
    FriendStateUpdate {
        /// `<friend/>` and `<non-friend/>` entries, in order.
        items: Vec<FriendItem>,
    },
    /// Section 9: the provisioning service tells the thing (message).
    FriendshipStates {
        /// `<item friend='yes|no'/>` entries, in order.
        items: Vec<FriendItem>,
    },
}

/// Where an element travels: the stanza kind and `iq` type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// `<iq type='set'>`.
    IqSet,
    /// `<iq type='get'>`.
    IqGet,
    /// `<iq type='result'>`.
    IqResult,
    /// `<message>`.
    Message,
}

impl Carrier {
    fn describe(self) -> &'static str {
        match self {
            Self::IqSet => "an iq of type set",
            Self::IqGet => "an iq of type get",
            Self::IqResult => "an iq of type result",
            Self::Message => "a message",
        }
    }

    /// The carrier of a stanza, if it can carry protocol elements.
    #[must_use]
    pub fn of(stanza: &Stanza) -> Option<Self> {
        match stanza.kind {
            StanzaKind::Iq => match stanza.iq_type()? {
                IqType::Set => Some(Self::IqSet),
                IqType::Get => Some(Self::IqGet),
                IqType::Result => Some(Self::IqResult),
                IqType::Error => None,
            },
            StanzaKind::Message if stanza.type_str().is_empty() => Some(Self::Message),
            StanzaKind::Message => match stanza.type_str().parse().ok()? {
                MessageType::Normal | MessageType::Chat | MessageType::Headline => {
                    Some(Self::Message)
                }
                MessageType::Error | MessageType::Groupchat => None,
            },
            StanzaKind::Presence => None,
        }
    }
}

impl SiotPayload {
    /// The element's name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Register { .. } => "register",
            Self::Claim { .. } => "claim",
            Self::Claimed { .. } => "claimed",
            Self::Owner { .. } => "owner",
            Self::IsFriendQuery { .. } => "is-friend-query",
            Self::IsFriendResult { .. } => "is-friend-result",
            Self::PendingFriendNotification => "pending-friend-notification",
            Self::PendingFriendQuery => "pending-friend-query",
            Self::PendingFriendRequests { .. } => "pending-friend-requests",
            Self::FriendStateUpdate { .. } => "friend-state-update",
            Self::FriendshipStates { .. } => "friendship-states",
        }
    }

    /// The stanza it travels in.
    #[must_use]
    pub fn carrier(&self) -> Carrier {
        match self {
            Self::Register { .. } | Self::Claim { .. } | Self::FriendStateUpdate { .. } => {
                Carrier::IqSet
            }
            Self::IsFriendQuery { .. } | Self::PendingFriendQuery => Carrier::IqGet,
            Self::Claimed { .. }
            | Self::IsFriendResult { .. }
            | Self::PendingFriendRequests { .. } => Carrier::IqResult,
            Self::Owner { .. }
            | Self::PendingFriendNotification
            | Self::FriendshipStates { .. } => Carrier::Message,
        }
    }

    /// The element, always with `xmlns="urn:xmpp:siot:1"`.
    #[must_use]
    pub fn to_element(&self) -> Element {
        let e = Element::new(self.name(), SIOT_NS);
        match self {
            Self::Register { key, names } => {
                let mut e = e.attr("key", key.expose());
                for n in names {
                    let mut child = Element::new("name", SIOT_NS).with_text(n.text.as_str());
                    if let Some(lang) = &n.lang {
                        child = child.attr("xml:lang", lang.as_str());
                    }
                    e = e.child(child);
                }
                e
            }
            Self::Claim { name, key } => e.attr("name", name.as_str()).attr("key", key.expose()),
            Self::Claimed { jid } | Self::Owner { jid } | Self::IsFriendQuery { jid } => {
                e.attr("jid", jid.as_str())
            }
            Self::IsFriendResult { friend } => e.attr("friend", friend.as_str()),
            Self::PendingFriendNotification | Self::PendingFriendQuery => e,
            Self::PendingFriendRequests { jids } => jids.iter().fold(e, |e, j| {
                e.child(Element::new("pending-friend", SIOT_NS).attr("jid", j.as_str()))
            }),
            Self::FriendStateUpdate { items } => items.iter().fold(e, |e, i| {
                let name = if i.friend { "friend" } else { "non-friend" };
                e.child(Element::new(name, SIOT_NS).attr("jid", i.jid.as_str()))
            }),
            Self::FriendshipStates { items } => items.iter().fold(e, |e, i| {
                e.child(
                    Element::new("item", SIOT_NS)
                        .attr("jid", i.jid.as_str())
                        .attr("friend", if i.friend { "yes" } else { "no" }),
                )
            }),
        }
    }

    /// The stanza that carries it, addressed to `to` with id `id`.
    #[must_use]
    pub fn to_stanza(&self, to: impl Into<iot_xmpp::Jid>, id: &str) -> Stanza {
        let s = match self.carrier() {
            Carrier::IqSet => Stanza::iq(IqType::Set),
            Carrier::IqGet => Stanza::iq(IqType::Get),
            Carrier::IqResult => Stanza::iq(IqType::Result),
            Carrier::Message => Stanza::new(StanzaKind::Message),
        };
        s.with_to(to).with_id(id).with_payload(self.to_element())
    }

    /// The `result` that answers `request` with this element.
    #[must_use]
    pub fn reply_to(&self, request: &Stanza) -> Stanza {
        request.result_reply().with_payload(self.to_element())
    }

    /// Reads an element of the namespace (`Ok(None)` for one of another
    /// namespace).
    ///
    /// `<is-friend-query/>` and `<is-friend-result/>` are also read without
    /// their namespace (in the stanza's), because Examples 9 to 12 print
    /// them that way; they are always written with it.
    ///
    /// # Errors
    ///
    /// [`SiotError`] for an element of the namespace that breaks its rules.
    pub fn from_element(e: &Element) -> Result<Option<Self>, SiotError> {
        let stanza_ns = e.ns == CLIENT_NS || e.ns == SERVER_NS;
        let printed_without_ns =
            stanza_ns && matches!(e.name.as_str(), "is-friend-query" | "is-friend-result");
        if e.ns != SIOT_NS && !printed_without_ns {
            return Ok(None);
        }
        let payload = match e.name.as_str() {
            "register" => read_register(e)?,
            "claim" => {
                no_children_but(e, "claim", "")?;
                Self::Claim {
                    name: attr(e, "claim", "name")?.to_owned(),
                    key: key(e, "claim")?,
                }
            }
            "claimed" => Self::Claimed {
                jid: jid_attr(e, "claimed")?,
            },
            "owner" => Self::Owner {
                jid: jid_attr(e, "owner")?,
            },
            "is-friend-query" => Self::IsFriendQuery {
                jid: jid_attr(e, "is-friend-query")?,
            },
            "is-friend-result" => {
                let value = attr(e, "is-friend-result", "friend")?;
                let friend = match value {
                    "yes" => Friendship::Yes,
                    "no" => Friendship::No,
                    "pending" => Friendship::Pending,
                    _ => {
                        return Err(SiotError::Friend {
                            element: "is-friend-result",
                            value: value.to_owned(),
                            allowed: "yes, no, pending",
                        });
                    }
                };
                Self::IsFriendResult { friend }
            }
            "pending-friend-notification" => {
                no_children_but(e, "pending-friend-notification", "")?;
                Self::PendingFriendNotification
            }
            "pending-friend-query" => {
                no_children_but(e, "pending-friend-query", "")?;
                Self::PendingFriendQuery
            }
            "pending-friend-requests" => {
                no_children_but(e, "pending-friend-requests", "pending-friend")?;
                let jids = e
                    .children
                    .iter()
                    .map(|c| jid_attr(c, "pending-friend"))
                    .collect::<Result<_, _>>()?;
                Self::PendingFriendRequests { jids }
            }
            "friend-state-update" => Self::FriendStateUpdate {
                items: friend_state_update(e)?,
            },
            "friendship-states" => Self::FriendshipStates {
                items: friendship_states(e)?,
            },
            other => return Err(SiotError::Unknown(other.to_owned())),
        };
        Ok(Some(payload))
    }

    /// Reads the protocol element of a stanza and checks that it travels in
    /// the right kind of stanza. `Ok(None)` when the stanza has none.
    ///
    /// # Errors
    ///
    /// As [`SiotPayload::from_element`], and
    /// [`SiotError::WrongStanza`].
    pub fn from_stanza(stanza: &Stanza) -> Result<Option<Self>, SiotError> {
        for e in &stanza.payloads {
            if let Some(p) = Self::from_element(e)? {
                if Carrier::of(stanza) != Some(p.carrier()) {
                    return Err(SiotError::WrongStanza {
                        element: p.name(),
                        expected: p.carrier().describe(),
                    });
                }
                return Ok(Some(p));
            }
        }
        Ok(None)
    }
}

fn attr<'a>(
    e: &'a Element,
    element: &'static str,
    attribute: &'static str,
) -> Result<&'a str, SiotError> {
    e.get_attr(attribute)
        .ok_or(SiotError::MissingAttribute { element, attribute })
}

fn jid_attr(e: &Element, element: &'static str) -> Result<BareJid, SiotError> {
    let value = attr(e, element, "jid")?;
    iot_xmpp::jids::read_jid::<BareJid>(value).map_err(|_| SiotError::Jid {
        element,
        value: value.to_owned(),
    })
}

fn key(e: &Element, element: &'static str) -> Result<Key, SiotError> {
    Key::parse(attr(e, element, "key")?).map_err(|error| SiotError::Key { element, error })
}

/// Only children named `allowed` (of the namespace), or none when it is
/// empty.
fn no_children_but(e: &Element, parent: &'static str, allowed: &str) -> Result<(), SiotError> {
    match e
        .children
        .iter()
        .find(|c| allowed.is_empty() || c.name != allowed || c.ns != SIOT_NS)
    {
        Some(c) => Err(SiotError::Child {
            parent,
            child: c.name.clone(),
        }),
        None => Ok(()),
    }
}

/// `<register>` (section 4): a key, and names as a `name` attribute (the
/// section's text) or `<name>` children (its Example 1); both are read.
fn read_register(e: &Element) -> Result<SiotPayload, SiotError> {
    no_children_but(e, "register", "name")?;
    let key = key(e, "register")?;
    let attribute = e.get_attr("name").map(|text| Name {
        lang: None,
        text: text.trim_matches([' ', '\t', '\r', '\n']).to_owned(),
    });
    let names: Vec<Name> = attribute
        .into_iter()
        .chain(e.children.iter().map(|n| Name {
            lang: n.get_attr("xml:lang").map(str::to_owned),
            text: n.text.trim_matches([' ', '\t', '\r', '\n']).to_owned(),
        }))
        .collect();
    if names.is_empty() || names.iter().any(|n| n.text.is_empty()) {
        return Err(SiotError::Name);
    }
    Ok(SiotPayload::Register { key, names })
}

/// The items of `<friend-state-update>`: `<friend>` and `<non-friend>`.
fn friend_state_update(e: &Element) -> Result<Vec<FriendItem>, SiotError> {
    let mut items = Vec::with_capacity(e.children.len());
    for c in &e.children {
        let friend = match (c.ns.as_str(), c.name.as_str()) {
            (SIOT_NS, "friend") => true,
            (SIOT_NS, "non-friend") => false,
            _ => {
                return Err(SiotError::Child {
                    parent: "friend-state-update",
                    child: c.name.clone(),
                });
            }
        };
        let element = if friend { "friend" } else { "non-friend" };
        items.push(FriendItem {
            jid: jid_attr(c, element)?,
            friend,
        });
    }
    Ok(items)
}

/// The items of `<friendship-states>`: `<item friend='yes|no'>`.
fn friendship_states(e: &Element) -> Result<Vec<FriendItem>, SiotError> {
    no_children_but(e, "friendship-states", "item")?;
    let mut items = Vec::with_capacity(e.children.len());
    for c in &e.children {
        let value = attr(c, "item", "friend")?;
        let friend = match value {
            "yes" => true,
            "no" => false,
            _ => {
                return Err(SiotError::Friend {
                    element: "item",
                    value: value.to_owned(),
                    allowed: "yes, no",
                });
            }
        };
        items.push(FriendItem {
            jid: jid_attr(c, "item")?,
            friend,
        });
    }
    Ok(items)
}
