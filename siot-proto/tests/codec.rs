//! Keys (section 4) and the protocol elements: every error path, and
//! property round trips.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use siot_proto::key::{ALPHABET, KEY_TEXT_LEN, Key, KeyError};
use siot_proto::payload::{FriendItem, Friendship, Name, SiotError, SiotPayload};
use siot_proto::stanza::{BareJid, Element, Stanza};

#[test]
fn keys_are_strict() {
    assert!(Key::parse("TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW").is_ok());
    assert_eq!(Key::parse(""), Err(KeyError::Length { len: 0 }));
    assert_eq!(
        Key::parse("TWNK-KD5Y-MT3T-E1GS-DRDB-KVTWX"),
        Err(KeyError::Length { len: 30 })
    );
    assert_eq!(
        Key::parse("TWNKKD5Y-MT3T-E1GS-DRDB-KVTW-"),
        Err(KeyError::Grouping { position: 4 })
    );
    assert_eq!(
        Key::parse("TWN-KKD5Y-MT3T-E1GS-DRDB-KVTW"),
        Err(KeyError::Grouping { position: 3 })
    );
    // O and 0 are not in the alphabet (nor their lower case), nor
    // non-ASCII.
    for (bad, position) in [
        ("OWNK-KD5Y-MT3T-E1GS-DRDB-KVTW", 0),
        ("TWNK-KD5Y-MT3T-E1GS-DRDB-KVT0", 28),
        ("TWNK-KD5Y-MT3T-E1GS-DRDB-KVTo", 28),
        ("TWNK-KD5Y-MT3T-E1GS-DRDB-KVTÉ", 28),
        ("TWNK-KD5Y-MT3T-E1GS-DRDB-KVTé", 28),
    ] {
        assert_eq!(
            Key::parse(bad),
            Err(KeyError::Character { position }),
            "{bad}"
        );
    }
    // A key typed in lower case is the same key.
    assert_eq!(
        Key::parse("twnk-kd5y-mt3t-e1gs-drdb-kvtw").unwrap(),
        Key::parse("TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW").unwrap()
    );
    assert_eq!(
        Key::parse("TwNk-KD5Y-mt3t-E1GS-DRDB-KVTW")
            .unwrap()
            .expose(),
        "TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW"
    );
    // Errors never show the key.
    let e = Key::parse("TWNK-KD5Y-MT3T-E1GS-DRDB-KVT0")
        .unwrap_err()
        .to_string();
    assert!(!e.contains("TWNK"), "{e}");
}

#[test]
fn keys_are_secret() {
    let k = Key::parse("TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW").unwrap();
    let shown = format!("{k:?}");
    assert!(
        shown.starts_with("Key(") && shown.contains("REDACTED"),
        "{shown}"
    );
    assert!(!shown.contains("TWNK"));
    assert_eq!(k, Key::parse("TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW").unwrap());
    assert_ne!(k, Key::parse("TWNK-KD5Y-MT3T-E1GS-DRDB-KVTX").unwrap());
}

#[test]
fn generated_keys_use_the_whole_alphabet_evenly() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let mut counts = [0u32; 34];
    for _ in 0..2000 {
        let k = Key::generate(&mut rng);
        assert_eq!(Key::parse(k.expose()).unwrap(), k);
        assert_eq!(k.expose().len(), KEY_TEXT_LEN);
        for c in k.expose().bytes().filter(|b| *b != b'-') {
            counts[ALPHABET.iter().position(|a| *a == c).unwrap()] += 1;
        }
    }
    // 48,000 characters, 1411.8 expected each; a biased generator (modulo
    // 256) would give some letters about 1,500 and others about 1,300.
    for (i, c) in counts.iter().enumerate() {
        assert!(
            (1290..=1535).contains(c),
            "{} appears {c} times",
            ALPHABET[i] as char
        );
    }
    assert_ne!(Key::generate(&mut rng), Key::generate(&mut rng));
}

fn element(xml: &str) -> Result<Option<SiotPayload>, SiotError> {
    let s = Stanza::parse(
        &format!("<iq type='set' id='1'>{xml}</iq>"),
        &Default::default(),
    )
    .unwrap();
    SiotPayload::from_element(&s.payloads[0])
}

