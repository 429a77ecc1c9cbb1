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

/// The cryptography of every configuration here: `ring`.
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

/// The channel binding data (`tls-exporter`, RFC 9266) of a TLS client
/// connection once its handshake is done: the keying material it exports
/// under `EXPORTER-Channel-Binding`. `None` when it exports none.
pub(crate) fn channel_binding(tls: &rustls::ClientConnection) -> Option<ChannelBindingData> {
    let material = tls
        .export_keying_material(
            vec![0u8; BindingType::EXPORTER_LEN],
            BindingType::EXPORTER_LABEL,
            None,
        )
        .ok()?;
    Some(ChannelBindingData::tls_exporter(material))
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
