//! SCRAM with channel binding and SASLprep, client side: an arbitrary user
//! name and password (SASLprep either prepares them or refuses them), a
//! GS2 flag of the input's choice (`n`, `y`, `p=tls-exporter`,
//! `p=tls-server-end-point` with arbitrary data), then arbitrary
//! server-first and server-final messages. Nothing may panic; a
//! client-final always carries the `c=` of the flag and data chosen; and
//! an exchange with the test server (which checks the binding) succeeds
//! for matching bindings.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use iot_sansio::Secret;
use iot_xmpp::sasl::{ChannelBinding, ChannelBindingData, ScramClient, ScramHash};
use iot_xmpp::testing::ScramServer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.splitn(4, |b| *b == 0);
    let name = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let password = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let first = parts.next().unwrap_or_default();
    let last = parts.next().unwrap_or_default();
    let cb = first.get(..8).unwrap_or(first).to_vec();
    let binding = match mode % 4 {
        0 => ChannelBinding::Unsupported,
        1 => ChannelBinding::NotOffered,
        2 => ChannelBinding::Bound(ChannelBindingData::tls_exporter(cb.clone())),
        _ => ChannelBinding::Bound(ChannelBindingData::tls_server_end_point(cb.clone())),
    };
    let hash = if mode & 4 == 0 {
        ScramHash::Sha1
    } else {
        ScramHash::Sha256
    };
    let Ok(client) =
        ScramClient::with_nonce(hash, &name, &Secret::new(password.clone()), "fuzznonce")
    else {
        return;
    };
    let mut client = client
        .with_iterations(iot_xmpp::sasl::Iterations { min: 1, max: 64 })
        .with_binding(binding.clone());
    let c = format!("c={},", STANDARD.encode(binding.c_input().expose()));
    if mode & 8 == 0 {
        // Arbitrary server messages.
        if let Ok(final_message) = client.server_first(first) {
            assert!(final_message.starts_with(&c), "{final_message}");
            let _ = client.server_final(last);
        }
        return;
    }
    // Against the test server, bound to the same data: the exchange
    // succeeds unless SASLprep changed the password (the server knows it
    // raw) or the flag is one the server refuses.
    let server_binding = match &binding {
        ChannelBinding::Bound(data) => Some(data.clone()),
        _ => None,
    };
    let plus = server_binding.is_some();
    let mut server = ScramServer::new(hash, &password, b"salt", 2, "srv", server_binding, plus);
    let Ok(server_first) = server.first(&client.client_first()) else {
        return;
    };
    let final_message = client
        .server_first(server_first.as_bytes())
        .expect("the test server's first message reads");
    assert!(final_message.starts_with(&c));
    if let Ok(v) = server.last(&final_message) {
        client
            .server_final(v.as_bytes())
            .expect("the server's signature verifies");
    }
});
