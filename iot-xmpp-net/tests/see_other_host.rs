//! `see-other-host` (RFC 6120 4.9.3.19) followed once: a server on
//! loopback sends the client to a second, which sends it to a third; the
//! client goes to the second and stops there.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpListener;

use std::time::Duration;

use iot_sansio::{End, Secret};
use iot_xmpp::BareJid;
use iot_xmpp::stream::{ClientConfig, ClientRefusal, Tls};
use iot_xmpp_net::{Connector, NetError, Roots, Session};

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>";

/// A server that reads the client's header and sends it to `to`; returns
/// what it read.
fn redirecting(listener: TcpListener, to: String) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut read = vec![0u8; 4096];
        let n = stream.read(&mut read).unwrap();
        let error = format!(
            "{HEADER}<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>{to}</see-other-host></stream:error></stream:stream>"
        );
        stream.write_all(error.as_bytes()).unwrap();
        String::from_utf8_lossy(&read[..n]).into_owned()
    })
}

#[test]
fn see_other_host_is_followed_once() {
    let first = TcpListener::bind("127.0.0.1:0").unwrap();
    let second = TcpListener::bind("127.0.0.1:0").unwrap();
    let third = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = first.local_addr().unwrap().to_string();
    let second_addr = second.local_addr().unwrap().to_string();
    let third_addr = third.local_addr().unwrap().to_string();
    third.set_nonblocking(true).unwrap();
    let a = redirecting(first, second_addr);
    let b = redirecting(second, third_addr.clone());

    let mut config = ClientConfig::new(
        BareJid::new("user@localhost").unwrap(),
        Secret::new("pencil"),
        Some("r1".into()),
    );
    config.tls = Tls::Insecure;
    let connector = Connector::new(&Roots::Platform)
        .unwrap()
        .address(&addr)
        .wait(Duration::from_secs(5));
    let result = Session::login(config, &connector);
    // The second server's redirect is where it stops.
    match result {
        Err(NetError::Ended(End::Refused(ClientRefusal::SeeOtherHost { host }))) => {
            assert_eq!(host, third_addr);
        }
        other => panic!("{other:?}"),
    }
    // Both servers saw the client's stream header for the same domain.
    for seen in [a.join().unwrap(), b.join().unwrap()] {
        assert!(seen.contains("to='localhost'"), "{seen}");
    }
    // The third never did.
    assert!(third.accept().is_err());
}
