//! A Remote Access Endpoint logged in on a scripted server (the RFC 5802
//! exchange), then fed arbitrary server bytes (stanzas of every kind: IBB
//! opens and blocks, presence, roster pushes, pings, requests it does not
//! handle), clock ticks, closes of the transport, requests to a peer and
//! its own close; with a reconnection policy and stream management when
//! the first byte says so, new transports too (`Rae::connected`). Under
//! the family's contract checker it must not panic, must end at most once,
//! and must send, report and time nothing after its end.
#![no_main]

mod common;

use core::time::Duration;

use iot_sansio::testing::Checked;
use iot_sansio::{Input, Machine, Secret};
use iot_xmpp::StanzaLimits;
use iot_xmpp::sasl::{Mechanism, MechanismPreference};
use iot_xmpp::stream::Tls;
use iot_xmpp::testing::{rfc5802_login, rfc5802_nonce};
use libfuzzer_sys::fuzz_target;
use oic_ra_proto::presence::PriorityClass;
use oic_ra_proto::rae::{Rae, RaeConfig, RaeEvent};
use oic_ra_proto::rest::{Method, RestMessage};

const ME: &str = "user@localhost/OIC/1.0/Client/6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11";
const LIGHT: &str = "user@localhost/OIC/1.0/oic.d.light/0685b960-736f-46f7-bead-0bd3b6d8d1d6";

fuzz_target!(|data: &[u8]| {
    let (Ok(me), Ok(light)) = (ME.parse(), LIGHT.parse()) else {
        return;
    };
    let Ok(mut config) = RaeConfig::new(
        me,
        Secret::new("pencil"),
        PriorityClass::ClientWithFeatures,
        50,
    ) else {
        return;
    };
    config.connection.tls = Tls::Insecure;
    config.connection.mechanisms = MechanismPreference::new(&[Mechanism::ScramSha1]);
    config.connection.limits = StanzaLimits {
        max_len: 8192,
        ..StanzaLimits::default()
    };
    let first = data.first().copied().unwrap_or(0);
    if first & 0x40 != 0 {
        config.reconnect = Some(iot_sansio::backoff::BackoffConfig {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
            jitter: 50,
            stable_after: Duration::from_secs(60),
        });
    }
    let stream_management = first & 0x20 != 0;
    let mut rae = Checked::new(Rae::new(
        config,
        rfc5802_nonce(),
        iot_sansio::testing::rng(1),
    ));
    let mut now = Duration::ZERO;
    rae.start(now);
    let mut login = rfc5802_login(ME);
    if stream_management {
        login = login.replace(
            "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
            "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>",
        ) + "<enabled xmlns='urn:xmpp:sm:3' id='s1' resume='true'/>";
    }
    rae.handle_input(now, Input::Data(login.as_bytes()));
    common::drain(&mut rae);
    let get = RestMessage::request(Method::Get, "coap://light/a");
    for (op, chunk) in common::ops(data, usize::from) {
        match op % 31 {
            0 => {
                now += Duration::from_secs(20);
                rae.handle_timeout(now);
            }
            1 => rae.handle_input(now, Input::PeerClosed),
            2 => rae.close(now),
            3 => {
                let _ = rae.request(now, &light, &get);
            }
            4 => rae.connected(now),
            _ => rae.handle_input(now, Input::Data(chunk)),
        }
        for event in common::drain(&mut rae) {
            if let RaeEvent::Ended(_) = event {
                assert!(rae.poll_timeout().is_none());
            }
        }
    }
});
