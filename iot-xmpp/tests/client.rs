//! The client connection against scripted servers: a whole login replayed
//! split at every byte position, STARTTLS, each way the login fails, the
//! stream's ends, and the timeouts.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use iot_sansio::testing::{Checked, Scripted, events};
use iot_sansio::{End, Input, Machine, Secret};
use iot_xmpp::sasl::{Mechanism, MechanismPreference, SaslError};
use iot_xmpp::stream::{
    Client, ClientConfig, ClientError, ClientEvent, ClientFault, ClientRefusal, StreamReadError,
    Tls,
};
use iot_xmpp::{BareJid, Stanza, StanzaLimits};

const T0: Duration = Duration::ZERO;

/// The RNG that gives the client nonce of RFC 5802 section 5.
fn rfc_nonce() -> Scripted {
    use base64::Engine;
    Scripted::new(
        &base64::engine::general_purpose::STANDARD
            .decode("fyko+d2lbbFgONRv9qkxdawL")
            .unwrap(),
    )
}

type Conn = Checked<Client<Duration, Scripted>>;

fn config(password: &str, tls: Tls) -> ClientConfig {
    let mut c = ClientConfig::new(
        BareJid::new("user@localhost").unwrap(),
        Secret::new(password),
        Some("r1".into()),
    );
    c.tls = tls;
    c.mechanisms = MechanismPreference::new(&[Mechanism::ScramSha256, Mechanism::ScramSha1]);
    c
}

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>";
const SCRAM_FEATURES: &str = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
    <mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>";
/// base64 of the RFC 5802 server-first-message.
const CHALLENGE: &str = "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
    cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0wzcmZjTkhZSlkxWlZ2V1ZzN2oscz1RU1hDUitRNnNlazhiZjkyLGk9NDA5Ng==</challenge>";
/// base64 of the RFC 5802 server-final-message.
const SUCCESS: &str = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1ybUY5cHFWOFM3c3VBb1pXamE0ZEpSa0ZzS1E9</success>";
const HEADER_2: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='s2' from='localhost' version='1.0'>";
const BIND_FEATURES: &str = "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>\
    <session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session></stream:features>";
const BOUND: &str = "<iq type='result' id='bind-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
    <jid>user@localhost/r1</jid></bind></iq>";
const MESSAGE: &str =
    "<message from='a@localhost/x' to='user@localhost/r1'><body>hi</body></message>";

/// The server's side of a login up to the bound resource.
fn online_server() -> String {
    [
        HEADER,
        SCRAM_FEATURES,
        CHALLENGE,
        SUCCESS,
        HEADER_2,
        BIND_FEATURES,
        BOUND,
    ]
    .concat()
}

/// The server's side of a whole login, a message, and its close.
fn server() -> String {
    [
        HEADER,
        SCRAM_FEATURES,
        CHALLENGE,
        SUCCESS,
        HEADER_2,
        BIND_FEATURES,
        BOUND,
        MESSAGE,
        "</stream:stream>",
    ]
    .concat()
}

/// What the client must send for [`server`], in order.
fn client_side() -> String {
    [
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>",
        // base64 of "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>biwsbj11c2VyLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdM</auth>",
        // base64 of the RFC 5802 client-final-message
        "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>Yz1iaXdzLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdMM3JmY05IWUpZMVpWdldWczdqLHA9djBYOHYzQnoyVDBDSkdiSlF5RjBYK0hJNFRzPQ==</response>",
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>",
        r#"<iq xmlns="jabber:client" type="set" id="bind-1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>r1</resource></bind></iq>"#,
        "</stream:stream>",
    ]
    .concat()
}

fn sent(client: &mut Conn) -> String {
    let mut all = String::new();
    while let Some(bytes) = client.poll_transmit() {
        all.push_str(std::str::from_utf8(&bytes).unwrap());
    }
    all
}

/// Runs a client against `server` cut at `cuts`; returns what it sent and
/// reported.
fn replay(client: &mut Conn, server: &[u8], cuts: &[usize]) -> (String, Vec<ClientEvent>) {
    client.start(T0);
    let mut out = sent(client);
    let mut at = 0;
    for &cut in cuts.iter().chain(std::iter::once(&server.len())) {
        client.handle_input(T0, Input::Data(&server[at..cut]));
        out.push_str(&sent(client));
        at = cut;
    }
    (out, events(client))
}

