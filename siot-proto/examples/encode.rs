//! Reads the JSON that the `decode` example prints and prints the stanza
//! as XML, after checking that its `urn:xmpp:siot:1` element is valid
//! (`"siot"` is an explanation and is not read). Invalid input gives a
//! one-line error on standard error and exit status 1.
//!
//! ```sh
//! echo '{"stanza":{"kind":"iq","type":"get","id":"q1","payloads":[{"name":"pending-friend-query","ns":"urn:xmpp:siot:1"}]}}' \
//!     | cargo run -q -p siot-proto --example encode
//! ```

use std::process::ExitCode;

use serde_json::Value;
use siot_proto::payload::SiotPayload;
use siot_proto::stanza::json;

fn encode(input: &str) -> Result<String, String> {
    let v: Value = serde_json::from_str(input).map_err(|e| e.to_string())?;
    example_io::refuse_redacted(&v)?;
    let stanza = json::stanza_from_json(v.get("stanza").ok_or("expected {\"stanza\": ...}")?)?;
    SiotPayload::from_stanza(&stanza).map_err(|e| e.to_string())?;
    Ok(stanza.to_xml())
}

fn main() -> ExitCode {
    example_io::run(encode)
}