#[test]
fn element_error_paths() {
    const NS: &str = "xmlns='urn:xmpp:siot:1'";
    const KEY: &str = "TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW";
    assert_eq!(element("<query xmlns='jabber:iq:roster'/>"), Ok(None));
    assert_eq!(
        element(&format!("<bogus {NS}/>")),
        Err(SiotError::Unknown("bogus".into()))
    );
    assert_eq!(
        element(&format!("<register {NS}><name>a</name></register>")),
        Err(SiotError::MissingAttribute {
            element: "register",
            attribute: "key"
        })
    );
    assert_eq!(
        element(&format!("<register {NS} key='{KEY}'/>")),
        Err(SiotError::Name)
    );
    assert_eq!(
        element(&format!(
            "<register {NS} key='{KEY}'><name> </name></register>"
        )),
        Err(SiotError::Name)
    );
    assert_eq!(
        element(&format!(
            "<register {NS} key='{KEY}'><name>a</name><x/></register>"
        )),
        Err(SiotError::Child {
            parent: "register",
            child: "x".into()
        })
    );
    assert_eq!(
        element(&format!(
            "<register {NS} key='TWNK'><name>a</name></register>"
        )),
        Err(SiotError::Key {
            element: "register",
            error: KeyError::Length { len: 4 }
        })
    );
    assert_eq!(
        element(&format!("<claim {NS} key='{KEY}'/>")),
        Err(SiotError::MissingAttribute {
            element: "claim",
            attribute: "name"
        })
    );
    assert_eq!(
        element(&format!("<claimed {NS} jid='a@b/c'/>")),
        Err(SiotError::Jid {
            element: "claimed",
            value: "a@b/c".into()
        })
    );
    // A JID whose prepared form is not stable (U+03F9; found by the
    // structure-aware fuzz target `siot_typed`).
    assert_eq!(
        element(&format!("<owner {NS} jid='\u{3f9}@example.org'/>")),
        Err(SiotError::Jid {
            element: "owner",
            value: "\u{3f9}@example.org".into()
        })
    );
    assert_eq!(
        element(&format!("<owner {NS}/>")),
        Err(SiotError::MissingAttribute {
            element: "owner",
            attribute: "jid"
        })
    );
    assert!(matches!(
        element(&format!("<is-friend-result {NS} friend='maybe'/>")),
        Err(SiotError::Friend { .. })
    ));
    assert!(matches!(
        element(&format!(
            "<friendship-states {NS}><item jid='a@b' friend='pending'/></friendship-states>"
        )),
        Err(SiotError::Friend { .. })
    ));
    assert!(matches!(
        element(&format!(
            "<friendship-states {NS}><item friend='yes'/></friendship-states>"
        )),
        Err(SiotError::MissingAttribute { .. })
    ));
    assert!(matches!(
        element(&format!(
            "<friend-state-update {NS}><maybe jid='a@b'/></friend-state-update>"
        )),
        Err(SiotError::Child { .. })
    ));
    assert!(matches!(
        element(&format!(
            "<pending-friend-requests {NS}><pending-friend jid='@'/></pending-friend-requests>"
        )),
        Err(SiotError::Jid { .. })
    ));
    assert!(matches!(
        element(&format!(
            "<pending-friend-query {NS}><x/></pending-friend-query>"
        )),
        Err(SiotError::Child { .. })
    ));
    // Only the two printed without a namespace are read without one.
    assert_eq!(element("<claim name='a'/>"), Ok(None));
    assert!(element("<is-friend-query jid='a@b'/>").unwrap().is_some());
}

fn jid() -> impl Strategy<Value = BareJid> {
    ("[a-z][a-z0-9]{0,8}", "[a-z]{1,8}")
        .prop_map(|(n, d)| BareJid::new(&format!("{n}@{d}.org")).unwrap())
}

fn key() -> impl Strategy<Value = Key> {
    any::<u64>().prop_map(|seed| Key::generate(&mut ChaCha20Rng::seed_from_u64(seed)))
}

fn text() -> impl Strategy<Value = String> {
    // Names with characters XML must escape; no surrounding white space
    // (it is trimmed on reading).
    "[!-~\u{e9}\u{fc}][ -~\u{e9}\u{fc}<>&'\"]{0,30}[!-~]".prop_map(|s| s)
}

