//! Reads frames as hexadecimal text on standard input, one per line, and
//! prints each as one line of JSON. A frame that does not parse stops the
//! run with a one-line error on standard error and exit status 1.
//!
//! ```sh
//! printf '30070003612f626869\n110b010f000701010074782d31\n' \
//!     | cargo run -q -p osap-proto --example decode
//! ```
//!
//! `--channel das` reads MQTT packets only, `--channel lbs` OSAP control
//! frames only; by default a line is read as an MQTT packet if it is one,
//! else as a control frame.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use osap_proto::{ControlFrame, Packet, RawFrame};

/// One decoded frame, tagged by its channel.
#[derive(serde::Serialize)]
#[serde(rename_all = "snake_case")]
enum Frame<'a> {
    Mqtt(Packet<'a>),
    Control(ControlFrame<'a>),
}

fn hex(text: &str) -> Result<Vec<u8>, String> {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if text.len() % 2 != 0 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("expected hexadecimal digits in pairs".into());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(text.get(i..i + 2).unwrap_or_default(), 16)
                .map_err(|e| e.to_string())
        })
        .collect()
}

fn decode_line(line: &str, channel: &str) -> Result<String, String> {
    let bytes = hex(line)?;
    let raw = RawFrame::parse(&bytes).map_err(|e| e.to_string())?;
    let frame = match channel {
        "das" => Frame::Mqtt(Packet::from_raw(raw).map_err(|e| e.to_string())?),
        "lbs" => Frame::Control(ControlFrame::from_raw(raw).map_err(|e| e.to_string())?),
        _ => match Packet::from_raw(raw) {
            Ok(packet) => Frame::Mqtt(packet),
            Err(mqtt) => Frame::Control(ControlFrame::from_raw(raw).map_err(|control| {
                format!("not an MQTT packet ({mqtt}) nor a control frame ({control})")
            })?),
        },
    };
    serde_json::to_string(&frame).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let channel = match (args.next().as_deref(), args.next()) {
        (None, _) => "auto".to_owned(),
        (Some("--channel"), Some(c)) if c == "das" || c == "lbs" => c,
        _ => {
            let _ = writeln!(
                std::io::stderr(),
                "error: usage: decode [--channel das|lbs]"
            );
            return ExitCode::FAILURE;
        }
    };
    let stdin = std::io::stdin();
    for (n, line) in stdin.lock().lines().enumerate() {
        let result = line.map_err(|e| e.to_string()).and_then(|l| {
            if l.trim().is_empty() {
                Ok(None)
            } else {
                decode_line(&l, &channel).map(Some)
            }
        });
        match result {
            Ok(Some(json)) => {
                let _ = writeln!(std::io::stdout(), "{json}");
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
