//! The request table every XMPP machine keeps its `iq` requests in: an
//! answer is a result or an error with a waiting id (RFC 6120 8.2.3), it
//! is taken once, and what is not answered by its deadline times out.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use core::time::Duration;

use iot_xmpp::{DefinedCondition, IqFailure, Requests, Stanza};

fn stanza(xml: &str) -> Stanza {
    xml.parse().unwrap()
}

fn table() -> Requests<Duration, &'static str> {
    let mut asked = Requests::new("q");
    let id = asked.id();
    assert_eq!(id, "q-1");
    asked.wait(id, "roster", Duration::from_secs(10));
    let id = asked.id();
    asked.wait(id, "ping", Duration::from_secs(5));
    asked
}

#[test]
fn a_result_answers_once() {
    let mut asked = table();
    let result = stanza("<iq xmlns='jabber:client' type='result' id='q-1'/>");
    assert!(asked.is_answer(&result));
    let (what, answer) = asked.answer(&result).unwrap();
    assert_eq!(what, "roster");
    assert!(answer.is_ok());
    assert!(asked.answer(&result).is_none(), "taken once");
    assert_eq!(asked.len(), 1);
}

#[test]
fn an_error_answers_with_its_condition() {
    let mut asked = table();
    let error = stanza(
        "<iq xmlns='jabber:client' type='error' id='q-2'><error type='cancel'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
    );
    let (what, answer) = asked.answer(&error).unwrap();
    assert_eq!(what, "ping");
    assert_eq!(
        answer.unwrap_err(),
        IqFailure::Error(DefinedCondition::ServiceUnavailable)
    );
    let bare = stanza("<iq xmlns='jabber:client' type='error' id='q-1'/>");
    assert_eq!(
        asked.answer(&bare).unwrap().1.unwrap_err(),
        IqFailure::Error(DefinedCondition::UndefinedCondition)
    );
}

#[test]
fn a_request_or_an_unknown_id_is_no_answer() {
    let mut asked = table();
    for xml in [
        "<iq xmlns='jabber:client' type='get' id='q-1'><ping xmlns='urn:xmpp:ping'/></iq>",
        "<iq xmlns='jabber:client' type='set' id='q-1'><query xmlns='jabber:iq:roster'/></iq>",
        "<iq xmlns='jabber:client' type='result' id='q-9'/>",
        "<iq xmlns='jabber:client' type='result'/>",
        "<message xmlns='jabber:client' type='error' id='q-1'/>",
    ] {
        let s = stanza(xml);
        assert!(!asked.is_answer(&s), "{xml}");
        assert!(asked.answer(&s).is_none(), "{xml}");
    }
    assert_eq!(asked.len(), 2);
}

#[test]
fn an_answer_refused_by_its_check_leaves_the_request_waiting() {
    let mut asked = table();
    let result = stanza("<iq xmlns='jabber:client' type='result' id='q-1'/>");
    assert!(asked.answer_if(&result, |what| *what == "ping").is_none());
    assert_eq!(asked.get("q-1"), Some(&"roster"));
    let (what, _) = asked.answer_if(&result, |what| *what == "roster").unwrap();
    assert_eq!(what, "roster");
    assert!(asked.get("q-1").is_none());
}

#[test]
fn requests_expire_at_their_deadlines_earliest_first() {
    let mut asked = table();
    assert_eq!(asked.next_deadline(), Some(Duration::from_secs(5)));
    assert!(asked.expire(Duration::from_secs(4)).is_empty());
    assert_eq!(asked.expire(Duration::from_secs(10)), ["ping", "roster"]);
    assert!(asked.is_empty());
    assert_eq!(asked.next_deadline(), None);
}

#[test]
fn retain_and_clear_stop_waiting() {
    let mut asked = table();
    asked.retain(|what| *what == "ping");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked.take("q-2"), Some("ping"));
    let mut asked = table();
    let mut all = asked.clear();
    all.sort_unstable();
    assert_eq!(all, ["ping", "roster"]);
    assert!(asked.is_empty());
}
