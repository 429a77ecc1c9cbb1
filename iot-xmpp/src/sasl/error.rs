//! Why a SASL exchange failed.

/// Why a SASL exchange failed on the client's side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SaslError {
    /// A message of the server is not what the mechanism defines.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The server's nonce does not begin with the client's (RFC 5802
    /// section 5.1).
    #[error("the server nonce does not extend the client nonce")]
    Nonce,
    /// The server's iteration count is outside the client's bounds.
    #[error("iteration count {0} is outside the accepted bounds")]
    Iterations(u32),
    /// The server's signature does not verify: it does not know the
    /// password's keys (a server in the middle, or a wrong server).
    #[error("the server signature does not verify")]
    ServerSignature,
    /// The server ended the exchange with `e=` (RFC 5802 section 7).
    #[error("the server reports {0}")]
    Server(String),
    /// A user name SCRAM cannot carry (empty, or with characters SASLprep
    /// prohibits, RFC 4013 section 2.3).
    #[error("a user name SCRAM cannot carry")]
    Username,
    /// A password with characters SASLprep prohibits (RFC 4013 section
    /// 2.3) or unassigned code points.
    #[error("a password SASLprep refuses")]
    Password,
    /// A message came before the one it follows.
    #[error("a SASL message out of order")]
    OutOfOrder,
}
