//! `ResilientSession` against a scripted server on loopback: a stanza the
//! application sends after the server ended the stream (but before the
//! session noticed) goes on the new session; a login the server refuses
//! for good is not tried again.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use iot_sansio::backoff::BackoffConfig;
use iot_sansio::{End, Secret};
use iot_xmpp::sasl::ScramHash;
use iot_xmpp::stream::{ClientConfig, ClientRefusal, Tls};
use iot_xmpp::testing::ScramServer;
use iot_xmpp::{BareJid, Stanza, StanzaKind};
use iot_xmpp_net::{Connector, NetError, ResilientSession, Roots};

const SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";

/// One connection of the scripted server: what the client wrote and not
/// yet read.
struct Peer {
    stream: TcpStream,
    read: String,
}

impl Peer {
    /// Reads until the client wrote `end` (after `after`); returns what
    /// came before `end` and keeps the rest.
    fn until(&mut self, after: &str, end: &str) -> String {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(start) = self.read.find(after)
                && let Some(at) = self.read[start..].find(end)
            {
                let upto = start + at;
                let seen = self.read[..upto].to_owned();
                self.read.drain(..upto + end.len());
                return seen;
            }
            let n = self.stream.read(&mut buf).unwrap();
            assert!(n > 0, "the client closed; it had written {:?}", self.read);
            self.read.push_str(std::str::from_utf8(&buf[..n]).unwrap());
        }
    }

    fn write(&mut self, text: &str) {
        self.stream.write_all(text.as_bytes()).unwrap();
    }

    /// The client's stream header, answered with the server's and
    /// `features`.
    fn header(&mut self, features: &str) {
        self.until("<stream:stream", ">");
        self.write(&format!(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' \
             version='1.0'><stream:features>{features}</stream:features>"
        ));
    }

    /// The SCRAM-SHA-1 exchange (RFC 6120 6.4) for the password `secret`,
    /// refused with `not-authorized` unless `accept`.
    fn authenticate(&mut self, accept: bool) -> bool {
        let mut scram = ScramServer::new(
            ScramHash::Sha1,
            "secret",
            b"salt of the test",
            4096,
            "3rfcNHYJY1ZVvWVs7j",
            None,
            false,
        );
        let mechanisms =
            format!("<mechanisms xmlns='{SASL}'><mechanism>SCRAM-SHA-1</mechanism></mechanisms>");
        self.header(&mechanisms);
        let auth = self.until("<auth", "</auth>");
        let first = decode(&auth[auth.find('>').unwrap() + 1..]);
        let server_first = scram.first(&first).unwrap();
        self.write(&format!(
            "<challenge xmlns='{SASL}'>{}</challenge>",
            STANDARD.encode(server_first)
        ));
        let response = self.until("<response", "</response>");
        let last = decode(&response[response.find('>').unwrap() + 1..]);
        if !accept {
            self.write(&format!(
                "<failure xmlns='{SASL}'><not-authorized/></failure>"
            ));
            return false;
        }
        let verifier = scram.last(&last).unwrap();
        self.write(&format!(
            "<success xmlns='{SASL}'>{}</success>",
            STANDARD.encode(verifier)
        ));
        true
    }

    /// A login of `user@localhost/r1`, with no stream management offered;
    /// `None` when the server does not `accept` it.
    fn login(stream: TcpStream, accept: bool) -> Option<Self> {
        // A client that stops short fails the test rather than hangs it.
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut peer = Self {
            stream,
            read: String::new(),
        };
        if !peer.authenticate(accept) {
            return None;
        }
        peer.header("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>");
        let bind = peer.until("<iq", "</iq>");
        let id = attribute(&bind, "id");
        peer.write(&format!(
            "<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
             <jid>user@localhost/r1</jid></bind></iq>"
        ));
        Some(peer)
    }
}

fn decode(text: &str) -> String {
    String::from_utf8(STANDARD.decode(text).unwrap()).unwrap()
}

/// The value of `name` in the first element of `xml`, quoted either way.
fn attribute(xml: &str, name: &str) -> String {
    let at = xml.find(&format!(" {name}=")).unwrap() + name.len() + 2;
    let quote = &xml[at..=at];
    let value = &xml[at + 1..];
    value[..value.find(quote).unwrap()].to_owned()
}

fn session(addr: &str) -> Result<ResilientSession, NetError> {
    let mut config = ClientConfig::new(
        BareJid::new("user@localhost").unwrap(),
        Secret::new("secret"),
        Some("r1".into()),
    );
    config.tls = Tls::Insecure;
    let connector = Connector::new(&Roots::Platform)
        .unwrap()
        .address(addr)
        .wait(Duration::from_secs(10));
    let backoff = BackoffConfig {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(50),
        jitter: 0,
        stable_after: Duration::from_secs(5),
    };
    ResilientSession::login(config, &connector, backoff)
}

