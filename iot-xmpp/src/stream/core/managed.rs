//! Stream management on the client connection (XEP-0198): `<enable/>`
//! once bound, acknowledgements both ways, `<resume/>` instead of binding
//! on a connection that takes over a session, and the dead connection an
//! unanswered request reveals.

use iot_sansio::Instant;
use jid::FullJid;
use rand_core::CryptoRngCore;

use super::{Bytes, ClientCore, Flow, fault, unexpected, write};
use crate::element::Element;
use crate::stanza::Stanza;
use crate::stream::config::{ClientConfig, ClientEvent, ClientFault, Tls};
use crate::stream::header::StreamHeader;
use crate::stream::sm::{Resumption, SM_NS, Sm, SmState};
use crate::stream::step::Step;
use crate::vocab::CLIENT_NS;

/// Writes a stream management element.
fn write_sm<E>(out: &mut Bytes<E>, element: &Element) {
    write(out, |text| element.write(CLIENT_NS, text));
}

/// The `h` attribute of `element`, a count mod 2^32.
fn h(element: &Element) -> Result<u32, super::ClientEnd> {
    element
        .get_attr("h")
        .and_then(|h| h.parse().ok())
        .ok_or_else(|| {
            fault(ClientFault::StreamManagement(format!(
                "<{}/> without a count h",
                element.name
            )))
        })
}

impl<I: Instant, R: CryptoRngCore> ClientCore<I, R> {
    /// The steps of a new connection in place of this one, which is over
    /// (lost, or never up): the same configuration and randomness, nothing
    /// of the old stream; with `resumption`, it resumes that session
    /// ([`ClientCore::resume`]). For a machine that owns its connection's
    /// steps and reconnects (the OIC RA endpoint does): the runtime opens
    /// a new transport, then the machine renews and starts.
    pub fn renew(&mut self, resumption: Option<Resumption>) {
        self.header = StreamHeader::default();
        self.step = Step::Idle;
        self.secured = self.config.tls == Tls::Direct;
        self.authenticated = false;
        self.session_required = false;
        self.deadline = None;
        self.restart = false;
        self.ended = false;
        self.found = None;
        self.sm = Sm::new();
        self.sm_offered = false;
        self.resuming = resumption;
        self.jid = None;
        self.ack_due = None;
        self.resumable = false;
        self.binding = None;
        self.mechanism = None;
    }

    /// A connection that takes over the session of one that was lost
    /// (XEP-0198 section 5): it logs in, then asks the server to resume
    /// instead of binding. Resumed, it sends again what the server did not
    /// get and reports [`ClientEvent::Resumed`]; refused, it reports
    /// [`ClientEvent::ResumeFailed`] with the stanzas that may not have
    /// arrived, binds anew and reports [`ClientEvent::Online`].
    #[must_use]
    pub fn resume(config: ClientConfig, rng: R, resumption: Resumption) -> Self {
        let mut core = Self::new(config, rng);
        core.resuming = Some(resumption);
        core
    }

    /// Asks the server to enable stream management, once bound, when it
    /// offered it and the configuration wants it.
    pub(super) fn enable<E>(&mut self, out: &mut Bytes<E>) {
        let config = self.config.stream_management;
        if !config.enable || !self.sm_offered {
            return;
        }
        let mut enable = Element::new("enable", SM_NS);
        if config.resume {
            enable = enable.attr("resume", "true");
        }
        write_sm(out, &enable);
        self.sm.state = SmState::Requested;
    }

    /// Writes `<resume/>` for the session this connection takes over,
    /// instead of binding (XEP-0198 section 5).
    pub(super) fn write_resume<E>(&mut self, out: &mut Bytes<E>, resumption: &Resumption) {
        let resume = Element::new("resume", SM_NS)
            .attr("h", resumption.handled.to_string())
            .attr("previd", resumption.id.clone());
        write_sm(out, &resume);
        self.jid = Some(resumption.jid.clone());
        self.step = Step::Resume(resumption.jid.clone());
    }

    /// Keeps a stanza sent while the session waits to be resumed: on a
    /// connection that was lost (resumable), or on one that takes a
    /// session over and has not resumed it yet. `false` when there is no
    /// such session.
    pub(super) fn keep_for_resumption(&mut self, stanza: &Stanza) -> bool {
        if let Some(resumption) = self.resuming.as_mut() {
            if resumption.unacked.len() >= self.config.stream_management.max_unacked {
                return false;
            }
            resumption.unacked.push(stanza.clone());
            return true;
        }
        let waiting = matches!(self.step, Step::Resume(_))
            || (self.ended && self.resumable && self.sm.resumption_id().is_some());
        if waiting {
            self.sm.sent(stanza);
        }
        waiting
    }

