//! The remote-access resources (6.2.2, Annex A): the RAML examples as
//! vectors, the CRUDN behaviour, the status transitions and every refusal.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use oic_ra_proto::resource::{
    ConnectionStatus, Credential, RaResources, Requester, ResourceError, ResourceEvent,
    TransitionError, UserResource, XmppResource, XmppUpdate, url_path,
};
use oic_ra_proto::rest::{Method, RestMessage};
use proptest::prelude::*;
use serde_json::{Value, json};

/// A.1.4, GET response example.
const XMPP_GET: &str = r#"{
  "rt":          "oic.ra.xmpp",
  "address":     "www.cisco.oic.xmpp.com",
  "port":        8080,
  "status":      "Connected",
  "ErrorReason": ""
}"#;
/// A.1.4, POST example (request and response).
const XMPP_POST: &str = r#"{
  "rt":          "oic.ra.xmpp",
  "address":     "www.new.cisco.oic.xmpp.com",
  "port":        8081
}"#;
/// A.2.4, GET response example.
const USER_GET: &str = r#"{
  "rt":         "oic.ra.user",
  "jid":        "user@mydomain.com",
  "credential": "AADRRRDSDSSDFERVVDESDFSDFSFSFDSSDF"
}"#;
/// A.2.4, POST example.
const USER_POST: &str = r#"{
  "rt":         "oic.ra.user",
  "jid":        "newuser@mydomain.com",
  "credential": "NNAADRRRDSDSSDFERVVDESDFSDFSF5SFDSSDF"
}"#;

