//! The client side of an XMPP connection (RFC 6120) as steps: stream
//! header and features, STARTTLS, SASL, stream restarts, resource binding,
//! stanzas, stream errors and the close. [`Client`](super::Client) runs
//! them as a machine of its own; a machine that carries its protocol over
//! an XMPP connection of its own (the OIC RA endpoint) runs them with its
//! own outbox (ARCHITECTURE.md, "Composition").

use iot_sansio::{End, Input, Instant, Outbox};
use jid::FullJid;
use rand_core::CryptoRngCore;

use super::config::{
    ClientConfig, ClientEnd, ClientError, ClientEvent, ClientFault, ClientRefusal, Tls,
};
use super::error::StreamReadError;
use super::header::StreamHeader;
use super::reader::{StreamItem, StreamReader};
use super::sm::{Resumption, SM_NS, Sm};
use super::step::{Step, expected};
use super::wire::{decode, is_stanza, write_header, write_stream_error};
use crate::element::Element;
use crate::sasl::ChannelBindingData;
use crate::stanza::Stanza;
use crate::tree::read_tree;
use crate::vocab::{CLIENT_NS, ERROR, IqType, SASL_NS, STREAMS_NS, TLS_NS};

mod errors;
mod features;
mod managed;

/// The byte outbox of the machine that runs the steps, whatever its
/// events.
type Bytes<E> = Outbox<Vec<u8>, E>;

/// The client side of an XMPP connection as plain steps: its state, with
/// no outbox and no reader of its own. Each step writes what it sends to
/// the byte outbox it is handed; what it finds (the connection online, a
/// stanza, its end) goes to the caller, once: [`ClientCore::read`] hands
/// it to a function of the caller's, [`ClientCore::close`] and
/// [`ClientCore::timeout`] return the end.
///
/// [`Client`](super::Client) is these steps with a reader and an outbox of
/// their own; use it unless the connection carries a machine of yours
/// that should own the one outbox. Here a machine of the caller's, whose
/// events are its own, answers every stanza in the call that read it:
///
/// ```
/// # #[cfg(feature = "testing")] {
/// use std::time::Duration;
/// use iot_sansio::{Input, Outbox, Secret};
/// use iot_xmpp::stream::{ClientConfig, ClientCore, ClientEvent, StreamReader, Tls};
/// use iot_xmpp::testing::{rfc5802_login, rfc5802_nonce};
/// use iot_xmpp::{BareJid, Stanza, StanzaKind};
///
/// #[derive(Debug, PartialEq)]
/// enum Mine { Online, Answered }
///
/// let mut config = ClientConfig::new(BareJid::new("user@localhost")?, Secret::new("pencil"), Some("r1".into()));
/// config.tls = Tls::Insecure;
/// let mut reader = StreamReader::new(config.limits);
/// let mut steps = ClientCore::new(config, rfc5802_nonce());
/// let mut out: Outbox<Vec<u8>, Mine> = Outbox::new();
///
/// steps.start(&mut out, Duration::ZERO);
/// let from_server = rfc5802_login("user@localhost/r1") + "<message from='a@localhost/x' id='m1'/>";
/// steps.read(&mut reader, &mut out, Duration::ZERO, Input::Data(from_server.as_bytes()), |steps, out, found| {
///     match found {
///         ClientEvent::Online { .. } => out.event(Mine::Online),
///         ClientEvent::Stanza(stanza) => {
///             let answer = Stanza::new(StanzaKind::Message).with_to(stanza.from.unwrap());
///             steps.send(out, &answer).unwrap();
///             out.event(Mine::Answered);
///         }
///         _ => {}
///     }
/// });
/// assert_eq!([out.pop_event(), out.pop_event()], [Some(Mine::Online), Some(Mine::Answered)]);
/// let sent: Vec<u8> = std::iter::from_fn(|| out.pop_transmit()).flatten().collect();
/// let sent = String::from_utf8(sent)?;
/// assert!(sent.ends_with("/>") && sent[sent.rfind("<message").unwrap()..].contains("a@localhost/x"), "{sent}");
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ClientCore<I, R> {
    config: ClientConfig,
    rng: R,
    /// The server's stream header, whose namespaces every top-level
    /// element is read in.
    header: StreamHeader,
    step: Step,
    secured: bool,
    authenticated: bool,
    /// Whether the features asked for the legacy session.
    session_required: bool,
    deadline: Option<I>,
    next_id: u64,
    /// A new stream header is awaited: the reader restarts before the
    /// next byte.
    restart: bool,
    /// The end was reported.
    ended: bool,
    /// What the last item read found, for the caller (at most one).
    found: Option<ClientEvent>,
    /// Stream management (XEP-0198): the counts and the unacknowledged
    /// stanzas.
    sm: Sm,
    /// Whether the features after authentication offered it.
    sm_offered: bool,
    /// The session this connection is to resume, until it asks.
    resuming: Option<Resumption>,
    /// The full JID bound (or resumed).
    jid: Option<FullJid>,
    /// The last instant the connection was given: an acknowledgement
    /// request sent between two calls is timed from it.
    last_now: Option<I>,
    /// When an unanswered acknowledgement request ends the connection.
    ack_due: Option<I>,
    /// The transport was lost or went silent, with nobody closing the
    /// stream: the session may be resumed.
    resumable: bool,
    /// The TLS connection's channel binding data, from the runtime.
    binding: Option<ChannelBindingData>,
    /// The SASL mechanism the login used, once chosen.
    mechanism: Option<crate::sasl::Mechanism>,
}

