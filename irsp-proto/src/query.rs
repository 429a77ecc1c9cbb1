//! The query-string codec: strict RFC 3986 percent-encoding with limits.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::RequestError;

/// Everything but the RFC 3986 unreserved characters is percent-encoded, so
/// `&`, `=`, `%`, `+`, spaces and non-ASCII text survive any parser.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The most characters of a name or path that an error message repeats.
const ERROR_ECHO: usize = 128;

/// Cuts text repeated into an error to a bounded length.
pub(crate) fn echo(text: &str) -> String {
    match text.char_indices().nth(ERROR_ECHO) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Size limits and decoding options for incoming requests.
///
/// The defaults suit the short control messages of clause 8 and data
/// messages of a few kilobytes; every bound is checked before the value is
/// copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest query string accepted, in bytes (default 65,536).
    pub max_query_len: usize,
    /// The most parameters in one query string (default 64).
    pub max_params: usize,
    /// The longest decoded parameter value, in bytes (default 16,384).
    pub max_value_len: usize,
    /// Whether `+` decodes to a space, as in HTML form encoding, which is
    /// what most HTTP client libraries emit for query strings (default
    /// `true`). When `false`, `+` stands for itself, as RFC 3986 reads it.
    /// This crate never emits `+`: it encodes a space as `%20` and `+` as
    /// `%2B`, so its own requests read the same either way.
    pub plus_as_space: bool,
    /// The longest `<error>` response body accepted, in bytes (default
    /// 4,096).
    pub max_body_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_query_len: 65_536,
            max_params: 64,
            max_value_len: 16_384,
            plus_as_space: true,
            max_body_len: 4_096,
        }
    }
}

/// Appends `name=value` to the query string that starts at byte `start` of
/// `out`, percent-encoding both.
pub(crate) fn push_param(out: &mut String, start: usize, name: &str, value: &str) {
    if out.len() > start {
        out.push('&');
    }
    out.extend(utf8_percent_encode(name, ENCODE));
    out.push('=');
    out.extend(utf8_percent_encode(value, ENCODE));
}

/// Whether RFC 3986 allows `byte` unencoded in a query (unreserved,
/// sub-delims, `:`, `@`, `/`, `?`; `%` is checked separately).
fn allowed_raw(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?".contains(&byte)
}

fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes one name or value; `base` is its offset in the query.
fn decode<'a>(
    raw: &'a str,
    base: usize,
    limits: &Limits,
) -> Result<Result<Cow<'a, str>, ()>, RequestError> {
    let bytes = raw.as_bytes();
    if !bytes
        .iter()
        .any(|&b| b == b'%' || (b == b'+' && limits.plus_as_space))
    {
        return Ok(Ok(Cow::Borrowed(raw)));
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let digits = bytes
                    .get(i + 1)
                    .and_then(|&h| hex(h))
                    .zip(bytes.get(i + 2).and_then(|&l| hex(l)));
                let (h, l) = digits.ok_or(RequestError::BadPercentEncoding { offset: base + i })?;
                out.push(h << 4 | l);
                i += 3;
            }
            b'+' if limits.plus_as_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8(out).map(Cow::Owned).map_err(|_| ()))
}

/// One decoded `name=value` pair.
pub(crate) type Param<'a> = (Cow<'a, str>, Cow<'a, str>);

