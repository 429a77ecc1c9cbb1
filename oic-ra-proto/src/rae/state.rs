//! What the RAE does with what its connection finds, and with time.

use iot_sansio::{End, Instant};
use iot_xmpp::presence::PresenceChange;
use iot_xmpp::roster::RosterQuery;
use iot_xmpp::stream::{ClientEnd, ClientEvent};
use iot_xmpp::{IqFailure, IqType, PresenceType, Stanza, StanzaKind};
use rand_core::CryptoRngCore;

use super::{Asked, RaeEnd, RaeEvent, RaeRefusal, State, Wire, set_status};
use crate::identity::{FullJid, RaeJid};
use crate::resource::ConnectionStatus;
use iot_xmpp::keepalive::{Gone, Watch};

impl<I: Instant, S: CryptoRngCore> State<I, S> {
    /// What the connection's steps found.
    pub(super) fn found<R: CryptoRngCore>(
        &mut self,
        wire: &mut Wire<'_, I, R>,
        now: I,
        event: ClientEvent,
    ) {
        match event {
            ClientEvent::StartTls => wire.out.event(RaeEvent::StartTls),
            ClientEvent::Online { jid, .. } => {
                if self.reconnected(now) {
                    // A new session: the old one's exchanges failed
                    // already, its observes are registered again;
                    // requests may go again.
                    self.endpoint.reconnected(wire, now);
                    wire.out.event(RaeEvent::NewSession);
                }
                self.online(wire, now, jid);
            }
            ClientEvent::Stanza(stanza) => self.stanza(wire, now, &stanza),
            ClientEvent::Ended(end) => self.connection_ended(wire, now, end),
            ClientEvent::Resumed { resent, .. } => {
                self.reconnected(now);
                set_status(&mut self.status, wire.out, ConnectionStatus::Connected);
                self.keepalive = Some(Watch::new(now, self.config.keepalive, None));
                wire.out.event(RaeEvent::Resumed { resent });
            }
            // The session is gone: its exchanges fail now, with the reason;
            // the connection binds anew and reports online next.
            ClientEvent::ResumeFailed { .. } => self.drop_session(wire, true),
        }
    }

    /// The connection ended of its own (the server, the transport or a
    /// login step): the RAE ends with it, unless it has a reconnection
    /// policy and the transport was lost or went silent.
    pub(super) fn connection_ended<R: CryptoRngCore>(
        &mut self,
        wire: &mut Wire<'_, I, R>,
        now: I,
        end: ClientEnd,
    ) {
        if self.backoff.is_some() && matches!(end, End::PeerClosed | End::TimedOut) {
            self.lose(wire, now);
            return;
        }
        self.fail(wire, end.map(|f| f, RaeRefusal::Connection));
    }

    /// The connection is lost, the RAE lives on: it waits as its policy
    /// says, then asks for a new transport. What can be resumed is kept;
    /// without it, the session's exchanges fail now.
    fn lose<R: CryptoRngCore>(&mut self, wire: &mut Wire<'_, I, R>, now: I) {
        let resumption = wire
            .login
            .resumption()
            .or_else(|| self.lost.take().and_then(|lost| lost.resumption));
        if resumption.is_none() {
            self.drop_session(wire, true);
        }
        self.keepalive = None;
        self.asked.clear();
        set_status(&mut self.status, wire.out, ConnectionStatus::Connecting);
        let Some(backoff) = self.backoff.as_mut() else {
            return;
        };
        let at = backoff.lost(now, self.endpoint.rng());
        self.lost = Some(super::Lost {
            resumption,
            connect_at: Some(at),
        });
        wire.out.event(RaeEvent::ConnectionLost);
    }

    /// A connection is up again after a loss: `true` when this was one.
    fn reconnected(&mut self, now: I) -> bool {
        let was_lost = self.lost.take().is_some();
        if was_lost && let Some(backoff) = self.backoff.as_mut() {
            backoff.connected(now);
        }
        was_lost
    }

