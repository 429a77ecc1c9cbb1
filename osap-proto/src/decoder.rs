//! The streaming frame decoder: bytes in arbitrary pieces, whole frames out.

use alloc::vec::Vec;

use crate::control::ControlFrame;
use crate::error::FrameError;
use crate::frame::{HeaderStatus, MAX_HEADER_LEN, RawFrame, read_header};

/// The default maximum frame size: 64 KiB, fixed header included.
pub const DEFAULT_MAX_FRAME_LEN: usize = 64 * 1024;

/// Cuts a byte stream into frames.
///
/// Bytes arrive in pieces of any size: one at a time, several frames in one
/// read, a frame split across reads. A frame that lies whole in the input is
/// returned borrowed from it, with no copy; only a frame split across reads
/// is gathered in an internal buffer, which never holds more than one frame.
/// The maximum frame size is checked as soon as the fixed header is
/// complete, before any body byte is buffered, so a hostile length cannot
/// make the decoder reserve memory.
///
/// ```
/// use osap_proto::FrameDecoder;
///
/// // A PINGREQ split in two reads, then a PINGRESP and a DISCONNECT in one.
/// let mut decoder = FrameDecoder::new(1024);
/// let (used, frame) = decoder.decode(&[0xc0]).unwrap();
/// assert_eq!((used, frame), (1, None));
/// assert_eq!(decoder.needed(), 1);
/// let (used, frame) = decoder.decode(&[0x00]).unwrap();
/// assert_eq!((used, frame.unwrap().header.kind), (1, 12));
///
/// let mut input: &[u8] = &[0xd0, 0x00, 0xe0, 0x00];
/// let mut kinds = Vec::new();
/// loop {
///     let (used, frame) = decoder.decode(input).unwrap();
///     let Some(frame) = frame else { break };
///     kinds.push(frame.header.kind);
///     input = &input[used..];
/// }
/// assert_eq!(kinds, [13, 14]);
/// ```
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    /// The total length of the frame being gathered, once its header is in.
    frame_len: Option<usize>,
    /// Whether `buf` holds a frame already handed out, to drop on the next
    /// call.
    consumed: bool,
    max_frame_len: usize,
    /// Bytes that came while the reader was paused, not read yet.
    held: Vec<u8>,
}

impl FrameDecoder {
    /// A decoder refusing frames longer than `max_frame_len` bytes, fixed
    /// header included.
    #[must_use]
    pub fn new(max_frame_len: usize) -> Self {
        Self {
            buf: Vec::new(),
            frame_len: None,
            consumed: false,
            max_frame_len,
            held: Vec::new(),
        }
    }

    /// The maximum frame size.
    #[must_use]
    pub fn max_frame_len(&self) -> usize {
        self.max_frame_len
    }

    /// How many more bytes the next frame needs at least (1 or more); 0
    /// right after a frame was returned from the internal buffer.
    #[must_use]
    pub fn needed(&self) -> usize {
        if self.consumed {
            return 0;
        }
        match self.frame_len {
            Some(total) => total - self.buf.len(),
            None => match read_header(&self.buf) {
                Ok(HeaderStatus::Partial(n)) => n,
                _ => 1,
            },
        }
    }

    /// Whether bytes of an incomplete frame are buffered (a peer that closes
    /// now has cut a frame short).
    #[must_use]
    pub fn has_partial_frame(&self) -> bool {
        !self.consumed && !self.buf.is_empty()
    }

    /// Keeps bytes that came while the reader is paused, to be read later
    /// ([`FrameDecoder::take_held`]).
    ///
    /// # Errors
    ///
    /// [`FrameError::Flooded`] when more than a frame's worth would be
    /// kept: close the connection.
    pub(crate) fn hold(&mut self, data: &[u8]) -> Result<(), FrameError> {
        if self.held.len().saturating_add(data.len()) > self.max_frame_len {
            return Err(FrameError::Flooded {
                max: self.max_frame_len,
            });
        }
        self.held.extend_from_slice(data);
        Ok(())
    }