/// Splits and decodes a query string (without the leading `?`), enforcing
/// the limits, RFC 3986's character set and unique names.
///
/// Values borrow from `query` unless they contain escapes.
pub(crate) fn parse_query<'a>(
    query: &'a str,
    limits: &Limits,
) -> Result<Vec<Param<'a>>, RequestError> {
    if query.len() > limits.max_query_len {
        return Err(RequestError::QueryTooLong {
            len: query.len(),
            max: limits.max_query_len,
        });
    }
    if let Some(offset) = query.bytes().position(|b| b != b'%' && !allowed_raw(b)) {
        return Err(RequestError::InvalidCharacter {
            offset,
            byte: query.as_bytes().get(offset).copied().unwrap_or_default(),
        });
    }
    let mut params: Vec<Param<'a>> = Vec::new();
    if query.is_empty() {
        return Ok(params);
    }
    let mut offset = 0;
    for segment in query.split('&') {
        if params.len() == limits.max_params {
            return Err(RequestError::TooManyParameters {
                max: limits.max_params,
            });
        }
        let (raw_name, raw_value) = segment
            .split_once('=')
            .filter(|(n, _)| !n.is_empty())
            .ok_or(RequestError::MalformedParameter { offset })?;
        let name = decode(raw_name, offset, limits)?.map_err(|()| RequestError::NotUtf8 {
            name: echo(&String::from_utf8_lossy(raw_name.as_bytes())),
        })?;
        let value_offset = offset + raw_name.len() + 1;
        let value = decode(raw_value, value_offset, limits)?
            .map_err(|()| RequestError::NotUtf8 { name: echo(&name) })?;
        if value.len() > limits.max_value_len {
            return Err(RequestError::ValueTooLong {
                name: echo(&name),
                len: value.len(),
                max: limits.max_value_len,
            });
        }
        if params.iter().any(|(n, _)| *n == name) {
            return Err(RequestError::DuplicateParameter { name: echo(&name) });
        }
        params.push((name, value));
        offset += segment.len() + 1;
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Result<Vec<(String, String)>, RequestError> {
        parse_query(q, &Limits::default()).map(|v| {
            v.into_iter()
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect()
        })
    }

    #[test]
    fn encodes_everything_but_unreserved() {
        let mut q = String::new();
        push_param(&mut q, 0, "password", "a&b=c%d e+f/é~");
        assert_eq!(q, "password=a%26b%3Dc%25d%20e%2Bf%2F%C3%A9~");
        assert_eq!(
            parse(&q).unwrap(),
            [("password".into(), "a&b=c%d e+f/é~".into())]
        );
    }

    #[test]
    fn plain_values_borrow() {
        let limits = Limits::default();
        let params = parse_query("a=b&c=", &limits).unwrap();
        assert!(matches!(params[0].1, Cow::Borrowed("b")));
        assert!(matches!(params[1].1, Cow::Borrowed("")));
    }

    #[test]
    fn plus_follows_the_option() {
        assert_eq!(parse("a=x+y").unwrap()[0].1, "x y");
        let literal = Limits {
            plus_as_space: false,
            ..Limits::default()
        };
        assert_eq!(parse_query("a=x+y", &literal).unwrap()[0].1, "x+y");
    }

    #[test]
    fn error_paths() {
        assert_eq!(
            parse("a=%4"),
            Err(RequestError::BadPercentEncoding { offset: 2 })
        );
        assert_eq!(
            parse("a=%zz"),
            Err(RequestError::BadPercentEncoding { offset: 2 })
        );
        assert_eq!(
            parse("a=b c"),
            Err(RequestError::InvalidCharacter {
                offset: 3,
                byte: b' '
            })
        );
        assert_eq!(
            parse("a=é"),
            Err(RequestError::InvalidCharacter {
                offset: 2,
                byte: 0xc3
            })
        );
        assert_eq!(
            parse("a=1&&b=2"),
            Err(RequestError::MalformedParameter { offset: 4 })
        );
        assert_eq!(
            parse("a=1&b"),
            Err(RequestError::MalformedParameter { offset: 4 })
        );
        assert_eq!(
            parse("=1"),
            Err(RequestError::MalformedParameter { offset: 0 })
        );
        assert_eq!(
            parse("a=1&"),
            Err(RequestError::MalformedParameter { offset: 4 })
        );
        assert_eq!(
            parse("a=1&a=2"),
            Err(RequestError::DuplicateParameter { name: "a".into() })
        );
        assert_eq!(
            parse("a=%ff"),
            Err(RequestError::NotUtf8 { name: "a".into() })
        );
        let small = Limits {
            max_query_len: 8,
            max_params: 2,
            max_value_len: 3,
            ..Limits::default()
        };
        assert_eq!(
            parse_query("a=123456789", &small),
            Err(RequestError::QueryTooLong { len: 11, max: 8 })
        );
        assert_eq!(
            parse_query("a=1&b=&c", &small),
            Err(RequestError::TooManyParameters { max: 2 })
        );
        assert_eq!(
            parse_query("a=1234", &small),
            Err(RequestError::ValueTooLong {
                name: "a".into(),
                len: 4,
                max: 3
            })
        );
    }

    #[test]
    fn echo_is_bounded() {
        assert_eq!(echo(&"x".repeat(1000)).chars().count(), ERROR_ECHO + 1);
        assert_eq!(echo("short"), "short");
    }
}