    /// The session is over (not resumed): its exchanges fail, and its
    /// peers count as offline until the new session hears of them. With
    /// `renew` (a new session follows), the observes it registered wait to
    /// be registered again.
    fn drop_session<R: CryptoRngCore>(&mut self, wire: &mut Wire<'_, I, R>, renew: bool) {
        let own = self.config.jid.jid().clone();
        for jid in self.presence.clear() {
            if jid != own {
                wire.out.event(RaeEvent::PeerOffline(jid));
            }
        }
        self.endpoint.disconnected(wire, renew);
    }

    /// Logged in: checked against the full JID (7.2), then the roster
    /// request, the presence (7.3) and the keepalive (7.4).
    fn online<R: CryptoRngCore>(&mut self, wire: &mut Wire<'_, I, R>, now: I, jid: FullJid) {
        if &jid != self.config.jid.jid() {
            // Online, so the close waits for the server's: no end yet.
            let _ = wire.login.close(wire.out, now);
            self.fail(wire, End::Refused(RaeRefusal::OtherResource { bound: jid }));
            return;
        }
        set_status(&mut self.status, wire.out, ConnectionStatus::Connected);
        // RFC 6121 2.2: the roster first, then initial presence; the
        // roster request is answered in time like every iq.
        let id = self.asked.id();
        wire.write(&RosterQuery::get(&id, self.roster.ver()));
        let deadline = now + self.config.connection.timeout;
        self.asked.wait(id, Asked::Roster, deadline);
        if let Ok(presence) = Stanza::parse(
            &self.config.presence.to_xml(),
            &self.config.connection.limits,
        ) {
            wire.write(&presence);
        }
        self.keepalive = Some(Watch::new(now, self.config.keepalive, None));
    }

    fn stanza<R: CryptoRngCore>(&mut self, wire: &mut Wire<'_, I, R>, now: I, stanza: &Stanza) {
        // A ping is the keepalive's alone: it answers it, and nothing else
        // reads it.
        if let Some(pong) = self.keepalive.as_mut().and_then(|k| k.read(now, stanza)) {
            wire.write(&pong);
            return;
        }
        let own = self.config.jid.jid().clone();
        // Only the own account (or the server for it, without `from`)
        // answers the RAE's requests.
        let from_account = stanza
            .from
            .as_ref()
            .is_none_or(|f| f.node() == own.node() && f.domain() == own.domain());
        match stanza.kind {
            StanzaKind::Iq if from_account && self.asked.is_answer(stanza) => {
                self.roster_answer(wire, stanza);
            }
            StanzaKind::Iq
                if stanza.iq_type() == Some(IqType::Set) && RosterQuery::is_in(stanza) =>
            {
                match self.roster.take_push(stanza, &own) {
                    Ok((change, reply)) => {
                        wire.write(&reply);
                        wire.out.event(RaeEvent::Roster(change));
                    }
                    // A push not from the own account is not processed
                    // (RFC 6121 2.1.6), nor a malformed one; it is still
                    // answered, as no one else will (RFC 6120 8.2.3).
                    Err(_) => refuse(wire, stanza),
                }
            }
            StanzaKind::Presence
                if iot_xmpp::presence::SubscriptionRequest::of(stanza).is_some() =>
            {
                wire.out.event(RaeEvent::Stanza(stanza.clone()));
            }
            StanzaKind::Presence => self.presence(wire, stanza, &own),
            _ if self.endpoint.take(wire, now, stanza) => {}
            StanzaKind::Iq if matches!(stanza.iq_type(), Some(IqType::Get | IqType::Set)) => {
                refuse(wire, stanza);
            }
            _ => wire.out.event(RaeEvent::Stanza(stanza.clone())),
        }
    }

    /// The answer to the roster request.
    fn roster_answer<R>(&mut self, wire: &mut Wire<'_, I, R>, stanza: &Stanza) {
        match self.asked.answer(stanza) {
            Some((Asked::Roster, Err(failure))) => {
                wire.out.event(RaeEvent::RosterFailed(failure));
            }
            Some((Asked::Roster, Ok(result))) => match self.roster.take_result(result) {
                Ok(changes) => {
                    for change in changes {
                        wire.out.event(RaeEvent::Roster(change));
                    }
                }
                Err(_) => wire.out.event(RaeEvent::RosterFailed(IqFailure::Malformed)),
            },
            // An empty result: a versioned roster that did not change
            // (RFC 6121 2.6.3), read as no change above.
            None => {}
        }
    }

