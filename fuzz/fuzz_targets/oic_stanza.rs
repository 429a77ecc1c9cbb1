//! Feeds arbitrary text to the stanza reader (owned and in place) and to
//! the IBB, ping and `<rest>` readers behind it; both readers must agree,
//! and whatever parses must build back to text that parses to the same
//! value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oic_ra_proto::ibb::IbbPayload;
use oic_ra_proto::ping::pong;
use oic_ra_proto::rest::{RestLimits, RestMessage};
use oic_ra_proto::stanza::{Stanza, StanzaLimits};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = StanzaLimits::default();
    let parsed = Stanza::parse(text, &limits);
    let in_place = Stanza::parse_ref(text, &limits);
    assert_eq!(
        parsed,
        in_place
            .as_ref()
            .map(Stanza::to_owned_stanza)
            .map_err(Clone::clone)
    );
    let (Ok(stanza), Ok(in_place)) = (parsed, in_place) else {
        return;
    };
    assert_eq!(
        IbbPayload::from_stanza(&in_place),
        IbbPayload::from_stanza(&stanza)
    );
    let again = Stanza::parse(&stanza.to_xml(), &limits);
    assert_eq!(again.as_ref(), Ok(&stanza));
    if let Some(reply) = pong(&stanza) {
        assert!(Stanza::parse(&reply.to_xml(), &limits).is_ok());
    }
    let _ = stanza.error();
    if let Ok(ibb) = IbbPayload::from_stanza(&stanza) {
        assert_eq!(IbbPayload::from_element(&ibb.to_element()), Ok(ibb.clone()));
        if let IbbPayload::Data { data, .. } = ibb
            && let Ok(doc) = std::str::from_utf8(&data)
        {
            let owned = RestMessage::parse(doc, &RestLimits::default());
            let lent = RestMessage::parse_ref(doc, &RestLimits::default());
            assert_eq!(owned, lent.map(|m| m.to_owned_message()));
        }
    }
});
