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

/// What a byte of a query string is to the reader.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Allowed as itself and meaning itself.
    Plain,
    /// Not allowed unencoded in a query (RFC 3986 section 3.4).
    Invalid,
    /// `&`: ends a parameter.
    Separator,
    /// `=`: the first one ends the name.
    Equals,
    /// `%`: starts an escape.
    Percent,
    /// `+`: a space when [`Limits::plus_as_space`] says so.
    Plus,
}

/// Every byte's class: RFC 3986 allows unreserved characters, sub-delims,
/// `:`, `@`, `/` and `?` unencoded in a query, and `%` for escapes.
const CLASSES: [Class; 256] = {
    let mut table = [Class::Invalid; 256];
    let mut b: u8 = 0;
    loop {
        table[b as usize] = match b {
            b'&' => Class::Separator,
            b'=' => Class::Equals,
            b'%' => Class::Percent,
            b'+' => Class::Plus,
            b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' => Class::Plain,
            b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'\'' | b'(' | b')' | b'*' | b',' | b';'
            | b':' | b'@' | b'/' | b'?' => Class::Plain,
            _ => Class::Invalid,
        };
        if b == u8::MAX {
            break table;
        }
        b += 1;
    }
};

fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes one name or value that holds an escape (or a `+` read
/// as a space); `base` is its offset in the query. The runs between
/// escapes are copied whole.
fn decode(raw: &str, base: usize, limits: &Limits) -> Result<Result<String, ()>, RequestError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(run) = bytes.get(i..) {
        let Some(at) = run
            .iter()
            .position(|&b| b == b'%' || (b == b'+' && limits.plus_as_space))
        else {
            out.extend_from_slice(run);
            break;
        };
        out.extend_from_slice(run.get(..at).unwrap_or_default());
        i += at;
        if run.get(at) == Some(&b'+') {
            out.push(b' ');
            i += 1;
            continue;
        }
        let digits = bytes
            .get(i + 1)
            .and_then(|&h| hex(h))
            .zip(bytes.get(i + 2).and_then(|&l| hex(l)));
        let (h, l) = digits.ok_or(RequestError::BadPercentEncoding { offset: base + i })?;
        out.push(h << 4 | l);
        i += 3;
    }
    Ok(String::from_utf8(out).map_err(|_| ()))
}

/// One decoded `name=value` pair.
pub(crate) type Param<'a> = (Cow<'a, str>, Cow<'a, str>);

/// One `name=value` segment of a query, as the scan found it.
struct Segment {
    /// Its offset in the query.
    start: usize,
    /// Where it ends (the `&` or the end of the query).
    end: usize,
    /// The offset of its first `=`.
    equals: Option<usize>,
    /// Whether the name, then the value, holds an escape.
    escaped: [bool; 2],
}

/// Decodes one segment and appends it to `params`, enforcing the limits
/// and unique names.
fn push_segment<'a>(
    query: &'a str,
    segment: &Segment,
    params: &mut Vec<Param<'a>>,
    limits: &Limits,
) -> Result<(), RequestError> {
    let &Segment {
        start,
        end,
        equals,
        escaped,
    } = segment;
    if params.len() == limits.max_params {
        return Err(RequestError::TooManyParameters {
            max: limits.max_params,
        });
    }
    let malformed = RequestError::MalformedParameter { offset: start };
    let equals = equals.filter(|&e| e > start).ok_or(malformed)?;
    let raw_name = query.get(start..equals).unwrap_or_default();
    let raw_value = query.get(equals + 1..end).unwrap_or_default();
    let name = if escaped[0] {
        Cow::Owned(
            decode(raw_name, start, limits)?.map_err(|()| RequestError::NotUtf8 {
                name: echo(&String::from_utf8_lossy(raw_name.as_bytes())),
            })?,
        )
    } else {
        Cow::Borrowed(raw_name)
    };
    let value = if escaped[1] {
        Cow::Owned(
            decode(raw_value, equals + 1, limits)?
                .map_err(|()| RequestError::NotUtf8 { name: echo(&name) })?,
        )
    } else {
        Cow::Borrowed(raw_value)
    };
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
    Ok(())
}

