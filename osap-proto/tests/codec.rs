//! The `tokio-util` codec (feature `tokio`): frames cut from a read buffer
//! split anywhere, limits checked before buffering, and the encoders.
#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used)]

use bytes::BytesMut;
use osap_proto::codec::{CodecError, FrameCodec};
use osap_proto::{
    ConnAck, ConnectReturnCode, ControlFlags, ControlFrame, Delivery, FrameError, Packet,
    ProtocolGroup, ProtocolVersion, Publish, TopicName,
};
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

fn publish(topic: &str) -> Packet<'_> {
    Packet::Publish(Publish {
        delivery: Delivery::AtMostOnce,
        retain: false,
        topic: TopicName::new(topic).unwrap(),
        payload: b"x".as_slice().into(),
    })
}

/// A PUBLISH, a control frame (the negotiation request of Figure 1 in
/// PROFILE.md) and a PINGREQ, as one stream.
fn stream() -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut codec = FrameCodec::default();
    let mut frames = Vec::new();
    let mut buf = BytesMut::new();
    let publish = publish("osap/dev-1/up/motion/event");
    codec.encode(publish, &mut buf).unwrap();
    frames.push(buf.split().to_vec());
    let control = ControlFrame {
        kind: 1,
        flags: ControlFlags::ECDH,
        protocol_type: 1,
        protocol_group: ProtocolGroup::ALL,
        version: ProtocolVersion::DEFAULT,
        content: b"xxxxxx".to_vec().into(),
        application: Vec::new().into(),
    };
    codec.encode(control, &mut buf).unwrap();
    frames.push(buf.split().to_vec());
    codec.encode(Packet::PingReq, &mut buf).unwrap();
    frames.push(buf.split().to_vec());
    (frames.concat(), frames)
}

/// Feeds `stream` in pieces cut at `cuts`, collecting the frames.
fn decode_in_pieces(stream: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut codec = FrameCodec::default();
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    let mut at = 0;
    for &cut in cuts.iter().chain(std::iter::once(&stream.len())) {
        let cut = cut.clamp(at, stream.len());
        buf.extend_from_slice(&stream[at..cut]);
        at = cut;
        while let Some(frame) = codec.decode(&mut buf).unwrap() {
            got.push(frame.to_vec());
        }
    }
    assert_eq!(codec.decode_eof(&mut buf).unwrap(), None);
    got
}

#[test]
fn frames_come_out_whole_however_the_stream_is_cut() {
    let (stream, frames) = stream();
    assert_eq!(decode_in_pieces(&stream, &[]), frames);
    let every_byte: Vec<usize> = (1..stream.len()).collect();
    assert_eq!(decode_in_pieces(&stream, &every_byte), frames);
    assert_eq!(
        ControlFrame::parse(&frames[1]).unwrap().content.as_ref(),
        b"xxxxxx"
    );
}

proptest! {
    #[test]
    fn any_cuts_give_the_same_frames(mut cuts in proptest::collection::vec(0usize..64, 0..8)) {
        let (stream, frames) = stream();
        cuts.sort_unstable();
        prop_assert_eq!(decode_in_pieces(&stream, &cuts), frames);
    }
}

#[test]
fn a_frame_over_the_limit_is_refused_before_its_body_is_buffered() {
    let mut codec = FrameCodec::new(1024);
    // PUBLISH with remaining length 268,435,455.
    let mut buf = BytesMut::from(&[0x30, 0xff, 0xff, 0xff, 0x7f][..]);
    let err = codec.decode(&mut buf).unwrap_err();
    assert!(
        matches!(
            err,
            CodecError::Frame(FrameError::FrameTooLarge {
                len: 268_435_460,
                max: 1024
            })
        ),
        "{err}"
    );
    assert!(buf.capacity() < 1024, "nothing reserved for the body");
}

#[test]
fn a_bad_remaining_length_is_refused() {
    let mut codec = FrameCodec::default();
    let mut overflow = BytesMut::from(&[0x30, 0xff, 0xff, 0xff, 0xff, 0x01][..]);
    assert!(matches!(
        codec.decode(&mut overflow),
        Err(CodecError::Frame(FrameError::RemainingLengthOverflow))
    ));
    let mut non_minimal = BytesMut::from(&[0xc0, 0x80, 0x00][..]);
    assert!(matches!(
        codec.decode(&mut non_minimal),
        Err(CodecError::Frame(FrameError::NonMinimalLength { .. }))
    ));
}

#[test]
fn a_stream_that_ends_within_a_frame_is_an_error() {
    let mut codec = FrameCodec::default();
    let mut buf = BytesMut::from(&[0xc0][..]);
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    let err = codec.decode_eof(&mut buf).unwrap_err();
    assert!(
        matches!(&err, CodecError::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof),
        "{err}"
    );
}

#[test]
fn a_transmitted_frame_is_written_only_when_it_is_exactly_one_frame() {
    let mut codec = FrameCodec::default();
    let mut buf = BytesMut::new();
    codec.encode(&[0xc0, 0x00][..], &mut buf).unwrap();
    assert_eq!(&buf[..], [0xc0, 0x00]);
    assert!(matches!(
        codec.encode(&[0x30, 0x05, 0x00][..], &mut buf),
        Err(CodecError::Frame(FrameError::Incomplete { needed: 4 }))
    ));
    assert!(matches!(
        codec.encode(&[0xc0][..], &mut buf),
        Err(CodecError::Frame(FrameError::Incomplete { needed: 1 }))
    ));
    assert!(matches!(
        codec.encode(&[0xc0, 0x00, 0xd0, 0x00][..], &mut buf),
        Err(CodecError::Frame(FrameError::TrailingData { extra: 2 }))
    ));
    assert_eq!(&buf[..], [0xc0, 0x00], "nothing written on error");
}

#[test]
fn a_packet_that_cannot_be_written_is_an_error() {
    let mut codec = FrameCodec::default();
    let mut buf = BytesMut::new();
    // A CONNACK that says a session is present and refuses the
    // connection (MQTT 3.1.1 section 3.2.2.2) is refused by the writer.
    let bad = Packet::ConnAck(ConnAck {
        session_present: true,
        code: ConnectReturnCode::NotAuthorized,
    });
    assert!(matches!(
        codec.encode(bad, &mut buf),
        Err(CodecError::Frame(_))
    ));
}