fn login_events() -> Vec<ClientEvent> {
    vec![
        ClientEvent::Online {
            jid: "user@localhost/r1".parse().unwrap(),
            other_resource: false,
        },
        ClientEvent::Stanza(Stanza::parse(MESSAGE, &StanzaLimits::default()).unwrap()),
        ClientEvent::Ended(End::PeerClosed),
    ]
}

#[test]
fn a_whole_login_replays_the_same_split_at_every_byte_position() {
    let server = server();
    let mut client = Checked::new(Client::new(config("pencil", Tls::Insecure), rfc_nonce()));
    let (out, got) = replay(&mut client, server.as_bytes(), &[]);
    assert_eq!(out, client_side());
    assert_eq!(got, login_events());
    assert_eq!(client.poll_timeout(), None);
    for cut in 1..server.len() {
        let mut client = Checked::new(Client::new(config("pencil", Tls::Insecure), rfc_nonce()));
        let (out, got) = replay(&mut client, server.as_bytes(), &[cut]);
        assert_eq!(
            (out.as_str(), got.as_slice()),
            (client_side().as_str(), login_events().as_slice()),
            "cut at {cut}"
        );
    }
    let every: Vec<usize> = (1..server.len()).collect();
    let mut client = Checked::new(Client::new(config("pencil", Tls::Insecure), rfc_nonce()));
    assert_eq!(
        replay(&mut client, server.as_bytes(), &every).1,
        login_events()
    );
}

#[test]
fn the_server_final_may_come_in_a_challenge() {
    let challenge_final = "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1ybUY5cHFWOFM3c3VBb1pXamE0ZEpSa0ZzS1E9</challenge>";
    let server = [
        HEADER,
        SCRAM_FEATURES,
        CHALLENGE,
        challenge_final,
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
        HEADER_2,
        BIND_FEATURES,
        BOUND,
    ]
    .concat();
    let mut client = Checked::new(Client::new(config("pencil", Tls::Insecure), rfc_nonce()));
    let (out, got) = replay(&mut client, server.as_bytes(), &[]);
    assert!(
        out.contains("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>=</response>"),
        "{out}"
    );
    assert!(
        matches!(got.as_slice(), [ClientEvent::Online { .. }]),
        "{got:?}"
    );
    assert!(client.is_online());
}

fn ended(got: &[ClientEvent]) -> &End<ClientFault, ClientRefusal> {
    match got.last() {
        Some(ClientEvent::Ended(end)) => end,
        other => panic!("not ended: {other:?}"),
    }
}

#[test]
fn a_wrong_password_is_refused_by_the_server() {
    let failure = "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/><text>bad</text></failure>";
    let server = [HEADER, SCRAM_FEATURES, CHALLENGE, failure].concat();
    let mut client = Checked::new(Client::new(config("pencil!", Tls::Insecure), rfc_nonce()));
    let (out, got) = replay(&mut client, server.as_bytes(), &[]);
    assert!(
        !out.contains("cD12MFg4djNCejJUMENKR2JKUXlGMFgrSEk0VHM9"),
        "another proof"
    );
    assert_eq!(
        ended(&got),
        &End::Refused(ClientRefusal::AuthFailed {
            condition: "not-authorized".into()
        })
    );
    assert_eq!(got.len(), 1);
}

#[test]
fn a_server_signature_that_does_not_verify_ends_the_login() {
    let forged = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1ybUY5cHFWOFM3c3VBb1pXamE0ZEpSa0ZzS0E9</success>";
    let server = [
        HEADER,
        SCRAM_FEATURES,
        CHALLENGE,
        forged,
        HEADER_2,
        BIND_FEATURES,
        BOUND,
    ]
    .concat();
    let mut client = Checked::new(Client::new(config("pencil", Tls::Insecure), rfc_nonce()));
    let (out, got) = replay(&mut client, server.as_bytes(), &[]);
    assert_eq!(
        got,
        [ClientEvent::Ended(End::PeerFault(ClientFault::Sasl(
            SaslError::ServerSignature
        )))]
    );
    assert!(!out.contains("bind"), "nothing after the forged success");
}