    /// A stream management element while online.
    pub(super) fn managed<E>(&mut self, out: &mut Bytes<E>, element: &Element) -> Flow {
        match element.name.as_str() {
            // The server asks how many stanzas the client handled.
            "r" if matches!(self.sm.state, SmState::On { .. }) => {
                let a = Element::new("a", SM_NS).attr("h", self.sm.handled().to_string());
                write_sm(out, &a);
            }
            "a" if matches!(self.sm.state, SmState::On { .. }) => {
                self.acknowledged(h(element)?)?;
                self.sm.requested = false;
                self.ack_due = None;
                self.request(out);
            }
            "enabled" if self.sm.state == SmState::Requested => {
                let resumable = matches!(element.get_attr("resume"), Some("true" | "1"));
                self.sm.state = SmState::On {
                    id: element
                        .get_attr("id")
                        .filter(|_| resumable)
                        .map(str::to_owned),
                    location: element.get_attr("location").map(str::to_owned),
                };
                // Stanzas sent since the enable wait for their count.
                self.request(out);
            }
            "failed" if self.sm.state == SmState::Requested => {
                // Not enabled: the stream goes on without it.
                self.sm.fail();
            }
            _ => return Err(unexpected("a stream management element", element)),
        }
        Ok(true)
    }

    /// The answer to `<resume/>`.
    pub(super) fn resumed<E>(
        &mut self,
        out: &mut Bytes<E>,
        now: I,
        jid: FullJid,
        element: &Element,
    ) -> Flow {
        if element.is("resumed", SM_NS) {
            self.acknowledged(h(element)?)?;
            // What the server did not get goes again, in order.
            for stanza in self.sm.unacked() {
                write(out, |text| stanza.write_xml(text));
            }
            let resent = self.sm.unacked_len();
            self.jid = Some(jid.clone());
            self.step = Step::Online;
            self.deadline = None;
            self.request(out);
            self.report(ClientEvent::Resumed { jid, resent });
            return Ok(true);
        }
        if element.is("failed", SM_NS) {
            // The server may say what it got of the old session.
            if let Ok(h) = h(element) {
                self.acknowledged(h)?;
            }
            let unacknowledged = self.sm.fail();
            self.report(ClientEvent::ResumeFailed { unacknowledged });
            return self.bind(out, now);
        }
        Err(unexpected("<resumed/>", element))
    }

    /// The server acknowledged `h` of the client's stanzas.
    fn acknowledged(&mut self, h: u32) -> Result<(), super::ClientEnd> {
        self.sm.acknowledge(h).map_err(|too_high| {
            fault(ClientFault::StreamManagement(format!(
                "the server acknowledged {} stanzas of {} sent",
                too_high.h, too_high.sent
            )))
        })
    }

    /// Asks for an acknowledgement when stanzas wait for one and none was
    /// asked for; an unanswered request ends the connection at its
    /// deadline.
    pub(super) fn request<E>(&mut self, out: &mut Bytes<E>) {
        if !matches!(self.sm.state, SmState::On { .. })
            || self.sm.requested
            || self.sm.unacked_len() == 0
        {
            return;
        }
        write_sm(out, &Element::new("r", SM_NS));
        self.sm.requested = true;
        self.ack_due = self
            .last_now
            .map(|now| now + self.config.stream_management.ack_timeout);
    }

    /// What a new connection needs to resume this session: once the
    /// connection ended by losing its transport or timing out, when the
    /// server enabled resumption.
    #[must_use]
    pub fn resumption(&self) -> Option<Resumption> {
        if !self.ended || !self.resumable {
            return None;
        }
        // Lost before it asked to resume: the session it was given, with
        // what was sent meanwhile.
        if let Some(resumption) = &self.resuming {
            return Some(resumption.clone());
        }
        self.sm.resumption(self.jid.as_ref()?)
    }

    /// The stanzas sent and not acknowledged by the server, oldest first:
    /// with stream management on, what may not have arrived if the
    /// connection ended.
    pub fn unacknowledged(&self) -> impl Iterator<Item = &Stanza> {
        self.sm.unacked()
    }
}
