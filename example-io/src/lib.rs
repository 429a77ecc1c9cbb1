//! The standard input and output of the workspace's `decode` and `encode`
//! examples, in one place: a conversion's result is printed, an error is
//! one line on standard error and exit status 1; and what the XMPP tests
//! and examples share ([`xmpp`], [`proxy`]).
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod proxy;
pub mod xmpp;

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

/// The text that stands for a secret a decode example did not reveal.
pub const REDACTED: &str = "<redacted>";

/// Whether `--reveal` was given: a decode example then prints secrets
/// (keys, tokens, passwords, credentials) as they are, so that its output
/// encodes back; without it they print as [`REDACTED`].
#[must_use]
pub fn reveal() -> bool {
    std::env::args().any(|a| a == "--reveal")
}

/// Replaces, unless [`reveal`], every string value named by one of
/// `names` in a decoded document with [`REDACTED`]: an object's member of
/// that name, or a `[name, value]` pair (an attribute as the stanza JSON
/// writes it).
pub fn redact(value: &mut serde_json::Value, names: &[&str]) {
    use serde_json::Value;
    if reveal() {
        return;
    }
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if names.contains(&k.as_str()) && v.is_string() {
                    *v = Value::String(REDACTED.into());
                } else {
                    redact(v, names);
                }
            }
        }
        Value::Array(items) => {
            if let [Value::String(name), v @ Value::String(_)] = items.as_mut_slice()
                && names.contains(&name.as_str())
            {
                *v = Value::String(REDACTED.into());
                return;
            }
            for v in items {
                redact(v, names);
            }
        }
        _ => {}
    }
}

/// Refuses a document in which a secret was redacted: an encode example
/// cannot write it back.
///
/// # Errors
///
/// When a string value is [`REDACTED`].
pub fn refuse_redacted(value: &serde_json::Value) -> Result<(), String> {
    use serde_json::Value;
    let redacted = match value {
        Value::String(s) => s == REDACTED,
        Value::Array(items) => return items.iter().try_for_each(refuse_redacted),
        Value::Object(map) => return map.values().try_for_each(refuse_redacted),
        _ => false,
    };
    if redacted {
        Err("a secret is redacted: decode with --reveal to encode it back".into())
    } else {
        Ok(())
    }
}
