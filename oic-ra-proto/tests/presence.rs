//! Presence and priority of 7.3 (Table 4).

#![allow(clippy::unwrap_used)]

use oic_ra_proto::presence::{Presence, PresenceError, PriorityClass, Reachability};
use proptest::prelude::*;

#[test]
fn table_4_mapping() {
    let available = Presence::parse(
        "<presence from='me@x.org/OIC/1.0/oic.d.light/FFFFB960-BABE-46F7-BEC0-9E6234671ADC'/>",
    )
    .unwrap();
    assert_eq!(available.reachability, Reachability::Reachable);
    assert!(available.from.is_some());
    let unavailable = Presence::parse("<presence type=\"unavailable\"/>").unwrap();
    assert_eq!(unavailable.reachability, Reachability::Unreachable);
    assert_eq!(unavailable, Presence::unavailable());
    assert_eq!(
        Presence::unavailable().to_xml(),
        "<presence type=\"unavailable\"/>"
    );
}

#[test]
fn the_four_priority_ranges() {
    let cases = [
        (PriorityClass::Server, -100, -33),
        (PriorityClass::ServerWithFeatures, 1, 66),
        (PriorityClass::Client, -66, -1),
        (PriorityClass::ClientWithFeatures, 33, 100),
    ];
    for (class, min, max) in cases {
        for p in [min, max] {
            let presence = Presence::available(class, p).unwrap();
            assert_eq!(Presence::parse(&presence.to_xml()).unwrap(), presence);
        }
        for p in [min - 1, max + 1] {
            assert_eq!(
                Presence::available(class, p),
                Err(PresenceError::Priority {
                    class,
                    priority: p,
                    min,
                    max
                })
            );
        }
    }
}

#[test]
fn extensions_are_skipped_and_errors_reported() {
    let p = Presence::parse(
        "<presence><show>away</show><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/><priority> 5 </priority><status>out</status></presence>",
    )
    .unwrap();
    assert_eq!(p.priority, Some(5));
    assert_eq!(
        Presence::parse("<presence type='subscribe'/>"),
        Err(PresenceError::OtherType("subscribe".into()))
    );
    assert_eq!(
        Presence::parse("<presence><priority>200</priority></presence>"),
        Err(PresenceError::BadPriority("200".into()))
    );
    assert!(matches!(
        Presence::parse("<message/>"),
        Err(PresenceError::Xml(_))
    ));
    assert!(matches!(
        Presence::parse("<presence>"),
        Err(PresenceError::Xml(_))
    ));
    assert!(matches!(
        Presence::parse("<presence from='@'/>"),
        Err(PresenceError::From(_))
    ));
}

proptest! {
    #[test]
    fn round_trip(class in proptest::sample::select(vec![PriorityClass::Server, PriorityClass::ServerWithFeatures, PriorityClass::Client, PriorityClass::ClientWithFeatures]), p in any::<i8>()) {
        match Presence::available(class, p) {
            Ok(presence) => prop_assert_eq!(Presence::parse(&presence.to_xml()).unwrap(), presence),
            Err(_) => prop_assert!(!class.range().contains(&p)),
        }
    }

    #[test]
    fn parsing_never_panics(text in any::<String>()) {
        let _ = Presence::parse(&text);
    }
}