/// Splits and decodes a query string (without the leading `?`), enforcing
/// the limits, RFC 3986's character set and unique names.
///
/// One pass over the bytes classifies each through a table, splits the
/// segments and notes which names and values need decoding; those that do
/// not are borrowed from `query`. A character RFC 3986 does not allow is
/// reported before any other fault, wherever it is.
pub(crate) fn parse_query<'a>(
    query: &'a str,
    limits: &Limits,
) -> Result<Vec<Param<'a>>, RequestError> {
    /// Room for the longest message of clause 8 without growing.
    const USUAL_PARAMS: usize = 16;
    if query.len() > limits.max_query_len {
        return Err(RequestError::QueryTooLong {
            len: query.len(),
            max: limits.max_query_len,
        });
    }
    let mut params: Vec<Param<'a>> = Vec::new();
    if query.is_empty() {
        return Ok(params);
    }
    params.reserve(USUAL_PARAMS.min(limits.max_params));
    // The first fault after the character set, kept while the rest of the
    // query is checked for characters.
    let mut fault = None;
    let mut segment = Segment {
        start: 0,
        end: 0,
        equals: None,
        escaped: [false; 2],
    };
    for (i, &byte) in query.as_bytes().iter().enumerate() {
        match CLASSES[usize::from(byte)] {
            Class::Plain => {}
            Class::Invalid => return Err(RequestError::InvalidCharacter { offset: i, byte }),
            Class::Separator => {
                if fault.is_none() {
                    segment.end = i;
                    fault = push_segment(query, &segment, &mut params, limits).err();
                }
                segment = Segment {
                    start: i + 1,
                    end: 0,
                    equals: None,
                    escaped: [false; 2],
                };
            }
            Class::Equals => {
                if segment.equals.is_none() {
                    segment.equals = Some(i);
                }
            }
            Class::Percent => segment.escaped[usize::from(segment.equals.is_some())] = true,
            Class::Plus => {
                if limits.plus_as_space {
                    segment.escaped[usize::from(segment.equals.is_some())] = true;
                }
            }
        }
    }
    if let Some(fault) = fault {
        return Err(fault);
    }
    segment.end = query.len();
    push_segment(query, &segment, &mut params, limits)?;
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

    /// The reader as RFC 3986 and the limits describe it, a step at a
    /// time: the oracle for the one-pass reader.
    fn reference(query: &str, limits: &Limits) -> Result<Vec<(String, String)>, RequestError> {
        if query.len() > limits.max_query_len {
            return Err(RequestError::QueryTooLong {
                len: query.len(),
                max: limits.max_query_len,
            });
        }
        if let Some(offset) = query
            .bytes()
            .position(|b| CLASSES[usize::from(b)] == Class::Invalid)
        {
            let byte = query.as_bytes()[offset];
            return Err(RequestError::InvalidCharacter { offset, byte });
        }
        let mut params: Vec<(String, String)> = Vec::new();
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
            let (n, v) = segment
                .split_once('=')
                .filter(|(n, _)| !n.is_empty())
                .ok_or(RequestError::MalformedParameter { offset })?;
            let name = decode(n, offset, limits)?.map_err(|()| RequestError::NotUtf8 {
                name: echo(&String::from_utf8_lossy(n.as_bytes())),
            })?;
            let value = decode(v, offset + n.len() + 1, limits)?
                .map_err(|()| RequestError::NotUtf8 { name: echo(&name) })?;
            if value.len() > limits.max_value_len {
                return Err(RequestError::ValueTooLong {
                    name: echo(&name),
                    len: value.len(),
                    max: limits.max_value_len,
                });
            }
            if params.iter().any(|(p, _)| *p == name) {
                return Err(RequestError::DuplicateParameter { name: echo(&name) });
            }
            params.push((name, value));
            offset += segment.len() + 1;
        }
        Ok(params)
    }

    proptest::proptest! {
        #[test]
        fn one_pass_reads_as_the_steps_do(
            query in "[ab=&%2F+é ]{0,24}",
            plus_as_space: bool,
            max_params in 1usize..4,
            max_value_len in 0usize..4,
        ) {
            let limits = Limits { plus_as_space, max_params, max_value_len, ..Limits::default() };
            let fast = parse_query(&query, &limits).map(|v| {
                v.into_iter().map(|(n, v)| (n.into_owned(), v.into_owned())).collect::<Vec<_>>()
            });
            proptest::prop_assert_eq!(fast, reference(&query, &limits));
        }
    }

    #[test]
    fn echo_is_bounded() {
        assert_eq!(echo(&"x".repeat(1000)).chars().count(), ERROR_ECHO + 1);
        assert_eq!(echo("short"), "short");
    }
}