#[test]
fn a_server_that_binds_another_resource_is_reported() {
    let other = BOUND.replace("user@localhost/r1", "user@localhost/srv-42");
    let server = [
        HEADER,
        SCRAM_FEATURES,
        CHALLENGE,
        SUCCESS,
        HEADER_2,
        BIND_FEATURES,
        &other,
    ]
    .concat();
    let mut client = Checked::new(Client::new(config("pencil", Tls::Insecure), rfc_nonce()));
    let (_, got) = replay(&mut client, server.as_bytes(), &[]);
    assert_eq!(
        got,
        [ClientEvent::Online {
            jid: "user@localhost/srv-42".parse().unwrap(),
            other_resource: true
        }]
    );
    // A JID of another account is a fault.
    let stranger = BOUND.replace("user@localhost/r1", "mallory@localhost/r1");
    let server = [
        HEADER,
        SCRAM_FEATURES,
        CHALLENGE,
        SUCCESS,
        HEADER_2,
        BIND_FEATURES,
        &stranger,
    ]
    .concat();
    let mut client = Checked::new(Client::new(config("pencil", Tls::Insecure), rfc_nonce()));
    let (_, got) = replay(&mut client, server.as_bytes(), &[]);
    assert!(
        matches!(ended(&got), End::PeerFault(ClientFault::Bind(_))),
        "{got:?}"
    );
    // A refusal to bind.
    let refused = "<iq type='error' id='bind-1'><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>";
    let server = [
        HEADER,
        SCRAM_FEATURES,
        CHALLENGE,
        SUCCESS,
        HEADER_2,
        BIND_FEATURES,
        refused,
    ]
    .concat();
    let mut client = Checked::new(Client::new(config("pencil", Tls::Insecure), rfc_nonce()));
    let (_, got) = replay(&mut client, server.as_bytes(), &[]);
    assert!(
        matches!(ended(&got), End::Refused(ClientRefusal::BindRefused { condition }) if condition == "conflict"),
        "{got:?}"
    );
}

#[test]
fn a_stream_error_ends_the_connection_with_its_condition() {
    let error = "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
        <text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced by new connection</text></stream:error></stream:stream>";
    let server = [
        HEADER,
        SCRAM_FEATURES,
        CHALLENGE,
        SUCCESS,
        HEADER_2,
        BIND_FEATURES,
        BOUND,
        error,
    ]
    .concat();
    let mut client = Checked::new(Client::new(config("pencil", Tls::Insecure), rfc_nonce()));
    let (out, got) = replay(&mut client, server.as_bytes(), &[]);
    assert_eq!(
        ended(&got),
        &End::Refused(ClientRefusal::StreamError {
            condition: "conflict".into(),
            text: Some("Replaced by new connection".into())
        })
    );
    assert!(
        out.ends_with("</stream:stream>"),
        "the client closes its side too"
    );
    assert_eq!(
        got.iter()
            .filter(|e| matches!(e, ClientEvent::Ended(_)))
            .count(),
        1
    );
}

/// RFC 6120 4.9.3.19: `see-other-host` names where to connect instead
/// (the runtime follows it once); before the login as after it.
#[test]
fn see_other_host_names_the_host_to_go_to() {
    let redirect = |host: &str| {
        format!(
            "<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>{host}</see-other-host></stream:error></stream:stream>"
        )
    };
    for host in ["xmpp2.example.org:5223", "[2001:db8::1]:5222", "192.0.2.7"] {
        let server = [HEADER, &redirect(host)].concat();
        let mut client = Checked::new(Client::new(config("pencil", Tls::Insecure), rfc_nonce()));
        let (out, got) = replay(&mut client, server.as_bytes(), &[]);
        assert_eq!(
            ended(&got),
            &End::Refused(ClientRefusal::SeeOtherHost { host: host.into() })
        );
        assert!(out.ends_with("</stream:stream>"));
    }
    // Without a host it is a stream error like any other.
    let server = [HEADER, &redirect("  ")].concat();
    let mut client = Checked::new(Client::new(config("pencil", Tls::Insecure), rfc_nonce()));
    let (_, got) = replay(&mut client, server.as_bytes(), &[]);
    assert!(
        matches!(ended(&got), End::Refused(ClientRefusal::StreamError { condition, .. }) if condition == "see-other-host"),
        "{got:?}"
    );
}

