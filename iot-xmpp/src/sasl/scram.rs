//! The client side of SCRAM (RFC 5802) with SHA-1 and SHA-256 (RFC 7677),
//! with or without channel binding (the `-PLUS` mechanisms, RFC 5802
//! section 6), the user name and the password prepared with SASLprep
//! (RFC 4013).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use iot_sansio::Secret;
use rand_core::CryptoRngCore;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::binding::ChannelBinding;
use super::error::SaslError;

/// The hash of a SCRAM mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScramHash {
    /// `SCRAM-SHA-1` (RFC 5802; the minimum OIC RA section 7.2 sets).
    Sha1,
    /// `SCRAM-SHA-256` (RFC 7677).
    Sha256,
}

impl ScramHash {
    /// The mechanism's name.
    #[must_use]
    pub fn mechanism(self) -> &'static str {
        match self {
            Self::Sha1 => "SCRAM-SHA-1",
            Self::Sha256 => "SCRAM-SHA-256",
        }
    }

    pub(crate) fn hmac(self, key: &[u8], parts: &[&[u8]]) -> Zeroizing<Vec<u8>> {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Zeroizing<Vec<u8>> {
            let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key)
                .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
            for part in parts {
                mac.update(part);
            }
            Zeroizing::new(mac.finalize().into_bytes().to_vec())
        }
        match self {
            Self::Sha1 => run::<Hmac<Sha1>>(key, parts),
            Self::Sha256 => run::<Hmac<Sha256>>(key, parts),
        }
    }

    pub(crate) fn hash(self, data: &[u8]) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(match self {
            Self::Sha1 => Sha1::digest(data).to_vec(),
            Self::Sha256 => Sha256::digest(data).to_vec(),
        })
    }

    pub(crate) fn salted_password(
        self,
        password: &[u8],
        salt: &[u8],
        iterations: u32,
    ) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(vec![
            0u8;
            match self {
                Self::Sha1 => 20,
                Self::Sha256 => 32,
            }
        ]);
        match self {
            Self::Sha1 => pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut out),
            Self::Sha256 => pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out),
        }
        out
    }
}

/// The bounds a client puts on the server's iteration count: a count
/// below `min` weakens the stored key (RFC 5802 section 5.1 asks for at
/// least 4096); one above `max` makes the client compute for too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Iterations {
    /// The least accepted (default 4096).
    pub min: u32,
    /// The most accepted (default 600,000).
    pub max: u32,
}

impl Default for Iterations {
    fn default() -> Self {
        Self {
            min: 4096,
            max: 600_000,
        }
    }
}

/// The client side of one SCRAM exchange: client-first, then the
/// client-final built from the server-first, then the server-final
/// checked against the server signature the client computed, in constant
/// time. Without channel binding (`n,,`) unless given one
/// ([`ScramClient::with_binding`]).
///
/// ```
/// use iot_xmpp::sasl::{ScramClient, ScramHash};
/// use iot_sansio::Secret;
///
/// // RFC 5802 section 5.
/// let mut c = ScramClient::with_nonce(ScramHash::Sha1, "user", &Secret::new("pencil"), "fyko+d2lbbFgONRv9qkxdawL")?;
/// assert_eq!(c.client_first(), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
/// let last = c.server_first(b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")?;
/// assert_eq!(last, "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
/// c.server_final(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")?;
/// # Ok::<(), iot_xmpp::sasl::SaslError>(())
/// ```
#[derive(Debug)]
pub struct ScramClient {
    hash: ScramHash,
    password: Secret<String>,
    nonce: String,
    client_first_bare: String,
    iterations: Iterations,
    /// The server signature to expect, once the client-final is built.
    expected: Option<Secret<Vec<u8>>>,
    /// What the GS2 header says about channel binding, and the data.
    binding: ChannelBinding,
}

/// The length of the random part of the client nonce, in bytes (24
/// characters of base64).
const NONCE_BYTES: usize = 18;

