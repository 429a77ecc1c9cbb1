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
//! else as a control frame. A control frame in ECDH key mode that holds an
//! authentication message (Table 3, section 6) is shown as one, its sealed
//! fields as the encrypted bytes on the wire; `--key HEX` (a sharekey,
//! masterkey or sessionkey, 32 hexadecimal digits) also shows every sealed
//! field that opens under that key, in an `opened` object.
//!
//! A PUBLISH on a business topic (`osap/{devid}/{up|down}/{area}/{kind}`,
//! PROFILE.md section 10) is explained: device, direction, area, kind and
//! message counter; with `--key` (the sessionkey) its body is opened and
//! shown as JSON, for the registration counter `--registration N`
//! (default 1) and the suite `--suite 1|2|4` (default 4, AES-128-GCM).
//! A PUBLISH whose topic is in the `osap/` space but is not a business
//! topic, or whose body does not open under `--key`, is an error (exit
//! status 1); with `--lenient` it is printed with an `"error"` field.
//!
//! The sealed fields of a first authentication are bound to the
//! negotiation that ran before it on the connection (PROFILE.md section
//! 8): `--transcript HEX` gives its 7 bytes (`Negotiated::transcript`) so
//! that they open too.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use osap_proto::auth::{AuthFrame, AuthMessage};
use osap_proto::business::{BusinessChannel, BusinessMessage, BusinessTopic};
use osap_proto::crypto::{self, SessionKey};
use osap_proto::{ControlFlags, ControlFrame, Packet, RawFrame, Suite};

/// One decoded frame, tagged by its kind.
#[derive(serde::Serialize)]
#[serde(rename_all = "snake_case")]
enum Frame<'a> {
    Mqtt(Packet<'a>),
    /// With `--lenient`: a packet recognised by its topic but invalid.
    Invalid {
        packet: Packet<'a>,
        error: String,
    },
    Business {
        packet: Packet<'a>,
        business: Box<Business>,
    },
    Control(ControlFrame<'a>),
    Auth {
        frame: AuthFrame,
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        opened: BTreeMap<&'static str, String>,
    },
}

/// What a business PUBLISH says (PROFILE.md section 10).
#[derive(serde::Serialize)]
struct Business {
    devid: String,
    direction: &'static str,
    area: String,
    kind: String,
    counter: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    opened: Option<BusinessMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// How to open business bodies: the sessionkey, the registration counter
/// and the suite.
struct Opening {
    key: Option<[u8; 16]>,
    registration: u64,
    suite: Suite,
    /// The negotiation bound into the authentication's sealed fields.
    transcript: Option<[u8; 7]>,
    /// Whether an invalid business PUBLISH is printed rather than refused.
    lenient: bool,
}

/// The business reading of a PUBLISH, if its topic is in the `osap/`
/// space; an error when that topic is not a business topic, or the body
/// does not open under the key given.
fn business(packet: &Packet<'_>, opening: &Opening) -> Result<Option<Business>, String> {
    let Packet::Publish(p) = packet else {
        return Ok(None);
    };
    if !p.topic.starts_with("osap/") {
        return Ok(None);
    }
    let BusinessTopic {
        devid,
        direction,
        area,
        kind,
    } = BusinessTopic::parse(&p.topic).map_err(|_| {
        format!(
            "`{}` is not a business topic (osap/{{devid}}/{{up|down}}/{{area}}/{{kind}})",
            p.topic
        )
    })?;
    let counter = p.payload.first_chunk::<8>().map(|c| u64::from_be_bytes(*c));
    let (mut opened, mut error) = (None, None);
    if let Some(key) = opening.key {
        let mut channel = BusinessChannel::new(
            opening.suite,
            SessionKey::from_bytes(key),
            devid,
            opening.registration,
            direction.reverse(),
        );
        match channel.open(&p.topic, &p.payload) {
            Ok(message) => opened = Some(message),
            Err(e) if opening.lenient => error = Some(e.to_string()),
            Err(e) => return Err(format!("the business body does not open: {e}")),
        }
    }
    Ok(Some(Business {
        devid: devid.into(),
        direction: direction.as_str(),
        area: area.into(),
        kind: kind.into(),
        counter,
        opened,
        error,
    }))
}

fn mqtt<'a>(packet: Packet<'a>, opening: &Opening) -> Result<Frame<'a>, String> {
    match business(&packet, opening) {
        Ok(Some(business)) => Ok(Frame::Business {
            packet,
            business: Box::new(business),
        }),
        Ok(None) => Ok(Frame::Mqtt(packet)),
        Err(error) if opening.lenient => Ok(Frame::Invalid { packet, error }),
        Err(error) => Err(error),
    }
}

