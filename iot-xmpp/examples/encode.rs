//! Reads the JSON that the `decode` example prints and prints the stanza as
//! XML. Invalid input gives a one-line error on standard error and exit
//! status 1.
//!
//! ```sh
//! echo '{"kind":"message","to":"a@b.org","payloads":[]}' | cargo run -q -p iot-xmpp --features json --example encode
//! ```

use std::process::ExitCode;

use iot_xmpp::json;

fn main() -> ExitCode {
    example_io::run(|input| {
        let v = serde_json::from_str(input).map_err(|e| e.to_string())?;
        Ok(json::stanza_from_json(&v)?.to_xml())
    })
}
