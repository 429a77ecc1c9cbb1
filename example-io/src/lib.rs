//! The standard input and output of the workspace's `decode` and `encode`
//! examples, in one place: a conversion's result is printed, an error is
//! one line on standard error and exit status 1.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead, Read};
use std::process::ExitCode;

/// Prints the result of a run: the output on standard output, or the error
/// as one line on standard error with exit status 1.
#[must_use]
pub fn report(result: Result<String, String>) -> ExitCode {
    match result {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", e.replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

/// Reads all of standard input and converts it as one document.
#[must_use]
pub fn run(convert: impl FnOnce(&str) -> Result<String, String>) -> ExitCode {
    let mut input = String::new();
    report(
        std::io::stdin()
            .read_to_string(&mut input)
            .map_err(|e| e.to_string())
            .and_then(|_| convert(&input)),
    )
}

/// Converts each non-blank line of standard input and prints its result;
/// the first error stops the run, naming its line.
#[must_use]
pub fn each_line(convert: impl Fn(&str) -> Result<String, String>) -> ExitCode {
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        match line.map_err(|e| e.to_string()) {
            Ok(l) if l.trim().is_empty() => {}
            Ok(l) => match convert(&l) {
                Ok(out) => println!("{out}"),
                Err(e) => return report(Err(format!("line {}: {e}", n + 1))),
            },
            Err(e) => return report(Err(format!("line {}: {e}", n + 1))),
        }
    }
    ExitCode::SUCCESS
}

/// Whether `--lenient` was given: a decode example then prints a payload
/// it recognises but cannot read, with an `"error"` field, instead of
/// failing with exit status 1.
#[must_use]
pub fn lenient() -> bool {
    std::env::args().any(|a| a == "--lenient")
}

/// What a decode example does with a payload it recognised (by its
/// namespace or topic) but could not read: an error, or with
/// [`lenient`] the `error` text to print in its place.
///
/// # Errors
///
/// The error, unless `--lenient` was given.
pub fn recognised_but_invalid(what: &str, error: &str) -> Result<String, String> {
    let error = format!("{what}: {error}");
    if lenient() { Ok(error) } else { Err(error) }
}
