//! The XMPP vocabulary both XMPP crates speak, in one place: the namespaces
//! of the core and of the extensions they share, the stanza kinds and
//! types, and the stanza error types and defined conditions of RFC 6120
//! section 8.3. Nothing outside this module writes one of these as a
//! string literal.

use core::fmt;
use core::str::FromStr;

/// The namespace of client stanzas (RFC 6120 4.8.3).
pub const CLIENT_NS: &str = "jabber:client";
/// The namespace of server-to-server stanzas (RFC 6120 4.8.3).
pub const SERVER_NS: &str = "jabber:server";
/// The namespace of stanza error conditions (RFC 6120 8.3.3).
pub const STANZAS_NS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";
/// The namespace of XEP-0199 XMPP Ping.
pub const PING_NS: &str = "urn:xmpp:ping";
/// The namespace of XEP-0047 In-Band Bytestreams.
pub const IBB_NS: &str = "http://jabber.org/protocol/ibb";
/// The namespace of the roster (RFC 6121 2.1).
pub const ROSTER_NS: &str = "jabber:iq:roster";
/// The stream feature that says the server versions rosters (RFC 6121
/// section 2.6.1).
pub const ROSTERVER_NS: &str = "urn:xmpp:features:rosterver";
/// The stream namespace (RFC 6120 4.8.1).
pub const STREAMS_NS: &str = "http://etherx.jabber.org/streams";
/// The SASL namespace (RFC 6120 section 6.4).
pub const SASL_NS: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
/// The STARTTLS namespace (RFC 6120 section 5.4).
pub const TLS_NS: &str = "urn:ietf:params:xml:ns:xmpp-tls";
/// The resource binding namespace (RFC 6120 section 7).
pub const BIND_NS: &str = "urn:ietf:params:xml:ns:xmpp-bind";
/// The stream error namespace (RFC 6120 section 4.9).
pub const STREAM_ERRORS_NS: &str = "urn:ietf:params:xml:ns:xmpp-streams";
/// The legacy session namespace (RFC 3921 section 3; RFC 6121 appendix E).
pub(crate) const SESSION_NS: &str = "urn:ietf:params:xml:ns:xmpp-session";

