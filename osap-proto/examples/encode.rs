//! Reads the JSON lines that the `decode` example prints and prints each
//! frame as hexadecimal text. An invalid line stops the run with a one-line
//! error on standard error and exit status 1.
//!
//! ```sh
//! echo '{"mqtt":{"type":"PINGREQ"}}' | cargo run -q -p osap-proto --example encode
//! ```

use std::io::{BufRead, Write};
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
}

fn encode_line(line: &str) -> Result<String, String> {
    let frame: Frame<'_> = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    match frame {
        Frame::Mqtt(p) => p.encode(&mut out),
        Frame::Control(c) => c.encode(&mut out),
        Frame::Auth { frame, .. } => frame.encode(&mut out),
    }
    .map_err(|e| e.to_string())?;
    Ok(out.iter().map(|b| format!("{b:02x}")).collect())
}

fn main() -> ExitCode {
    let stdin = std::io::stdin();
    for (n, line) in stdin.lock().lines().enumerate() {
        let result = line.map_err(|e| e.to_string()).and_then(|l| {
            if l.trim().is_empty() {
                Ok(None)
            } else {
                encode_line(&l).map(Some)
            }
        });
        match result {
            Ok(Some(hex)) => {
                let _ = writeln!(std::io::stdout(), "{hex}");
            }
            Ok(None) => {}
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "error: line {}: {e}", n + 1);
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
