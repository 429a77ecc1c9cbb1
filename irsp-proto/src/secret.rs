//! The secret text type of the crate: the family's secret over a string.

pub use iot_sansio::REDACTED;

/// A secret text: an account server token, a password or a device
/// verification code (clause 8.2), as the family's [`iot_sansio::Secret`]:
/// wiped on drop, redacted in `Debug` and JSON (and the placeholder refused
/// when read), compared in constant time.
///
/// ```
/// use irsp_proto::Secret;
///
/// let token = Secret::new("s3cret");
/// assert!(!format!("{token:?}").contains("s3cret"));
/// assert_eq!(token.expose(), "s3cret");
/// assert_eq!(token, Secret::new("s3cret"));
/// ```
pub type Secret = iot_sansio::Secret<String>;