/// Defines a closed set of XML names: an enum, its text and its parser.
macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in the order of the specification.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// The text on the wire.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;

            fn from_str(text: &str) -> Result<Self, UnknownName> {
                match text {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(UnknownName),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A name outside a closed vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a name of this vocabulary")]
pub struct UnknownName;

vocabulary! {
    /// The three stanza kinds (RFC 6120 8.2).
    StanzaKind {
        /// `<iq/>`: a request with exactly one response.
        Iq = "iq",
        /// `<message/>`: one-way.
        Message = "message",
        /// `<presence/>`: availability and subscriptions.
        Presence = "presence",
    }
}

vocabulary! {
    /// The `type` of an `<iq/>` (RFC 6120 8.2.3).
    IqType {
        /// A request for information.
        Get = "get",
        /// A request that changes something.
        Set = "set",
        /// A successful answer.
        Result = "result",
        /// An error answer.
        Error = "error",
    }
}

vocabulary! {
    /// The `type` of a `<presence/>` other than plain availability (RFC
    /// 6121 4.7.1 and 3).
    PresenceType {
        /// The sender is no longer available.
        Unavailable = "unavailable",
        /// A request to subscribe to the recipient's presence.
        Subscribe = "subscribe",
        /// The sender allows the recipient to receive its presence.
        Subscribed = "subscribed",
        /// The sender unsubscribes from the recipient's presence.
        Unsubscribe = "unsubscribe",
        /// The sender cancels the recipient's subscription.
        Unsubscribed = "unsubscribed",
        /// A request for the recipient's current presence.
        Probe = "probe",
        /// An error about a presence stanza.
        Error = "error",
    }
}

vocabulary! {
    /// The `type` of a `<message/>` (RFC 6121 5.2.2).
    MessageType {
        /// A one-to-one chat message.
        Chat = "chat",
        /// An error about a message.
        Error = "error",
        /// A message in a multi-user chat.
        Groupchat = "groupchat",
        /// An alert or notice that expects no reply.
        Headline = "headline",
        /// A standalone message (the default).
        Normal = "normal",
    }
}

vocabulary! {
    /// The type of a stanza error: what the sender may do about it (RFC
    /// 6120 8.3.2).
    ErrorType {
        /// Retry after providing credentials.
        Auth = "auth",
        /// Do not retry: the error cannot be remedied.
        Cancel = "cancel",
        /// Proceed: the condition was only a warning.
        Continue = "continue",
        /// Retry after changing the data sent.
        Modify = "modify",
        /// Retry after waiting: the error is temporary.
        Wait = "wait",
    }
}

vocabulary! {
    /// The defined conditions of stanza errors (RFC 6120 8.3.3).
    DefinedCondition {
        /// 8.3.3.1.
        BadRequest = "bad-request",
        /// 8.3.3.2.
        Conflict = "conflict",
        /// 8.3.3.3.
        FeatureNotImplemented = "feature-not-implemented",
        /// 8.3.3.4.
        Forbidden = "forbidden",
        /// 8.3.3.5.
        Gone = "gone",
        /// 8.3.3.6.
        InternalServerError = "internal-server-error",
        /// 8.3.3.7.
        ItemNotFound = "item-not-found",
        /// 8.3.3.8.
        JidMalformed = "jid-malformed",
        /// 8.3.3.9.
        NotAcceptable = "not-acceptable",
        /// 8.3.3.10.
        NotAllowed = "not-allowed",
        /// 8.3.3.11.
        NotAuthorized = "not-authorized",
        /// 8.3.3.12.
        PolicyViolation = "policy-violation",
        /// 8.3.3.13.
        RecipientUnavailable = "recipient-unavailable",
        /// 8.3.3.14.
        Redirect = "redirect",
        /// 8.3.3.15.
        RegistrationRequired = "registration-required",
        /// 8.3.3.16.
        RemoteServerNotFound = "remote-server-not-found",
        /// 8.3.3.17.
        RemoteServerTimeout = "remote-server-timeout",
        /// 8.3.3.18.
        ResourceConstraint = "resource-constraint",
        /// 8.3.3.19.
        ServiceUnavailable = "service-unavailable",
        /// 8.3.3.20.
        SubscriptionRequired = "subscription-required",
        /// 8.3.3.21.
        UndefinedCondition = "undefined-condition",
        /// 8.3.3.22.
        UnexpectedRequest = "unexpected-request",
    }
}

vocabulary! {
    /// The subscription state of a roster item, seen from the roster's
    /// owner (RFC 6121 2.1.2.5).
    Subscription {
        /// No subscription either way.
        None = "none",
        /// The owner sees the contact's presence.
        To = "to",
        /// The contact sees the owner's presence.
        From = "from",
        /// Both ways.
        Both = "both",
    }
}

// The vocabulary macro derives the same traits for every enum; only this
// one has a default.
#[allow(clippy::derivable_impls)]
impl Default for Subscription {
    fn default() -> Self {
        Self::None
    }
}

impl Subscription {
    /// Whether the contact sees the owner's presence (`from` or `both`).
    #[must_use]
    pub const fn contact_sees_owner(self) -> bool {
        matches!(self, Self::From | Self::Both)
    }

    /// With the `from` half added (the owner approved the contact's
    /// subscription).
    #[must_use]
    pub const fn with_from(self) -> Self {
        match self {
            Self::None | Self::From => Self::From,
            Self::To | Self::Both => Self::Both,
        }
    }

    /// With the `from` half removed (the owner revoked it).
    #[must_use]
    pub const fn without_from(self) -> Self {
        match self {
            Self::None | Self::From => Self::None,
            Self::To | Self::Both => Self::To,
        }
    }

    /// With the `to` half added (the contact approved the owner's request).
    #[must_use]
    pub const fn with_to(self) -> Self {
        match self {
            Self::None | Self::To => Self::To,
            Self::From | Self::Both => Self::Both,
        }
    }

    /// With the `to` half removed (the contact refused or revoked).
    #[must_use]
    pub const fn without_to(self) -> Self {
        match self {
            Self::None | Self::To => Self::None,
            Self::From | Self::Both => Self::From,
        }
    }
}

/// The element name of a stanza error (RFC 6120 8.3.2).
pub(crate) const ERROR: &str = "error";
/// The attribute that carries the error type.
pub(crate) const TYPE: &str = "type";
/// The optional descriptive text of a stanza or stream error, not a
/// condition.
pub(crate) const TEXT: &str = "text";
/// The payload of a roster request, result or push (RFC 6121 2.1.2).
pub(crate) const QUERY: &str = "query";
