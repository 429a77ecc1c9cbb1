//! Which certificates a connection trusts, and the TLS pieces both
//! transports share.

use std::path::PathBuf;
use std::sync::Arc;

use iot_xmpp::sasl::{BindingType, ChannelBindingData};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::NetError;

/// The certificate authorities a connection trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Roots {
    /// The operating system's (`rustls-platform-verifier`: on Linux the
    /// system's CA bundle; on macOS, Windows and Android the platform's
    /// own verifier). The default.
    #[default]
    Platform,
    /// Only the certificates in this PEM file: a private CA, or a test
    /// server's self-signed certificate.
    PemFile(PathBuf),
    /// Only the certificates in these PEM bytes.
    Pem(Vec<u8>),
}

impl Roots {
    /// A rustls client configuration (TLS 1.2 and 1.3, the `ring`
    /// provider) that verifies servers against these roots.
    ///
    /// # Errors
    ///
    /// [`NetError::Certificate`], naming the file, when it cannot be read
    /// or holds no certificate; [`NetError::TlsConfig`] when the platform
    /// verifier cannot be built.
    pub fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, NetError> {
        let provider = provider();
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        let config = match self {
            Self::Platform => {
                let verifier = rustls_platform_verifier::Verifier::new(provider)?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(verifier))
                    .with_no_client_auth()
            }
            Self::PemFile(path) => {
                let shown = path.display().to_string();
                let pem = std::fs::read(path).map_err(|error| NetError::Certificate {
                    path: shown.clone(),
                    error,
                })?;
                builder
                    .with_root_certificates(root_store(&pem, &shown)?)
                    .with_no_client_auth()
            }
            Self::Pem(pem) => builder
                .with_root_certificates(root_store(pem, "(PEM given)")?)
                .with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }
}

/// The cryptography of every configuration here: `ring`. rustls 0.23.48
/// deprecates its `ring` provider for lacking post-quantum key exchange;
/// the workspace keeps `ring` (no C toolchain, a licence `deny` accepts)
/// until it chooses its provider again.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificates of `pem` as roots; `path` names where they came from
/// in an error.
fn root_store(pem: &[u8], path: &str) -> Result<rustls::RootCertStore, NetError> {
    let invalid = |why: String| NetError::Certificate {
        path: path.to_owned(),
        error: std::io::Error::new(std::io::ErrorKind::InvalidData, why),
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| invalid(e.to_string()))?;
        roots.add(cert).map_err(|e| invalid(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(invalid("no certificate in it".into()));
    }
    Ok(roots)
}

/// The channel binding data of a TLS client connection once its handshake
/// is done. Over TLS 1.3, `tls-exporter` (RFC 9266): the keying material
/// the connection exports under `EXPORTER-Channel-Binding`. Over TLS 1.2,
/// where `tls-exporter` is defined only with the extended master secret
/// (which rustls does not report), `tls-server-end-point` (RFC 5929): the
/// hash of the server's certificate ([`server_end_point`]). `None` when
/// neither can be had.
pub(crate) fn channel_binding(tls: &rustls::ClientConnection) -> Option<ChannelBindingData> {
    if tls.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3) {
        let material = tls
            .export_keying_material(
                vec![0u8; BindingType::EXPORTER_LEN],
                BindingType::EXPORTER_LABEL,
                None,
            )
            .ok()?;
        return Some(ChannelBindingData::tls_exporter(material));
    }
    let certificate = tls.peer_certificates()?.first()?;
    server_end_point(certificate).map(ChannelBindingData::tls_server_end_point)
}

/// The `tls-server-end-point` binding of a server's certificate (RFC 5929
/// section 4.1): its DER hashed with the hash of its signature algorithm,
/// SHA-256 when that is MD5 or SHA-1. `None` for a certificate that does
/// not read, or whose algorithm names no hash this knows (Ed25519,
/// RSASSA-PSS, whose hash is in its parameters): such a server is not
/// bound this way.
#[must_use]
pub fn server_end_point(certificate: &[u8]) -> Option<Vec<u8>> {
    use sha2::Digest as _;
    let oid = signature_algorithm(certificate)?;
    Some(match hash_of(oid)? {
        Hash::Sha256 => sha2::Sha256::digest(certificate).to_vec(),
        Hash::Sha384 => sha2::Sha384::digest(certificate).to_vec(),
        Hash::Sha512 => sha2::Sha512::digest(certificate).to_vec(),
    })
}

enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

/// The hash RFC 5929 section 4.1 takes for a signature algorithm, by the
/// OID's DER content.
fn hash_of(oid: &[u8]) -> Option<Hash> {
    // 1.2.840.113549.1.1.{4,5,11,12,13}: MD5, SHA-1, SHA-256, SHA-384,
    // SHA-512 with RSA.
    const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
    // 1.2.840.10045.4.1 (SHA-1) and 1.2.840.10045.4.3.{2,3,4}: ECDSA.
    const ECDSA_SHA1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01];
    const ECDSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03];
    if oid == ECDSA_SHA1 {
        return Some(Hash::Sha256);
    }
    let (family, last) = oid.split_last().map(|(l, f)| (f, *l))?;
    match (family, last) {
        (RSA, 4 | 5 | 11) | (ECDSA, 2) => Some(Hash::Sha256),
        (RSA, 12) | (ECDSA, 3) => Some(Hash::Sha384),
        (RSA, 13) | (ECDSA, 4) => Some(Hash::Sha512),
        _ => None,
    }
}

