//! The frame layer shared by every OSAP message (draft section 4): a fixed
//! header of 2 to 5 bytes (one byte of control message type and control
//! flags, then the MQTT remaining length) and a body.

use bytes::BufMut;

use crate::error::FrameError;

/// The largest remaining length four bytes can encode (MQTT 3.1.1 section
/// 2.2.3): 268,435,455.
pub const MAX_REMAINING_LENGTH: u32 = 268_435_455;

/// The longest a fixed header can be: one byte plus four length bytes.
pub const MAX_HEADER_LEN: usize = 5;

/// The first byte of a frame: control message type in the high nibble,
/// control flags in the low nibble (section 4, MQTT 3.1.1 section 2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FixedHeader {
    /// The control message (packet) type, 0 to 15.
    pub kind: u8,
    /// The control flags, 0 to 15.
    pub flags: u8,
}

impl FixedHeader {
    /// The header byte.
    #[must_use]
    pub fn byte(self) -> u8 {
        (self.kind & 0x0f) << 4 | (self.flags & 0x0f)
    }

    /// Splits a header byte.
    #[must_use]
    pub fn from_byte(byte: u8) -> Self {
        Self {
            kind: byte >> 4,
            flags: byte & 0x0f,
        }
    }
}

/// The number of bytes the remaining length `len` takes (1 to 4).
#[must_use]
pub fn remaining_length_len(len: u32) -> usize {
    match len {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// `len` as an MQTT variable byte integer: the four bytes and how many of
/// them it takes.
#[inline]
fn remaining_length_bytes(len: usize) -> Result<([u8; 4], usize), FrameError> {
    if let Ok(byte @ 0..=127) = u8::try_from(len) {
        return Ok(([byte, 0, 0, 0], 1));
    }
    let mut value = u32::try_from(len)
        .ok()
        .filter(|&v| v <= MAX_REMAINING_LENGTH)
        .ok_or(FrameError::FrameTooLarge {
            len,
            max: MAX_REMAINING_LENGTH as usize,
        })?;
    let mut bytes = [0; 4];
    for (used, slot) in bytes.iter_mut().enumerate() {
        let digit = (value % 128) as u8;
        value /= 128;
        if value == 0 {
            *slot = digit;
            return Ok((bytes, used + 1));
        }
        *slot = digit | 0x80;
    }
    Ok((bytes, 4))
}

/// Writes `len` as an MQTT variable byte integer.
///
/// # Errors
///
/// [`FrameError::FrameTooLarge`] when `len` exceeds [`MAX_REMAINING_LENGTH`].
pub fn put_remaining_length(out: &mut impl BufMut, len: usize) -> Result<(), FrameError> {
    let (bytes, used) = remaining_length_bytes(len)?;
    out.put_slice(bytes.get(..used).unwrap_or_default());
    Ok(())
}

/// What the start of an input says about the frame there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderStatus {
    /// The header is not complete: at least this many more bytes are needed.
    Partial(usize),
    /// The header is complete.
    Complete {
        /// The fixed header byte.
        header: FixedHeader,
        /// The header's length (2 to 5).
        header_len: usize,
        /// The body's length.
        body_len: usize,
    },
}

/// Reads the fixed header at the start of `input`, without needing the
/// body. A remaining length in more than four bytes, or not in its
/// shortest form, is refused.
///
/// # Errors
///
/// [`FrameError::RemainingLengthOverflow`] and [`FrameError::NonMinimalLength`].
#[inline]
pub fn read_header(input: &[u8]) -> Result<HeaderStatus, FrameError> {
    // Most frames are shorter than 128 bytes: one length byte.
    if let [first, len @ 0..=0x7f, ..] = *input {
        return Ok(HeaderStatus::Complete {
            header: FixedHeader::from_byte(first),
            header_len: 2,
            body_len: usize::from(len),
        });
    }
    // Then frames up to 16 KiB: two, the second not zero (minimal).
    if let [first, low @ 0x80..=0xff, high @ 0x01..=0x7f, ..] = *input {
        return Ok(HeaderStatus::Complete {
            header: FixedHeader::from_byte(first),
            header_len: 3,
            body_len: usize::from(low & 0x7f) | usize::from(high) << 7,
        });
    }
    // And up to 2 MiB: three.
    if let [
        first,
        low @ 0x80..=0xff,
        mid @ 0x80..=0xff,
        high @ 0x01..=0x7f,
        ..,
    ] = *input
    {
        return Ok(HeaderStatus::Complete {
            header: FixedHeader::from_byte(first),
            header_len: 4,
            body_len: usize::from(low & 0x7f)
                | usize::from(mid & 0x7f) << 7
                | usize::from(high) << 14,
        });
    }
    let Some((&first, rest)) = input.split_first() else {
        return Ok(HeaderStatus::Partial(2));
    };
    let mut value: u32 = 0;
    for i in 0..4 {
        let Some(&byte) = rest.get(i) else {
            return Ok(HeaderStatus::Partial(1));
        };
        value |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            let used = i + 1;
            if used > 1 && byte == 0 {
                return Err(FrameError::NonMinimalLength { value });
            }
            return Ok(HeaderStatus::Complete {
                header: FixedHeader::from_byte(first),
                header_len: 1 + used,
                body_len: value as usize,
            });
        }
    }
    Err(FrameError::RemainingLengthOverflow)
}

