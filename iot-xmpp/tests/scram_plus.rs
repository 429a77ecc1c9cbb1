//! SCRAM with channel binding (RFC 5802 section 6; RFC 9266
//! `tls-exporter`, RFC 5929 `tls-server-end-point`) and SASLprep (RFC
//! 4013): the GS2 flags as RFC 5802 requires them, a `-PLUS` login against
//! a scripted server that checks the binding, a server in the middle whose
//! binding does not match, an offer stripped of its `-PLUS` mechanisms
//! caught by the `y` flag, and RFC 4013's examples.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use iot_sansio::testing::{Checked, events};
use iot_sansio::{End, Input, Machine, Secret};
use iot_xmpp::BareJid;
use iot_xmpp::sasl::{
    ChannelBinding, ChannelBindingData, Mechanism, MechanismPreference, SaslError, ScramClient,
    ScramHash,
};
use iot_xmpp::stream::{Client, ClientConfig, ClientEvent, ClientRefusal, Tls};
use iot_xmpp::testing::{ScramServer, rfc5802_nonce};

const NONCE: &str = "fyko+d2lbbFgONRv9qkxdawL";

fn exporter(byte: u8) -> ChannelBindingData {
    ChannelBindingData::tls_exporter(vec![byte; 32])
}

/// The RFC 5802 section 5 server, with its side of channel binding.
fn server(binding: Option<ChannelBindingData>, offered_plus: bool) -> ScramServer {
    ScramServer::new(
        ScramHash::Sha1,
        "pencil",
        &STANDARD.decode("QSXCR+Q6sek8bf92").unwrap(),
        4096,
        "3rfcNHYJY1ZVvWVs7j",
        binding,
        offered_plus,
    )
}

fn client(binding: ChannelBinding) -> ScramClient {
    ScramClient::with_nonce(ScramHash::Sha1, "user", &Secret::new("pencil"), NONCE)
        .unwrap()
        .with_binding(binding)
}

/// Runs one exchange; the server's refusal, if any.
fn exchange(mut c: ScramClient, mut s: ScramServer) -> Result<(), &'static str> {
    let first = s.first(&c.client_first())?;
    let last = c.server_first(first.as_bytes()).unwrap();
    let v = s.last(&last)?;
    c.server_final(v.as_bytes()).unwrap();
    Ok(())
}

