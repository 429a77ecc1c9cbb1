//! The route to a server from DNS (RFC 6120 3.2, XEP-0368), with the
//! resolver pointed at a name server on loopback that this test runs, never
//! the network: SRV records of both client services, a target that does
//! not answer, the fall-back to the domain's own address at port 5222, a
//! service refused with `.`; logins through the route against Prosody and
//! ejabberd (direct TLS on 15232 and 15233, STARTTLS on 15222 and 15223).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::{A, SRV};
use hickory_proto::rr::{Name, RData, Record};
use iot_sansio::Secret;
use iot_xmpp::BareJid;
use iot_xmpp::stream::{ClientConfig, Tls};
use iot_xmpp_net::dns::Dns;
use iot_xmpp_net::{Connector, NetError, Session, Transport};

/// A name server on a loopback port answering from `zone`: the records
/// whose name and type are asked, no data for a known name of another
/// type, `NXDOMAIN` for an unknown name, `SERVFAIL` for names under
/// `fail.test`. It records every question.
struct NameServer {
    addr: SocketAddr,
    asked: Arc<Mutex<Vec<String>>>,
}

impl NameServer {
    /// Asserts that each of `questions` was asked.
    fn was_asked(&self, questions: &[&str]) {
        let asked = self.asked.lock().unwrap();
        for q in questions {
            assert!(asked.iter().any(|a| a == q), "{q} not in {asked:?}");
        }
    }
}

fn name_server(zone: Vec<Record>) -> NameServer {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let asked: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&asked);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            let Ok(query) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut answer = Message::response(query.metadata.id, query.metadata.op_code);
            answer.metadata.recursion_desired = query.metadata.recursion_desired;
            answer.metadata.recursion_available = true;
            for q in &query.queries {
                let name = q.name().to_ascii().to_lowercase();
                log.lock()
                    .unwrap()
                    .push(format!("{} {name}", q.query_type()));
                answer.add_query(q.clone());
                let known: Vec<&Record> = zone
                    .iter()
                    .filter(|r| r.name.to_ascii().to_lowercase() == name)
                    .collect();
                if name.ends_with("fail.test.") {
                    answer.metadata.response_code = ResponseCode::ServFail;
                } else if known.is_empty() {
                    answer.metadata.response_code = ResponseCode::NXDomain;
                }
                for record in known {
                    if record.record_type() == q.query_type() {
                        answer.add_answer(record.clone());
                    }
                }
            }
            let _ = socket.send_to(&answer.to_vec().unwrap(), from);
        }
    });
    NameServer { addr, asked }
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn srv(owner: &str, priority: u16, port: u16, target: &str) -> Record {
    Record::from_rdata(
        name(owner),
        60,
        RData::SRV(SRV::new(priority, 0, port, name(target))),
    )
}

fn a(owner: &str) -> Record {
    Record::from_rdata(name(owner), 60, RData::A(A(Ipv4Addr::LOCALHOST)))
}

/// A connector trusting the test servers' certificate, resolving with
/// the name server at `dns`.
fn connector(dns: SocketAddr) -> Connector {
    Connector::new(&example_io::xmpp::test_roots())
        .expect("the test certificate (bash .ci/xmpp-cert)")
        .dns(Dns::name_server(dns).unwrap())
        .wait(Duration::from_secs(10))
}

/// An account of the DNS tests' domain, `example.test` (a second host
/// of both servers, in their certificate): the TLS name is the domain.
/// Each test binds its own resource: a second login under one resource
/// would end the first.
fn account(user: &str, resource: &str) -> ClientConfig {
    ClientConfig::new(
        BareJid::new(&format!("{user}@example.test")).unwrap(),
        Secret::new("secret"),
        Some(resource.into()),
    )
}

/// The two test servers: name, STARTTLS port, direct TLS port.
fn servers() -> Vec<(&'static str, u16, u16)> {
    example_io::xmpp::test_servers()
        .into_iter()
        .map(|(name, _)| match name {
            "Prosody" => (name, 15222, 15232),
            _ => (name, 15223, 15233),
        })
        .collect()
}