#[test]
fn a_stanza_over_the_limit_is_refused_while_reading() {
    let mut c = config("pencil", Tls::Insecure);
    c.limits.max_len = 512;
    let big = format!("<message><body>{}</body></message>", "x".repeat(600));
    let server = [
        HEADER,
        SCRAM_FEATURES,
        CHALLENGE,
        SUCCESS,
        HEADER_2,
        BIND_FEATURES,
        BOUND,
        &big,
    ]
    .concat();
    let mut client = Checked::new(Client::new(c, rfc_nonce()));
    let (_, got) = replay(&mut client, server.as_bytes(), &[]);
    assert_eq!(
        ended(&got),
        &End::PeerFault(ClientFault::Stream(StreamReadError::TooLong { max: 512 }))
    );
}

#[test]
fn a_server_with_no_acceptable_mechanism_is_refused() {
    let features = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
        <mechanism>PLAIN</mechanism><mechanism>DIGEST-MD5</mechanism></mechanisms></stream:features>";
    let mut c = config("pencil", Tls::Insecure);
    // PLAIN is configured, but never over an insecure stream.
    c.mechanisms = MechanismPreference::new(&[Mechanism::ScramSha1, Mechanism::Plain]);
    let mut client = Checked::new(Client::new(c, rfc_nonce()));
    let (out, got) = replay(&mut client, [HEADER, features].concat().as_bytes(), &[]);
    assert_eq!(
        ended(&got),
        &End::Refused(ClientRefusal::NoMechanism {
            offered: vec!["PLAIN".into(), "DIGEST-MD5".into()]
        })
    );
    assert!(!out.contains("<auth"));
}

#[test]
fn starttls_then_plain_over_tls_when_configured() {
    let tls_features = "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>";
    let proceed = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
    let plain_features = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
        <mechanism>PLAIN</mechanism></mechanisms></stream:features>";
    let mut c = config("pencil", Tls::StartTls);
    c.mechanisms = MechanismPreference::new(&[Mechanism::ScramSha1, Mechanism::Plain]);
    let mut client = Checked::new(Client::new(c, rfc_nonce()));
    client.start(T0);
    sent(&mut client);
    client.handle_input(
        T0,
        Input::Data([HEADER, tls_features, proceed].concat().as_bytes()),
    );
    assert_eq!(
        sent(&mut client),
        "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
    );
    assert_eq!(events(&mut client), [ClientEvent::StartTls]);
    // The runtime wraps the transport in TLS.
    client.tls_started(T0);
    let header = sent(&mut client);
    assert!(
        header.contains("from='user@localhost'"),
        "secured: {header}"
    );
    client.handle_input(
        T0,
        Input::Data(
            [
                HEADER,
                plain_features,
                "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
                HEADER_2,
                BIND_FEATURES,
                BOUND,
            ]
            .concat()
            .as_bytes(),
        ),
    );
    let out = sent(&mut client);
    // base64 of "\0user\0pencil"
    assert!(
        out.contains("mechanism='PLAIN'>AHVzZXIAcGVuY2ls</auth>"),
        "{out}"
    );
    assert!(client.is_online());
}

#[test]
fn starttls_that_is_not_offered_or_fails_is_refused() {
    let mut client = Checked::new(Client::new(config("pencil", Tls::StartTls), rfc_nonce()));
    let (out, got) = replay(
        &mut client,
        [HEADER, SCRAM_FEATURES].concat().as_bytes(),
        &[],
    );
    assert_eq!(ended(&got), &End::Refused(ClientRefusal::NoTls));
    assert!(
        !out.contains("<auth"),
        "no credentials over an insecure stream"
    );
    let tls_features =
        "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>";
    let failure = "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>";
    let mut client = Checked::new(Client::new(config("pencil", Tls::StartTls), rfc_nonce()));
    let (_, got) = replay(
        &mut client,
        [HEADER, tls_features, failure].concat().as_bytes(),
        &[],
    );
    assert_eq!(ended(&got), &End::Refused(ClientRefusal::NoTls));
    // Bytes between <proceed/> and the TLS handshake are refused.
    let mut client = Checked::new(Client::new(config("pencil", Tls::StartTls), rfc_nonce()));
    let proceed = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><message/>";
    let (_, got) = replay(
        &mut client,
        [HEADER, tls_features, proceed].concat().as_bytes(),
        &[],
    );
    assert!(matches!(
        got.as_slice(),
        [
            ClientEvent::StartTls,
            ClientEvent::Ended(End::PeerFault(ClientFault::Unexpected { .. }))
        ]
    ));
}

