//! Feeds arbitrary text to the stanza reader and the `urn:xmpp:siot:1`
//! element reader; whatever parses must build back to a stanza that parses
//! to the same payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use siot_proto::payload::SiotPayload;
use siot_proto::stanza::{Jid, Stanza, StanzaLimits};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = StanzaLimits::default();
    let Ok(stanza) = Stanza::parse(text, &limits) else {
        return;
    };
    let Ok(Some(payload)) = SiotPayload::from_stanza(&stanza) else {
        return;
    };
    let to = stanza
        .to
        .clone()
        .unwrap_or_else(|| Jid::new("provisioning.example.org").unwrap_or_else(|_| unreachable!()));
    let built = payload.to_stanza(to, "x");
    let again = Stanza::parse(&built.to_xml(), &limits).map(|s| SiotPayload::from_stanza(&s));
    assert_eq!(again, Ok(Ok(Some(payload))));
});