fn payload() -> impl Strategy<Value = SiotPayload> {
    let items = || {
        prop::collection::vec(
            (jid(), any::<bool>()).prop_map(|(jid, friend)| FriendItem { jid, friend }),
            0..4,
        )
    };
    prop_oneof![
        (
            key(),
            prop::collection::vec((prop::option::of("[a-z]{2}"), text()), 1..3)
        )
            .prop_map(|(key, names)| SiotPayload::Register {
                key,
                names: names
                    .into_iter()
                    .map(|(lang, text)| Name { lang, text })
                    .collect(),
            }),
        (text(), key()).prop_map(|(name, key)| SiotPayload::Claim { name, key }),
        jid().prop_map(|jid| SiotPayload::Claimed { jid }),
        jid().prop_map(|jid| SiotPayload::Owner { jid }),
        jid().prop_map(|jid| SiotPayload::IsFriendQuery { jid }),
        prop::sample::select(vec![Friendship::Yes, Friendship::No, Friendship::Pending])
            .prop_map(|friend| SiotPayload::IsFriendResult { friend }),
        Just(SiotPayload::PendingFriendNotification),
        Just(SiotPayload::PendingFriendQuery),
        prop::collection::vec(jid(), 0..4)
            .prop_map(|jids| SiotPayload::PendingFriendRequests { jids }),
        items().prop_map(|items| SiotPayload::FriendStateUpdate { items }),
        items().prop_map(|items| SiotPayload::FriendshipStates { items }),
    ]
}

proptest! {
    #[test]
    fn every_payload_round_trips_in_its_stanza(p in payload(), to in jid(), id in "[a-z0-9-]{1,12}") {
        let stanza = p.to_stanza(to, &id);
        let back = Stanza::parse(&stanza.to_xml(), &Default::default()).unwrap();
        prop_assert_eq!(&back, &stanza);
        prop_assert_eq!(SiotPayload::from_stanza(&back).unwrap(), Some(p));
    }

    #[test]
    fn elements_read_totally(name in "[a-z-]{1,30}", attrs in prop::collection::vec(("[a-z:]{1,6}", "\\PC{0,12}"), 0..3)) {
        let mut e = Element::new(&name, "urn:xmpp:siot:1");
        for (k, v) in attrs {
            e = e.attr(&k, v);
        }
        let _ = SiotPayload::from_element(&e);
    }
}

#[test]
fn subscription_halves() {
    use siot_proto::roster::Subscription::{Both, From, None, To};
    for (s, with_from, without_from, with_to, without_to) in [
        (None, From, None, To, None),
        (To, Both, To, To, None),
        (From, From, None, Both, From),
        (Both, Both, To, Both, From),
    ] {
        assert_eq!(
            (s.with_from(), s.without_from(), s.with_to(), s.without_to()),
            (with_from, without_from, with_to, without_to),
            "{s:?}"
        );
        assert_eq!(siot_proto::roster::is_friend(s), matches!(s, From | Both));
        assert_eq!(
            s.as_str().parse::<siot_proto::roster::Subscription>(),
            Ok(s)
        );
    }
}

#[test]
fn the_register_name_attribute_of_section_4_is_read_beside_the_children() {
    let limits = siot_proto::stanza_limits();
    let attribute = "<iq type='set' id='register-1' to='provisioning.example.org'>\
        <register xmlns='urn:xmpp:siot:1' name='Futuretec Light Bulb 10X' key='twnk-kd5y-mt3t-e1gs-drdb-kvtw'/></iq>";
    let stanza = Stanza::parse(attribute, &limits).unwrap();
    let Ok(Some(SiotPayload::Register { key, names })) = SiotPayload::from_stanza(&stanza) else {
        panic!("not read");
    };
    assert_eq!(
        key.expose(),
        "TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW",
        "a lower-case key is normalized"
    );
    assert_eq!(
        names,
        [Name {
            lang: None,
            text: "Futuretec Light Bulb 10X".into()
        }]
    );
    // Both forms at once: the attribute first, then the children.
    let both = "<iq type='set' id='register-1' to='provisioning.example.org'>\
        <register xmlns='urn:xmpp:siot:1' name='Bulb' key='TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW'>\
        <name xml:lang='sv'>Lampa</name></register></iq>";
    let stanza = Stanza::parse(both, &limits).unwrap();
    let Ok(Some(SiotPayload::Register { names, .. })) = SiotPayload::from_stanza(&stanza) else {
        panic!("not read");
    };
    assert_eq!(
        names.iter().map(|n| n.text.as_str()).collect::<Vec<_>>(),
        ["Bulb", "Lampa"]
    );
    // An empty attribute and no children is still no name.
    let empty = "<iq type='set' id='r'><register xmlns='urn:xmpp:siot:1' name=' ' key='TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW'/></iq>";
    let stanza = Stanza::parse(empty, &limits).unwrap();
    assert!(SiotPayload::from_stanza(&stanza).is_err());
}
