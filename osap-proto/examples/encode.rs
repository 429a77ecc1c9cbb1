//! Reads the JSON lines that the `decode` example prints and prints each
//! frame as hexadecimal text. An invalid line stops the run with a one-line
//! error on standard error and exit status 1.
//!
//! ```sh
//! echo '{"mqtt":{"type":"PINGREQ"}}' | cargo run -q -p osap-proto --example encode
//! ```

use std::process::ExitCode;

use osap_proto::{ControlFrame, Packet};

/// One frame, tagged by its channel.
#[derive(serde::Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Frame<'a> {
    #[serde(borrow)]
    Mqtt(Packet<'a>),
    #[serde(borrow)]
    Control(ControlFrame<'a>),
    Auth {
        frame: osap_proto::auth::AuthFrame,
        /// What `decode --key` opened; not part of the frame.
        #[serde(default)]
        #[allow(dead_code)]
        opened: serde_json::Value,
    },
    /// A business PUBLISH as `decode` explains it: the packet is the frame.
    Business {
        #[serde(borrow)]
        packet: Packet<'a>,
        /// The explanation; not part of the frame.
        #[allow(dead_code)]
        business: serde_json::Value,
    },
}

fn encode_line(line: &str) -> Result<String, String> {
    let frame: Frame<'_> = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    match frame {
        Frame::Mqtt(p) | Frame::Business { packet: p, .. } => p.encode(&mut out),
        Frame::Control(c) => c.encode(&mut out),
        Frame::Auth { frame, .. } => frame.encode(&mut out),
    }
    .map_err(|e| e.to_string())?;
    Ok(out.iter().map(|b| format!("{b:02x}")).collect())
}

fn main() -> ExitCode {
    example_io::each_line(encode_line)
}
