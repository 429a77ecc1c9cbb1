//! The exchanges and their connection: a session that ends (its
//! exchanges failed, its observes kept to be registered again), a new one,
//! and time.

use iot_sansio::{CryptoRngCore, Instant};
use iot_xmpp::StanzaOut;

use super::{Exchange, Exchanges, Side};
use crate::endpoint::event::{EndpointEvent, Failure, RequestId};
use crate::transport::SessionId;

impl<I: Instant, R: CryptoRngCore> Exchanges<I, R> {
    /// The connection's session ended: every exchange fails with
    /// [`Failure::Disconnected`], as its peer learns, except, when
    /// `renew`, the observes registered: they wait for the next session
    /// ([`Exchanges::reconnected`]). Without `renew` the observes still
    /// waiting from an earlier session fail too.
    pub(crate) fn disconnected(&mut self, out: &mut impl StanzaOut<EndpointEvent>, renew: bool) {
        self.disconnected = true;
        for key in self.transport.clear() {
            let live_observe = self.exchanges.get(&key).is_some_and(|x| {
                x.side == Side::Client && x.observe && x.answered && x.renew.is_some()
            });
            if renew
                && live_observe
                && let Some(x) = self.forget(&key)
                && let Some((to, bytes)) = x.renew
            {
                self.renewals.push((x.id, to, bytes));
            } else {
                self.drop_exchange(out, &key, Failure::Disconnected);
            }
        }
        if !renew {
            for (id, ..) in self.renewals.drain(..) {
                out.event(EndpointEvent::Failed {
                    id,
                    reason: Failure::Disconnected,
                });
            }
        }
    }

    /// A new session is up (after [`Exchanges::disconnected`]): requests
    /// may go again, and each observe of the last session is registered
    /// again, under its id, on a session of its own: the answer comes as
    /// its next [`EndpointEvent::Notification`], a refusal or no answer as
    /// [`EndpointEvent::Failed`].
    pub(crate) fn reconnected(&mut self, out: &mut impl StanzaOut<EndpointEvent>, now: I) {
        self.disconnected = false;
        for (id, to, bytes) in core::mem::take(&mut self.renewals) {
            let mut exchange = Exchange::new(Side::Client, id);
            exchange.observe = true;
            exchange.answered = true;
            exchange.renewing = true;
            exchange.renew = Some((to.clone(), bytes.clone()));
            self.open(out, now, &to, bytes, exchange);
        }
    }

    /// Fails every request whose response is overdue and closes its
    /// session; closes every session a peer left idle past
    /// [`EndpointConfig::idle_timeout`].
    pub(crate) fn timeout(&mut self, out: &mut impl StanzaOut<EndpointEvent>, now: I) {
        let mut due: Vec<(RequestId, Side, SessionId)> = self
            .exchanges
            .iter()
            .filter(|(_, x)| x.deadline.is_some_and(|d| d <= now))
            .map(|(k, x)| (x.id, x.side, k.clone()))
            .collect();
        due.sort_by_key(|(id, ..)| *id);
        for (id, side, key) in due {
            if side == Side::Client {
                out.event(EndpointEvent::Failed {
                    id,
                    reason: Failure::TimedOut,
                });
            }
            self.close(out, now, &key);
        }
        // An open unanswered fails its request as the request's own
        // deadline does, which came first above when both are due.
        self.transport(out, now, |t, out| t.timeout(out, now));
    }

    /// When the first exchange or session request gives up waiting.
    pub(crate) fn deadline(&self) -> Option<I> {
        let exchanges = self.exchanges.values().filter_map(|x| x.deadline);
        exchanges.chain(self.transport.deadline()).min()
    }
}