/// `_xmpps-client` first (priority 0), `_xmpp-client` after: the client
/// logs in over direct TLS at the SRV target's address and port.
#[test]
fn srv_records_lead_to_a_login_over_direct_tls() {
    for (server, starttls, direct) in servers() {
        let dns = name_server(vec![
            srv(
                "_xmpps-client._tcp.example.test.",
                0,
                direct,
                "xmpp.example.test.",
            ),
            srv(
                "_xmpp-client._tcp.example.test.",
                10,
                starttls,
                "xmpp.example.test.",
            ),
            a("xmpp.example.test."),
        ]);
        let session = Session::login(account("alice", "srv"), &connector(dns.addr))
            .unwrap_or_else(|e| panic!("{server}: {e}"));
        assert_eq!(session.tls(), Tls::Direct, "{server}");
        assert_eq!(session.addr(), format!("127.0.0.1:{direct}"), "{server}");
        assert_eq!(session.jid().to_bare().as_str(), "alice@example.test");
        session.close().unwrap();
        dns.was_asked(&[
            "SRV _xmpp-client._tcp.example.test.",
            "SRV _xmpps-client._tcp.example.test.",
            "A xmpp.example.test.",
        ]);
    }
}

/// The first target refuses (port 1 on loopback); the next, of a higher
/// priority number, over STARTTLS, is where the client logs in.
#[test]
fn a_target_that_refuses_leads_to_the_next() {
    for (server, starttls, _) in servers() {
        let dns = name_server(vec![
            srv(
                "_xmpps-client._tcp.example.test.",
                0,
                1,
                "dead.example.test.",
            ),
            srv(
                "_xmpp-client._tcp.example.test.",
                5,
                starttls,
                "xmpp.example.test.",
            ),
            a("dead.example.test."),
            a("xmpp.example.test."),
        ]);
        let session = Session::login(account("alice", "next"), &connector(dns.addr))
            .unwrap_or_else(|e| panic!("{server}: {e}"));
        assert_eq!(session.tls(), Tls::StartTls, "{server}");
        assert_eq!(session.addr(), format!("127.0.0.1:{starttls}"), "{server}");
        session.close().unwrap();
    }
}

/// No SRV record: the domain's own address at port 5222 (RFC 6120
/// 3.2.2), with STARTTLS.
#[test]
fn without_srv_records_the_domain_is_dialled_at_5222() {
    let dns = name_server(vec![a("example.test.")]);
    let connector = connector(dns.addr).wait(Duration::from_secs(3));
    match Transport::dial(&connector, "example.test", Tls::Direct) {
        Err(NetError::Connect { host, addr, .. }) => {
            assert_eq!(host, "example.test");
            assert_eq!(addr, "127.0.0.1:5222");
        }
        Ok(transport) => {
            // Something listens on 5222 here: the route is the same.
            assert_eq!(transport.addr(), "127.0.0.1:5222");
            assert_eq!(transport.tls(), Tls::StartTls);
        }
        Err(other) => panic!("{other}"),
    }
    dns.was_asked(&[
        "SRV _xmpp-client._tcp.example.test.",
        "SRV _xmpps-client._tcp.example.test.",
        "A example.test.",
    ]);
}

/// Every record says `.`: the domain offers no client service, and the
/// client does not fall back to its address.
#[test]
fn a_dot_target_is_no_service() {
    let dns = name_server(vec![
        srv("_xmpp-client._tcp.example.test.", 0, 0, "."),
        a("example.test."),
    ]);
    let err = Transport::dial(&connector(dns.addr), "example.test", Tls::StartTls).unwrap_err();
    assert!(matches!(err, NetError::NoService { ref domain } if domain == "example.test"));
    assert!(
        err.to_string()
            .contains("example.test offers no XMPP client service")
    );
    let asked = dns.asked.lock().unwrap().clone();
    assert!(!asked.contains(&"A example.test.".into()), "{asked:?}");
}

/// A target without an address, and every address refusing: the error
/// names the domain and each attempt.
#[test]
fn an_unreachable_domain_names_every_attempt() {
    let dns = name_server(vec![
        srv("_xmpp-client._tcp.example.test.", 0, 1, "one.example.test."),
        srv("_xmpp-client._tcp.example.test.", 1, 2, "two.example.test."),
        a("one.example.test."),
        a("two.example.test."),
    ]);
    let err = Transport::dial(&connector(dns.addr), "example.test", Tls::StartTls).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("no connection to example.test:"), "{text}");
    assert!(text.contains("one.example.test at 127.0.0.1:1"), "{text}");
    assert!(text.contains("two.example.test at 127.0.0.1:2"), "{text}");
}

