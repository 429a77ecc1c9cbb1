//! The client side of an XMPP connection (RFC 6120) as a sans-IO machine:
//! the steps of [`ClientCore`] with a reader and an outbox of their own.

use iot_sansio::{Input, Instant, Machine, Outbox, Outgoing};
use rand_core::CryptoRngCore;

use super::config::{ClientConfig, ClientError, ClientEvent};
use super::core::ClientCore;
use super::reader::StreamReader;
use super::sm::Resumption;
use crate::sasl::ChannelBindingData;
use crate::stanza::Stanza;

/// The client side of an XMPP connection under the family's contract:
/// bytes in, bytes out, events out, time in. It logs in (STARTTLS when
/// configured, SASL with the preferred mechanism the server offers, a
/// restart, resource binding) and then carries stanzas; every end is
/// reported once with a reason ([`ClientEnd`](super::ClientEnd)) a
/// runtime's reconnect policy can read.
///
/// TLS is the runtime's: on [`ClientEvent::StartTls`] it wraps the
/// transport and calls [`Client::tls_started`].
pub struct Client<I, R> {
    /// The stream reader, beside the state it feeds (ARCHITECTURE.md,
    /// "Composition").
    reader: StreamReader,
    core: ClientCore<I, R>,
    out: Outbox<Vec<u8>, ClientEvent>,
}

impl<I, R> core::fmt::Debug for Client<I, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("core", &self.core)
            .finish_non_exhaustive()
    }
}

/// Queues what the steps found: the end as the end, the rest as events.
fn queue(out: &mut Outbox<Vec<u8>, ClientEvent>, event: ClientEvent) {
    if matches!(event, ClientEvent::Ended(_)) {
        out.end(event);
    } else {
        out.event(event);
    }
}

impl<I: Instant, R: CryptoRngCore> Client<I, R> {
    /// A connection that has sent nothing yet; its nonces come from `rng`.
    #[must_use]
    pub fn new(config: ClientConfig, rng: R) -> Self {
        Self {
            reader: StreamReader::new(config.limits),
            core: ClientCore::new(config, rng),
            out: Outbox::new(),
        }
    }

    /// A connection that takes over the session of one that was lost
    /// (XEP-0198 section 5), as [`ClientCore::resume`] says: take
    /// `resumption` from the lost connection's [`Client::resumption`].
    #[must_use]
    pub fn resume(config: ClientConfig, rng: R, resumption: Resumption) -> Self {
        Self {
            reader: StreamReader::new(config.limits),
            core: ClientCore::resume(config, rng, resumption),
            out: Outbox::new(),
        }
    }

    /// What a new connection needs to resume this session
    /// ([`Client::resume`]): once this one ended by losing its transport
    /// or timing out, when the server enabled resumption. `None` after a
    /// close by either side or a stream error.
    #[must_use]
    pub fn resumption(&self) -> Option<Resumption> {
        self.core.resumption()
    }

    /// The stanzas sent and not acknowledged by the server (stream
    /// management on), oldest first: what may not have arrived if the
    /// connection ended.
    pub fn unacknowledged(&self) -> impl Iterator<Item = &Stanza> {
        self.core.unacknowledged()
    }

    /// Opens the stream: sends the stream header.
    pub fn start(&mut self, now: I) {
        self.core.start(&mut self.out, now);
    }

    /// The TLS connection's channel binding data, as
    /// [`ClientCore::set_channel_binding`] says: give it after the
    /// handshake and before [`Client::tls_started`] (or, for direct TLS,
    /// before [`Client::start`]).
    pub fn set_channel_binding(&mut self, data: ChannelBindingData) {
        self.core.set_channel_binding(data);
    }

    /// The runtime started TLS after [`ClientEvent::StartTls`]: the stream
    /// restarts over it.
    pub fn tls_started(&mut self, now: I) {
        self.core.tls_started(&mut self.out, now);
    }

    /// The SASL mechanism the login chose (a `-PLUS` one when it bound
    /// the channel), once it did.
    #[must_use]
    pub fn mechanism(&self) -> Option<crate::sasl::Mechanism> {
        self.core.mechanism()
    }

    /// Whether the connection is online.
    #[must_use]
    pub fn is_online(&self) -> bool {
        self.core.is_online()
    }

    /// Sends a stanza.
    ///
    /// # Errors
    ///
    /// As [`ClientCore::send`].
    pub fn send(&mut self, stanza: &Stanza) -> Result<(), ClientError> {
        self.core.send(&mut self.out, stanza)
    }

    /// Closes the stream (RFC 6120 section 4.4): sends
    /// `</stream:stream>`, waits for the server's, and ends with
    /// [`End::Closed`](iot_sansio::End::Closed).
    pub fn close(&mut self, now: I) {
        if let Some(end) = self.core.close(&mut self.out, now) {
            self.out.end(ClientEvent::Ended(end));
        }
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
        let Self { reader, core, out } = self;
        core.read(reader, out, now, input, |_, out, event| queue(out, event));
    }

    /// Past the deadline of a login step the connection ends with
    /// [`End::TimedOut`](iot_sansio::End::TimedOut); a close that the
    /// server does not answer ends with
    /// [`End::Closed`](iot_sansio::End::Closed).
    fn handle_timeout(&mut self, now: I) {
        if let Some(end) = self.core.timeout(now) {
            self.out.end(ClientEvent::Ended(end));
        }
    }

    fn poll_timeout(&self) -> Option<I> {
        self.core.deadline()
    }

    fn outgoing(&mut self) -> Outgoing<'_, Vec<u8>, ClientEvent> {
        self.out.outgoing()
    }

    fn recycle(&mut self, buf: Vec<u8>) {
        self.out.recycle(buf);
    }
}
