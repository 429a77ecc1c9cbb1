//! The XMPP client connection after a valid login (the RFC 5802 exchange
//! on a scripted server), fed arbitrary server bytes, clock ticks, closes
//! of the transport, stanzas to send and its own close. It must not panic,
//! must end at most once, and must neither send nor report anything after
//! its end.
#![no_main]

use core::time::Duration;

use iot_sansio::{Input, Machine, Secret};
use iot_xmpp::sasl::{Mechanism, MechanismPreference};
use iot_xmpp::stream::{ClientConfig, ClientConnection, ClientEvent, Tls};
use iot_xmpp::{BareJid, Stanza, StanzaLimits};
use libfuzzer_sys::fuzz_target;
use rand_core::{CryptoRng, RngCore};

/// Hands out the bytes of the RFC 5802 client nonce.
struct Fixed(Vec<u8>);

impl RngCore for Fixed {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            *b = if self.0.is_empty() {
                0
            } else {
                self.0.remove(0)
            };
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for Fixed {}

/// base64 "fyko+d2lbbFgONRv9qkxdawL" decoded.
const NONCE: [u8; 18] = [
    0x7f, 0x29, 0x28, 0xf9, 0xdd, 0xa5, 0x6d, 0xb1, 0x60, 0x38, 0xd4, 0x6f, 0xf6, 0xa9, 0x31, 0x75,
    0xac, 0x0b,
];

const LOGIN: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>\
<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>\
<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0wzcmZjTkhZSlkxWlZ2V1ZzN2oscz1RU1hDUitRNnNlazhiZjkyLGk9NDA5Ng==</challenge>\
<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1ybUY5cHFWOFM3c3VBb1pXamE0ZEpSa0ZzS1E9</success>\
<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s2' version='1.0'>\
<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>\
<iq type='result' id='bind-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@localhost/r1</jid></bind></iq>";

fuzz_target!(|data: &[u8]| {
    let Ok(jid) = BareJid::new("user@localhost") else {
        return;
    };
    let mut config = ClientConfig::new(jid, Secret::new("pencil"), Some("r1".into()));
    config.tls = Tls::Insecure;
    config.mechanisms = MechanismPreference::new(&[Mechanism::ScramSha1]);
    config.limits = StanzaLimits {
        max_len: 4096,
        ..StanzaLimits::default()
    };
    let mut client = ClientConnection::new(config, Fixed(NONCE.to_vec()));
    let mut now = Duration::ZERO;
    client.start(now);
    client.handle_input(now, Input::Data(LOGIN.as_bytes()));
    while client.poll_transmit().is_some() {}
    let mut online = false;
    while let Some(e) = client.poll_event() {
        online |= matches!(e, ClientEvent::Online { .. });
    }
    assert!(online, "the scripted login succeeds");
    let presence = Stanza::parse("<presence/>", &StanzaLimits::default()).ok();
    let mut ended = false;
    let mut input = data;
    while let [op, rest @ ..] = input {
        let len = usize::from(*op).min(rest.len());
        let (chunk, next) = rest.split_at(len);
        input = next;
        match op % 29 {
            0 => {
                now += Duration::from_secs(20);
                client.handle_timeout(now);
            }
            1 => client.handle_input(now, Input::PeerClosed),
            2 => client.close(now),
            3 => {
                if let Some(p) = &presence {
                    let _ = client.send(p);
                }
            }
            _ => client.handle_input(now, Input::Data(chunk)),
        }
        let sent = std::iter::from_fn(|| client.poll_transmit()).count();
        let mut ends = 0;
        while let Some(e) = client.poll_event() {
            assert!(!ended, "an event after the end: {e:?}");
            ends += usize::from(matches!(e, ClientEvent::Ended(_)));
        }
        assert!(ends <= 1);
        if ended {
            assert_eq!(sent, 0, "bytes after the end");
        }
        ended |= ends == 1;
        if ended {
            assert_eq!(client.poll_timeout(), None);
        }
    }
});
