//! Feeds arbitrary text to the presence parser and checks that an accepted
//! presence builds to a stanza that parses to the same presence.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oic_ra_proto::presence::Presence;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(presence) = Presence::parse(text) {
        let again = Presence::parse(&presence.to_xml());
        assert_eq!(again.as_ref(), Ok(&presence));
    }
});
