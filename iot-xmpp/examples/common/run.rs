//! What the `decode` and `encode` examples of the XMPP crates share (they
//! include this file by path): the run of one input.

use std::io::{Read, Write};
use std::process::ExitCode;

/// Reads all of standard input, converts it, prints the result; an error
/// is one line on standard error and exit status 1.
pub(crate) fn run(convert: impl Fn(&str) -> Result<String, String>) -> ExitCode {
    let mut input = String::new();
    let result = std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| e.to_string())
        .and_then(|_| convert(&input));
    match result {
        Ok(out) => {
            let _ = writeln!(std::io::stdout(), "{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {}", e.replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
