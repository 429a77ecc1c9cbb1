//! The `tokio-util` frame codec against the streaming `FrameDecoder` on the
//! same bytes, cut into the same arbitrary pieces: both must give the same
//! frames, and fail at the same point, with the same limit.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use osap_proto::FrameDecoder;
use osap_proto::codec::FrameCodec;
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, stream)) = data.split_first() else {
        return;
    };
    let max = 64 + usize::from(cut) * 4;
    let piece = usize::from(cut % 17) + 1;

    let mut codec = FrameCodec::new(max);
    let mut buf = BytesMut::new();
    let mut from_codec = Vec::new();
    let mut codec_failed = false;
    'outer: for chunk in stream.chunks(piece) {
        buf.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => {
                    assert!(frame.len() <= max);
                    from_codec.push(frame.to_vec());
                }
                Ok(None) => break,
                Err(_) => {
                    codec_failed = true;
                    break 'outer;
                }
            }
        }
    }

    let mut decoder = FrameDecoder::new(max);
    let mut from_decoder = Vec::new();
    let mut decoder_failed = false;
    'outer2: for mut chunk in stream.chunks(piece) {
        while !chunk.is_empty() {
            match decoder.decode(chunk) {
                Ok((used, frame)) => {
                    if let Some(frame) = frame {
                        let mut whole = Vec::new();
                        osap_proto::put_header(&mut whole, frame.header, frame.body.len())
                            .expect("a decoded frame's length fits");
                        whole.extend_from_slice(frame.body);
                        from_decoder.push(whole);
                    }
                    if used == 0 {
                        break;
                    }
                    chunk = &chunk[used..];
                }
                Err(_) => {
                    decoder_failed = true;
                    break 'outer2;
                }
            }
        }
    }
    assert_eq!(from_codec, from_decoder);
    assert_eq!(codec_failed, decoder_failed);
});