#[test]
fn unexpected_and_malformed_server_input_ends_the_connection() {
    for (server, what) in [
        (
            [
                HEADER,
                "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
            ]
            .concat(),
            "success before features",
        ),
        (
            [
                HEADER,
                SCRAM_FEATURES,
                "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>!!</challenge>",
            ]
            .concat(),
            "bad base64",
        ),
        (
            [HEADER, "<stream:features><!-- x --></stream:features>"].concat(),
            "a comment",
        ),
        (
            "<stream:stream xmlns:stream='urn:wrong'>".to_owned(),
            "a wrong namespace",
        ),
    ] {
        let mut client = Checked::new(Client::new(config("pencil", Tls::Insecure), rfc_nonce()));
        let (_, got) = replay(&mut client, server.as_bytes(), &[]);
        assert!(matches!(ended(&got), End::PeerFault(_)), "{what}: {got:?}");
    }
}

#[test]
fn each_login_step_times_out_and_a_close_ends_once() {
    let mut client = Checked::new(Client::new(config("pencil", Tls::Insecure), rfc_nonce()));
    client.start(T0);
    let deadline = client.poll_timeout().unwrap();
    assert_eq!(deadline, Duration::from_secs(30));
    client.handle_timeout(deadline - Duration::from_millis(1));
    assert!(events(&mut client).is_empty());
    client.handle_timeout(deadline);
    assert_eq!(events(&mut client), [ClientEvent::Ended(End::TimedOut)]);
    client.handle_timeout(deadline * 2);
    assert!(events(&mut client).is_empty());
    assert_eq!(client.poll_timeout(), None);

    // Online, then the client closes: the server answers the close.
    let mut client = Checked::new(Client::new(config("pencil", Tls::Insecure), rfc_nonce()));
    let login = online_server();
    replay(&mut client, login.as_bytes(), &[]);
    assert_eq!(
        client.send(&Stanza::parse("<presence/>", &StanzaLimits::default()).unwrap()),
        Ok(())
    );
    assert_eq!(sent(&mut client), r#"<presence xmlns="jabber:client"/>"#);
    client.close(T0);
    assert_eq!(sent(&mut client), "</stream:stream>");
    assert_eq!(
        client.send(&Stanza::parse("<presence/>", &StanzaLimits::default()).unwrap()),
        Err(ClientError::NotOnline)
    );
    client.handle_input(T0, Input::Data(b"</stream:stream>"));
    assert_eq!(events(&mut client), [ClientEvent::Ended(End::Closed)]);
    client.handle_input(T0, Input::PeerClosed);
    assert!(events(&mut client).is_empty());

    // A close the server never answers ends after the timeout.
    let mut client = Checked::new(Client::new(config("pencil", Tls::Insecure), rfc_nonce()));
    replay(&mut client, login.as_bytes(), &[]);
    client.close(T0);
    client.handle_timeout(Duration::from_secs(30));
    assert_eq!(events(&mut client), [ClientEvent::Ended(End::Closed)]);

    // The transport drops while online.
    let mut client = Checked::new(Client::new(config("pencil", Tls::Insecure), rfc_nonce()));
    replay(&mut client, login.as_bytes(), &[]);
    client.handle_input(T0, Input::PeerClosed);
    assert_eq!(events(&mut client), [ClientEvent::Ended(End::PeerClosed)]);
    // Sending before start is misuse too.
    let mut idle = Checked::new(Client::<Duration, _>::new(
        config("pencil", Tls::Insecure),
        rfc_nonce(),
    ));
    assert_eq!(
        idle.send(&Stanza::parse("<presence/>", &StanzaLimits::default()).unwrap()),
        Err(ClientError::NotOnline)
    );
}

#[test]
fn direct_tls_is_secured_from_the_first_byte() {
    let plain_features = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
        <mechanism>PLAIN</mechanism></mechanisms></stream:features>";
    let mut c = config("pencil", Tls::Direct);
    c.mechanisms = MechanismPreference::new(&[Mechanism::Plain]);
    let mut client = Checked::new(Client::new(c, rfc_nonce()));
    client.start(T0);
    let header = sent(&mut client);
    assert!(
        header.contains("from='user@localhost'"),
        "secured: {header}"
    );
    // No STARTTLS is asked for; PLAIN (configured) may go over it.
    client.handle_input(
        T0,
        Input::Data([HEADER, plain_features].concat().as_bytes()),
    );
    let out = sent(&mut client);
    assert!(
        out.starts_with("<auth") && out.contains("mechanism='PLAIN'"),
        "{out}"
    );
    assert!(events(&mut client).is_empty());
}

/// A server that binds the stream namespace to another prefix, and
/// declares its payloads with prefixes: the login goes through, read in
/// the scope of its own header.
#[test]
fn a_server_with_its_own_prefixes_is_read_in_its_header_scope() {
    let rename = |text: &str| {
        text.replace("stream:", "x:")
            .replace("xmlns:stream=", "xmlns:x=")
    };
    let server = [
        rename(HEADER),
        rename(SCRAM_FEATURES),
        CHALLENGE.into(),
        "<s:success xmlns:s='urn:ietf:params:xml:ns:xmpp-sasl'>dj1ybUY5cHFWOFM3c3VBb1pXamE0ZEpSa0ZzS1E9</s:success>".into(),
        rename(HEADER_2),
        rename(BIND_FEATURES),
        BOUND.into(),
        MESSAGE.into(),
        "</x:stream>".into(),
    ]
    .concat();
    let mut client = Checked::new(Client::new(config("pencil", Tls::Insecure), rfc_nonce()));
    let (out, got) = replay(&mut client, server.as_bytes(), &[]);
    assert_eq!(out, client_side());
    assert_eq!(got, login_events());
}

/// RFC 6120 4.8.2: the content namespace of a client stream is
/// jabber:client; any other ends the connection with invalid-namespace.
#[test]
fn a_header_in_another_content_namespace_ends_with_invalid_namespace() {
    for header in [
        HEADER.replace("xmlns='jabber:client'", "xmlns='jabber:server'"),
        HEADER.replace("xmlns='jabber:client' ", ""),
    ] {
        let mut client = Checked::new(Client::new(config("pencil", Tls::Insecure), rfc_nonce()));
        let (out, got) = replay(&mut client, header.as_bytes(), &[]);
        assert!(
            out.ends_with(
                "<stream:error><invalid-namespace xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
                 </stream:error></stream:stream>"
            ),
            "{out}"
        );
        assert!(matches!(
            ended(&got),
            End::PeerFault(ClientFault::Stream(StreamReadError::BadHeader(_)))
        ));
    }
}

/// The configured limits hold for `<stream:features>` as for stanzas.
#[test]
fn the_configured_limits_hold_for_the_features() {
    let mut c = config("pencil", Tls::Insecure);
    // The scanner of the stream holds the length, depth and count; the
    // element reader holds the attributes (a declaration is one).
    c.limits = StanzaLimits {
        max_attributes: 0,
        ..StanzaLimits::default()
    };
    let server = [HEADER, SCRAM_FEATURES].concat();
    let mut client = Checked::new(Client::new(c, rfc_nonce()));
    let (out, got) = replay(&mut client, server.as_bytes(), &[]);
    assert!(
        matches!(
            ended(&got),
            End::PeerFault(ClientFault::Element(
                iot_xmpp::StanzaReadError::TooManyAttributes { max: 0 }
            ))
        ),
        "{got:?}"
    );
    assert!(out.contains("<policy-violation "), "{out}");
}

/// A stanza holding a character XML 1.0 forbids is neither read nor sent.
#[test]
fn characters_xml_forbids_are_neither_read_nor_sent() {
    let online = online_server();
    let mut client = Checked::new(Client::new(config("pencil", Tls::Insecure), rfc_nonce()));
    replay(&mut client, online.as_bytes(), &[]);
    assert!(client.is_online());
    let bad = Stanza::new(iot_xmpp::StanzaKind::Message).with_id("a\u{7}");
    assert_eq!(client.send(&bad), Err(ClientError::Char('\u{7}')));
    assert_eq!(sent(&mut client), "");
    client.handle_input(T0, Input::Data(b"<message><body>&#x7;</body></message>"));
    assert!(sent(&mut client).contains("<not-well-formed "));
    assert!(matches!(
        ended(&events(&mut client)),
        End::PeerFault(ClientFault::Element(iot_xmpp::StanzaReadError::Char(
            '\u{7}'
        )))
    ));
}
