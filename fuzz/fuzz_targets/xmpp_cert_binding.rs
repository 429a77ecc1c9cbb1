//! The `tls-server-end-point` channel binding of a server's certificate
//! (RFC 5929 4.1), read from arbitrary bytes as a DER certificate: never a
//! panic; a binding, when there is one, is a SHA-256, SHA-384 or SHA-512
//! of the whole input.
#![no_main]

use iot_xmpp_net::server_end_point;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(hash) = server_end_point(data) {
        assert!(matches!(hash.len(), 32 | 48 | 64), "{}", hash.len());
    }
});
