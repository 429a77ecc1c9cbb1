//! The server side of SCRAM, for tests and fuzz targets (feature
//! `testing`): it checks what a client sends as a server must (RFC 5802
//! sections 5 and 6), the channel binding included, so that a test can
//! play the server a client meets, or the server in the middle.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use subtle::ConstantTimeEq;

use super::binding::{ChannelBinding, ChannelBindingData};
use super::scram::ScramHash;

/// A SCRAM server for one exchange: the password it knows, the salt and
/// count it gives, its nonce, and its side of channel binding: the data of
/// its TLS connection (`None`: it does not bind) and whether it offered a
/// `-PLUS` mechanism.
#[derive(Debug)]
pub struct ScramServer {
    hash: ScramHash,
    password: String,
    salt: Vec<u8>,
    iterations: u32,
    nonce: String,
    binding: Option<ChannelBindingData>,
    offered_plus: bool,
    /// The client-first-bare and server-first, once read and sent.
    first: Option<(String, String, String)>,
}

impl ScramServer {
    /// A server knowing `password`, answering with `salt`, `iterations`
    /// and `nonce` (appended to the client's); `binding` is its TLS
    /// connection's data when it supports binding, and `offered_plus`
    /// whether it offered a `-PLUS` mechanism.
    #[must_use]
    pub fn new(
        hash: ScramHash,
        password: &str,
        salt: &[u8],
        iterations: u32,
        nonce: &str,
        binding: Option<ChannelBindingData>,
        offered_plus: bool,
    ) -> Self {
        Self {
            hash,
            password: password.to_owned(),
            salt: salt.to_vec(),
            iterations,
            nonce: nonce.to_owned(),
            binding,
            offered_plus,
            first: None,
        }
    }

    /// Reads the client-first-message; returns the server-first-message,
    /// or why the server refuses: a GS2 flag that does not fit what it
    /// offered (`y` from a client when the server supports binding is a
    /// downgrade: its offer was stripped), a binding type it does not
    /// have.
    ///
    /// # Errors
    ///
    /// The reason, as `e=` would carry it.
    pub fn first(&mut self, client_first: &str) -> Result<String, &'static str> {
        let (flag, rest) = client_first.split_once(',').ok_or("invalid-encoding")?;
        let (authzid, bare) = rest.split_once(',').ok_or("invalid-encoding")?;
        if !authzid.is_empty() {
            return Err("invalid-encoding");
        }
        let gs2 = match flag {
            "n" => ChannelBinding::Unsupported,
            "y" if self.binding.is_some() => return Err("server-does-support-channel-binding"),
            "y" => ChannelBinding::NotOffered,
            _ => {
                let kind = flag.strip_prefix("p=").ok_or("invalid-encoding")?;
                let data = self
                    .binding
                    .clone()
                    .filter(|d| d.kind.name() == kind && self.offered_plus)
                    .ok_or("unsupported-channel-binding-type")?;
                ChannelBinding::Bound(data)
            }
        };
        let client_nonce = bare
            .split(',')
            .find_map(|f| f.strip_prefix("r="))
            .ok_or("invalid-encoding")?;
        let nonce = format!("{client_nonce}{}", self.nonce);
        let server_first = format!(
            "r={nonce},s={},i={}",
            STANDARD.encode(&self.salt),
            self.iterations
        );
        let c = STANDARD.encode(gs2.c_input().expose());
        self.first = Some((bare.to_owned(), server_first.clone(), c));
        Ok(server_first)
    }

    /// Reads the client-final-message; returns the server-final-message
    /// (`v=`), or why the server refuses: channel binding data that is not
    /// its own (a client bound to another TLS connection: a server in the
    /// middle relayed it), or a proof of another password.
    ///
    /// # Errors
    ///
    /// The reason, as `e=` would carry it.
    pub fn last(&mut self, client_final: &str) -> Result<String, &'static str> {
        let (bare, server_first, c) = self.first.take().ok_or("other-error")?;
        let (without_proof, proof) = client_final.rsplit_once(",p=").ok_or("invalid-encoding")?;
        let got_c = without_proof
            .strip_prefix("c=")
            .and_then(|rest| rest.split(',').next())
            .ok_or("invalid-encoding")?;
        if got_c != c {
            return Err("channel-bindings-dont-match");
        }
        let h = self.hash;
        let salted = h.salted_password(self.password.as_bytes(), &self.salt, self.iterations);
        let client_key = h.hmac(&salted, &[b"Client Key"]);
        let stored_key = h.hash(&client_key);
        let auth = [
            bare.as_bytes(),
            b",",
            server_first.as_bytes(),
            b",",
            without_proof.as_bytes(),
        ];
        let signature = h.hmac(&stored_key, &auth);
        let proof = STANDARD.decode(proof).map_err(|_| "invalid-proof")?;
        let expected: Vec<u8> = client_key
            .iter()
            .zip(signature.iter())
            .map(|(k, s)| k ^ s)
            .collect();
        if proof.len() != expected.len() || !bool::from(proof.ct_eq(&expected)) {
            return Err("invalid-proof");
        }
        let server_key = h.hmac(&salted, &[b"Server Key"]);
        Ok(format!(
            "v={}",
            STANDARD.encode(&*h.hmac(&server_key, &auth))
        ))
    }
}
