//! SCRAM: the RFC 5802 and RFC 7677 vectors, a wrong password, a server
//! signature that does not verify, and every malformed server message.

#![allow(clippy::unwrap_used)]

use iot_sansio::Secret;
use iot_xmpp::sasl::{
    Iterations, Mechanism, MechanismPreference, SaslError, ScramClient, ScramHash, plain_response,
};

const SHA1_SERVER_FIRST: &[u8] =
    b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
const SHA256_SERVER_FIRST: &[u8] =
    b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";

fn sha1(password: &str) -> ScramClient {
    ScramClient::with_nonce(
        ScramHash::Sha1,
        "user",
        &Secret::new(password),
        "fyko+d2lbbFgONRv9qkxdawL",
    )
    .unwrap()
}

fn sha256(password: &str) -> ScramClient {
    ScramClient::with_nonce(
        ScramHash::Sha256,
        "user",
        &Secret::new(password),
        "rOprNGfwEbeRWgbNEkqO",
    )
    .unwrap()
}

#[test]
fn rfc_5802_section_5() {
    let mut c = sha1("pencil");
    assert_eq!(c.client_first(), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    assert_eq!(
        c.server_first(SHA1_SERVER_FIRST).unwrap(),
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
    );
    c.server_final(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=").unwrap();
}

#[test]
fn rfc_7677_section_3() {
    let mut c = sha256("pencil");
    assert_eq!(c.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    assert_eq!(
        c.server_first(SHA256_SERVER_FIRST).unwrap(),
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    );
    c.server_final(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
        .unwrap();
}

#[test]
fn a_wrong_password_gives_another_proof_and_the_real_server_signature_fails() {
    let mut c = sha1("pencil!");
    let last = c.server_first(SHA1_SERVER_FIRST).unwrap();
    assert!(!last.ends_with("p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="));
    // The server that knows "pencil" would refuse; a server that answered
    // with the signature for "pencil" is not believed.
    assert_eq!(
        c.server_final(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ="),
        Err(SaslError::ServerSignature)
    );
}

#[test]
fn a_server_signature_that_does_not_verify_is_refused() {
    for bad in [
        &b"v=rmF9pqV8S7suAoZWja4dJRkFsKA="[..],
        b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=rmF9",
        b"v=",
    ] {
        let mut c = sha1("pencil");
        c.server_first(SHA1_SERVER_FIRST).unwrap();
        assert!(
            matches!(
                c.server_final(bad),
                Err(SaslError::ServerSignature | SaslError::Malformed(_))
            ),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    let mut c = sha1("pencil");
    c.server_first(SHA1_SERVER_FIRST).unwrap();
    assert_eq!(
        c.server_final(b"e=invalid-proof"),
        Err(SaslError::Server("invalid-proof".into()))
    );
    // A final before the first, or twice.
    let mut c = sha1("pencil");
    assert_eq!(
        c.server_final(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ="),
        Err(SaslError::OutOfOrder)
    );
}

#[test]
fn malformed_server_first_messages_are_refused() {
    for (message, error) in [
        (
            &b"s=QSXCR+Q6sek8bf92,i=4096"[..],
            SaslError::Malformed("nonce"),
        ),
        (
            b"r=fyko+d2lbbFgONRv9qkxdawL3rfc,i=4096",
            SaslError::Malformed("salt"),
        ),
        (
            b"r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92",
            SaslError::Malformed("iteration count"),
        ),
        (
            b"r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=many",
            SaslError::Malformed("iteration count"),
        ),
        (
            b"r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=not base64!,i=4096",
            SaslError::Malformed("salt"),
        ),
        (
            b"m=ext,r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=4096",
            SaslError::Malformed("a mandatory extension"),
        ),
        (b"r=someoneelse,s=QSXCR+Q6sek8bf92,i=4096", SaslError::Nonce),
        (
            b"r=fyko+d2lbbFgONRv9qkxdawL,s=QSXCR+Q6sek8bf92,i=4096",
            SaslError::Nonce,
        ),
        (
            b"r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=1",
            SaslError::Iterations(1),
        ),
        (
            b"r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=4000000000",
            SaslError::Iterations(4_000_000_000),
        ),
        (b"\xff", SaslError::Malformed("server-first-message")),
    ] {
        assert_eq!(
            sha1("pencil").server_first(message),
            Err(error),
            "{}",
            String::from_utf8_lossy(message)
        );
    }
    // The bounds are the caller's.
    let mut low = sha1("pencil").with_iterations(Iterations { min: 1, max: 10 });
    assert!(
        low.server_first(b"r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=2")
            .is_ok()
    );
}

#[test]
fn user_names_are_escaped_and_nonces_are_fresh() {
    let c = ScramClient::with_nonce(ScramHash::Sha1, "a=b,c", &Secret::new("p"), "n").unwrap();
    assert_eq!(c.client_first(), "n,,n=a=3Db=2Cc,r=n");
    assert_eq!(
        ScramClient::with_nonce(ScramHash::Sha1, "", &Secret::new("p"), "n").err(),
        Some(SaslError::Username)
    );
    assert_eq!(
        ScramClient::with_nonce(ScramHash::Sha1, "u", &Secret::new("p"), "a,b").err(),
        Some(SaslError::Malformed("client nonce"))
    );
    let mut rng = iot_sansio::testing::rng(1);
    let a = ScramClient::new(ScramHash::Sha256, "u", &Secret::new("p"), &mut rng).unwrap();
    let b = ScramClient::new(ScramHash::Sha256, "u", &Secret::new("p"), &mut rng).unwrap();
    assert_ne!(a.client_first(), b.client_first());
    assert_eq!(a.client_first().len(), "n,,n=u,r=".len() + 24);
    assert!(
        !format!("{a:?}").contains("\"p\""),
        "the password is redacted"
    );
}

#[test]
fn the_mechanism_is_chosen_by_preference_and_plain_only_over_tls() {
    let offered = ["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"];
    let default = MechanismPreference::default();
    assert_eq!(
        default.choose(&offered, false),
        Some(Mechanism::ScramSha256)
    );
    assert_eq!(
        default.choose(&["SCRAM-SHA-1", "PLAIN"], true),
        Some(Mechanism::ScramSha1)
    );
    assert_eq!(
        default.choose(&["PLAIN"], true),
        None,
        "PLAIN only when configured"
    );
    let with_plain = MechanismPreference::new(&[Mechanism::ScramSha1, Mechanism::Plain]);
    assert_eq!(
        with_plain.choose(&["PLAIN"], false),
        None,
        "PLAIN only over TLS"
    );
    assert_eq!(with_plain.choose(&["PLAIN"], true), Some(Mechanism::Plain));
    assert_eq!(default.choose(&["DIGEST-MD5", "X-OAUTH2"], true), None);
    assert_eq!(
        Mechanism::from_name("SCRAM-SHA-1"),
        Some(Mechanism::ScramSha1)
    );
    assert_eq!(
        plain_response("user", &Secret::new("pencil"))
            .expose()
            .as_slice(),
        b"\0user\0pencil"
    );
}
