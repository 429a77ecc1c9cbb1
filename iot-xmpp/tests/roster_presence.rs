//! The roster codec and copy (RFC 6121 section 2: the examples of 2.1.4,
//! 2.1.6 and 2.6) and the presence tracker (sections 3 and 4).

#![allow(clippy::unwrap_used)]

use iot_xmpp::presence::{PresenceChange, PresenceTracker, SubscriptionRequest};
use iot_xmpp::roster::{Roster, RosterChange, RosterEntry, RosterError, RosterItem, RosterQuery};
use iot_xmpp::{BareJid, FullJid, Stanza, Subscription};
use proptest::prelude::*;

fn juliet() -> FullJid {
    "juliet@example.com/balcony".parse().unwrap()
}

/// RFC 6121 section 2.1.4, the roster result (names as printed).
const RESULT: &str = "<iq id='bv1bs71f' to='juliet@example.com/chamber' type='result'>\
    <query xmlns='jabber:iq:roster' ver='ver11'>\
    <item jid='romeo@example.net' name='Romeo' subscription='both'><group>Friends</group></item>\
    <item jid='mercutio@example.com' name='Mercutio' subscription='from'/>\
    <item jid='benvolio@example.net' name='Benvolio' subscription='both'/>\
    </query></iq>";

#[test]
fn the_rfc_6121_roster_result_fills_the_roster() {
    let mut roster = Roster::new();
    let changes = roster
        .take_result(&RESULT.parse::<Stanza>().unwrap())
        .unwrap();
    assert_eq!(changes.len(), 3);
    assert_eq!(roster.ver(), Some("ver11"));
    let romeo = roster
        .get(&BareJid::new("romeo@example.net").unwrap())
        .unwrap();
    assert_eq!(
        romeo,
        &RosterItem {
            jid: BareJid::new("romeo@example.net").unwrap(),
            name: Some("Romeo".into()),
            subscription: Subscription::Both,
            pending_out: false,
            groups: vec!["Friends".into()],
        }
    );
    // The same result again changes nothing; a shorter one removes.
    assert!(
        roster
            .take_result(&RESULT.parse::<Stanza>().unwrap())
            .unwrap()
            .is_empty()
    );
    let shorter = RESULT.replace(
        "<item jid='mercutio@example.com' name='Mercutio' subscription='from'/>",
        "",
    );
    assert_eq!(
        roster
            .take_result(&shorter.parse::<Stanza>().unwrap())
            .unwrap(),
        [RosterChange::Removed(
            BareJid::new("mercutio@example.com").unwrap()
        )]
    );
    // Versioning: an empty result means nothing changed (2.6.3).
    assert!(
        roster
            .take_result(&"<iq type='result' id='x'/>".parse::<Stanza>().unwrap())
            .unwrap()
            .is_empty()
    );
    assert_eq!(roster.items().count(), 2);
}

#[test]
fn pushes_change_the_roster_and_are_answered() {
    let mut roster = Roster::restore(Vec::new(), Some("ver11".into()));
    // RFC 6121 section 2.1.6, a push adding nurse.
    let push = ("<iq id='a78b4q6ha463' to='juliet@example.com/balcony' type='set'>\
         <query xmlns='jabber:iq:roster' ver='ver13'><item jid='nurse@example.com' subscription='none'/></query></iq>").parse::<Stanza>().unwrap();
    let (change, reply) = roster.take_push(&push, &juliet()).unwrap();
    assert!(matches!(
        change,
        RosterChange::Updated(RosterItem {
            subscription: Subscription::None,
            ..
        })
    ));
    assert_eq!(reply.iq_type(), Some(iot_xmpp::IqType::Result));
    assert_eq!(reply.id.as_deref(), Some("a78b4q6ha463"));
    assert_eq!(roster.ver(), Some("ver13"));
    // From the own bare JID too; a removal.
    let remove = ("<iq id='r1' from='juliet@example.com' type='set'>\
         <query xmlns='jabber:iq:roster' ver='ver14'><item jid='nurse@example.com' subscription='remove'/></query></iq>").parse::<Stanza>().unwrap();
    let (change, _) = roster.take_push(&remove, &juliet()).unwrap();
    assert_eq!(
        change,
        RosterChange::Removed(BareJid::new("nurse@example.com").unwrap())
    );
    assert_eq!(roster.items().count(), 0);
}

