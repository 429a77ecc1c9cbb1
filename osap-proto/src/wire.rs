//! Field readers and writers shared by the control-message and MQTT
//! codecs, built on nom.

use bytes::BufMut;
use nom::IResult;
use nom::bytes::complete::take;
use nom::number::complete::{be_u8, be_u16};

use crate::error::{FieldError, FrameError};

/// The input of every field parser: the rest of a frame's body.
pub(crate) type In<'a> = &'a [u8];

/// The result of every field parser.
pub(crate) type Res<'a, T> = IResult<In<'a>, T, FrameError>;

/// Turns a nom error into the named field's error.
fn named<'a, T>(field: &'static str, res: Res<'a, T>) -> Result<(In<'a>, T), FrameError> {
    res.map_err(|e| match e {
        nom::Err::Error(FrameError::Malformed {
            field: "frame",
            reason,
        })
        | nom::Err::Failure(FrameError::Malformed {
            field: "frame",
            reason,
        }) => FrameError::field(field, reason),
        nom::Err::Error(e) | nom::Err::Failure(e) => e,
        nom::Err::Incomplete(_) => FrameError::field(field, FieldError::Truncated),
    })
}

/// Reads one byte.
pub(crate) fn u8_field<'a>(input: In<'a>, field: &'static str) -> Result<(In<'a>, u8), FrameError> {
    named(field, be_u8(input))
}

/// Reads a big-endian `u16`.
pub(crate) fn u16_field<'a>(
    input: In<'a>,
    field: &'static str,
) -> Result<(In<'a>, u16), FrameError> {
    named(field, be_u16(input))
}

/// Reads `len` bytes.
pub(crate) fn bytes_field<'a>(
    input: In<'a>,
    len: usize,
    field: &'static str,
) -> Result<(In<'a>, &'a [u8]), FrameError> {
    named(field, take(len)(input))
}

/// Reads a `u16` length prefix and that many bytes (MQTT 3.1.1 section
/// 1.5.3 and binary data of section 3.1.3).
pub(crate) fn prefixed<'a>(
    input: In<'a>,
    field: &'static str,
) -> Result<(In<'a>, &'a [u8]), FrameError> {
    let (input, len) = u16_field(input, field)?;
    bytes_field(input, usize::from(len), field)
}

/// Checks that text is a valid MQTT string: UTF-8 without U+0000.
pub(crate) fn check_str<'a>(bytes: &'a [u8], field: &'static str) -> Result<&'a str, FrameError> {
    let text = core::str::from_utf8(bytes)
        .map_err(|_| FrameError::field(field, FieldError::InvalidUtf8))?;
    if text.contains('\0') {
        return Err(FrameError::field(field, FieldError::NullCharacter));
    }
    Ok(text)
}

/// Reads a length-prefixed UTF-8 string.
pub(crate) fn string<'a>(
    input: In<'a>,
    field: &'static str,
) -> Result<(In<'a>, &'a str), FrameError> {
    let (input, bytes) = prefixed(input, field)?;
    Ok((input, check_str(bytes, field)?))
}

/// Refuses bytes left over after the last field.
pub(crate) fn end(input: In<'_>, field: &'static str) -> Result<(), FrameError> {
    if input.is_empty() {
        Ok(())
    } else {
        Err(FrameError::field(field, FieldError::TrailingBytes))
    }
}

/// The length of a field with a `u16` length prefix, checked.
pub(crate) fn prefixed_len(len: usize, field: &'static str) -> Result<usize, FrameError> {
    if len > usize::from(u16::MAX) {
        return Err(FrameError::field(field, FieldError::TooLong(len)));
    }
    Ok(2 + len)
}

/// Writes a `u16` length prefix and the bytes (length checked by
/// [`prefixed_len`] beforehand).
pub(crate) fn put_prefixed(out: &mut impl BufMut, bytes: &[u8]) {
    out.put_u16(u16::try_from(bytes.len()).unwrap_or(u16::MAX));
    out.put_slice(bytes);
}
