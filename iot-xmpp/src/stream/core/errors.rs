//! A stream error from the server (RFC 6120 4.9), and the host of a
//! `see-other-host` (4.9.3.19).

use iot_sansio::{End, Instant};
use rand_core::CryptoRngCore;

use super::{Bytes, ClientCore, Flow, write_close};
use crate::element::Element;
use crate::stream::config::ClientRefusal;
use crate::vocab::{DefinedCondition, STREAM_ERRORS_NS, TEXT};

impl<I: Instant, R: CryptoRngCore> ClientCore<I, R> {
    /// A stream error from the server (RFC 6120 4.9): its condition and
    /// text end the connection, which closes its side too.
    pub(super) fn stream_error<E>(&mut self, out: &mut Bytes<E>, element: &Element) -> Flow {
        let defined = element
            .children
            .iter()
            .find(|c| c.ns == STREAM_ERRORS_NS && c.name != TEXT);
        let condition = defined.map_or_else(
            || DefinedCondition::UndefinedCondition.as_str().to_owned(),
            |c| c.name.clone(),
        );
        let text = element
            .get_child(TEXT, STREAM_ERRORS_NS)
            .map(|t| t.text.clone());
        // The server closes after a stream error; so does the client.
        write_close(out);
        // RFC 6120 4.9.3.19: the server names the host (and port) to
        // connect to instead; an empty one is a plain stream error.
        let other_host = defined
            .filter(|c| c.name == "see-other-host")
            .map(|c| c.text.trim())
            .filter(|host| !host.is_empty());
        let refusal = match other_host {
            Some(host) => ClientRefusal::SeeOtherHost {
                host: host.to_owned(),
            },
            None => ClientRefusal::StreamError { condition, text },
        };
        self.end(End::Refused(refusal));
        Ok(false)
    }
}
