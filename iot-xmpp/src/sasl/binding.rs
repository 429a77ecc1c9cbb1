//! Channel binding for SCRAM (RFC 5802 section 6): what the client says
//! about it in the GS2 header, and the data that binds the authentication
//! to the TLS connection it runs in, so that a server in the middle (two
//! TLS connections) cannot relay it.

use iot_sansio::Secret;

/// How the authentication is bound to the TLS connection: the binding
/// types this client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BindingType {
    /// `tls-exporter` (RFC 9266): 32 bytes of keying material the TLS
    /// connection exports under the label `EXPORTER-Channel-Binding`, no
    /// context (TLS 1.3, or TLS 1.2 with the extended master secret).
    TlsExporter,
    /// `tls-server-end-point` (RFC 5929 section 4): the hash of the
    /// server's certificate, for a TLS library that exports nothing.
    TlsServerEndPoint,
}

impl BindingType {
    /// The type's registered name, as the GS2 header carries it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::TlsExporter => "tls-exporter",
            Self::TlsServerEndPoint => "tls-server-end-point",
        }
    }

    /// The label of the keying material `tls-exporter` exports (RFC 9266
    /// section 2).
    pub const EXPORTER_LABEL: &'static [u8] = b"EXPORTER-Channel-Binding";

    /// How many bytes of keying material `tls-exporter` exports.
    pub const EXPORTER_LEN: usize = 32;
}

/// The channel binding data of a TLS connection, which the runtime takes
/// from its TLS library once the handshake is done and hands to the
/// connection before it authenticates. A secret: it binds this session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelBindingData {
    /// Its type.
    pub kind: BindingType,
    /// The data.
    pub data: Secret<Vec<u8>>,
}

impl ChannelBindingData {
    /// `tls-exporter` data: what the TLS library exported with
    /// [`BindingType::EXPORTER_LABEL`], no context, and
    /// [`BindingType::EXPORTER_LEN`] bytes.
    #[must_use]
    pub fn tls_exporter(data: Vec<u8>) -> Self {
        Self {
            kind: BindingType::TlsExporter,
            data: Secret::new(data),
        }
    }

    /// `tls-server-end-point` data: the hash of the server's certificate
    /// (SHA-256 for one signed with MD5 or SHA-1, else its signature's
    /// hash, RFC 5929 section 4.1).
    #[must_use]
    pub fn tls_server_end_point(certificate_hash: Vec<u8>) -> Self {
        Self {
            kind: BindingType::TlsServerEndPoint,
            data: Secret::new(certificate_hash),
        }
    }
}

/// What the client's GS2 header says about channel binding (RFC 5802
/// sections 6 and 7: the `gs2-cbind-flag`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ChannelBinding {
    /// `n`: the client does not bind (no TLS, or no binding data from the
    /// runtime).
    #[default]
    Unsupported,
    /// `y`: the client could bind, but the server offered no `-PLUS`
    /// mechanism. A server that does support binding then knows its offer
    /// was stripped on the way and fails the authentication.
    NotOffered,
    /// `p=<type>`: bound to this data, with a `-PLUS` mechanism.
    Bound(ChannelBindingData),
}

impl ChannelBinding {
    /// The GS2 header, with no authorization identity: `n,,`, `y,,` or
    /// `p=<type>,,`.
    #[must_use]
    pub fn gs2_header(&self) -> String {
        match self {
            Self::Unsupported => "n,,".to_owned(),
            Self::NotOffered => "y,,".to_owned(),
            Self::Bound(data) => format!("p={},,", data.kind.name()),
        }
    }

    /// What `c=` carries, before base64: the GS2 header, then the binding
    /// data when bound.
    #[must_use]
    pub fn c_input(&self) -> Secret<Vec<u8>> {
        let mut input = self.gs2_header().into_bytes();
        if let Self::Bound(data) = self {
            input.extend_from_slice(data.data.expose());
        }
        Secret::new(input)
    }
}
