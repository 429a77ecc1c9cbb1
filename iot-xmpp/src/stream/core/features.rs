//! The client's answer to the stream features: STARTTLS (RFC 6120 5),
//! SASL (6), and resource binding (7) or the resumption of a session
//! (XEP-0198 5).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use iot_sansio::Instant;
use rand_core::CryptoRngCore;

use super::{Bytes, ClientCore, Flow, fault, write};
use crate::element::Element;
use crate::sasl::{ChannelBinding, Mechanism, ScramClient, plain_response};
use crate::stanza::Stanza;
use crate::stream::config::{ClientEvent, ClientFault, ClientRefusal, Tls};
use crate::stream::sm::{SM_NS, Sm};
use crate::stream::step::Step;
use crate::vocab::{BIND_NS, IqType, SASL_NS, SESSION_NS, TLS_NS};
use iot_sansio::End;
use jid::FullJid;

impl<I: Instant, R: CryptoRngCore> ClientCore<I, R> {
    /// The stream features: STARTTLS first if it is to be used, then SASL,
    /// then binding.
    pub(super) fn features<E>(&mut self, out: &mut Bytes<E>, now: I, features: &Element) -> Flow {
        if !self.secured && self.config.tls == Tls::StartTls {
            if features.get_child("starttls", TLS_NS).is_none() {
                return Err(End::Refused(ClientRefusal::NoTls));
            }
            write(out, |text| {
                text.push_str("<starttls xmlns='");
                text.push_str(TLS_NS);
                text.push_str("'/>");
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
            // Bind only with a type the server says it has (XEP-0440):
            // a -PLUS login with a type it lacks fails.
            let types = channel_binding_types(features);
            let bindable = self.secured
                && self.binding.as_ref().is_some_and(|data| {
                    types
                        .as_ref()
                        .is_some_and(|t| t.iter().any(|t| *t == data.kind.name()))
                });
            let Some(mechanism) =
                self.config
                    .mechanisms
                    .choose_bound(&offered, self.secured, bindable)
            else {
                return Err(End::Refused(ClientRefusal::NoMechanism {
                    offered: offered.iter().map(|s| (*s).to_owned()).collect(),
                }));
            };
            let plus_offered = offered.iter().any(|m| m.ends_with("-PLUS"));
            self.mechanism = Some(mechanism);
            return self.authenticate(out, mechanism, plus_offered);
        }
        if features.get_child("bind", BIND_NS).is_none() {
            return Err(fault(ClientFault::Bind(
                "the server offers no resource binding".into(),
            )));
        }
        self.session_required = features
            .get_child("session", SESSION_NS)
            .is_some_and(|s| s.get_child("optional", SESSION_NS).is_none());
        self.sm_offered = features.get_child("sm", SM_NS).is_some();
        if let Some(resumption) = self.resuming.take() {
            if self.sm_offered && self.config.stream_management.enable {
                self.write_resume(out, &resumption);
                self.sm = Sm::resuming(resumption);
                self.deadline = Some(now + self.config.timeout);
                return Ok(true);
            }
            // Nothing to resume with: what the old session did not see
            // acknowledged may be lost.
            self.report(ClientEvent::ResumeFailed {
                unacknowledged: resumption.unacked,
            });
        }
        self.bind(out, now)
    }

    /// Asks the server to bind a resource (RFC 6120 section 7).
    pub(super) fn bind<E>(&mut self, out: &mut Bytes<E>, now: I) -> Flow {
        let id = self.id("bind");
        let mut bind = Element::new("bind", BIND_NS);
        if let Some(resource) = &self.config.resource {
            bind = bind.child(Element::new("resource", BIND_NS).with_text(resource.clone()));
        }
        let request = Stanza::iq(IqType::Set)
            .with_id(id.clone())
            .with_payload(bind);
        write(out, |text| request.write_xml(text));
        self.step = Step::Bind(id);
        self.deadline = Some(now + self.config.timeout);
        Ok(true)
    }

    /// Authenticates with `mechanism`; `plus_offered`: whether the server
    /// offered a mechanism with channel binding.
    fn authenticate<E>(
        &mut self,
        out: &mut Bytes<E>,
        mechanism: Mechanism,
        plus_offered: bool,
    ) -> Flow {
        let username = self
            .config
            .jid
            .node()
            .map(|n| n.as_str().to_owned())
            .unwrap_or_default();
        match mechanism.scram() {
            Some(hash) => {
                // RFC 5802 section 6: bound with a -PLUS mechanism; `y`
                // when the client could bind and the server offered no
                // -PLUS mechanism (a server that binds then knows its
                // offer was stripped); `n` otherwise, also when the server
                // offered -PLUS with no type the client has.
                let binding = match (&self.binding, mechanism.is_plus()) {
                    (Some(data), true) => ChannelBinding::Bound(data.clone()),
                    (Some(_), false) if self.secured && !plus_offered => ChannelBinding::NotOffered,
                    _ => ChannelBinding::Unsupported,
                };
                let scram = ScramClient::new(hash, &username, &self.config.password, &mut self.rng)
                    .map_err(fault)?
                    .with_iterations(self.config.iterations)
                    .with_binding(binding);
                let first = scram.client_first();
                Self::sasl_auth(out, mechanism, first.as_bytes());
                self.step = Step::ServerFirst(Box::new(scram));
            }
            None => {
                let response = plain_response(&username, &self.config.password);
                Self::sasl_auth(out, mechanism, response.expose());
                self.step = Step::Success;
            }
        }
        Ok(true)
    }

    fn sasl_auth<E>(out: &mut Bytes<E>, mechanism: Mechanism, initial: &[u8]) {
        let data = zeroize::Zeroizing::new(STANDARD.encode(initial));
        write(out, |text| {
            text.push_str("<auth xmlns='");
            text.push_str(SASL_NS);
            text.push_str("' mechanism='");
            text.push_str(mechanism.name());
            text.push_str("'>");
            text.push_str(&data);
            text.push_str("</auth>");
        });
    }

    pub(super) fn sasl_send<E>(out: &mut Bytes<E>, name: &str, data: &[u8]) {
        // RFC 6120 section 6.4.2: empty data is sent as `=`.
        let data = if data.is_empty() {
            "=".to_owned()
        } else {
            STANDARD.encode(data)
        };
        write(out, |text| {
            text.push('<');
            text.push_str(name);
            text.push_str(" xmlns='");
            text.push_str(SASL_NS);
            text.push_str("'>");
            text.push_str(&data);
            text.push_str("</");
            text.push_str(name);
            text.push('>');
        });
    }

    pub(super) fn bound<E>(
        &mut self,
        out: &mut Bytes<E>,
        now: I,
        element: Element,
        id: &str,
    ) -> Flow {
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
            write(out, |text| request.write_xml(text));
            self.step = Step::Session(jid);
            self.deadline = Some(now + self.config.timeout);
            return Ok(true);
        }
        self.online(out, jid);
        Ok(true)
    }

    /// Bound: online, and stream management asked for.
    pub(super) fn online<E>(&mut self, out: &mut Bytes<E>, jid: FullJid) {
        let other_resource = self
            .config
            .resource
            .as_deref()
            .is_some_and(|r| r != jid.resource().as_str());
        self.step = Step::Online;
        self.deadline = None;
        self.jid = Some(jid.clone());
        self.report(ClientEvent::Online {
            jid,
            other_resource,
        });
        self.enable(out);
    }
}

/// The channel binding types the server lists (XEP-0440), or `None` when
/// it does not say.
fn channel_binding_types(features: &Element) -> Option<Vec<&str>> {
    features
        .get_child("sasl-channel-binding", SASL_CB_NS)
        .map(|list| {
            list.children
                .iter()
                .filter(|c| c.name == "channel-binding")
                .filter_map(|c| c.get_attr("type"))
                .collect()
        })
}

/// The namespace of XEP-0440 (SASL Channel-Binding Type Capability).
const SASL_CB_NS: &str = "urn:xmpp:sasl-cb:0";
