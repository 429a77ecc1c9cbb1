//! Reads one XMPP stanza, a bare `<rest>` document, or the base64 of one,
//! on standard input, and prints it as JSON. IBB elements are explained
//! (a data block that holds a `<rest>` document shows it). Invalid input
//! gives a one-line error on standard error and exit status 1, an IBB
//! element that breaks XEP-0047's rules or a data block that is not a
//! `<rest>` document included; with `--lenient` such a payload is shown
//! with an `"error"` field instead.
//!
//! ```sh
//! echo '<rest xmlns="rest.oic.org"><url method="Get">coap://d/a</url></rest>' \
//!     | cargo run -q -p oic-ra-proto --example decode
//! ```

mod common;

use std::process::ExitCode;

use oic_ra_proto::rest::{RestLimits, RestMessage};
use oic_ra_proto::stanza::{Stanza, StanzaLimits};
use serde_json::json;

fn decode(input: &str) -> Result<String, String> {
    let text = input.trim();
    let value = if text.starts_with("<rest") || text.starts_with("<?xml") && text.contains("<rest")
    {
        let m = RestMessage::parse(text, &RestLimits::default()).map_err(|e| e.to_string())?;
        json!({ "rest": common::rest_to_json(&m)? })
    } else if text.starts_with('<') {
        let s = Stanza::parse(text, &StanzaLimits::default()).map_err(|e| e.to_string())?;
        json!({ "stanza": common::stanza_to_json(&s)? })
    } else {
        let m =
            RestMessage::from_base64(text, &RestLimits::default()).map_err(|e| e.to_string())?;
        json!({ "rest": common::rest_to_json(&m)? })
    };
    let mut value = value;
    // An oic.ra.user credential is a secret: `--reveal` prints it.
    example_io::redact(&mut value, &["credential"]);
    Ok(value.to_string())
}

fn main() -> ExitCode {
    common::run(decode)
}
