//! Feeds arbitrary text to the RAE full-JID parser and checks that an
//! accepted JID prints to text that parses to the same identity.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oic_ra_proto::identity::RaeJid;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rae) = text.parse::<RaeJid>() {
        let again = rae.to_string().parse::<RaeJid>();
        assert_eq!(again.as_ref(), Ok(&rae));
    }
});