fn message(id: &str) -> Stanza {
    Stanza::new(StanzaKind::Message)
        .with_to(BareJid::new("friend@localhost").unwrap())
        .with_id(id)
}

/// The server ends the first stream (`system-shutdown`) in the same
/// write as a message; the client's answer to that message, sent after
/// the end was read, reaches the server on the second connection.
fn shutting_down(listener: TcpListener) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let (first, _) = listener.accept().unwrap();
        let mut first = Peer::login(first, true).unwrap();
        first.write(
            "<message from='friend@localhost/x' to='user@localhost/r1' id='m1'/>\
             <stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
             </stream:error></stream:stream>",
        );
        drop(first);
        let (second, _) = listener.accept().unwrap();
        let mut second = Peer::login(second, true).unwrap();
        let reply = second.until("<message", "/>");
        second.write("</stream:stream>");
        reply
    })
}

#[test]
fn a_stanza_sent_after_the_stream_ended_goes_on_the_new_session() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = shutting_down(listener);
    let mut client = session(&addr).unwrap();
    let mut got = None;
    for _ in 0..50 {
        got = client.recv(Duration::from_millis(100)).unwrap();
        if got.is_some() {
            break;
        }
    }
    assert_eq!(got.unwrap().id.as_deref(), Some("m1"));
    // The connection has read the end of its stream; the session has not
    // yet been told.
    client.send(&message("reply-1")).unwrap();
    let reply = server.join().unwrap();
    assert!(reply.contains("reply-1"), "{reply}");
    let stats = client.stats();
    assert_eq!((stats.lost, stats.new_sessions), (1, 1), "{stats:?}");
}

/// The server refuses the credentials on the second login: the session
/// stops with that refusal at once rather than trying 30 times.
#[test]
fn a_refused_login_is_not_tried_again() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        let (first, _) = listener.accept().unwrap();
        drop(Peer::login(first, true));
        let (second, _) = listener.accept().unwrap();
        assert!(Peer::login(second, false).is_none());
        listener.set_nonblocking(true).unwrap();
        std::thread::sleep(Duration::from_millis(500));
        // No third attempt came.
        listener.accept().is_err()
    });
    let mut client = session(&addr).unwrap();
    let error = loop {
        match client.recv(Duration::from_millis(100)) {
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    match &error {
        NetError::Ended(End::Refused(ClientRefusal::AuthFailed { condition })) => {
            assert_eq!(condition, "not-authorized");
        }
        other => panic!("{other:?}"),
    }
    assert!(error.is_lasting());
    assert!(server.join().unwrap(), "the session tried a third time");
}

/// The server sends two messages and drops the connection; the client
/// takes the first, and its next sends find the connection broken. The
/// second message, read by the lost connection (and counted as handled),
/// is still the application's: the next `recv` gives it.
#[test]
fn what_a_lost_connection_read_is_still_received() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        let (first, _) = listener.accept().unwrap();
        let mut first = Peer::login(first, true).unwrap();
        first.write(
            "<message from='friend@localhost/x' to='user@localhost/r1' id='m1'/>\
             <message from='friend@localhost/x' to='user@localhost/r1' id='m2'/>",
        );
        // Closed with what the client wrote unread: a reset.
        std::thread::sleep(Duration::from_millis(200));
        drop(first);
        let (second, _) = listener.accept().unwrap();
        let mut second = Peer::login(second, true).unwrap();
        let after = second.until("<message", "/>");
        second.write("</stream:stream>");
        after
    });
    let mut client = session(&addr).unwrap();
    let mut first = None;
    while first.is_none() {
        first = client.recv(Duration::from_millis(100)).unwrap();
    }
    assert_eq!(first.unwrap().id.as_deref(), Some("m1"));
    std::thread::sleep(Duration::from_millis(400));
    for i in 0..20 {
        client.send(&message(&format!("ping-{i}"))).unwrap();
        if client.stats().lost > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(client.stats().lost, 1, "the connection never broke");
    let second = client.recv(Duration::from_secs(1)).unwrap().unwrap();
    assert_eq!(second.id.as_deref(), Some("m2"));
    // The new session carries what is sent next.
    client.send(&message("after")).unwrap();
    let after = server.join().unwrap();
    assert!(
        after.contains("'after'") || after.contains("\"after\""),
        "{after}"
    );
}