#[test]
fn forged_and_malformed_pushes_are_refused() {
    let mut roster = Roster::new();
    let forged = ("<iq id='f' from='mallory@evil.example/x' type='set'>\
         <query xmlns='jabber:iq:roster'><item jid='mallory@evil.example' subscription='both'/></query></iq>").parse::<Stanza>().unwrap();
    assert_eq!(
        roster.take_push(&forged, &juliet()),
        Err(RosterError::PushFrom("mallory@evil.example/x".into()))
    );
    let two = ("<iq id='t' type='set'><query xmlns='jabber:iq:roster'>\
         <item jid='a@example.com'/><item jid='b@example.com'/></query></iq>")
        .parse::<Stanza>()
        .unwrap();
    assert_eq!(
        roster.take_push(&two, &juliet()),
        Err(RosterError::PushItems(2))
    );
    let bad = ("<iq id='b' type='set'><query xmlns='jabber:iq:roster'><item jid='a@example.com' subscription='maybe'/></query></iq>").parse::<Stanza>().unwrap();
    assert_eq!(
        roster.take_push(&bad, &juliet()),
        Err(RosterError::Subscription("maybe".into()))
    );
    let no_jid = "<iq id='n' type='set'><query xmlns='jabber:iq:roster'><item/></query></iq>"
        .parse::<Stanza>()
        .unwrap();
    assert!(matches!(
        roster.take_push(&no_jid, &juliet()),
        Err(RosterError::Jid(_))
    ));
    let full = ("<iq id='n' type='set'><query xmlns='jabber:iq:roster'><item jid='a@example.com/r'/></query></iq>").parse::<Stanza>().unwrap();
    assert!(matches!(
        roster.take_push(&full, &juliet()),
        Err(RosterError::Jid(_))
    ));
    assert_eq!(roster.items().count(), 0);
}

