//! Reads the JSON that the `decode` example prints and prints the request
//! URL, or the HTTP response (status line, blank line, body).
//!
//! `decode` redacts secrets; put the real token, password or verification
//! code back before encoding (a `"<redacted>"` secret is refused).
//!
//! ```sh
//! echo '{"status":{"status":422}}' | cargo run -q -p irsp-proto --example encode
//! ```
//!
//! Options: `--routes u,d,n,p,x` sets the five service URIs.

mod common;

use common::{Document, options, read_stdin, run};

fn encode() -> Result<String, String> {
    let opts = options()?;
    let document: Document = serde_json::from_str(&read_stdin()?).map_err(|e| e.to_string())?;
    let status = match document {
        Document::Request { server, request } => return Ok(request.to_url(&server, &opts.routes)),
        Document::Response(r) => r.status(),
        Document::Status { status } => status,
    };
    let code = status.code();
    Ok(format!(
        "HTTP/1.1 {code} {}\r\n\r\n{}",
        status.result(),
        status.body()
    ))
}

fn main() -> std::process::ExitCode {
    run(encode)
}