/// One frame: its fixed header and its body, borrowed from the input.
///
/// This is the layer both the OSAP control messages ([`crate::ControlFrame`])
/// and the MQTT packets ([`crate::Packet`]) are read from and written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawFrame<'a> {
    /// The fixed header byte.
    pub header: FixedHeader,
    /// Everything after the remaining length.
    pub body: &'a [u8],
}

impl<'a> RawFrame<'a> {
    /// Parses exactly one frame.
    ///
    /// # Errors
    ///
    /// [`FrameError::Incomplete`] when the input ends early, [`FrameError::TrailingData`]
    /// when bytes follow the frame, and the errors of [`read_header`].
    pub fn parse(input: &'a [u8]) -> Result<Self, FrameError> {
        let (frame, len) = Self::parse_prefix(input)?;
        match input.len() - len {
            0 => Ok(frame),
            extra => Err(FrameError::TrailingData { extra }),
        }
    }

    /// Parses the frame at the start of `input`, returning it and its total
    /// length; bytes after it are left alone.
    ///
    /// # Errors
    ///
    /// As [`RawFrame::parse`], without [`FrameError::TrailingData`].
    pub fn parse_prefix(input: &'a [u8]) -> Result<(Self, usize), FrameError> {
        match read_header(input)? {
            HeaderStatus::Partial(needed) => Err(FrameError::Incomplete { needed }),
            HeaderStatus::Complete {
                header,
                header_len,
                body_len,
            } => {
                let total = header_len + body_len;
                match input.get(header_len..total) {
                    Some(body) => Ok((Self { header, body }, total)),
                    None => Err(FrameError::Incomplete {
                        needed: total - input.len(),
                    }),
                }
            }
        }
    }

    /// The frame's encoded length.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        let body = self.body.len();
        1 + remaining_length_len(u32::try_from(body).unwrap_or(u32::MAX)) + body
    }

    /// Writes the frame.
    ///
    /// # Errors
    ///
    /// [`FrameError::FrameTooLarge`] when the body exceeds
    /// [`MAX_REMAINING_LENGTH`].
    pub fn encode(&self, out: &mut impl BufMut) -> Result<(), FrameError> {
        put_header(out, self.header, self.body.len())?;
        out.put_slice(self.body);
        Ok(())
    }
}

