//! The endpoint as a machine of its own: the steps of [`Exchanges`] with
//! an outbox.

use iot_sansio::{CryptoRngCore, End, Input, Instant, Machine, Outbox, Outgoing};
use iot_xmpp::{Stanza, StanzaLimits, StanzaMachine};

use super::config::EndpointConfig;
use super::event::{EndpointError, EndpointEvent, RequestId};
use super::exchange::Exchanges;
use crate::identity::{FullJid, Jid};
use crate::rest::RestMessage;

/// One Remote Access Endpoint's side of every exchange (see the module
/// documentation for the rules). It owns the RNG its session ids come from.
///
/// ```
/// use std::time::Duration;
/// use iot_sansio::testing::{Driver, rng};
/// use iot_xmpp::testing::Server;
/// use oic_ra_proto::Machine;
/// use oic_ra_proto::endpoint::{Endpoint, EndpointEvent};
/// use oic_ra_proto::identity::FullJid;
/// use oic_ra_proto::rest::{Method, RestMessage};
///
/// let client_jid = FullJid::new("alice@example.org/OIC/1.0/Client/6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11")?;
/// let server_jid = FullJid::new("alice@example.org/OIC/1.0/oic.d.light/0685b960-736f-46f7-bead-0bd3b6d8d1d6")?;
/// let mut client = Endpoint::new(Default::default(), rng(1));
/// let mut server = Endpoint::new(Default::default(), rng(2));
/// let mut xmpp = Server::new([client_jid.into(), server_jid.clone().into()]);
/// let mut driver = Driver::new(Duration::ZERO);
///
/// let get = RestMessage::request(Method::Get, "coap://light/a/switch");
/// let id = client.request(driver.now(), &server_jid, &get)?;
/// driver.run(&mut [&mut client, &mut server], |from, s| xmpp.route(from, s));
/// let Some(EndpointEvent::Request { id: asked, .. }) = server.poll_event() else { panic!() };
/// let body = serde_json::json!({"rt": "oic.r.switch.binary", "value": true});
/// server.respond(driver.now(), asked, &RestMessage::response(200, "OK").with_json(&body))?;
/// driver.run(&mut [&mut client, &mut server], |from, s| xmpp.route(from, s));
///
/// let Some(EndpointEvent::Response { id: got, message }) = client.poll_event() else { panic!() };
/// assert_eq!((got, message.status()), (id, Some(200)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Endpoint<I, R> {
    exchanges: Exchanges<I, R>,
    out: Outbox<Stanza, EndpointEvent>,
}

