//! Frames for `tokio-util`'s `Framed` (feature `tokio`): a [`Decoder`]
//! that cuts whole frames from the read buffer without copying them, and
//! [`Encoder`]s for MQTT packets, control frames and the frames the state
//! machines transmit.
//!
//! The state machines take bytes and cut frames themselves, so a runtime
//! driving them needs no codec: write what they transmit, feed them what
//! was read. The codec serves a runtime that uses the codec layer alone:
//!
//! ```
//! use bytes::BytesMut;
//! use osap_proto::codec::FrameCodec;
//! use osap_proto::Packet;
//! use tokio_util::codec::{Decoder, Encoder};
//!
//! let mut codec = FrameCodec::default();
//! let mut wire = BytesMut::new();
//! codec.encode(Packet::PingReq, &mut wire)?;
//! codec.encode(Packet::PingResp, &mut wire)?;
//! wire.extend_from_slice(&[0xe0]); // half a DISCONNECT
//! let first = codec.decode(&mut wire)?.expect("a whole frame");
//! assert_eq!(Packet::parse(&first)?, Packet::PingReq);
//! assert!(codec.decode(&mut wire)?.is_some());
//! assert_eq!(codec.decode(&mut wire)?, None); // waits for the rest
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use bytes::{BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::control::ControlFrame;
use crate::decoder::{DEFAULT_MAX_FRAME_LEN, FrameDecoder};
use crate::error::FrameError;
use crate::frame::{HeaderStatus, read_header};
use crate::mqtt::Packet;

/// Why the codec stopped: the transport, or a stream that is not frames.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// Reading or writing failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The bytes are not a frame (a header that overflows or is not
    /// minimal, a frame over the limit, a message that cannot be written).
    /// The stream cannot be resynchronized: close the connection.
    #[error("frame: {0}")]
    Frame(#[from] FrameError),
}

/// Cuts frames (section 4: fixed header, remaining length, body) from a
/// byte stream and writes them; the maximum frame size is checked as soon
/// as a fixed header is complete, before its body is buffered.
#[derive(Debug, Clone)]
pub struct FrameCodec {
    limits: FrameDecoder,
}

impl FrameCodec {
    /// A codec refusing frames longer than `max_frame_len` bytes, fixed
    /// header included.
    #[must_use]
    pub fn new(max_frame_len: usize) -> Self {
        Self {
            limits: FrameDecoder::new(max_frame_len),
        }
    }
}

impl Default for FrameCodec {
    /// Frames of at most [`DEFAULT_MAX_FRAME_LEN`] bytes.
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME_LEN)
    }
}

impl Decoder for FrameCodec {
    /// One whole frame, fixed header included: read it with
    /// [`Packet::parse`] on a DAS connection or [`ControlFrame::parse`] on
    /// an LBS connection.
    type Item = BytesMut;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, CodecError> {
        match read_header(src)? {
            HeaderStatus::Partial(more) => {
                src.reserve(more);
                Ok(None)
            }
            HeaderStatus::Complete {
                header_len,
                body_len,
                ..
            } => {
                let total = self.limits.check(header_len, body_len)?;
                if src.len() < total {
                    src.reserve(total - src.len());
                    return Ok(None);
                }
                Ok(Some(src.split_to(total)))
            }
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, CodecError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the connection closed within a frame",
            )
            .into()),
        }
    }
}

impl Encoder<Packet<'_>> for FrameCodec {
    type Error = CodecError;

    fn encode(&mut self, packet: Packet<'_>, dst: &mut BytesMut) -> Result<(), CodecError> {
        dst.reserve(packet.encoded_len()?);
        packet.encode(dst)?;
        Ok(())
    }
}

impl Encoder<ControlFrame<'_>> for FrameCodec {
    type Error = CodecError;

    fn encode(&mut self, frame: ControlFrame<'_>, dst: &mut BytesMut) -> Result<(), CodecError> {
        dst.reserve(frame.encoded_len());
        frame.encode(dst)?;
        Ok(())
    }
}

impl Encoder<&[u8]> for FrameCodec {
    type Error = CodecError;

    /// Writes a frame a state machine transmitted, after checking it is
    /// exactly one whole frame within the limit.
    fn encode(&mut self, frame: &[u8], dst: &mut BytesMut) -> Result<(), CodecError> {
        let total = match read_header(frame)? {
            HeaderStatus::Complete {
                header_len,
                body_len,
                ..
            } => self.limits.check(header_len, body_len)?,
            HeaderStatus::Partial(needed) => return Err(FrameError::Incomplete { needed }.into()),
        };
        if let Some(needed) = total.checked_sub(frame.len()).filter(|n| *n > 0) {
            return Err(FrameError::Incomplete { needed }.into());
        }
        if frame.len() > total {
            let extra = frame.len() - total;
            return Err(FrameError::TrailingData { extra }.into());
        }
        dst.put_slice(frame);
        Ok(())
    }
}
