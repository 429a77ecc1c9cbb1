//! Reads the JSON that the `decode` example prints and prints the stanza or
//! `<rest>` document as XML; `--base64` prints a `<rest>` document as
//! base64. Invalid input gives a one-line error on standard error and exit
//! status 1.
//!
//! ```sh
//! echo '{"rest":{"method":"Get","url":"coap://d/a","headers":[],"body":null}}' \
//!     | cargo run -q -p oic-ra-proto --example encode
//! ```

mod common;

use std::process::ExitCode;

use serde_json::Value;

fn encode(input: &str, base64: bool) -> Result<String, String> {
    let v: Value = serde_json::from_str(input).map_err(|e| e.to_string())?;
    example_io::refuse_redacted(&v)?;
    if let Some(rest) = v.get("rest") {
        let m = common::json_to_rest(rest)?;
        return Ok(if base64 { m.to_base64() } else { m.to_xml() });
    }
    if let Some(stanza) = v.get("stanza") {
        return Ok(common::json_to_stanza(stanza)?.to_xml());
    }
    Err("expected {\"rest\": ...} or {\"stanza\": ...}".into())
}

fn main() -> ExitCode {
    let base64 = std::env::args().any(|a| a == "--base64");
    common::run(|input| encode(input, base64))
}