impl<I, R> core::fmt::Debug for ClientCore<I, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientCore")
            .field("jid", &self.config.jid)
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}

type Flow = Result<bool, ClientEnd>;

fn fault(f: impl Into<ClientFault>) -> ClientEnd {
    End::PeerFault(f.into())
}

fn unexpected(expected: &'static str, got: &Element) -> ClientEnd {
    End::PeerFault(ClientFault::Unexpected {
        expected,
        got: got.name.clone(),
    })
}

/// Writes the close of the stream (RFC 6120 section 4.4).
fn write_close<E>(out: &mut Bytes<E>) {
    write(out, |text| text.push_str("</stream:stream>"));
}

/// Writes one piece of the stream as it is built.
fn write<E>(out: &mut Bytes<E>, build: impl FnOnce(&mut String)) {
    let mut text = String::new();
    build(&mut text);
    out.send(text.into_bytes());
}

impl<I: Instant, R: CryptoRngCore> ClientCore<I, R> {
    /// A connection that has sent nothing yet; its nonces come from `rng`.
    #[must_use]
    pub fn new(config: ClientConfig, rng: R) -> Self {
        let secured = config.tls == Tls::Direct;
        Self {
            config,
            rng,
            header: StreamHeader::default(),
            step: Step::Idle,
            secured,
            authenticated: false,
            session_required: false,
            deadline: None,
            next_id: 0,
            restart: false,
            ended: false,
            found: None,
            sm: Sm::new(),
            sm_offered: false,
            resuming: None,
            jid: None,
            last_now: None,
            ack_due: None,
            resumable: false,
            binding: None,
            mechanism: None,
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Whether the connection is online.
    #[must_use]
    pub fn is_online(&self) -> bool {
        matches!(self.step, Step::Online)
    }

    /// The SASL mechanism the login chose (a `-PLUS` one when it bound
    /// the channel), once it did.
    #[must_use]
    pub fn mechanism(&self) -> Option<crate::sasl::Mechanism> {
        self.mechanism
    }

    /// Whether the end was reported.
    #[must_use]
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// When the step under way gives up waiting for the server.
    #[must_use]
    pub fn deadline(&self) -> Option<I> {
        match (self.deadline, self.ack_due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Opens the stream: writes the stream header.
    pub fn start<E>(&mut self, out: &mut Bytes<E>, now: I) {
        self.last_now = Some(now);
        if matches!(self.step, Step::Idle) {
            self.open_stream(out, now);
        }
    }

    /// The channel binding data of the TLS connection (RFC 5802 section
    /// 6), which the runtime takes from its TLS library after the
    /// handshake: given before the connection authenticates (with
    /// [`Tls::Direct`] before [`ClientCore::start`], with STARTTLS before
    /// [`ClientCore::tls_started`]), it makes the client prefer a `-PLUS`
    /// mechanism and, when the server offers none, say `y` so that a
    /// server whose offer was stripped on the way refuses.
    pub fn set_channel_binding(&mut self, data: ChannelBindingData) {
        self.binding = Some(data);
    }

    /// The runtime started TLS after [`ClientEvent::StartTls`]: the stream
    /// restarts over it.
    pub fn tls_started<E>(&mut self, out: &mut Bytes<E>, now: I) {
        self.last_now = Some(now);
        if matches!(self.step, Step::Tls) {
            self.secured = true;
            self.open_stream(out, now);
        }
    }

    /// Writes a stanza.
    ///
    /// # Errors
    ///
    /// [`ClientError::NotOnline`] before the connection is online or after
    /// it ended; [`ClientError::Char`] for a stanza holding a character
    /// XML 1.0 forbids ([`Stanza::check_xml_chars`]), which is not sent;
    /// [`ClientError::Backlog`] when stream management holds as many
    /// unacknowledged stanzas as it may.
    pub fn send<E>(&mut self, out: &mut Bytes<E>, stanza: &Stanza) -> Result<(), ClientError> {
        if let Err(crate::error::StanzaReadError::Char(c)) = stanza.check_xml_chars() {
            return Err(ClientError::Char(c));
        }
        if self.sm.counting() && self.sm.unacked_len() >= self.config.stream_management.max_unacked
        {
            return Err(ClientError::Backlog);
        }
        if !self.is_online() {
            // A session that may be resumed keeps what is sent meanwhile,
            // to go with what the server did not acknowledge.
            return if self.keep_for_resumption(stanza) {
                Ok(())
            } else {
                Err(ClientError::NotOnline)
            };
        }
        write(out, |text| stanza.write_xml(text));
        self.sm.sent(stanza);
        self.request(out);
        Ok(())
    }

    /// Closes the stream (RFC 6120 section 4.4): writes
    /// `</stream:stream>` and waits for the server's. Returns the end
    /// ([`End::Closed`]) when there was no stream to close.
    pub fn close<E>(&mut self, out: &mut Bytes<E>, now: I) -> Option<ClientEnd> {
        self.last_now = Some(now);
        self.ack_due = None;
        match self.step {
            Step::Done | Step::Closing => {}
            Step::Idle | Step::Tls => self.end(End::Closed),
            _ => {
                write_close(out);
                self.step = Step::Closing;
                self.deadline = Some(now + self.config.timeout);
            }
        }
        self.taken_end()
    }

    /// Past the deadline of a login step the connection ends with
    /// [`End::TimedOut`]; a close that the server does not answer ends
    /// with [`End::Closed`]. Returns the end, if this was it.
    pub fn timeout(&mut self, now: I) -> Option<ClientEnd> {
        self.last_now = Some(now);
        if self.ack_due.is_some_and(|d| now >= d) && !self.ended {
            // An acknowledgement request unanswered: the transport is
            // dead, though nobody closed the stream.
            self.resumable = true;
            self.end(End::TimedOut);
        } else if self.deadline.is_some_and(|d| now >= d) {
            let end = if matches!(self.step, Step::Closing) {
                End::Closed
            } else {
                End::TimedOut
            };
            self.end(end);
        }
        self.taken_end()
    }

    /// Reads bytes from the server with `reader` (after TLS, the decrypted
    /// ones), or the news that the transport closed. Each thing found
    /// goes to `found` as soon as it is read, with these steps and the
    /// outbox, so that the caller can answer at once (send a stanza, or
    /// close): the connection online, a stanza, `StartTls` (the bytes that
    /// follow are the TLS layer's), and the end, once.
    pub fn read<E>(
        &mut self,
        reader: &mut StreamReader,
        out: &mut Bytes<E>,
        now: I,
        input: Input<'_, [u8]>,
        mut found: impl FnMut(&mut Self, &mut Bytes<E>, ClientEvent),
    ) {
        self.last_now = Some(now);
        if matches!(self.step, Step::Done | Step::Idle) {
            return;
        }
        let Input::Data(mut data) = input else {
            let end = if matches!(self.step, Step::Closing) {
                End::Closed
            } else {
                // The transport closed under an open stream.
                self.resumable = true;
                End::PeerClosed
            };
            self.end(end);
            self.hand_over(out, &mut found);
            return;
        };
        while !data.is_empty() && !matches!(self.step, Step::Done) {
            if matches!(self.step, Step::Tls) {
                // Nothing may come between <proceed/> and the TLS
                // handshake, which the runtime runs.
                self.end(fault(ClientFault::Unexpected {
                    expected: "the TLS handshake",
                    got: "stream bytes".into(),
                }));
                self.hand_over(out, &mut found);
                return;
            }
            if core::mem::take(&mut self.restart) {
                reader.restart();
            }
            let result = reader.feed(data, |item| {
                let flow = self.item(out, now, item);
                self.hand_over(out, &mut found);
                flow
            });
            match result {
                Ok(used) => data = data.get(used..).unwrap_or_default(),
                Err(end) => {
                    // The side that finds a stream error says so before
                    // it closes (RFC 6120 4.9.1.1).
                    if let End::PeerFault(f) = &end
                        && let Some(condition) = f.stream_condition()
                        && !matches!(self.step, Step::Done)
                    {
                        write(out, |text| write_stream_error(text, condition));
                    }
                    // An element that ends the login replaced the step
                    // before it failed: the end is still to be reported
                    // (once).
                    self.end(end);
                    self.hand_over(out, &mut found);
                    return;
                }
            }
        }
    }

    /// What the last step found, handed to the caller.
    fn hand_over<E>(
        &mut self,
        out: &mut Bytes<E>,
        found: &mut impl FnMut(&mut Self, &mut Bytes<E>, ClientEvent),
    ) {
        if let Some(event) = self.found.take() {
            found(self, out, event);
        }
    }

    /// The end a step just reported, taken back for a caller that returns
    /// it.
    fn taken_end(&mut self) -> Option<ClientEnd> {
        match self.found.take() {
            Some(ClientEvent::Ended(end)) => Some(end),
            other => {
                self.found = other;
                None
            }
        }
    }

    fn report(&mut self, event: ClientEvent) {
        debug_assert!(self.found.is_none(), "one finding per step");
        self.found = Some(event);
    }

    fn end(&mut self, end: ClientEnd) {
        self.step = Step::Done;
        self.deadline = None;
        self.ack_due = None;
        if !core::mem::replace(&mut self.ended, true) {
            self.report(ClientEvent::Ended(end));
        }
    }

    fn open_stream<E>(&mut self, out: &mut Bytes<E>, now: I) {
        self.restart = true;
        let (jid, secured) = (self.config.jid.clone(), self.secured);
        write(out, |text| write_header(text, &jid, secured));
        self.step = Step::Features;
        self.deadline = Some(now + self.config.timeout);
    }

    /// Handles one item of the stream; `Ok(false)` stops reading (the
    /// bytes after `<proceed/>` are the TLS layer's).
    fn item<E>(&mut self, out: &mut Bytes<E>, now: I, item: StreamItem<'_>) -> Flow {
        match item {
            StreamItem::Header(header) => {
                // RFC 6120 4.8.2: the content namespace of a client stream
                // is jabber:client (invalid-namespace otherwise, 4.9.3.10).
                if header.ns.as_deref() != Some(CLIENT_NS) {
                    return Err(fault(StreamReadError::BadHeader(format!(
                        "the content namespace is {:?}, not {CLIENT_NS}",
                        header.ns
                    ))));
                }
                self.header.clone_from(header);
                Ok(true)
            }
            StreamItem::Closed => {
                if matches!(self.step, Step::Closing) {
                    self.end(End::Closed);
                } else {
                    // Answer the server's close (RFC 6120 section 4.4).
                    write_close(out);
                    self.end(End::PeerClosed);
                }
                Ok(false)
            }
            StreamItem::Element(text) => self.element(out, now, text),
        }
    }

    fn element<E>(&mut self, out: &mut Bytes<E>, now: I, text: &str) -> Flow {
        // Read in the scope of the header this connection kept: the
        // server's prefixes, whatever it named them.
        let element: Element =
            read_tree(text, &self.config.limits, self.header.scope()).map_err(fault)?;
        if matches!(self.step, Step::Online | Step::Closing) && is_stanza(&element) {
            let stanza = Stanza::from_element(element).map_err(fault)?;
            self.sm.received();
            if matches!(self.step, Step::Online) {
                self.report(ClientEvent::Stanza(stanza));
            }
            return Ok(true);
        }
        if matches!(self.step, Step::Online | Step::Closing) && element.ns == SM_NS {
            return self.managed(out, &element);
        }
        if element.is(ERROR, STREAMS_NS) {
            return self.stream_error(out, &element);
        }
        let step = core::mem::replace(&mut self.step, Step::Done);
        self.deadline = Some(now + self.config.timeout);
        match step {
            Step::Features if element.is("features", STREAMS_NS) => {
                self.features(out, now, &element)
            }
            Step::Proceed if element.is("proceed", TLS_NS) => {
                self.step = Step::Tls;
                self.deadline = Some(now + self.config.timeout);
                self.report(ClientEvent::StartTls);
                Ok(false)
            }
            Step::Proceed if element.is("failure", TLS_NS) => {
                Err(End::Refused(ClientRefusal::NoTls))
            }
            Step::ServerFirst(mut scram) if element.is("challenge", SASL_NS) => {
                let message = decode(&element)?;
                let last = scram.server_first(&message).map_err(fault)?;
                Self::sasl_send(out, "response", last.as_bytes());
                self.step = Step::ServerFinal(scram);
                Ok(true)
            }
            Step::ServerFinal(mut scram) if element.is("challenge", SASL_NS) => {
                // The server-final in a challenge: checked, then an empty
                // response asks for the success (RFC 6120 section 6.4.5).
                scram.server_final(&decode(&element)?).map_err(fault)?;
                Self::sasl_send(out, "response", b"");
                self.step = Step::Success;
                Ok(true)
            }
            Step::ServerFinal(mut scram) if element.is("success", SASL_NS) => {
                scram.server_final(&decode(&element)?).map_err(fault)?;
                self.authenticated(out, now)
            }
            Step::Success if element.is("success", SASL_NS) => self.authenticated(out, now),
            Step::ServerFirst(_) | Step::ServerFinal(_) | Step::Success
                if element.is("failure", SASL_NS) =>
            {
                let condition = element
                    .children
                    .iter()
                    .find(|c| c.name != "text")
                    .map_or_else(|| "not-authorized".to_owned(), |c| c.name.clone());
                Err(End::Refused(ClientRefusal::AuthFailed { condition }))
            }
            Step::Bind(id) if is_stanza(&element) => self.bound(out, now, element, &id),
            Step::Resume(jid) if element.ns == SM_NS => self.resumed(out, now, jid, &element),
            Step::Session(jid) if is_stanza(&element) => {
                let stanza = Stanza::from_element(element).map_err(fault)?;
                match stanza.iq_type() {
                    Some(IqType::Result) => {
                        self.online(out, jid);
                        Ok(true)
                    }
                    _ => Err(End::Refused(ClientRefusal::BindRefused {
                        condition: stanza.condition().to_string(),
                    })),
                }
            }
            step => Err(unexpected(expected(&step), &element)),
        }
    }

    /// SASL succeeded: the stream restarts (RFC 6120 section 6.4.6).
    fn authenticated<E>(&mut self, out: &mut Bytes<E>, now: I) -> Flow {
        self.authenticated = true;
        self.open_stream(out, now);
        Ok(false)
    }

    pub(super) fn id(&mut self, what: &str) -> String {
        self.next_id += 1;
        format!("{what}-{}", self.next_id)
    }
}

impl From<StreamReadError> for ClientEnd {
    fn from(e: StreamReadError) -> Self {
        fault(e)
    }
}
