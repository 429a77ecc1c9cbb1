//! The XEP-0199 keepalive (OIC RA 7.4) fed arbitrary stanzas (answers to
//! its pings from the right and the wrong sender, errors, pings of the
//! server's) and clock ticks. Under the family's contract checker it must
//! not panic, must end at most once and only by timing out, and must have
//! a ping waiting or a deadline set whenever it lives.
#![no_main]

use core::time::Duration;

use iot_sansio::testing::{Checked, events};
use iot_sansio::{End, Input, Machine};
use iot_xmpp::{Stanza, StanzaLimits};
use libfuzzer_sys::fuzz_target;
use oic_ra_proto::ping::{Keepalive, KeepaliveConfig, KeepaliveEvent};

fuzz_target!(|data: &[u8]| {
    let mut now = Duration::ZERO;
    let mut k = Checked::new(Keepalive::new(now, KeepaliveConfig::default(), None));
    let mut ended = false;
    let mut last_ping_id = String::new();
    for chunk in data.split(|b| *b == 0) {
        let Some((&op, text)) = chunk.split_first() else {
            continue;
        };
        match op % 4 {
            0 => {
                now += Duration::from_secs(u64::from(op));
                k.handle_timeout(now);
            }
            1 => {
                // An answer to the last ping, as the server would send it.
                let answer = format!("<iq type='result' id='{last_ping_id}'/>");
                if let Ok(s) = Stanza::parse(&answer, &StanzaLimits::default()) {
                    k.handle_input(now, Input::Data(&s));
                }
            }
            _ => {
                let Ok(text) = std::str::from_utf8(text) else {
                    continue;
                };
                if let Ok(s) = Stanza::parse(text, &StanzaLimits::default()) {
                    k.handle_input(now, Input::Data(&s));
                }
            }
        }
        while let Some(ping) = k.poll_transmit() {
            last_ping_id = ping.id.clone().unwrap_or_default();
        }
        for e in events(&mut k) {
            assert!(matches!(e, KeepaliveEvent::Ended(End::TimedOut)), "{e:?}");
            ended = true;
        }
        assert_eq!(
            ended,
            k.poll_timeout().is_none(),
            "a live keepalive keeps a deadline"
        );
    }
});
