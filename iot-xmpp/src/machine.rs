//! What every XMPP machine of the family shares: the `&str` convenience,
//! and where stanza logic run inside another machine writes.

use crate::error::StanzaReadError;
use crate::limits::StanzaLimits;
use crate::stanza::Stanza;

/// A machine of the family that reads stanzas: the `&str` convenience, the
/// same on every XMPP machine.
pub trait StanzaMachine: iot_sansio::Machine<Input = Stanza, Transmit = Stanza> {
    /// The limits received stanzas are read within.
    fn stanza_limits(&self) -> &StanzaLimits;

    /// Parses a received stanza's text within [`StanzaMachine::stanza_limits`]
    /// and hands it to [`iot_sansio::Machine::handle_input`].
    ///
    /// # Errors
    ///
    /// [`StanzaReadError`] when the text is not a stanza; the machine
    /// has then seen nothing.
    fn handle_stanza(&mut self, now: Self::Instant, xml: &str) -> Result<(), StanzaReadError> {
        let stanza = Stanza::parse(xml, self.stanza_limits())?;
        self.handle_input(now, iot_sansio::Input::Data(&stanza));
        Ok(())
    }
}

/// A stanza machine under the family's contract checker reads text the
/// same way.
#[cfg(feature = "testing")]
impl<M: StanzaMachine> StanzaMachine for iot_sansio::testing::Checked<M> {
    fn stanza_limits(&self) -> &StanzaLimits {
        (**self).stanza_limits()
    }
}

/// Where stanza logic writes (ARCHITECTURE.md, "Composition"): the stanzas
/// it sends and its events, `E`. A stanza machine that runs alone hands
/// its own [`Outbox`](iot_sansio::Outbox) of stanzas; a machine that
/// carries the stanzas over a stream of its own hands a writer into its
/// byte outbox, so that what the logic sends is already in the one outbox
/// the runtime reads; a machine that acts on an inner part's events hands
/// a writer that keeps them for it.
pub trait StanzaOut<E> {
    /// Sends a stanza.
    fn send(&mut self, stanza: Stanza);
    /// Reports an event.
    fn event(&mut self, event: E);
}

impl<E> StanzaOut<E> for iot_sansio::Outbox<Stanza, E> {
    fn send(&mut self, stanza: Stanza) {
        iot_sansio::Outbox::send(self, stanza);
    }

    fn event(&mut self, event: E) {
        iot_sansio::Outbox::event(self, event);
    }
}
