//! Reads one IRSP request URL, or one HTTP response (status line, blank
//! line, body), on standard input and prints it as JSON. Secrets print as
//! `"<redacted>"` unless `--reveal` is given (then `decode | encode` gives
//! the request back).
//!
//! ```sh
//! echo 'https://ms.igrs.com:443/user/remove?version=1&appid=a&token=t&name=u' \
//!     | cargo run -q -p irsp-proto --example decode
//! printf 'HTTP/1.1 421 Conflict\r\n\r\n<error><code>421</code><detail>id existed</detail></error>' \
//!     | cargo run -q -p irsp-proto --example decode -- --message 2
//! ```
//!
//! Options: `--message N` checks a response against Message N's table;
//! `--role account|message|application` names the receiving server (by
//! default each is tried); `--routes u,d,n,p,x` sets the five service URIs.

mod common;

use common::{Document, options, read_stdin, run};
use irsp_proto::{Limits, MessageKind, Request, RequestError, Response, ServerRole, Status};

fn decode() -> Result<String, String> {
    let opts = options()?;
    let input = read_stdin()?;
    let limits = Limits::default();
    let document = if input.starts_with("HTTP/") {
        let (head, body) = input
            .split_once("\r\n\r\n")
            .or_else(|| input.split_once("\n\n"))
            .unwrap_or((input.trim_end(), ""));
        let status_line = head.lines().next().unwrap_or_default();
        let code: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("malformed status line `{status_line}`"))?;
        match opts.message {
            Some(n) => {
                let kind = MessageKind::from_number(n).ok_or("--message takes 1 to 15")?;
                Document::Response(
                    Response::parse(kind, code, body.as_bytes(), &limits)
                        .map_err(|e| e.to_string())?,
                )
            }
            None => Document::Status {
                status: Status::parse(code, body.as_bytes(), &limits).map_err(|e| e.to_string())?,
            },
        }
    } else {
        let url = input.trim_end_matches(['\r', '\n']);
        let roles = match opts.role {
            Some(role) => vec![role],
            None => vec![
                ServerRole::Message,
                ServerRole::Account,
                ServerRole::Application,
            ],
        };
        let mut last = None;
        let mut found = None;
        for role in roles {
            match Request::parse_url(url, role, &opts.routes, &limits) {
                Ok(request) => {
                    found = Some(request);
                    break;
                }
                // Another role may own the path: keep the most telling error.
                Err(RequestError::WrongReceiver { .. }) if last.is_some() => {}
                Err(e) => last = Some(e),
            }
        }
        let request = found.ok_or_else(|| last.map(|e| e.to_string()).unwrap_or_default())?;
        let server = url
            .strip_prefix("https://")
            .and_then(|rest| rest.split('/').next())
            .and_then(|a| a.parse().ok())
            .ok_or("malformed server address")?;
        Document::Request { server, request }
    };
    // Secrets print as "<redacted>" unless --reveal: then the output
    // encodes back.
    if example_io::reveal() {
        iot_sansio::revealing(|| serde_json::to_string_pretty(&document))
    } else {
        serde_json::to_string_pretty(&document)
    }
    .map_err(|e| e.to_string())
}

fn main() -> std::process::ExitCode {
    run(decode)
}