impl<I: Instant, R: CryptoRngCore> Endpoint<I, R> {
    /// An endpoint with no sessions, whose session ids come from `rng`.
    #[must_use]
    pub fn new(config: EndpointConfig, rng: R) -> Self {
        Self {
            exchanges: Exchanges::new(config, rng),
            out: Outbox::new(),
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &EndpointConfig {
        self.exchanges.config()
    }

    /// How many sessions are open or opening.
    #[must_use]
    pub fn session_count(&self) -> usize {
        self.exchanges.session_count()
    }

    /// Sends a request to an RAE server: opens a session with a fresh
    /// random `sid` and sends the request once the peer accepts. The answer
    /// comes as [`EndpointEvent::Response`] (then
    /// [`EndpointEvent::Notification`]s for an observe) or
    /// [`EndpointEvent::Failed`].
    ///
    /// # Errors
    ///
    /// [`EndpointError::NotARequest`] for a RESPONSE,
    /// [`EndpointError::Rest`] for a message over the document limit,
    /// [`EndpointError::TooManySessions`], [`EndpointError::Closed`] after
    /// the connection ended.
    pub fn request(
        &mut self,
        now: I,
        to: &FullJid,
        message: &RestMessage,
    ) -> Result<RequestId, EndpointError> {
        self.exchanges.request(&mut self.out, now, to, message)
    }

    /// Answers a request received as [`EndpointEvent::Request`]; for an
    /// observe whose first answer was a success, each later call sends a
    /// notification.
    ///
    /// # Errors
    ///
    /// [`EndpointError::NotAResponse`], [`EndpointError::UnknownRequest`]
    /// (never received, or ended by the peer),
    /// [`EndpointError::AlreadyAnswered`] for a second answer to a plain
    /// request, [`EndpointError::Rest`] for a message over the limit.
    pub fn respond(
        &mut self,
        now: I,
        id: RequestId,
        message: &RestMessage,
    ) -> Result<(), EndpointError> {
        self.exchanges.respond(&mut self.out, now, id, message)
    }

    /// Ends an exchange this endpoint started: for an observe, deregisters
    /// by closing the session; for a request still waiting, gives up
    /// without an event.
    ///
    /// # Errors
    ///
    /// [`EndpointError::UnknownRequest`] when it is not open.
    pub fn cancel(&mut self, now: I, id: RequestId) -> Result<(), EndpointError> {
        self.exchanges.cancel(&mut self.out, now, id)
    }

    /// Reads a received stanza, as [`Machine::handle_input`] does, but for
    /// presence; whether it was the endpoint's (an In-Band Bytestream
    /// stanza, answered or acted on). A stanza it was not is the caller's
    /// to handle or answer (RFC 6120 8.4).
    pub fn take(&mut self, now: I, stanza: &Stanza) -> bool {
        !self.out.is_ended() && self.exchanges.take(&mut self.out, now, stanza)
    }

    /// A peer went offline: its exchanges fail with
    /// [`Failure::PeerUnavailable`](super::Failure::PeerUnavailable) and
    /// its sessions are forgotten. For a bare JID, the exchanges of every
    /// resource of the account for which `still_online` says no: a server
    /// sends an unavailable presence from the bare JID during a
    /// subscription handshake (RFC 6121 probe semantics) while a resource
    /// of it is online, and that resource's sessions go on.
    pub fn peer_offline(&mut self, peer: &Jid, still_online: impl Fn(&FullJid) -> bool) {
        self.exchanges
            .peer_offline(&mut self.out, peer, still_online);
    }
}

impl<I: Instant, R: CryptoRngCore> Machine for Endpoint<I, R> {
    type Instant = I;
    type Input = Stanza;
    type Transmit = Stanza;
    type Event = EndpointEvent;

    /// Reads a received stanza (In-Band Bytestream stanzas and unavailable
    /// presence; others are ignored), or ends every exchange when the
    /// connection closed.
    fn handle_input(&mut self, now: I, input: Input<'_, Stanza>) {
        if self.out.is_ended() {
            return;
        }
        match input {
            Input::Data(stanza) => {
                if !self.take(now, stanza) {
                    self.exchanges.handle_presence(&mut self.out, stanza);
                }
            }
            Input::PeerClosed => {
                self.exchanges.disconnected(&mut self.out, false);
                self.out.end(EndpointEvent::Ended(End::PeerClosed));
            }
        }
    }

    /// Fails every request whose response is overdue and closes its
    /// session; closes every session a peer left idle past
    /// [`EndpointConfig::idle_timeout`].
    fn handle_timeout(&mut self, now: I) {
        if !self.out.is_ended() {
            self.exchanges.timeout(&mut self.out, now);
        }
    }

    fn poll_timeout(&self) -> Option<I> {
        if self.out.is_ended() {
            return None;
        }
        self.exchanges.deadline()
    }

    fn outgoing(&mut self) -> Outgoing<'_, Stanza, EndpointEvent> {
        self.out.outgoing()
    }
}

impl<I: Instant, R: CryptoRngCore> StanzaMachine for Endpoint<I, R> {
    fn stanza_limits(&self) -> &StanzaLimits {
        &self.exchanges.config().stanza_limits
    }
}