fn v(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn annex_a_examples_are_vectors() {
    let get = XmppResource::from_json(&v(XMPP_GET)).unwrap();
    assert_eq!(
        get,
        XmppResource {
            address: "www.cisco.oic.xmpp.com".into(),
            port: 8080,
            status: ConnectionStatus::Connected
        }
    );
    assert_eq!(get.to_json(), v(XMPP_GET));

    let post = XmppUpdate::from_json(&v(XMPP_POST)).unwrap();
    assert_eq!(
        (post.address.as_str(), post.port),
        ("www.new.cisco.oic.xmpp.com", 8081)
    );
    assert_eq!(post.to_json(), v(XMPP_POST));

    for text in [USER_GET, USER_POST] {
        let user = UserResource::from_json(&v(text)).unwrap();
        assert_eq!(user.to_json(), v(text));
    }
    let user = UserResource::from_json(&v(USER_GET)).unwrap();
    assert_eq!(user.jid.as_str(), "user@mydomain.com");
    assert_eq!(
        user.credential.expose(),
        "AADRRRDSDSSDFERVVDESDFSDFSFSFDSSDF"
    );
    // Neither printed credential decodes: the GET one's last character
    // leaves non-zero bits over, the POST one has 37 characters.
    assert!(user.credential.decode().is_err());
    let post = UserResource::from_json(&v(USER_POST)).unwrap();
    assert!(post.credential.decode().is_err());
}

#[test]
fn credentials_are_secret() {
    let c = Credential::new("c2VjcmV0").unwrap();
    let shown = format!("{c:?}");
    assert!(
        shown.starts_with("Credential(") && shown.contains("REDACTED"),
        "{shown}"
    );
    assert!(!shown.contains("c2VjcmV0"));
    let user =
        UserResource::from_json(&json!({"jid": "a@b.org", "credential": "c2VjcmV0"})).unwrap();
    assert!(!format!("{user:?}").contains("c2VjcmV0"));
    assert_eq!(c, Credential::encode(b"secret"));
    assert_ne!(c, Credential::new("c2VjcmV1").unwrap());
    assert_eq!(c.decode().unwrap().as_slice(), b"secret");
    for bad in ["", "===", "ab$c", "a b", "abc===", "ééé"] {
        assert!(Credential::new(bad).is_err(), "{bad}");
    }
}

#[test]
fn representation_errors() {
    assert_eq!(
        XmppResource::from_json(&json!([1])),
        Err(ResourceError::NotAnObject)
    );
    let mut missing = v(XMPP_GET);
    missing.as_object_mut().unwrap().remove("ErrorReason");
    assert_eq!(
        XmppResource::from_json(&missing),
        Err(ResourceError::Missing("ErrorReason"))
    );
    let mut bad_status = v(XMPP_GET);
    bad_status["status"] = json!("Connecting");
    assert!(matches!(
        XmppResource::from_json(&bad_status),
        Err(ResourceError::Invalid {
            property: "status",
            ..
        })
    ));
    for port in [json!(-1), json!(65536), json!("8080"), json!(80.5)] {
        let mut p = v(XMPP_POST);
        p["port"] = port.clone();
        assert!(
            matches!(
                XmppUpdate::from_json(&p),
                Err(ResourceError::Invalid {
                    property: "port",
                    ..
                })
            ),
            "{port}"
        );
    }
    let mut extra = v(XMPP_POST);
    extra["colour"] = json!("red");
    assert_eq!(
        XmppUpdate::from_json(&extra),
        Err(ResourceError::Unknown("colour".into()))
    );
    let mut other_rt = v(XMPP_POST);
    other_rt["rt"] = json!("oic.ra.user");
    assert!(matches!(
        XmppUpdate::from_json(&other_rt),
        Err(ResourceError::ResourceType(_))
    ));
    for ro in ["status", "ErrorReason"] {
        let mut p = v(XMPP_POST);
        p[ro] = json!("Connected");
        assert!(matches!(XmppUpdate::from_json(&p), Err(ResourceError::ReadOnly(r)) if r == ro));
    }
    assert_eq!(
        XmppUpdate::from_json(&json!({"port": 1})),
        Err(ResourceError::Missing("address"))
    );
    assert!(matches!(
        XmppUpdate::from_json(&json!({"address": "", "port": 1})),
        Err(ResourceError::Invalid {
            property: "address",
            ..
        })
    ));
    assert!(matches!(
        XmppUpdate::from_json(&json!({"address": 5, "port": 1})),
        Err(ResourceError::Invalid {
            property: "address",
            ..
        })
    ));
    assert!(matches!(
        UserResource::from_json(&json!({"jid": "a@b.org/res", "credential": "QQ=="})),
        Err(ResourceError::Invalid {
            property: "jid",
            ..
        })
    ));
    assert_eq!(
        UserResource::from_json(&json!({"jid": "a@b.org"})),
        Err(ResourceError::Missing("credential"))
    );
}

fn post(path: &str, body: &Value) -> RestMessage {
    RestMessage::request(Method::Post, format!("coap://light{path}")).with_json(body)
}

fn get(path: &str) -> RestMessage {
    RestMessage::request(Method::Get, format!("coap://light{path}"))
}

#[test]
fn crudn_behaviour_and_status_transitions() {
    let mut r = RaResources::new();
    // Figure 4: not initialised until both are set.
    let (reply, _) = r.handle(&get("/XMPPResURI"), Requester::Normal);
    assert_eq!(reply.status(), Some(200));
    let body = reply.json().unwrap().unwrap();
    assert_eq!(
        (body["status"].as_str(), body["address"].as_str()),
        (Some("NotInitialized"), Some(""))
    );

    let (reply, event) = r.handle(&post("/XMPPResURI", &v(XMPP_POST)), Requester::Onboarding);
    assert_eq!(reply.json().unwrap().unwrap()["port"], 8081);
    // No account yet: no connection, but the change is to be stored.
    let Some(ResourceEvent::Saved(record)) = event else {
        panic!("{event:?}")
    };
    assert_eq!(
        (record.address.as_str(), record.port, record.user),
        ("www.new.cisco.oic.xmpp.com", 8081, None)
    );
    let (reply, event) = r.handle(
        &post("/XMPPUserResURI", &v(USER_POST)),
        Requester::Onboarding,
    );
    assert_eq!(reply.status(), Some(200));
    let Some(ResourceEvent::Connect {
        address,
        port,
        user,
    }) = event
    else {
        panic!()
    };
    assert_eq!(
        (address.as_str(), port, user.jid.as_str()),
        ("www.new.cisco.oic.xmpp.com", 8081, "newuser@mydomain.com")
    );
    assert_eq!(r.xmpp().status, ConnectionStatus::Connecting);
    assert_eq!(r.xmpp().to_json()["status"], "NotInitialized");

    // The same settings again start nothing new.
    let (_, event) = r.handle(&post("/XMPPResURI", &v(XMPP_POST)), Requester::Onboarding);
    assert!(event.is_none());

    r.failed("connection refused").unwrap();
    let body = r
        .handle(&get("/XMPPResURI"), Requester::Normal)
        .0
        .json()
        .unwrap()
        .unwrap();
    assert_eq!(
        (body["status"].as_str(), body["ErrorReason"].as_str()),
        (Some("Error"), Some("connection refused"))
    );
    assert_eq!(r.connected(), Err(TransitionError("Error")));

    // New settings try again.
    let (_, event) = r.handle(
        &post(
            "/XMPPResURI",
            &json!({"address": "xmpp.example.org", "port": 5222}),
        ),
        Requester::Onboarding,
    );
    assert!(matches!(
        event,
        Some(ResourceEvent::Connect { port: 5222, .. })
    ));
    r.connected().unwrap();
    assert_eq!(r.xmpp().status, ConnectionStatus::Connected);
    assert_eq!(r.connected(), Err(TransitionError("Connected")));
    r.failed("stream closed").unwrap();
    assert_eq!(r.failed("again"), Err(TransitionError("Error")));
}

#[test]
fn refusals() {
    let mut r = RaResources::new();
    let status = |m: &RestMessage, r: &mut RaResources, a| r.handle(m, a).0.status();
    // status is read-only.
    let write = post(
        "/XMPPResURI",
        &json!({"address": "a.org", "port": 1, "status": "Connected"}),
    );
    assert_eq!(status(&write, &mut r, Requester::Onboarding), Some(403));
    assert_eq!(r.xmpp().address, "");
    // Required properties.
    assert_eq!(
        status(
            &post("/XMPPResURI", &json!({"address": "a.org"})),
            &mut r,
            Requester::Onboarding
        ),
        Some(400)
    );
    assert_eq!(
        status(
            &RestMessage::request(Method::Post, "/XMPPResURI"),
            &mut r,
            Requester::Onboarding
        ),
        Some(400)
    );
    // oic.ra.user only for onboarding.
    assert_eq!(
        status(&get("/XMPPUserResURI"), &mut r, Requester::Normal),
        Some(403)
    );
    assert_eq!(
        status(
            &post("/XMPPUserResURI", &v(USER_POST)),
            &mut r,
            Requester::Normal
        ),
        Some(403)
    );
    assert!(r.user().is_none());
    let before = r.handle(&get("/XMPPUserResURI"), Requester::Onboarding).0;
    assert_eq!(
        before.json().unwrap().unwrap(),
        json!({"rt": "oic.ra.user"})
    );
    r.handle(
        &post("/XMPPUserResURI", &v(USER_POST)),
        Requester::Onboarding,
    );
    let after = r.handle(&get("/XMPPUserResURI"), Requester::Onboarding).0;
    assert_eq!(after.json().unwrap().unwrap(), v(USER_POST));
    // Only GET and POST (A.1.6, A.2.6); an observe of the status only.
    for m in [Method::Put, Method::Delete] {
        assert_eq!(
            status(
                &RestMessage::request(m, "/XMPPResURI"),
                &mut r,
                Requester::Onboarding
            ),
            Some(405)
        );
    }
    let observe = get("/XMPPResURI").with_header("Observe", "0");
    assert_eq!(status(&observe, &mut r, Requester::Onboarding), Some(200));
    let observe = get("/XMPPUserResURI").with_header("Observe", "0");
    assert_eq!(status(&observe, &mut r, Requester::Onboarding), Some(405));
    assert_eq!(
        status(&get("/oic/res"), &mut r, Requester::Onboarding),
        Some(404)
    );
}

#[test]
fn url_paths() {
    assert_eq!(url_path("coap://mydevice/XMPPResURI"), "/XMPPResURI");
    assert_eq!(
        url_path("coap://mydevice/XMPPResURI?if=oic.if.s"),
        "/XMPPResURI"
    );
    assert_eq!(url_path("coap://mydevice"), "/");
    assert_eq!(url_path("/XMPPUserResURI#x"), "/XMPPUserResURI");
}

proptest! {
    #[test]
    fn xmpp_representations_round_trip(address in "[ -~]{0,30}", port in any::<u16>(), which in 0u8..4, reason in "[ -~]{0,20}") {
        let status = match which {
            0 => ConnectionStatus::NotInitialized,
            1 => ConnectionStatus::Connected,
            _ => ConnectionStatus::Error(reason),
        };
        let r = XmppResource { address, port, status };
        prop_assert_eq!(XmppResource::from_json(&r.to_json()).unwrap(), r);
    }

    #[test]
    fn updates_round_trip(address in "[ -~]{1,30}", port in any::<u16>()) {
        let u = XmppUpdate { address, port };
        prop_assert_eq!(XmppUpdate::from_json(&u.to_json()).unwrap(), u);
    }

    #[test]
    fn users_round_trip(local in "[a-z0-9]{1,10}", domain in "[a-z]{1,10}", raw in prop::collection::vec(any::<u8>(), 1..40)) {
        let user = UserResource {
            jid: oic_ra_proto::identity::BareJid::new(&format!("{local}@{domain}.org")).unwrap(),
            credential: Credential::encode(&raw),
        };
        let back = UserResource::from_json(&user.to_json()).unwrap();
        let decoded = back.credential.decode().unwrap();
        prop_assert_eq!(decoded.as_slice(), raw.as_slice());
        prop_assert_eq!(back, user);
    }
}

#[test]
fn the_resources_come_back_from_their_record_and_connect() {
    let mut r = RaResources::new();
    r.handle(&post("/XMPPResURI", &v(XMPP_POST)), Requester::Onboarding);
    let (_, event) = r.handle(
        &post("/XMPPUserResURI", &v(USER_POST)),
        Requester::Onboarding,
    );
    // What a store keeps: the Connect's settings are the record.
    let record = event.unwrap().record();
    assert_eq!(record, r.record());
    let stored = record.to_json();
    assert_eq!(
        stored["user"]["credential"],
        v(USER_POST)["credential"],
        "the credential is kept"
    );
    let back = oic_ra_proto::resource::RaRecord::from_json(&stored).unwrap();
    assert_eq!(back, record);
    // A restarted RAE server: the resources as they were, and a
    // connection to start.
    let (restored, event) = RaResources::restore(back);
    assert_eq!(restored.record(), r.record());
    assert!(matches!(
        event,
        Some(ResourceEvent::Connect { port: 8081, .. })
    ));
    assert_eq!(restored.xmpp().status, ConnectionStatus::Connecting);
    // Nothing set: nothing to connect.
    let (empty, event) = RaResources::restore(RaResources::new().record());
    assert!(event.is_none());
    assert_eq!(empty.xmpp().status, ConnectionStatus::NotInitialized);
    assert!(
        oic_ra_proto::resource::RaRecord::from_json(&serde_json::json!({"address": "x"})).is_err()
    );
}

proptest! {
    #[test]
    fn resources_rebuilt_from_their_record_equal_them(
        address in "[a-z0-9.-]{0,24}",
        port in proptest::num::u16::ANY,
        user in proptest::option::of(("[a-z]{1,8}", proptest::collection::vec(proptest::num::u8::ANY, 1..24))),
    ) {
        let record = oic_ra_proto::resource::RaRecord {
            address,
            port,
            user: user.map(|(name, raw)| UserResource {
                jid: format!("{name}@example.org").parse().unwrap(),
                credential: Credential::encode(&raw),
            }),
        };
        let stored = record.to_json();
        let back = oic_ra_proto::resource::RaRecord::from_json(&stored).unwrap();
        prop_assert_eq!(&back, &record);
        let (restored, _) = RaResources::restore(back);
        prop_assert_eq!(restored.record(), record);
    }
}

/// Figure 4 end to end: the resources follow the RAE's connection, and
/// each change of the status is a notification for the observers of
/// `oic.ra.xmpp`; the `if` query parameter is the RAML's `oic.if.s` or
/// refused.
#[test]
fn the_status_follows_the_rae_and_can_be_observed() {
    use oic_ra_proto::resource::ConnectionStatus;
    let mut r = RaResources::new();
    let mut seen = Vec::new();
    for status in [
        ConnectionStatus::Connecting,
        ConnectionStatus::Connected,
        ConnectionStatus::Connected,
        ConnectionStatus::Error("the connection closed".into()),
        ConnectionStatus::NotInitialized,
    ] {
        if let Some(note) = r.mirror(&status) {
            let body = note.json().unwrap().unwrap();
            seen.push(body["status"].as_str().unwrap().to_owned());
        }
        assert_eq!(r.xmpp().status, status);
    }
    // Connecting shows as NotInitialized (the RAML's enum has no
    // Connecting); the repeated Connected is no change.
    assert_eq!(
        seen,
        ["NotInitialized", "Connected", "Error", "NotInitialized"]
    );
    for (url, expected) in [
        ("coap://light/XMPPResURI?if=oic.if.s", Some(200)),
        (
            "coap://light/XMPPResURI?rt=oic.ra.xmpp&if=oic.if.s",
            Some(200),
        ),
        ("coap://light/XMPPResURI?if=oic.if.baseline", Some(400)),
        ("coap://light/XMPPUserResURI?if=oic.if.a", Some(400)),
    ] {
        let request = RestMessage::request(Method::Get, url);
        assert_eq!(
            r.handle(&request, Requester::Onboarding).0.status(),
            expected,
            "{url}"
        );
    }
}
