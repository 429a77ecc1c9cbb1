//! The XMPP client connection after a valid login (the RFC 5802 exchange
//! on a scripted server), fed arbitrary server bytes, clock ticks, closes
//! of the transport, stanzas to send and its own close. Under the
//! family's contract checker it must not panic, must end at most once, and
//! must neither send nor report anything after its end.
#![no_main]

mod common;

use core::time::Duration;

use iot_sansio::testing::Checked;
use iot_sansio::{Input, Machine};
use iot_xmpp::stream::{Client, ClientEvent};
use iot_xmpp::testing::{rfc5802_login, rfc5802_nonce};
use iot_xmpp::{Stanza, StanzaLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(config) = common::rfc5802_client_config() else {
        return;
    };
    let mut client = Checked::new(Client::new(config, rfc5802_nonce()));
    let mut now = Duration::ZERO;
    client.start(now);
    client.handle_input(
        now,
        Input::Data(rfc5802_login("user@localhost/r1").as_bytes()),
    );
    let online = common::drain(&mut client)
        .iter()
        .any(|e| matches!(e, ClientEvent::Online { .. }));
    assert!(online, "the scripted login succeeds");
    let presence = Stanza::parse("<presence/>", &StanzaLimits::default()).ok();
    for (op, chunk) in common::ops(data, usize::from) {
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
        common::drain(&mut client);
    }
});
