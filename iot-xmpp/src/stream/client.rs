//! The client side of an XMPP connection (RFC 6120) as a sans-IO machine:
//! stream header and features, STARTTLS, SASL, stream restarts, resource
//! binding, stanzas, stream errors and the close.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use iot_sansio::{End, Input, Instant, Machine, Outbox, Outgoing};
use jid::FullJid;
use rand_core::CryptoRngCore;

use super::config::{
    ClientConfig, ClientEnd, ClientError, ClientEvent, ClientFault, ClientRefusal, Tls,
};
use super::error::StreamReadError;
use super::header::StreamHeader;
use super::reader::{StreamItem, StreamReader};
use super::step::{Step, expected};
use super::wire::{decode, is_stanza, write_header, write_stream_error};
use crate::element::Element;
use crate::sasl::{Mechanism, ScramClient, plain_response};
use crate::stanza::Stanza;
use crate::tree::read_tree;
use crate::vocab::{
    BIND_NS, CLIENT_NS, DefinedCondition, ERROR, IqType, SASL_NS, SESSION_NS, STREAM_ERRORS_NS,
    STREAMS_NS, TEXT, TLS_NS,
};

/// The client side of an XMPP connection under the family's contract:
/// bytes in, bytes out, events out, time in. It logs in (STARTTLS when
/// configured, SASL with the preferred mechanism the server offers, a
/// restart, resource binding) and then carries stanzas; every end is
/// reported once with a reason ([`ClientEnd`]) a runtime's reconnect
/// policy can read.
///
/// TLS is the runtime's: on [`ClientEvent::StartTls`] it wraps the
/// transport and calls [`Client::tls_started`].
pub struct Client<I, R> {
    /// The stream reader, beside the state it feeds (ARCHITECTURE.md,
    /// "Composition").
    reader: StreamReader,
    login: Login<I, R>,
}

/// The connection's state and outbox.
struct Login<I, R> {
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
    out: Outbox<Vec<u8>, ClientEvent>,
    next_id: u64,
    /// A new stream header is awaited: the reader restarts before the
    /// next byte.
    restart: bool,
}

impl<I, R> core::fmt::Debug for Client<I, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("jid", &self.login.config.jid)
            .field("step", &self.login.step)
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

impl<I: Instant, R: CryptoRngCore> Client<I, R> {
    /// A connection that has sent nothing yet; its nonces come from `rng`.
    #[must_use]
    pub fn new(config: ClientConfig, rng: R) -> Self {
        let reader = StreamReader::new(config.limits);
        let secured = config.tls == Tls::Direct;
        let login = Login {
            config,
            rng,
            header: StreamHeader::default(),
            step: Step::Idle,
            secured,
            authenticated: false,
            session_required: false,
            deadline: None,
            out: Outbox::new(),
            next_id: 0,
            restart: false,
        };
        Self { reader, login }
    }

    /// Opens the stream: sends the stream header.
    pub fn start(&mut self, now: I) {
        if matches!(self.login.step, Step::Idle) {
            self.login.open_stream(now);
        }
    }

    /// The runtime started TLS after [`ClientEvent::StartTls`]: the stream
    /// restarts over it.
    pub fn tls_started(&mut self, now: I) {
        if matches!(self.login.step, Step::Tls) {
            self.login.secured = true;
            self.login.open_stream(now);
        }
    }

    /// Whether the connection is online.
    #[must_use]
    pub fn is_online(&self) -> bool {
        self.login.is_online()
    }

    /// Sends a stanza.
    ///
    /// # Errors
    ///
    /// [`ClientError::NotOnline`] before the connection is online or after
    /// it ended; [`ClientError::Char`] for a stanza holding a character
    /// XML 1.0 forbids ([`Stanza::check_xml_chars`]), which is not sent.
    pub fn send(&mut self, stanza: &Stanza) -> Result<(), ClientError> {
        if !self.is_online() {
            return Err(ClientError::NotOnline);
        }
        if let Err(crate::error::StanzaReadError::Char(c)) = stanza.check_xml_chars() {
            return Err(ClientError::Char(c));
        }
        self.login.write(|out| stanza.write_xml(out));
        Ok(())
    }

    /// Closes the stream (RFC 6120 section 4.4): sends
    /// `</stream:stream>`, waits for the server's, and ends with
    /// [`End::Closed`].
    pub fn close(&mut self, now: I) {
        let login = &mut self.login;
        match login.step {
            Step::Done | Step::Closing => {}
            Step::Idle | Step::Tls => login.end(End::Closed),
            _ => {
                login.write(|out| out.push_str("</stream:stream>"));
                login.step = Step::Closing;
                login.deadline = Some(now + login.config.timeout);
            }
        }
    }
}