/// The fixed header for a body of `body_len` bytes, and how many of the
/// five bytes it takes.
///
/// # Errors
///
/// [`FrameError::FrameTooLarge`] when `body_len` exceeds [`MAX_REMAINING_LENGTH`].
#[inline]
pub(crate) fn header_bytes(
    header: FixedHeader,
    body_len: usize,
) -> Result<([u8; MAX_HEADER_LEN], usize), FrameError> {
    let ([a, b, c, d], used) = remaining_length_bytes(body_len)?;
    Ok(([header.byte(), a, b, c, d], 1 + used))
}

/// Writes a fixed header for a body of `body_len` bytes, in one write.
///
/// # Errors
///
/// [`FrameError::FrameTooLarge`] when `body_len` exceeds [`MAX_REMAINING_LENGTH`].
pub fn put_header(
    out: &mut impl BufMut,
    header: FixedHeader,
    body_len: usize,
) -> Result<(), FrameError> {
    let (bytes, len) = header_bytes(header, body_len)?;
    out.put_slice(bytes.get(..len).unwrap_or_default());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn encode_len(len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        put_remaining_length(&mut out, len).unwrap();
        out
    }

    /// MQTT 3.1.1 section 2.2.3, Table 2.4: the boundaries of each size.
    #[test]
    fn remaining_length_boundaries() {
        let table: [(usize, &[u8]); 8] = [
            (0, &[0x00]),
            (127, &[0x7f]),
            (128, &[0x80, 0x01]),
            (16_383, &[0xff, 0x7f]),
            (16_384, &[0x80, 0x80, 0x01]),
            (2_097_151, &[0xff, 0xff, 0x7f]),
            (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
            (268_435_455, &[0xff, 0xff, 0xff, 0x7f]),
        ];
        for (value, bytes) in table {
            assert_eq!(encode_len(value), bytes, "{value}");
            assert_eq!(
                remaining_length_len(u32::try_from(value).unwrap()),
                bytes.len()
            );
            let mut input = alloc::vec![0x30];
            input.extend_from_slice(bytes);
            assert_eq!(
                read_header(&input),
                Ok(HeaderStatus::Complete {
                    header: FixedHeader { kind: 3, flags: 0 },
                    header_len: 1 + bytes.len(),
                    body_len: value,
                })
            );
        }
        let mut out = Vec::new();
        assert_eq!(
            put_remaining_length(&mut out, 268_435_456),
            Err(FrameError::FrameTooLarge {
                len: 268_435_456,
                max: 268_435_455
            })
        );
    }

    #[test]
    fn header_errors() {
        assert_eq!(
            read_header(&[0x30, 0xff, 0xff, 0xff, 0xff]),
            Err(FrameError::RemainingLengthOverflow)
        );
        assert_eq!(
            read_header(&[0x30, 0x80, 0x00]),
            Err(FrameError::NonMinimalLength { value: 0 })
        );
        assert_eq!(
            read_header(&[0x30, 0xff, 0x80, 0x00]),
            Err(FrameError::NonMinimalLength { value: 127 })
        );
        assert_eq!(read_header(&[]), Ok(HeaderStatus::Partial(2)));
        assert_eq!(read_header(&[0x30]), Ok(HeaderStatus::Partial(1)));
        assert_eq!(read_header(&[0x30, 0x80]), Ok(HeaderStatus::Partial(1)));
    }

    #[test]
    fn raw_frame_errors() {
        assert_eq!(
            RawFrame::parse(&[0xc0, 0x02, 0x00]),
            Err(FrameError::Incomplete { needed: 1 })
        );
        assert_eq!(
            RawFrame::parse(&[0xc0, 0x00, 0x00]),
            Err(FrameError::TrailingData { extra: 1 })
        );
        let frame = RawFrame::parse(&[0xc0, 0x00]).unwrap();
        assert_eq!(frame.header, FixedHeader { kind: 12, flags: 0 });
        assert!(frame.body.is_empty());
    }
}
