//! Field readers and writers shared by the control-message and MQTT
//! codecs. Every field is fixed-width or length-prefixed, so each reader is
//! a slice pattern: no parser state, and the field is named in the error.

use bytes::BufMut;

use crate::error::{FieldError, FrameError};

/// The input of every field parser: the rest of a frame's body.
pub(crate) type In<'a> = &'a [u8];

fn truncated(field: &'static str) -> FrameError {
    FrameError::field(field, FieldError::Truncated)
}

/// Reads one byte.
pub(crate) fn u8_field<'a>(input: In<'a>, field: &'static str) -> Result<(In<'a>, u8), FrameError> {
    match input {
        [byte, rest @ ..] => Ok((rest, *byte)),
        [] => Err(truncated(field)),
    }
}

/// Reads a big-endian `u16`.
pub(crate) fn u16_field<'a>(
    input: In<'a>,
    field: &'static str,
) -> Result<(In<'a>, u16), FrameError> {
    match input {
        [hi, lo, rest @ ..] => Ok((rest, u16::from_be_bytes([*hi, *lo]))),
        _ => Err(truncated(field)),
    }
}

/// Reads `len` bytes.
pub(crate) fn bytes_field<'a>(
    input: In<'a>,
    len: usize,
    field: &'static str,
) -> Result<(In<'a>, &'a [u8]), FrameError> {
    match input.split_at_checked(len) {
        Some((bytes, rest)) => Ok((rest, bytes)),
        None => Err(truncated(field)),
    }
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

/// Eight bytes in one word, each lane read the same way on every target.
const LANES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGH_BITS: u64 = u64::from_ne_bytes([0x80; 8]);

/// Non-zero when a lane of `word` is U+0000, `+` or `#`. A zero lane is
/// the one whose high bit survives subtracting 1 from every lane and
/// masking by the lane's complement; `+` (0x2b) and `#` (0x23) differ only
/// in bit 3, so clearing that bit and comparing with `#` finds both. Lanes
/// above a zero lane may also be marked (the borrow), so the result only
/// answers whether one is.
#[inline(always)]
fn nul_or_wildcard_in(word: [u8; 8]) -> u64 {
    const BIT_3: u64 = u64::from_ne_bytes([0x08; 8]);
    const HASH: u64 = u64::from_ne_bytes([b'#'; 8]);
    let nul = u64::from_ne_bytes(word);
    let wildcard = (nul & !BIT_3) ^ HASH;
    (nul.wrapping_sub(LANES) & !nul | wildcard.wrapping_sub(LANES) & !wildcard) & HIGH_BITS
}

/// Whether `bytes` holds U+0000 (refused in every string, MQTT 3.1.1
/// section 1.5.3) or a wildcard (refused in topic names, section 4.7.1),
/// eight bytes at a time: the pass every PUBLISH topic takes.
#[inline]
pub(crate) fn has_nul_or_wildcard(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(8);
    let mut hits = 0;
    for chunk in &mut chunks {
        hits |= nul_or_wildcard_in(chunk.try_into().unwrap_or_default());
    }
    let tail = chunks.remainder();
    if tail.is_empty() {
        return hits != 0;
    }
    match bytes.last_chunk::<8>() {
        // The last eight bytes, overlapping the words already read.
        Some(&last) => (hits | nul_or_wildcard_in(last)) != 0,
        None => hits != 0 || tail.iter().any(|&b| matches!(b, 0 | b'+' | b'#')),
    }
}

/// Checks that text is a valid MQTT string: UTF-8 without U+0000.
pub(crate) fn check_str<'a>(bytes: &'a [u8], field: &'static str) -> Result<&'a str, FrameError> {
    let text = core::str::from_utf8(bytes)
        .map_err(|_| FrameError::field(field, FieldError::InvalidUtf8))?;
    if bytes.contains(&0) {
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

/// The length of an MQTT string field, checked as [`check_str`] reads it:
/// U+0000 is refused (MQTT 3.1.1 section 1.5.3), so that nothing is
/// written that the reader would refuse.
pub(crate) fn string_len(text: &str, field: &'static str) -> Result<usize, FrameError> {
    if text.as_bytes().contains(&0) {
        return Err(FrameError::field(field, FieldError::NullCharacter));
    }
    prefixed_len(text.len(), field)
}

/// Writes a `u16` length prefix and the bytes (length checked by
/// [`prefixed_len`] beforehand).
pub(crate) fn put_prefixed(out: &mut impl BufMut, bytes: &[u8]) {
    out.put_u16(u16::try_from(bytes.len()).unwrap_or(u16::MAX));
    out.put_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn naive(bytes: &[u8]) -> bool {
        bytes.iter().any(|&b| matches!(b, 0 | b'+' | b'#'))
    }

    #[test]
    fn every_position_and_length_is_seen() {
        for len in 0..40 {
            let clean: Vec<u8> = b"abcdefghijklmnopqrstuvwxyz"
                .iter()
                .cycle()
                .take(len)
                .copied()
                .collect();
            assert!(!has_nul_or_wildcard(&clean), "{len}");
            for at in 0..len {
                for bad in [0, b'+', b'#'] {
                    let mut bytes = clean.clone();
                    bytes[at] = bad;
                    assert!(has_nul_or_wildcard(&bytes), "{len} {at} {bad}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn matches_a_byte_at_a_time(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(has_nul_or_wildcard(&bytes), naive(&bytes));
        }

        #[test]
        fn readers_take_what_they_say(bytes in proptest::collection::vec(any::<u8>(), 0..8)) {
            match u16_field(&bytes, "f") {
                Ok((rest, v)) => {
                    prop_assert_eq!(v, u16::from_be_bytes([bytes[0], bytes[1]]));
                    prop_assert_eq!(rest, &bytes[2..]);
                }
                Err(e) => {
                    prop_assert!(bytes.len() < 2);
                    prop_assert_eq!(e, FrameError::field("f", FieldError::Truncated));
                }
            }
            match prefixed(&bytes, "f") {
                Ok((rest, v)) => prop_assert_eq!(v.len() + rest.len() + 2, bytes.len()),
                Err(e) => prop_assert_eq!(e, FrameError::field("f", FieldError::Truncated)),
            }
        }
    }
}
