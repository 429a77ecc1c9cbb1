//! The `&str` convenience every XMPP machine of the family shares.

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