#[test]
fn the_test_server_agrees_with_rfc_5802() {
    let mut c = client(ChannelBinding::Unsupported);
    let mut s = server(None, false);
    let first = s.first(&c.client_first()).unwrap();
    assert_eq!(
        first,
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"
    );
    let last = c.server_first(first.as_bytes()).unwrap();
    assert_eq!(
        last,
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
    );
    assert_eq!(s.last(&last).unwrap(), "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
}

#[test]
fn the_gs2_header_says_what_the_client_can_bind() {
    assert!(
        client(ChannelBinding::Unsupported)
            .client_first()
            .starts_with("n,,n=user,")
    );
    assert!(
        client(ChannelBinding::NotOffered)
            .client_first()
            .starts_with("y,,n=user,")
    );
    assert!(
        client(ChannelBinding::Bound(exporter(1)))
            .client_first()
            .starts_with("p=tls-exporter,,n=user,")
    );
    let end_point = ChannelBindingData::tls_server_end_point(vec![2; 32]);
    assert!(
        client(ChannelBinding::Bound(end_point))
            .client_first()
            .starts_with("p=tls-server-end-point,,n=user,")
    );
    // c= of `y,,` is its base64, with no binding data.
    let mut c = client(ChannelBinding::NotOffered);
    let last = c
        .server_first(b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")
        .unwrap();
    assert!(last.starts_with("c=eSws,"), "{last}");
}

#[test]
fn a_bound_exchange_succeeds_when_both_ends_share_the_tls_connection() {
    let c = client(ChannelBinding::Bound(exporter(7)));
    let mut probe = client(ChannelBinding::Bound(exporter(7)));
    let last = probe
        .server_first(b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")
        .unwrap();
    let mut c_input = b"p=tls-exporter,,".to_vec();
    c_input.extend([7; 32]);
    assert!(
        last.starts_with(&format!("c={},", STANDARD.encode(&c_input))),
        "{last}"
    );
    assert_eq!(exchange(c, server(Some(exporter(7)), true)), Ok(()));
}

#[test]
fn a_server_in_the_middle_has_another_binding_and_fails() {
    // The client's TLS connection ends at the middle (data 1), the
    // middle's own at the server (data 2): the proof it relays does not
    // verify there.
    let c = client(ChannelBinding::Bound(exporter(1)));
    assert_eq!(
        exchange(c, server(Some(exporter(2)), true)),
        Err("channel-bindings-dont-match")
    );
    // Nor can the middle rewrite c= for its own connection: the proof
    // covers it.
    let mut c = client(ChannelBinding::Bound(exporter(1)));
    let mut s = server(Some(exporter(2)), true);
    let first = s.first(&c.client_first()).unwrap();
    let last = c.server_first(first.as_bytes()).unwrap();
    let mut theirs = b"p=tls-exporter,,".to_vec();
    theirs.extend([2; 32]);
    let mut ours = b"p=tls-exporter,,".to_vec();
    ours.extend([1; 32]);
    let rewritten = last.replace(&STANDARD.encode(&ours), &STANDARD.encode(&theirs));
    assert_eq!(s.last(&rewritten), Err("invalid-proof"));
}

#[test]
fn a_stripped_offer_is_caught_by_the_y_flag() {
    // The server binds and offered -PLUS; the middle took it out of the
    // offer, so the client chose SCRAM-SHA-1 and says it could have bound.
    let preference = MechanismPreference::default();
    assert_eq!(
        preference.choose_bound(&["SCRAM-SHA-1"], true, true),
        Some(Mechanism::ScramSha1)
    );
    let c = client(ChannelBinding::NotOffered);
    assert_eq!(
        exchange(c, server(Some(exporter(3)), true)),
        Err("server-does-support-channel-binding")
    );
    // A server that does not bind takes `y`.
    assert_eq!(
        exchange(client(ChannelBinding::NotOffered), server(None, false)),
        Ok(())
    );
}

#[test]
fn binding_is_chosen_over_a_preferred_hash() {
    let preference = MechanismPreference::default();
    let offered = ["SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"];
    assert_eq!(
        preference.choose_bound(&offered, true, true),
        Some(Mechanism::ScramSha1Plus)
    );
    // Without binding data, the preferred hash, never a -PLUS one.
    assert_eq!(
        preference.choose_bound(&offered, true, false),
        Some(Mechanism::ScramSha256)
    );
    assert_eq!(
        preference.choose_bound(&["SCRAM-SHA-1-PLUS"], true, false),
        None
    );
    assert_eq!(
        Mechanism::from_name("SCRAM-SHA-256-PLUS"),
        Some(Mechanism::ScramSha256Plus)
    );
    assert_eq!(Mechanism::ScramSha256Plus.scram(), Some(ScramHash::Sha256));
    assert_eq!(Mechanism::Plain.plus(), None);
}

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>";

fn sent(c: &mut Checked<Client<Duration, iot_sansio::testing::Scripted>>) -> String {
    std::iter::from_fn(|| c.poll_transmit())
        .map(|b| String::from_utf8(b).unwrap())
        .collect()
}

/// The base64 content of the last `<name ...>...</name>` the client sent.
fn sasl_data(out: &str, name: &str) -> String {
    let start = out.rfind(&format!("<{name} ")).unwrap();
    let open = start + out[start..].find('>').unwrap() + 1;
    let close = open + out[open..].find(&format!("</{name}>")).unwrap();
    String::from_utf8(STANDARD.decode(&out[open..close]).unwrap()).unwrap()
}

/// A login over direct TLS whose runtime gave the connection `binding`,
/// against a server that offers `mechanisms` and checks with `server`.
fn login(
    binding: Option<ChannelBindingData>,
    mechanisms: &[&str],
    types: Option<&[&str]>,
    mut server: ScramServer,
) -> (String, Vec<ClientEvent>) {
    let mut config = ClientConfig::new(
        BareJid::new("user@localhost").unwrap(),
        Secret::new("pencil"),
        Some("r1".into()),
    );
    config.tls = Tls::Direct;
    config.mechanisms = MechanismPreference::new(&[Mechanism::ScramSha1]);
    let mut c = Checked::new(Client::new(config, rfc5802_nonce()));
    if let Some(binding) = binding {
        c.set_channel_binding(binding);
    }
    c.start(Duration::ZERO);
    let offered: String = mechanisms
        .iter()
        .map(|m| format!("<mechanism>{m}</mechanism>"))
        .collect();
    // XEP-0440: the channel binding types the server has.
    let types = types.map_or_else(String::new, |types| {
        let listed: String = types
            .iter()
            .map(|t| format!("<channel-binding type='{t}'/>"))
            .collect();
        format!("<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>{listed}</sasl-channel-binding>")
    });
    let features = format!(
        "{HEADER}<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{offered}</mechanisms>{types}</stream:features>"
    );
    c.handle_input(Duration::ZERO, Input::Data(features.as_bytes()));
    let out = sent(&mut c);
    let client_first = sasl_data(&out, "auth");
    let reply = match server.first(&client_first) {
        Ok(first) => format!(
            "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</challenge>",
            STANDARD.encode(first)
        ),
        Err(_) => "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>"
            .to_owned(),
    };
    c.handle_input(Duration::ZERO, Input::Data(reply.as_bytes()));
    let out2 = sent(&mut c);
    if out2.contains("<response") {
        let reply = match server.last(&sasl_data(&out2, "response")) {
            Ok(v) => format!(
                "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</success>",
                STANDARD.encode(v)
            ),
            Err(_) => {
                "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>"
                    .to_owned()
            }
        };
        c.handle_input(Duration::ZERO, Input::Data(reply.as_bytes()));
    }
    (out, events(&mut c))
}

fn refused(events: &[ClientEvent]) -> bool {
    matches!(
        events,
        [ClientEvent::Ended(End::Refused(
            ClientRefusal::AuthFailed { .. }
        ))]
    )
}

#[test]
fn a_plus_login_binds_to_the_runtimes_tls_connection() {
    let (out, events) = login(
        Some(exporter(5)),
        &["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"],
        Some(&["tls-server-end-point", "tls-exporter"]),
        server(Some(exporter(5)), true),
    );
    assert!(out.contains("mechanism='SCRAM-SHA-1-PLUS'"), "{out}");
    assert!(sasl_data(&out, "auth").starts_with("p=tls-exporter,,"));
    // Authenticated: the stream restarts, nothing refused.
    assert!(events.is_empty(), "{events:?}");
}

#[test]
fn a_login_through_a_server_in_the_middle_fails() {
    let (_, events) = login(
        Some(exporter(5)),
        &["SCRAM-SHA-1-PLUS"],
        Some(&["tls-exporter"]),
        server(Some(exporter(6)), true),
    );
    assert!(refused(&events), "{events:?}");
}

#[test]
fn a_login_whose_plus_offer_was_stripped_fails() {
    let (out, events) = login(
        Some(exporter(5)),
        &["SCRAM-SHA-1"],
        None,
        server(Some(exporter(9)), true),
    );
    assert!(sasl_data(&out, "auth").starts_with("y,,"), "{out}");
    assert!(refused(&events), "{events:?}");
}

#[test]
fn without_binding_data_the_client_says_n() {
    let (out, events) = login(
        None,
        &["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"],
        Some(&["tls-exporter"]),
        server(None, false),
    );
    assert!(out.contains("mechanism='SCRAM-SHA-1'"), "{out}");
    assert!(sasl_data(&out, "auth").starts_with("n,,"), "{out}");
    assert!(events.is_empty(), "{events:?}");
}

/// A server that offers -PLUS without saying which binding types it has
/// (no XEP-0440), or with none the client has (`tls-unique`, which TLS
/// 1.3 does not define): binding with a type it lacks would fail the
/// login, so the client does not bind, and says `n`, not `y` (which such
/// a server would take for a downgrade).
#[test]
fn a_plus_offer_without_a_common_binding_type_logs_in_unbound() {
    for types in [None, Some(&["tls-unique"][..])] {
        let (out, events) = login(
            Some(exporter(5)),
            &["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"],
            types,
            server(None, true),
        );
        assert!(out.contains("mechanism='SCRAM-SHA-1'"), "{types:?}: {out}");
        assert!(
            sasl_data(&out, "auth").starts_with("n,,"),
            "{types:?}: {out}"
        );
        assert!(events.is_empty(), "{types:?}: {events:?}");
    }
    // tls-server-end-point data with a server that lists it: bound.
    let end_point = ChannelBindingData::tls_server_end_point(vec![4; 32]);
    let (out, events) = login(
        Some(end_point.clone()),
        &["SCRAM-SHA-1-PLUS"],
        Some(&["tls-server-end-point"]),
        server(Some(end_point), true),
    );
    assert!(
        sasl_data(&out, "auth").starts_with("p=tls-server-end-point,,"),
        "{out}"
    );
    assert!(events.is_empty(), "{events:?}");
}

/// RFC 4013 section 3's examples, as the client prepares a user name and
/// a password.
#[test]
fn saslprep_prepares_names_and_passwords() {
    let bare = |name: &str| {
        ScramClient::with_nonce(ScramHash::Sha1, name, &Secret::new("pencil"), NONCE)
            .map(|c| c.client_first())
    };
    // SOFT HYPHEN mapped to nothing; ASCII and case kept.
    assert_eq!(bare("I\u{00AD}X").unwrap(), format!("n,,n=IX,r={NONCE}"));
    assert_eq!(bare("user").unwrap(), format!("n,,n=user,r={NONCE}"));
    assert_eq!(bare("USER").unwrap(), format!("n,,n=USER,r={NONCE}"));
    // NFKC: FEMININE ORDINAL INDICATOR to "a", ROMAN NUMERAL NINE to "IX".
    assert_eq!(bare("\u{00AA}").unwrap(), format!("n,,n=a,r={NONCE}"));
    assert_eq!(bare("\u{2168}").unwrap(), format!("n,,n=IX,r={NONCE}"));
    // A prohibited character, and a bidirectional mix.
    assert_eq!(bare("\u{0007}").unwrap_err(), SaslError::Username);
    assert_eq!(bare("\u{0627}1").unwrap_err(), SaslError::Username);
    // The password is prepared before it is hashed: "\u{2168}" proves
    // what "IX" proves.
    let proof = |password: &str| {
        let mut c = ScramClient::with_nonce(ScramHash::Sha1, "user", &Secret::new(password), NONCE)
            .unwrap();
        c.server_first(b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")
            .unwrap()
    };
    assert_eq!(proof("\u{2168}"), proof("IX"));
    assert_ne!(proof("IX"), proof("pencil"));
    let err = ScramClient::with_nonce(ScramHash::Sha1, "user", &Secret::new("a\u{0007}"), NONCE)
        .unwrap_err();
    assert_eq!(err, SaslError::Password);
}