impl ScramClient {
    /// A client for `username` with `password`, its nonce drawn from
    /// `rng`.
    ///
    /// # Errors
    ///
    /// [`SaslError::Username`] for a user name SCRAM cannot carry.
    pub fn new(
        hash: ScramHash,
        username: &str,
        password: &Secret<String>,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, SaslError> {
        let mut bytes = [0u8; NONCE_BYTES];
        rng.fill_bytes(&mut bytes);
        Self::with_nonce(hash, username, password, &STANDARD.encode(bytes))
    }

    /// A client with a given nonce: for test vectors only; a real exchange
    /// takes a fresh one from [`ScramClient::new`].
    ///
    /// # Errors
    ///
    /// [`SaslError::Username`] for a user name SCRAM cannot carry (empty,
    /// or refused by SASLprep), [`SaslError::Password`] for a password
    /// SASLprep refuses, and [`SaslError::Malformed`] for a nonce with a
    /// comma or outside printable ASCII.
    pub fn with_nonce(
        hash: ScramHash,
        username: &str,
        password: &Secret<String>,
        nonce: &str,
    ) -> Result<Self, SaslError> {
        // RFC 5802 section 5.1: the name is prepared with SASLprep, and
        // the password normalized with it before it is hashed.
        let username = stringprep::saslprep(username).map_err(|_| SaslError::Username)?;
        if username.is_empty() {
            return Err(SaslError::Username);
        }
        let password = match stringprep::saslprep(password.expose()) {
            Ok(prepared) => Secret::new(prepared.into_owned()),
            Err(_) => return Err(SaslError::Password),
        };
        if nonce.is_empty()
            || !nonce
                .bytes()
                .all(|b| (0x21..=0x7e).contains(&b) && b != b',')
        {
            return Err(SaslError::Malformed("client nonce"));
        }
        // RFC 5802 section 5.1: `=` and `,` in the name are escaped.
        let name = username.replace('=', "=3D").replace(',', "=2C");
        Ok(Self {
            hash,
            password,
            nonce: nonce.to_owned(),
            client_first_bare: format!("n={name},r={nonce}"),
            iterations: Iterations::default(),
            expected: None,
            binding: ChannelBinding::Unsupported,
        })
    }

    /// What the client says about channel binding (default
    /// [`ChannelBinding::Unsupported`], `n`): bound to the TLS connection's
    /// data with a `-PLUS` mechanism, or `y` when it could bind but the
    /// server offered no `-PLUS` mechanism.
    #[must_use]
    pub fn with_binding(mut self, binding: ChannelBinding) -> Self {
        self.binding = binding;
        self
    }

    /// The bounds on the iteration count (default [`Iterations::default`]).
    #[must_use]
    pub fn with_iterations(mut self, iterations: Iterations) -> Self {
        self.iterations = iterations;
        self
    }

    /// The mechanism's hash.
    #[must_use]
    pub fn hash(&self) -> ScramHash {
        self.hash
    }

    /// The client-first-message: the GS2 header (`n,,`, `y,,` or
    /// `p=<type>,,`: no authorization identity), then the bare message.
    #[must_use]
    pub fn client_first(&self) -> String {
        format!("{}{}", self.binding.gs2_header(), self.client_first_bare)
    }

    /// Reads the server-first-message and returns the
    /// client-final-message with the proof.
    ///
    /// # Errors
    ///
    /// [`SaslError::Malformed`] for a message without `r`, `s` or `i` in
    /// that order, or with a mandatory extension; [`SaslError::Nonce`] when
    /// the server's nonce does not extend the client's;
    /// [`SaslError::Iterations`] for a count outside the bounds.
    pub fn server_first(&mut self, message: &[u8]) -> Result<String, SaslError> {
        let text = core::str::from_utf8(message)
            .map_err(|_| SaslError::Malformed("server-first-message"))?;
        let mut fields = text.split(',');
        if text.starts_with("m=") {
            return Err(SaslError::Malformed("a mandatory extension"));
        }
        let nonce = field(fields.next(), 'r')?;
        let salt = field(fields.next(), 's')?;
        let iterations = field(fields.next(), 'i')?;
        if nonce.len() <= self.nonce.len() || !nonce.starts_with(self.nonce.as_str()) {
            return Err(SaslError::Nonce);
        }
        if !nonce.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(SaslError::Malformed("server nonce"));
        }
        let salt = Zeroizing::new(
            STANDARD
                .decode(salt)
                .map_err(|_| SaslError::Malformed("salt"))?,
        );
        let count: u32 = iterations
            .parse()
            .map_err(|_| SaslError::Malformed("iteration count"))?;
        if count < self.iterations.min || count > self.iterations.max {
            return Err(SaslError::Iterations(count));
        }
        let h = self.hash;
        let salted = h.salted_password(self.password.expose().as_bytes(), &salt, count);
        let client_key = h.hmac(&salted, &[b"Client Key"]);
        let stored_key = h.hash(&client_key);
        // c=: base64 of the GS2 header and, when bound, the binding data
        // (`biws` for `n,,`).
        let c = STANDARD.encode(self.binding.c_input().expose());
        let without_proof = format!("c={c},r={nonce}");
        let auth = [
            self.client_first_bare.as_bytes(),
            b",",
            message,
            b",",
            without_proof.as_bytes(),
        ];
        let signature = h.hmac(&stored_key, &auth);
        let proof: Zeroizing<Vec<u8>> = Zeroizing::new(
            client_key
                .iter()
                .zip(signature.iter())
                .map(|(k, s)| k ^ s)
                .collect(),
        );
        let server_key = h.hmac(&salted, &[b"Server Key"]);
        let server_signature = h.hmac(&server_key, &auth);
        self.expected = Some(Secret::new(server_signature.to_vec()));
        Ok(format!("{without_proof},p={}", STANDARD.encode(&*proof)))
    }

    /// Checks the server-final-message: the server proved it knows the
    /// password's stored key.
    ///
    /// # Errors
    ///
    /// [`SaslError::ServerSignature`] when the signature does not match,
    /// [`SaslError::Server`] for `e=`, [`SaslError::Malformed`] otherwise,
    /// and [`SaslError::OutOfOrder`] before the server-first.
    pub fn server_final(&mut self, message: &[u8]) -> Result<(), SaslError> {
        let expected = self.expected.take().ok_or(SaslError::OutOfOrder)?;
        let text = core::str::from_utf8(message)
            .map_err(|_| SaslError::Malformed("server-final-message"))?;
        let first = text.split(',').next().unwrap_or_default();
        if let Some(error) = first.strip_prefix("e=") {
            return Err(SaslError::Server(error.to_owned()));
        }
        let verifier = first
            .strip_prefix("v=")
            .ok_or(SaslError::Malformed("server-final-message"))?;
        let got = STANDARD
            .decode(verifier)
            .map_err(|_| SaslError::Malformed("server signature"))?;
        if got.len() != expected.expose().len() || !bool::from(got.ct_eq(expected.expose())) {
            return Err(SaslError::ServerSignature);
        }
        Ok(())
    }
}

/// The value of `name=value`, or why there is none.
fn field(part: Option<&str>, name: char) -> Result<&str, SaslError> {
    part.and_then(|p| p.strip_prefix(name))
        .and_then(|p| p.strip_prefix('='))
        .filter(|v| !v.is_empty())
        .ok_or(SaslError::Malformed(match name {
            'r' => "nonce",
            's' => "salt",
            _ => "iteration count",
        }))
}
