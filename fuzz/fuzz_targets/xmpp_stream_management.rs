//! Stream management (XEP-0198) on the XMPP client connection: a login
//! whose server offers it, then arbitrary server bytes (acknowledgements,
//! requests, `<enabled/>`, `<failed/>`, stanzas, garbage), clock ticks,
//! lost transports and stanzas to send; and, when the first byte asks,
//! a second connection resuming the first's session before the same
//! input. Under the family's contract checker neither may panic, end more
//! than once, or act after its end; the unacknowledged stanzas never pass
//! the configured bound, and a session is resumable only after its
//! transport was lost.
#![no_main]

mod common;

use core::time::Duration;

use iot_sansio::testing::Checked;
use iot_sansio::{Input, Machine};
use iot_xmpp::stream::{Client, ClientConfig, Resumption};
use iot_xmpp::testing::{rfc5802_login, rfc5802_nonce};
use iot_xmpp::{Stanza, StanzaKind};
use libfuzzer_sys::fuzz_target;

const MAX_UNACKED: usize = 8;
const BIND: &str = "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";
const BIND_SM: &str =
    "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>";

fn config() -> Option<ClientConfig> {
    let mut config = common::rfc5802_client_config()?;
    config.stream_management.max_unacked = MAX_UNACKED;
    Some(config)
}

/// Runs `client` through `data`'s operations; returns the session it
/// leaves to resume.
fn run(
    client: &mut Checked<Client<Duration, impl rand_core::CryptoRngCore>>,
    data: &[u8],
) -> Option<Resumption> {
    let mut now = Duration::ZERO;
    let mut sent = 0u32;
    let mut lost = false;
    for (op, chunk) in common::ops(data, usize::from) {
        match op % 23 {
            0 => {
                now += Duration::from_secs(11);
                client.handle_timeout(now);
            }
            1 => {
                client.handle_input(now, Input::PeerClosed);
                lost = true;
            }
            2 | 3 => {
                sent += 1;
                let stanza = Stanza::new(StanzaKind::Message).with_id(sent.to_string());
                let _ = client.send(&stanza);
            }
            _ => client.handle_input(now, Input::Data(chunk)),
        }
        common::drain(client);
        assert!(client.unacknowledged().count() <= MAX_UNACKED);
    }
    let resumption = client.resumption();
    if resumption.is_some() {
        // Only a transport lost or silent leaves a session to resume.
        assert!(lost || now > Duration::ZERO);
    }
    resumption
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let Some(config) = config() else {
        return;
    };
    let login = rfc5802_login("user@localhost/r1").replace(BIND, BIND_SM);
    let mut client = Checked::new(Client::new(config.clone(), rfc5802_nonce()));
    client.start(Duration::ZERO);
    client.handle_input(Duration::ZERO, Input::Data(login.as_bytes()));
    common::drain(&mut client);
    client.handle_input(
        Duration::ZERO,
        Input::Data(b"<enabled xmlns='urn:xmpp:sm:3' id='s1' resume='true'/>"),
    );
    let resumption = run(&mut client, data);
    if mode & 1 == 1
        && let Some(resumption) = resumption
    {
        // The same login up to the bind features, then the input.
        let login = &login[..login.find("<iq").unwrap_or(login.len())];
        let mut again = Checked::new(Client::resume(config, rfc5802_nonce(), resumption));
        again.start(Duration::ZERO);
        again.handle_input(Duration::ZERO, Input::Data(login.as_bytes()));
        common::drain(&mut again);
        run(&mut again, data);
    }
});