#[test]
fn the_get_and_set_requests_are_built_as_rfc_6121_prints_them() {
    let get = RosterQuery::get("bv1bs71f", Some("ver7"));
    assert_eq!(
        get.to_xml(),
        r#"<iq xmlns="jabber:client" type="get" id="bv1bs71f"><query xmlns="jabber:iq:roster" ver="ver7"/></iq>"#
    );
    let item = RosterItem {
        jid: BareJid::new("nurse@example.com").unwrap(),
        name: Some("Nurse".into()),
        subscription: Subscription::None,
        pending_out: false,
        groups: vec!["Servants".into()],
    };
    let set = RosterQuery::set("ph1xaz53", &RosterEntry::Item(item.clone()));
    assert_eq!(
        set.to_xml(),
        r#"<iq xmlns="jabber:client" type="set" id="ph1xaz53"><query xmlns="jabber:iq:roster"><item jid="nurse@example.com" name="Nurse"><group>Servants</group></item></query></iq>"#
    );
    let back = RosterQuery::of(&(set.to_xml()).parse::<Stanza>().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(back.entries, [RosterEntry::Item(item)]);
    let remove = RosterQuery::set(
        "hm4hs97y",
        &RosterEntry::Removed(BareJid::new("nurse@example.com").unwrap()),
    );
    assert!(remove.to_xml().contains(r#"subscription="remove""#));
}

proptest! {
    #[test]
    fn a_set_reads_back_as_the_item(name in "[a-z]{1,8}", group in proptest::option::of("[A-Za-z ]{1,12}"), nick in proptest::option::of("[^<>&\u{0}-\u{1f}]{0,16}")) {
        let item = RosterItem {
            jid: BareJid::new(&format!("{name}@example.com")).unwrap(),
            name: nick,
            subscription: Subscription::None,
            pending_out: false,
            groups: group.into_iter().collect(),
        };
        let xml = RosterQuery::set("i", &RosterEntry::Item(item.clone())).to_xml();
        let back = RosterQuery::of(&xml.parse::<Stanza>().unwrap()).unwrap().unwrap();
        prop_assert_eq!(back.entries, vec![RosterEntry::Item(item)]);
    }
}

#[test]
fn the_tracker_follows_available_and_unavailable_presence() {
    let mut t = PresenceTracker::new();
    let romeo_orchard: FullJid = "romeo@example.net/orchard".parse().unwrap();
    let romeo_garden: FullJid = "romeo@example.net/garden".parse().unwrap();
    assert_eq!(
        t.take(
            &"<presence from='romeo@example.net/orchard'><priority>1</priority></presence>"
                .parse::<Stanza>()
                .unwrap()
        ),
        Some(PresenceChange::Online {
            jid: romeo_orchard.clone(),
            priority: 1
        })
    );
    assert_eq!(
        t.take(
            &"<presence from='romeo@example.net/garden'><priority>5</priority></presence>"
                .parse::<Stanza>()
                .unwrap()
        ),
        Some(PresenceChange::Online {
            jid: romeo_garden.clone(),
            priority: 5
        })
    );
    // The same presence again changes nothing.
    assert_eq!(
        t.take(
            &"<presence from='romeo@example.net/garden'><priority>5</priority></presence>"
                .parse::<Stanza>()
                .unwrap()
        ),
        None
    );
    let romeo = BareJid::new("romeo@example.net").unwrap();
    assert_eq!(
        t.resources(&romeo),
        [(romeo_garden.clone(), 5), (romeo_orchard.clone(), 1)]
    );
    assert!(t.is_online(&romeo_orchard));
    assert_eq!(
        t.take(
            &"<presence from='romeo@example.net/orchard' type='unavailable'/>"
                .parse::<Stanza>()
                .unwrap()
        ),
        Some(PresenceChange::Offline(romeo_orchard.clone()))
    );
    assert!(!t.is_online(&romeo_orchard));
    // Unavailable from someone not online, subscriptions and probes
    // change nothing.
    assert_eq!(
        t.take(
            &"<presence from='x@example.net/a' type='unavailable'/>"
                .parse::<Stanza>()
                .unwrap()
        ),
        None
    );
    assert_eq!(
        t.take(
            &"<presence from='x@example.net/a' type='subscribe'/>"
                .parse::<Stanza>()
                .unwrap()
        ),
        None
    );
    assert_eq!(
        t.take(
            &"<presence from='romeo@example.net' />"
                .parse::<Stanza>()
                .unwrap()
        ),
        None
    );
    assert_eq!(
        t.take(
            &"<message from='romeo@example.net/a'/>"
                .parse::<Stanza>()
                .unwrap()
        ),
        None
    );
    // An error from the bare JID makes every resource unavailable.
    t.take(
        &"<presence from='romeo@example.net' type='error'/>"
            .parse::<Stanza>()
            .unwrap(),
    );
    assert!(t.resources(&romeo).is_empty());
    t.take(
        &"<presence from='romeo@example.net/garden'/>"
            .parse::<Stanza>()
            .unwrap(),
    );
    assert_eq!(t.clear(), [romeo_garden]);
    assert_eq!(t.all().count(), 0);
}

#[test]
fn subscription_requests_read_and_build() {
    let s =
        SubscriptionRequest::Subscribe.to(&BareJid::new("juliet@example.com").unwrap(), "xk3h1v69");
    assert_eq!(
        s.to_xml(),
        r#"<presence xmlns="jabber:client" to="juliet@example.com" type="subscribe" id="xk3h1v69"/>"#
    );
    assert_eq!(
        SubscriptionRequest::of(&s),
        Some(SubscriptionRequest::Subscribe)
    );
    assert_eq!(
        SubscriptionRequest::of(&"<presence/>".parse::<Stanza>().unwrap()),
        None
    );
}