    /// A presence: who came online or left, and the sessions of whoever
    /// left end. An unavailable presence from a bare JID (RFC 6121 probe
    /// semantics, during a subscription handshake) ends only the sessions
    /// of the account's resources the tracker does not know to be online.
    fn presence<R: CryptoRngCore>(
        &mut self,
        wire: &mut Wire<'_, I, R>,
        stanza: &Stanza,
        own: &FullJid,
    ) {
        match self.presence.take(stanza) {
            Some(PresenceChange::Online { jid, priority }) if jid != *own => {
                if let Ok(rae) = RaeJid::from_full(jid) {
                    wire.out.event(RaeEvent::PeerOnline { jid: rae, priority });
                }
            }
            Some(PresenceChange::Offline(jid)) if jid != *own => {
                self.endpoint
                    .peer_offline(wire, &jid.clone().into(), |_| false);
                wire.out.event(RaeEvent::PeerOffline(jid));
            }
            _ => {}
        }
        let gone = matches!(
            stanza.presence_type(),
            Some(PresenceType::Unavailable | PresenceType::Error)
        );
        if let Some(from) = stanza.from.as_ref().filter(|f| gone && f.is_bare()) {
            let tracker = &self.presence;
            self.endpoint
                .peer_offline(wire, from, |peer| tracker.is_online(peer));
        }
    }

    /// The RAE's timers: the roster request's, the endpoint's and the
    /// keepalive's.
    pub(super) fn timeout<R: CryptoRngCore>(&mut self, wire: &mut Wire<'_, I, R>, now: I) {
        for Asked::Roster in self.asked.expire(now) {
            wire.out.event(RaeEvent::RosterFailed(IqFailure::TimedOut));
        }
        self.endpoint.timeout(wire, now);
        if let Some(lost) = self.lost.as_mut()
            && lost.connect_at.is_some_and(|at| now >= at)
        {
            lost.connect_at = None;
            wire.out.event(RaeEvent::Connect);
        }
        match self.keepalive.as_mut().map(|k| k.timeout(now)) {
            Some(Ok(Some(ping))) => wire.write(&ping),
            // 7.4: the server did not answer the ping: the connection is
            // gone, whatever TCP says.
            Some(Err(Gone)) if self.backoff.is_some() => self.lose(wire, now),
            Some(Err(Gone)) => self.fail(wire, End::TimedOut),
            Some(Ok(None)) | None => {}
        }
    }

    /// When the RAE's own first timer is due.
    pub(super) fn deadline(&self) -> Option<I> {
        [
            self.endpoint.deadline(),
            self.keepalive.as_ref().map(Watch::deadline),
            self.asked.next_deadline(),
            self.lost.as_ref().and_then(|lost| lost.connect_at),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The connection is over: the status shows why, the endpoint's
    /// exchanges fail, and the end is reported once. What the connection
    /// still had to say (its close) is already out, before the end.
    pub(super) fn fail<R: CryptoRngCore>(&mut self, wire: &mut Wire<'_, I, R>, end: RaeEnd) {
        if wire.out.is_ended() {
            return;
        }
        let status = match &end {
            End::Closed => ConnectionStatus::NotInitialized,
            other => ConnectionStatus::Error(other.to_string()),
        };
        set_status(&mut self.status, wire.out, status);
        self.keepalive = None;
        self.asked.clear();
        self.lost = None;
        self.drop_session(wire, false);
        wire.out.end(RaeEvent::Ended(end));
    }
}

/// Answers an `iq` request no one here handles: `service-unavailable`
/// (RFC 6120 8.4).
fn refuse<I: Instant, R: CryptoRngCore>(wire: &mut Wire<'_, I, R>, stanza: &Stanza) {
    wire.write(&stanza.error_reply(
        iot_xmpp::ErrorType::Cancel,
        iot_xmpp::DefinedCondition::ServiceUnavailable,
    ));
}