/// The OID of a DER certificate's `signatureAlgorithm` (RFC 5280 4.1.1.2:
/// `Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm
/// AlgorithmIdentifier, signatureValue }`).
fn signature_algorithm(certificate: &[u8]) -> Option<&[u8]> {
    let (0x30, certificate, _) = der(certificate)? else {
        return None;
    };
    let (0x30, _, rest) = der(certificate)? else {
        return None;
    };
    let (0x30, algorithm, _) = der(rest)? else {
        return None;
    };
    let (0x06, oid, _) = der(algorithm)? else {
        return None;
    };
    Some(oid)
}

/// One DER element: its tag, its content and what follows it. Lengths of
/// up to four bytes; `None` for anything shorter than it says.
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let [tag, first, rest @ ..] = input else {
        return None;
    };
    let (len, rest) = if first & 0x80 == 0 {
        (usize::from(*first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, rest) = rest.split_at(count);
        let len = bytes
            .iter()
            .fold(0usize, |len, b| (len << 8) | usize::from(*b));
        (len, rest)
    };
    if rest.len() < len {
        return None;
    }
    let (content, rest) = rest.split_at(len);
    Some((*tag, content, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file that is not there, and one without a certificate, are named.
    #[test]
    fn certificate_errors_name_the_file() {
        let missing = Roots::PemFile("/nonexistent/ca.pem".into())
            .client_config()
            .unwrap_err();
        let text = missing.to_string();
        assert!(
            text.starts_with("cannot read the certificates to trust, /nonexistent/ca.pem:"),
            "{text}"
        );
        let empty = Roots::Pem(b"no PEM here".to_vec())
            .client_config()
            .unwrap_err();
        assert!(
            empty.to_string().contains("no certificate in it"),
            "{empty}"
        );
        assert!(Roots::Platform.client_config().is_ok());
    }
}

#[cfg(test)]
mod end_point {
    use super::*;
    use sha2::Digest as _;

    fn certificate(alg: &'static rcgen::SignatureAlgorithm) -> Vec<u8> {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let params = rcgen::CertificateParams::new(vec!["example.net".to_owned()]).unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    /// RFC 5929 4.1: the certificate's own hash, by its signature
    /// algorithm.
    #[test]
    fn the_hash_follows_the_signature_algorithm() {
        let p256 = certificate(&rcgen::PKCS_ECDSA_P256_SHA256);
        assert_eq!(
            server_end_point(&p256).unwrap(),
            sha2::Sha256::digest(&p256).to_vec()
        );
        let p384 = certificate(&rcgen::PKCS_ECDSA_P384_SHA384);
        assert_eq!(
            server_end_point(&p384).unwrap(),
            sha2::Sha384::digest(&p384).to_vec()
        );
        // Ed25519 names no hash: no binding of this type.
        let ed = certificate(&rcgen::PKCS_ED25519);
        assert_eq!(server_end_point(&ed), None);
    }

    #[test]
    fn the_oids_of_rfc_5929() {
        let rsa = |n: u8| [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, n];
        assert!(
            matches!(hash_of(&rsa(4)), Some(Hash::Sha256)),
            "MD5: SHA-256"
        );
        assert!(
            matches!(hash_of(&rsa(5)), Some(Hash::Sha256)),
            "SHA-1: SHA-256"
        );
        assert!(matches!(hash_of(&rsa(11)), Some(Hash::Sha256)));
        assert!(matches!(hash_of(&rsa(12)), Some(Hash::Sha384)));
        assert!(matches!(hash_of(&rsa(13)), Some(Hash::Sha512)));
        assert!(hash_of(&rsa(10)).is_none(), "RSASSA-PSS");
        let ecdsa_sha1 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01];
        assert!(matches!(hash_of(&ecdsa_sha1), Some(Hash::Sha256)));
        let ecdsa = |n: u8| [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, n];
        assert!(matches!(hash_of(&ecdsa(4)), Some(Hash::Sha512)));
        assert!(hash_of(&[]).is_none());
    }

    /// Every prefix of a certificate, and a length that says more than
    /// there is, read as nothing rather than a panic.
    #[test]
    fn a_truncated_certificate_is_none() {
        let p256 = certificate(&rcgen::PKCS_ECDSA_P256_SHA256);
        for end in 0..p256.len() {
            let _ = server_end_point(&p256[..end]);
        }
        assert_eq!(der(&[0x30, 0x85, 1, 2, 3, 4, 5]), None, "five length bytes");
        assert_eq!(der(&[0x30, 0x80]), None, "indefinite length");
        assert_eq!(der(&[0x30, 0x82, 0x01]), None);
        assert_eq!(der(&[0x30, 0x03, 1]), None);
        assert_eq!(der(&[0x30, 0x81, 0x01, 7]), Some((0x30, &[7][..], &[][..])));
        assert_eq!(server_end_point(b"not DER"), None);
    }
}