impl<I: Instant, R: CryptoRngCore> Login<I, R> {
    fn is_online(&self) -> bool {
        matches!(self.step, Step::Online)
    }

    fn write(&mut self, build: impl FnOnce(&mut String)) {
        let mut text = String::new();
        build(&mut text);
        self.out.send(text.into_bytes());
    }

    fn end(&mut self, end: ClientEnd) {
        self.step = Step::Done;
        self.deadline = None;
        self.out.end(ClientEvent::Ended(end));
    }

    fn open_stream(&mut self, now: I) {
        self.restart = true;
        let (jid, secured) = (self.config.jid.clone(), self.secured);
        self.write(|out| write_header(out, &jid, secured));
        self.step = Step::Features;
        self.deadline = Some(now + self.config.timeout);
    }

    /// Handles one item of the stream; `Ok(false)` stops reading (the
    /// bytes after `<proceed/>` are the TLS layer's).
    fn item(&mut self, now: I, item: StreamItem<'_>) -> Flow {
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
                    self.write(|out| out.push_str("</stream:stream>"));
                    self.end(End::PeerClosed);
                }
                Ok(false)
            }
            StreamItem::Element(text) => self.element(now, text),
        }
    }

    fn element(&mut self, now: I, text: &str) -> Flow {
        // Read in the scope of the header this connection kept: the
        // server's prefixes, whatever it named them.
        let element: Element =
            read_tree(text, &self.config.limits, self.header.scope()).map_err(fault)?;
        if matches!(self.step, Step::Online | Step::Closing) && is_stanza(&element) {
            let stanza = Stanza::from_element(element).map_err(fault)?;
            if matches!(self.step, Step::Online) {
                self.out.event(ClientEvent::Stanza(stanza));
            }
            return Ok(true);
        }
        if element.is(ERROR, STREAMS_NS) {
            return self.stream_error(&element);
        }
        let step = core::mem::replace(&mut self.step, Step::Done);
        self.deadline = Some(now + self.config.timeout);
        match step {
            Step::Features if element.is("features", STREAMS_NS) => self.features(now, &element),
            Step::Proceed if element.is("proceed", TLS_NS) => {
                self.step = Step::Tls;
                self.deadline = Some(now + self.config.timeout);
                self.out.event(ClientEvent::StartTls);
                Ok(false)
            }
            Step::Proceed if element.is("failure", TLS_NS) => {
                Err(End::Refused(ClientRefusal::NoTls))
            }
            Step::ServerFirst(mut scram) if element.is("challenge", SASL_NS) => {
                let message = decode(&element)?;
                let last = scram.server_first(&message).map_err(fault)?;
                self.sasl_send("response", last.as_bytes());
                self.step = Step::ServerFinal(scram);
                Ok(true)
            }
            Step::ServerFinal(mut scram) if element.is("challenge", SASL_NS) => {
                // The server-final in a challenge: checked, then an empty
                // response asks for the success (RFC 6120 section 6.4.5).
                scram.server_final(&decode(&element)?).map_err(fault)?;
                self.sasl_send("response", b"");
                self.step = Step::Success;
                Ok(true)
            }
            Step::ServerFinal(mut scram) if element.is("success", SASL_NS) => {
                scram.server_final(&decode(&element)?).map_err(fault)?;
                self.authenticated(now)
            }
            Step::Success if element.is("success", SASL_NS) => self.authenticated(now),
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
            Step::Bind(id) if is_stanza(&element) => self.bound(now, element, &id),
            Step::Session(jid) if is_stanza(&element) => {
                let stanza = Stanza::from_element(element).map_err(fault)?;
                match stanza.iq_type() {
                    Some(IqType::Result) => {
                        self.online(jid);
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

    /// The stream features: STARTTLS first if it is to be used, then SASL,
    /// then binding.
    /// A stream error from the server (RFC 6120 4.9): its condition and
    /// text end the connection, which closes its side too.
    fn stream_error(&mut self, element: &Element) -> Flow {
        let condition = element
            .children
            .iter()
            .find(|c| c.ns == STREAM_ERRORS_NS && c.name != TEXT)
            .map_or_else(
                || DefinedCondition::UndefinedCondition.as_str().to_owned(),
                |c| c.name.clone(),
            );
        let text = element
            .get_child(TEXT, STREAM_ERRORS_NS)
            .map(|t| t.text.clone());
        // The server closes after a stream error; so does the client.
        self.write(|out| out.push_str("</stream:stream>"));
        self.end(End::Refused(ClientRefusal::StreamError { condition, text }));
        Ok(false)
    }

    fn features(&mut self, now: I, features: &Element) -> Flow {
        if !self.secured && self.config.tls == Tls::StartTls {
            if features.get_child("starttls", TLS_NS).is_none() {
                return Err(End::Refused(ClientRefusal::NoTls));
            }
            self.write(|out| {
                out.push_str("<starttls xmlns='");
                out.push_str(TLS_NS);
                out.push_str("'/>");
            });
            self.step = Step::Proceed;
            return Ok(true);
        }
        if !self.authenticated {
            let offered: Vec<&str> = features
                .get_child("mechanisms", SASL_NS)
                .map(|m| {
                    m.children
                        .iter()
                        .filter(|c| c.name == "mechanism")
                        .map(|c| c.text.as_str())
                        .collect()
                })
                .unwrap_or_default();
            let Some(mechanism) = self.config.mechanisms.choose(&offered, self.secured) else {
                return Err(End::Refused(ClientRefusal::NoMechanism {
                    offered: offered.iter().map(|s| (*s).to_owned()).collect(),
                }));
            };
            return self.authenticate(mechanism);
        }
        if features.get_child("bind", BIND_NS).is_none() {
            return Err(fault(ClientFault::Bind(
                "the server offers no resource binding".into(),
            )));
        }
        self.session_required = features
            .get_child("session", SESSION_NS)
            .is_some_and(|s| s.get_child("optional", SESSION_NS).is_none());
        let id = self.id("bind");
        let mut bind = Element::new("bind", BIND_NS);
        if let Some(resource) = &self.config.resource {
            bind = bind.child(Element::new("resource", BIND_NS).with_text(resource.clone()));
        }
        let request = Stanza::iq(IqType::Set)
            .with_id(id.clone())
            .with_payload(bind);
        self.write(|out| request.write_xml(out));
        self.step = Step::Bind(id);
        self.deadline = Some(now + self.config.timeout);
        Ok(true)
    }

    fn authenticate(&mut self, mechanism: Mechanism) -> Flow {
        let username = self
            .config
            .jid
            .node()
            .map(|n| n.as_str().to_owned())
            .unwrap_or_default();
        match mechanism.scram() {
            Some(hash) => {
                let scram = ScramClient::new(hash, &username, &self.config.password, &mut self.rng)
                    .map_err(fault)?
                    .with_iterations(self.config.iterations);
                let first = scram.client_first();
                self.sasl_auth(mechanism, first.as_bytes());
                self.step = Step::ServerFirst(Box::new(scram));
            }
            None => {
                let response = plain_response(&username, &self.config.password);
                self.sasl_auth(mechanism, response.expose());
                self.step = Step::Success;
            }
        }
        Ok(true)
    }

    fn sasl_auth(&mut self, mechanism: Mechanism, initial: &[u8]) {
        let data = zeroize::Zeroizing::new(STANDARD.encode(initial));
        self.write(|out| {
            out.push_str("<auth xmlns='");
            out.push_str(SASL_NS);
            out.push_str("' mechanism='");
            out.push_str(mechanism.name());
            out.push_str("'>");
            out.push_str(&data);
            out.push_str("</auth>");
        });
    }

    fn sasl_send(&mut self, name: &str, data: &[u8]) {
        // RFC 6120 section 6.4.2: empty data is sent as `=`.
        let data = if data.is_empty() {
            "=".to_owned()
        } else {
            STANDARD.encode(data)
        };
        self.write(|out| {
            out.push('<');
            out.push_str(name);
            out.push_str(" xmlns='");
            out.push_str(SASL_NS);
            out.push_str("'>");
            out.push_str(&data);
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        });
    }

    /// SASL succeeded: the stream restarts (RFC 6120 section 6.4.6).
    fn authenticated(&mut self, now: I) -> Flow {
        self.authenticated = true;
        self.open_stream(now);
        Ok(false)
    }

    fn bound(&mut self, now: I, element: Element, id: &str) -> Flow {
        let stanza = Stanza::from_element(element).map_err(fault)?;
        if stanza.id.as_deref() != Some(id) {
            return Err(fault(ClientFault::Bind(
                "an answer to another request".into(),
            )));
        }
        if stanza.iq_type() != Some(IqType::Result) {
            return Err(End::Refused(ClientRefusal::BindRefused {
                condition: stanza.condition().to_string(),
            }));
        }
        let jid = stanza
            .payload("bind", BIND_NS)
            .and_then(|b| b.get_child("jid", BIND_NS))
            .map(|j| j.text.as_str())
            .ok_or_else(|| fault(ClientFault::Bind("no JID in the result".into())))?;
        let jid = crate::jids::read_jid::<FullJid>(jid)
            .map_err(|e| fault(ClientFault::Bind(e.to_string())))?;
        if jid.to_bare() != self.config.jid {
            return Err(fault(ClientFault::Bind(format!(
                "{jid} is not of this account"
            ))));
        }
        if self.session_required {
            let id = self.id("session");
            let request = Stanza::iq(IqType::Set)
                .with_id(id)
                .with_payload(Element::new("session", SESSION_NS));
            self.write(|out| request.write_xml(out));
            self.step = Step::Session(jid);
            self.deadline = Some(now + self.config.timeout);
            return Ok(true);
        }
        self.online(jid);
        Ok(true)
    }

    fn online(&mut self, jid: FullJid) {
        let other_resource = self
            .config
            .resource
            .as_deref()
            .is_some_and(|r| r != jid.resource().as_str());
        self.step = Step::Online;
        self.deadline = None;
        self.out.event(ClientEvent::Online {
            jid,
            other_resource,
        });
    }

    fn id(&mut self, what: &str) -> String {
        self.next_id += 1;
        format!("{what}-{}", self.next_id)
    }
}

impl<I: Instant, R: CryptoRngCore> Machine for Client<I, R> {
    type Instant = I;
    type Input = [u8];
    type Transmit = Vec<u8>;
    type Event = ClientEvent;

    /// Takes bytes from the server (after TLS, the decrypted ones), or
    /// the news that the transport closed.
    fn handle_input(&mut self, now: I, input: Input<'_, [u8]>) {
        let Self { reader, login } = self;
        login.take(reader, now, input);
    }

    /// Past the deadline of a login step the connection ends with
    /// [`End::TimedOut`]; a close that the server does not answer ends
    /// with [`End::Closed`].
    fn handle_timeout(&mut self, now: I) {
        self.login.timeout(now);
    }

    fn poll_timeout(&self) -> Option<I> {
        self.login.deadline
    }

    fn outgoing(&mut self) -> Outgoing<'_, Vec<u8>, ClientEvent> {
        self.login.out.outgoing()
    }

    fn recycle(&mut self, buf: Vec<u8>) {
        self.login.out.recycle(buf);
    }
}

impl<I: Instant, R: CryptoRngCore> Login<I, R> {
    /// Bytes from the server, read by `reader` into this state.
    fn take(&mut self, reader: &mut StreamReader, now: I, input: Input<'_, [u8]>) {
        if matches!(self.step, Step::Done | Step::Idle) {
            return;
        }
        let Input::Data(mut data) = input else {
            let end = if matches!(self.step, Step::Closing) {
                End::Closed
            } else {
                End::PeerClosed
            };
            self.end(end);
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
                return;
            }
            if core::mem::take(&mut self.restart) {
                reader.restart();
            }
            let result = reader.feed(data, |item| self.item(now, item));
            match result {
                Ok(used) => data = data.get(used..).unwrap_or_default(),
                Err(end) => {
                    // The side that finds a stream error says so before
                    // it closes (RFC 6120 4.9.1.1).
                    if let End::PeerFault(f) = &end
                        && let Some(condition) = f.stream_condition()
                        && !matches!(self.step, Step::Done)
                    {
                        self.write(|out| write_stream_error(out, condition));
                    }
                    // An element that ends the login replaced the step
                    // before it failed: the end is still to be reported
                    // (the outbox lets only the first out).
                    self.end(end);
                    return;
                }
            }
        }
    }

    /// Past the deadline of a login step the connection ends.
    fn timeout(&mut self, now: I) {
        if self.deadline.is_some_and(|d| now >= d) {
            let end = if matches!(self.step, Step::Closing) {
                End::Closed
            } else {
                End::TimedOut
            };
            self.end(end);
        }
    }
}

impl From<StreamReadError> for ClientEnd {
    fn from(e: StreamReadError) -> Self {
        fault(e)
    }
}