/// The tokio transport takes the same route: direct TLS at the SRV
/// target, its channel binding data there before any XMPP.
#[cfg(feature = "tokio")]
#[tokio::test(flavor = "current_thread")]
async fn the_tokio_transport_takes_the_same_route() {
    for (server, _, direct) in servers() {
        let dns = name_server(vec![
            srv(
                "_xmpps-client._tcp.example.test.",
                0,
                direct,
                "xmpp.example.test.",
            ),
            a("xmpp.example.test."),
        ]);
        let transport = iot_xmpp_net::asynch::AsyncTransport::dial(
            &connector(dns.addr),
            "example.test",
            Tls::StartTls,
        )
        .await
        .unwrap_or_else(|e| panic!("{server}: {e}"));
        assert_eq!(transport.tls(), Tls::Direct, "{server}");
        assert!(transport.channel_binding().is_some(), "{server}");
    }
}

/// A name server that fails (not "no such name") is an error naming what
/// was looked up; the client does not fall back as if there were no
/// record.
#[test]
fn a_failing_name_server_is_an_error_naming_the_name() {
    let dns = name_server(Vec::new());
    let err = Transport::dial(&connector(dns.addr), "fail.test", Tls::StartTls).unwrap_err();
    match &err {
        NetError::Resolve { name, .. } => assert_eq!(name, "_xmpp-client._tcp.fail.test."),
        other => panic!("{other}"),
    }
    assert!(
        err.to_string()
            .starts_with("cannot look up _xmpp-client._tcp.fail.test.:")
    );
    // The system's configuration reads without asking anything.
    assert!(Dns::system().is_ok());
}

/// A whole login on the tokio transport, found through SRV: STARTTLS at
/// the target, the channel binding data handed over after the handshake,
/// SCRAM, binding, a message to itself and back.
#[cfg(feature = "tokio")]
#[tokio::test(flavor = "current_thread")]
async fn a_login_over_the_tokio_transport() {
    use std::time::Instant;

    use iot_sansio::Machine;
    use iot_xmpp::stream::{Client, ClientEvent};
    use iot_xmpp::{Element, Stanza, StanzaKind};
    use rand_core::OsRng;

    for (server, starttls, _) in servers() {
        let dns = name_server(vec![
            srv(
                "_xmpp-client._tcp.example.test.",
                0,
                starttls,
                "xmpp.example.test.",
            ),
            a("xmpp.example.test."),
        ]);
        let mut transport = iot_xmpp_net::asynch::AsyncTransport::dial(
            &connector(dns.addr),
            "example.test",
            Tls::StartTls,
        )
        .await
        .unwrap_or_else(|e| panic!("{server}: {e}"));
        assert_eq!(transport.tls(), Tls::StartTls);
        assert!(transport.channel_binding().is_none(), "no TLS yet");
        let config = ClientConfig {
            tls: transport.tls(),
            ..account("alice", "tokio")
        };
        let mut conn = Client::new(config, OsRng);
        conn.start(Instant::now());
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut jid = None;
        let mut echoed = false;
        while !echoed {
            assert!(Instant::now() < deadline, "{server}: no echo in time");
            transport
                .round(&mut conn, Instant::now() + Duration::from_millis(50))
                .await
                .unwrap();
            while let Some(event) = conn.poll_event() {
                match event {
                    ClientEvent::StartTls => {
                        transport.start_tls().await.unwrap();
                        let binding = transport.channel_binding();
                        assert!(binding.is_some(), "{server}: TLS exports its binding");
                        conn.set_channel_binding(binding.unwrap());
                        conn.tls_started(Instant::now());
                    }
                    ClientEvent::Online { jid: bound, .. } => {
                        let mut note = Stanza::new(StanzaKind::Message);
                        note.to = Some(bound.clone().into());
                        note.id = Some("tokio-1".into());
                        note.payloads
                            .push(Element::new("body", "jabber:client").with_text("over tokio"));
                        conn.send(&note).unwrap();
                        jid = Some(bound);
                    }
                    ClientEvent::Stanza(s) if s.id.as_deref() == Some("tokio-1") => {
                        assert_eq!(s.payloads[0].text, "over tokio");
                        echoed = true;
                    }
                    ClientEvent::Ended(end) => panic!("{server}: {end}"),
                    _ => {}
                }
            }
        }
        assert_eq!(jid.unwrap().to_bare().as_str(), "alice@example.test");
        conn.close(Instant::now());
        let _ = transport
            .round(&mut conn, Instant::now() + Duration::from_millis(200))
            .await;
    }
}