fn hex(text: &str) -> Result<Vec<u8>, String> {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
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

/// The sealed fields of a message, by name.
fn sealed_fields(message: &AuthMessage) -> Vec<(&'static str, &[u8])> {
    match message {
        AuthMessage::EcdhRequest {
            sealed_public_key, ..
        } => vec![("device public key", sealed_public_key)],
        AuthMessage::EcdhResponse {
            sealed_public_key, ..
        } => vec![("LBS public key", sealed_public_key)],
        AuthMessage::RefreshRequest { proof, .. }
        | AuthMessage::ApplyDevidRequest { proof, .. }
        | AuthMessage::ApplyDevidConfirm { proof, .. }
        | AuthMessage::DasRequest { proof, .. } => vec![("proof", proof)],
        AuthMessage::RefreshResponse {
            sealed_session_key, ..
        } => vec![("session key", sealed_session_key)],
        AuthMessage::ApplyDevidResponse {
            sealed_devid,
            sealed_session_key,
            ..
        } => vec![("devid", sealed_devid), ("session key", sealed_session_key)],
        AuthMessage::DasResponse { sealed_address, .. } => vec![("DAS address", sealed_address)],
    }
}

/// Text fields open to text, keys and public keys to hexadecimal.
fn show(name: &str, plain: &[u8]) -> String {
    let binary = matches!(name, "session key" | "LBS public key" | "device public key");
    match std::str::from_utf8(plain) {
        Ok(text) if !binary => text.to_owned(),
        _ => plain.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// An authentication frame, with the sealed fields that open under `key`.
fn auth(
    control: &ControlFrame<'_>,
    key: Option<&[u8; 16]>,
    transcript: Option<&[u8; 7]>,
) -> Option<Frame<'static>> {
    if control.flags != ControlFlags::ECDH {
        return None;
    }
    let frame = AuthFrame::from_control(control).ok()?;
    let mut opened = BTreeMap::new();
    if let Some(key) = key {
        let mut aad = AuthFrame::aad(frame.message.kind(), &frame.nonce).to_vec();
        if let Some(t) = transcript {
            aad.extend_from_slice(t);
        }
        for (name, sealed) in sealed_fields(&frame.message) {
            if let Ok(plain) = crypto::open(frame.suite, key, &aad, sealed) {
                opened.insert(name, show(name, &plain));
            }
        }
    }
    Some(Frame::Auth { frame, opened })
}

fn control<'a>(raw: RawFrame<'a>, opening: &Opening) -> Result<Frame<'a>, osap_proto::FrameError> {
    let frame = ControlFrame::from_raw(raw)?;
    let auth = auth(&frame, opening.key.as_ref(), opening.transcript.as_ref());
    Ok(auth.unwrap_or(Frame::Control(frame)))
}

fn decode_line(line: &str, channel: &str, opening: &Opening) -> Result<String, String> {
    let bytes = hex(line)?;
    let raw = RawFrame::parse(&bytes).map_err(|e| e.to_string())?;
    let frame = match channel {
        "das" => mqtt(Packet::from_raw(raw).map_err(|e| e.to_string())?, opening)?,
        "lbs" => control(raw, opening).map_err(|e| e.to_string())?,
        _ => match Packet::from_raw(raw) {
            Ok(packet) => mqtt(packet, opening)?,
            Err(mqtt) => control(raw, opening).map_err(|control| {
                format!("not an MQTT packet ({mqtt}) nor a control frame ({control})")
            })?,
        },
    };
    // A CONNECT's password prints as "<redacted>" unless --reveal.
    if example_io::reveal() {
        iot_sansio::revealing(|| serde_json::to_string(&frame))
    } else {
        serde_json::to_string(&frame)
    }
    .map_err(|e| e.to_string())
}

fn options() -> Result<(String, Opening), String> {
    const USAGE: &str = "usage: decode [--channel das|lbs] [--key HEX] [--registration N] \
        [--suite 1|2|4] [--transcript HEX] [--lenient] [--reveal]";
    let mut channel = "auto".to_owned();
    let mut opening = Opening {
        key: None,
        registration: 1,
        suite: Suite::Aes128Gcm,
        transcript: None,
        lenient: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--lenient" {
            opening.lenient = true;
            continue;
        }
        if arg == "--reveal" {
            // Read by example_io::reveal.
            continue;
        }
        match (arg.as_str(), args.next()) {
            ("--transcript", Some(t)) => {
                opening.transcript = Some(
                    <[u8; 7]>::try_from(hex(&t)?)
                        .map_err(|_| "--transcript takes 14 hexadecimal digits")?,
                );
            }
            ("--channel", Some(c)) if c == "das" || c == "lbs" => channel = c,
            ("--key", Some(k)) => {
                opening.key = Some(
                    <[u8; 16]>::try_from(hex(&k)?)
                        .map_err(|_| "--key takes 32 hexadecimal digits")?,
                );
            }
            ("--registration", Some(n)) => {
                opening.registration = n.parse().map_err(|_| USAGE.to_owned())?;
            }
            ("--suite", Some(n)) => {
                opening.suite = n
                    .parse::<u8>()
                    .ok()
                    .and_then(|n| Suite::try_from(n).ok())
                    .ok_or_else(|| USAGE.to_owned())?;
            }
            _ => return Err(USAGE.into()),
        }
    }
    Ok((channel, opening))
}

fn main() -> ExitCode {
    let (channel, opening) = match options() {
        Ok(o) => o,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            return ExitCode::FAILURE;
        }
    };
    example_io::each_line(|l| decode_line(l, &channel, &opening))
}
