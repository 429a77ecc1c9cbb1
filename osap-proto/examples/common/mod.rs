//! What the `decode` and `encode` examples share: the line-by-line loop.

use std::io::{BufRead, Write};
use std::process::ExitCode;

/// Applies `convert` to each non-blank line of standard input and prints
/// its result; the first error stops the run with a one-line message on
/// standard error and exit status 1.
pub(crate) fn each_line(convert: impl Fn(&str) -> Result<String, String>) -> ExitCode {
    let stdin = std::io::stdin();
    for (n, line) in stdin.lock().lines().enumerate() {
        let result = line.map_err(|e| e.to_string()).and_then(|l| {
            if l.trim().is_empty() {
                Ok(None)
            } else {
                convert(&l).map(Some)
            }
        });
        match result {
            Ok(Some(out)) => {
                let _ = writeln!(std::io::stdout(), "{out}");
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
