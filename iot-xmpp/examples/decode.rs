//! Reads one XMPP stanza on standard input and prints it as JSON. Invalid
//! input gives a one-line error on standard error and exit status 1.
//!
//! ```sh
//! echo "<message to='a@b.org'><body>hi</body></message>" | cargo run -q -p iot-xmpp --features json --example decode
//! ```

use std::process::ExitCode;

use iot_xmpp::{Stanza, StanzaLimits, json};

fn main() -> ExitCode {
    example_io::run(|input| {
        let s = Stanza::parse(input.trim(), &StanzaLimits::default()).map_err(|e| e.to_string())?;
        Ok(json::stanza_to_json(&s).to_string())
    })
}
