//! The RAE full-JID scheme of 7.1.1: the printed examples, normalization,
//! error paths and property round trips.

#![allow(clippy::unwrap_used)]

use oic_ra_proto::identity::{BareJid, FullJid, IdentityError, RaeJid, Role, Uuid, discover};
use proptest::prelude::*;

/// The two examples of 7.1.1 as printed. Their UUIDs are not UUIDs: the
/// last group has 13 digits, and the client's has an `X`. This crate
/// refuses them (see PROFILE.md) and accepts them corrected.
const PRINTED_SERVER: &str =
    "me@mydomain.com/OIC/1.0/oic.d.light/FFFFB960-BABE-46F7-BEC0-9E6234671ADC0";
const PRINTED_CLIENT: &str = "me@mydomain.com/OIC/1.0/Client/FXFFB960-FFFF-46F7-BABE-9E6234671ADC1";

#[test]
fn printed_examples_are_refused_for_their_uuids() {
    assert_eq!(
        PRINTED_SERVER.parse::<RaeJid>(),
        Err(IdentityError::Uuid(
            "FFFFB960-BABE-46F7-BEC0-9E6234671ADC0".into()
        ))
    );
    assert_eq!(
        PRINTED_CLIENT.parse::<RaeJid>(),
        Err(IdentityError::Uuid(
            "FXFFB960-FFFF-46F7-BABE-9E6234671ADC1".into()
        ))
    );
}

#[test]
fn corrected_examples_both_ways() {
    let bare = BareJid::new("me@mydomain.com").unwrap();
    let server = RaeJid::server(
        &bare,
        "oic.d.light",
        Uuid::new("FFFFB960-BABE-46F7-BEC0-9E6234671ADC").unwrap(),
    )
    .unwrap();
    assert_eq!(
        server.to_string(),
        "me@mydomain.com/OIC/1.0/oic.d.light/FFFFB960-BABE-46F7-BEC0-9E6234671ADC"
    );
    let parsed: RaeJid = server.to_string().parse().unwrap();
    assert_eq!(parsed, server);
    assert_eq!(parsed.device_type(), Some("oic.d.light"));
    let client = RaeJid::client(
        &bare,
        Uuid::new("FFFFB960-FFFF-46F7-BABE-9E6234671ADC").unwrap(),
    )
    .unwrap();
    assert_eq!(
        client.to_string(),
        "me@mydomain.com/OIC/1.0/Client/FFFFB960-FFFF-46F7-BABE-9E6234671ADC"
    );
    let parsed: RaeJid = client.to_string().parse().unwrap();
    assert_eq!(parsed.role(), &Role::Client);
    assert_eq!(parsed.device_type(), None);
    assert_eq!(parsed.bare(), bare);
}

#[test]
fn bare_jids_compare_without_case() {
    let a: RaeJid = "Me@MyDomain.COM/OIC/1.0/Client/FFFFB960-FFFF-46F7-BABE-9E6234671ADC"
        .parse()
        .unwrap();
    assert_eq!(a.bare(), BareJid::new("me@mydomain.com").unwrap());
    // The resource keeps its case.
    assert!(
        a.jid()
            .as_str()
            .ends_with("/OIC/1.0/Client/FFFFB960-FFFF-46F7-BABE-9E6234671ADC")
    );
}

#[test]
fn error_paths() {
    let uuid = "FFFFB960-FFFF-46F7-BABE-9E6234671ADC";
    assert!(matches!(
        "me@mydomain.com".parse::<RaeJid>(),
        Err(IdentityError::Jid(_))
    ));
    assert!(matches!(
        "@/x".parse::<RaeJid>(),
        Err(IdentityError::Jid(_))
    ));
    assert_eq!(
        "me@d.com/phone".parse::<RaeJid>(),
        Err(IdentityError::NotOic)
    );
    assert_eq!(
        "me@d.com/OIC/1.0/Client".parse::<RaeJid>(),
        Err(IdentityError::NotOic)
    );
    assert_eq!(
        format!("me@d.com/OIC/2.0/Client/{uuid}").parse::<RaeJid>(),
        Err(IdentityError::Version("2.0".into()))
    );
    assert_eq!(
        format!("me@d.com/OIC/1.0/Oic.D.Light/{uuid}").parse::<RaeJid>(),
        Err(IdentityError::DeviceType("Oic.D.Light".into()))
    );
    assert_eq!(
        "me@d.com/OIC/1.0/Client/FFFFB960-FFFF-46F7-BABE-9E6234671ADC/extra".parse::<RaeJid>(),
        Err(IdentityError::Uuid(
            "FFFFB960-FFFF-46F7-BABE-9E6234671ADC/extra".into()
        ))
    );
    for bad in [
        "",
        "FFFFB960FFFF46F7BABE9E6234671ADC",
        "FFFFB960-FFFF-46F7-BABE-9E6234671AD",
        "GFFFB960-FFFF-46F7-BABE-9E6234671ADC",
    ] {
        assert!(Uuid::new(bad).is_err(), "{bad}");
    }
    let bare = BareJid::new("me@d.com").unwrap();
    assert!(RaeJid::server(&bare, "", Uuid::new(uuid).unwrap()).is_err());
    assert!(RaeJid::server(&bare, "Client", Uuid::new(uuid).unwrap()).is_err());
}

#[test]
fn discovery_from_presences() {
    let seen: Vec<FullJid> = [
        "me@home.example/OIC/1.0/oic.d.light/FFFFB960-BABE-46F7-BEC0-9E6234671ADC",
        "me@home.example/OIC/1.0/Client/AAAAB960-BABE-46F7-BEC0-9E6234671ADC",
        "me@home.example/laptop",
        "me@home.example/OIC/1.0/oic.d.fan/BBBBB960-BABE-46F7-BEC0-9E6234671ADC",
    ]
    .iter()
    .map(|j| FullJid::new(j).unwrap())
    .collect();
    let types: Vec<Option<String>> = discover(&seen)
        .map(|r| r.device_type().map(str::to_owned))
        .collect();
    assert_eq!(
        types,
        [
            Some("oic.d.light".to_owned()),
            None,
            Some("oic.d.fan".to_owned())
        ]
    );
}

proptest! {
    #[test]
    fn build_then_parse(user in "[a-z][a-z0-9]{0,10}", device_type in "oic\\.d\\.[a-z]{1,10}",
                        groups in ("[0-9a-fA-F]{8}", "[0-9a-fA-F]{4}", "[0-9a-fA-F]{4}", "[0-9a-fA-F]{4}", "[0-9a-fA-F]{12}"),
                        server in any::<bool>()) {
        let bare = BareJid::new(&format!("{user}@example.org")).unwrap();
        let uuid = Uuid::new(&format!("{}-{}-{}-{}-{}", groups.0, groups.1, groups.2, groups.3, groups.4)).unwrap();
        let rae = if server { RaeJid::server(&bare, &device_type, uuid).unwrap() } else { RaeJid::client(&bare, uuid).unwrap() };
        prop_assert_eq!(rae.to_string().parse::<RaeJid>().unwrap(), rae);
    }

    #[test]
    fn parsing_never_panics(text in any::<String>()) {
        let _ = text.parse::<RaeJid>();
    }
}