    /// The bytes kept while the reader was paused.
    pub(crate) fn take_held(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.held)
    }

    pub(crate) fn check(&self, header_len: usize, body_len: usize) -> Result<usize, FrameError> {
        let len = header_len + body_len;
        if len > self.max_frame_len {
            return Err(FrameError::FrameTooLarge {
                len,
                max: self.max_frame_len,
            });
        }
        Ok(len)
    }

    /// Takes bytes from `input` and returns how many it used and the next
    /// complete frame, if there is one. Call again with the unused rest
    /// until it returns no frame.
    ///
    /// # Errors
    ///
    /// [`FrameError::FrameTooLarge`], [`FrameError::RemainingLengthOverflow`] and
    /// [`FrameError::NonMinimalLength`]. After an error the stream cannot be
    /// resynchronized: close the connection.
    pub fn decode<'a>(
        &'a mut self,
        input: &'a [u8],
    ) -> Result<(usize, Option<RawFrame<'a>>), FrameError> {
        if self.consumed {
            self.buf.clear();
            self.frame_len = None;
            self.consumed = false;
        }
        if self.buf.is_empty() {
            // Fast path: a frame that lies whole in the input is returned
            // without a copy.
            match read_header(input)? {
                HeaderStatus::Complete {
                    header,
                    header_len,
                    body_len,
                } => {
                    let total = self.check(header_len, body_len)?;
                    if let Some(body) = input.get(header_len..total) {
                        return Ok((total, Some(RawFrame { header, body })));
                    }
                    self.frame_len = Some(total);
                    self.buf.reserve_exact(total.min(input.len()));
                    self.buf.extend_from_slice(input);
                    return Ok((input.len(), None));
                }
                HeaderStatus::Partial(_) => {
                    self.buf.extend_from_slice(input);
                    return Ok((input.len(), None));
                }
            }
        }
        let mut used = 0;
        if self.frame_len.is_none() {
            // Gather the header one byte at a time: it is at most 5 bytes.
            while self.frame_len.is_none() {
                let Some(&byte) = input.get(used) else {
                    return Ok((used, None));
                };
                self.buf.push(byte);
                used += 1;
                if let HeaderStatus::Complete {
                    header_len,
                    body_len,
                    ..
                } = read_header(&self.buf)?
                {
                    self.frame_len = Some(self.check(header_len, body_len)?);
                }
                debug_assert!(self.buf.len() <= MAX_HEADER_LEN);
            }
        }
        let total = self.frame_len.unwrap_or_default();
        let want = total - self.buf.len();
        let take = want.min(input.len() - used);
        self.buf
            .extend_from_slice(input.get(used..used + take).unwrap_or_default());
        used += take;
        if self.buf.len() < total {
            return Ok((used, None));
        }
        self.consumed = true;
        let (frame, _) = RawFrame::parse_prefix(&self.buf)?;
        Ok((used, Some(frame)))
    }
}

impl FrameDecoder {
    /// Feeds `data` and hands each complete frame to `handle`, which says
    /// whether to go on (`Ok(true)`) or stop (`Ok(false)`). Returns what
    /// is left of `data` unread when `handle` stopped (empty otherwise).
    /// Stops at the first decoding or handling error and returns it.
    pub(crate) fn feed<'d, E: From<FrameError>>(
        &mut self,
        mut data: &'d [u8],
        mut handle: impl FnMut(RawFrame<'_>) -> Result<bool, E>,
    ) -> Result<&'d [u8], E> {
        while !data.is_empty() {
            let (used, raw) = self.decode(data)?;
            let Some(raw) = raw else {
                return Ok(&[]);
            };
            data = data.get(used..).unwrap_or_default();
            if !handle(raw)? {
                return Ok(data);
            }
        }
        Ok(&[])
    }

    /// [`FrameDecoder::feed`], each frame read as a control frame.
    pub(crate) fn feed_control<'d, E: From<FrameError>>(
        &mut self,
        data: &'d [u8],
        mut handle: impl FnMut(&ControlFrame<'_>) -> Result<bool, E>,
    ) -> Result<&'d [u8], E> {
        self.feed(data, |raw| handle(&ControlFrame::from_raw(raw)?))
    }
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_length_is_refused_before_buffering() {
        let mut d = FrameDecoder::new(1024);
        // 0x30 with remaining length 268,435,455.
        assert_eq!(
            d.decode(&[0x30, 0xff, 0xff, 0xff, 0x7f]),
            Err(FrameError::FrameTooLarge {
                len: 268_435_460,
                max: 1024
            })
        );
        assert!(d.buf.capacity() < 64);
        // The same, one byte at a time.
        let mut d = FrameDecoder::new(1024);
        for b in [0x30, 0xff, 0xff, 0xff] {
            assert_eq!(d.decode(&[b]).unwrap(), (1, None));
        }
        assert!(matches!(
            d.decode(&[0x7f]),
            Err(FrameError::FrameTooLarge { .. })
        ));
        assert!(d.buf.capacity() < 64);
    }

    #[test]
    fn partial_header_then_body() {
        let mut d = FrameDecoder::new(1024);
        let frame = [0x30, 0x05, 0x00, 0x01, b't', b'h', b'i'];
        assert_eq!(d.decode(&frame[..1]).unwrap(), (1, None));
        assert_eq!(d.needed(), 1);
        assert!(d.has_partial_frame());
        assert_eq!(d.decode(&frame[1..3]).unwrap(), (2, None));
        assert_eq!(d.needed(), 4);
        let (used, got) = d.decode(&frame[3..]).unwrap();
        assert_eq!(used, 4);
        assert_eq!(got.unwrap().body, &frame[2..]);
        assert_eq!(d.needed(), 0);
        assert_eq!(d.decode(&[]).unwrap(), (0, None));
        assert!(!d.has_partial_frame());
    }

    #[test]
    fn header_errors_stop_the_stream() {
        let mut d = FrameDecoder::new(1024);
        assert_eq!(d.decode(&[0x30, 0x80]).unwrap(), (2, None));
        assert_eq!(
            d.decode(&[0x00]),
            Err(FrameError::NonMinimalLength { value: 0 })
        );
        let mut d = FrameDecoder::new(1024);
        assert_eq!(
            d.decode(&[0x30, 0x80, 0x80, 0x80, 0x80]),
            Err(FrameError::RemainingLengthOverflow)
        );
    }
}
