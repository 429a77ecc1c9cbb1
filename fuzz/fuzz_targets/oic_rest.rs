//! Feeds arbitrary documents to the `<rest>` parser, as XML (owned and in
//! place, which must agree) and as base64, and checks that whatever parses
//! builds back to a document that parses to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oic_ra_proto::rest::{RestLimits, RestMessage};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = RestLimits::default();
    let lent = RestMessage::parse_ref(text, &limits);
    assert_eq!(
        RestMessage::parse(text, &limits),
        lent.map(|m| m.to_owned_message())
    );
    for parsed in [
        RestMessage::parse(text, &limits),
        RestMessage::from_base64(text, &limits),
    ] {
        if let Ok(message) = parsed {
            // Trimming makes parsing lossy for surrounding white space only:
            // a rebuilt document parses to the same message.
            let again = RestMessage::parse(&message.to_xml(), &limits);
            assert_eq!(again.as_ref(), Ok(&message));
        }
    }
});
