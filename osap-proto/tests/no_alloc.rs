//! Decoding a complete frame allocates nothing: the codec borrows from the
//! input. The one exception is a CONNECT password, a secret: it is copied
//! out of the frame into the family's zeroizing box (one block). Checked
//! with dhat's counting allocator, in a test binary of its own so that no
//! other test allocates at the same time.

#![allow(clippy::unwrap_used)]

use osap_proto::{ControlFrame, FrameDecoder, Packet};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

#[test]
fn decoding_complete_frames_does_not_allocate() {
    // Built before counting starts.
    let publish_64: Vec<u8> = {
        let mut v = vec![
            0x32, 0x40, 0x00, 0x05, b'a', b'/', b'b', b'/', b'c', 0x00, 0x07,
        ];
        v.resize(2 + 0x40, 0xa5);
        v
    };
    let subscribe = [
        0x82, 0x0e, 0x00, 0x0a, 0x00, 0x03, b'a', b'/', b'b', 0x01, 0x00, 0x03, b'c', b'/', b'd',
        0x02,
    ];
    let suback = [0x90, 0x06, 0x00, 0x0a, 0x00, 0x01, 0x02, 0x80];
    // Will and user name, no password (connect flags 0x8e).
    let connect = [
        0x10, 0x18, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x8e, 0x00, 0x0a, 0x00, 0x01, b'c',
        0x00, 0x01, b'w', 0x00, 0x03, b'b', b'y', b'e', 0x00, 0x01, b'u',
    ];
    // The same with a password (connect flags 0xce).
    let connect_password = [
        0x10, 0x1b, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xce, 0x00, 0x0a, 0x00, 0x01, b'c',
        0x00, 0x01, b'w', 0x00, 0x03, b'b', b'y', b'e', 0x00, 0x01, b'u', 0x00, 0x01, b'p',
    ];
    let negotiation = [
        0x13, 0x0d, 0x01, 0x0f, 0x00, 0x09, 0x01, 0x01, 0x00, b'x', b'x', b'x', b'x', b'x', b'x',
    ];
    let mut decoder = FrameDecoder::new(4096);

    let _profiler = dhat::Profiler::builder().testing().build();
    let before = dhat::HeapStats::get();
    for wire in [&publish_64[..], &subscribe, &suback, &connect] {
        let packet = Packet::parse(wire).unwrap();
        assert!(!matches!(packet, Packet::PingReq));
        let (used, raw) = decoder.decode(wire).unwrap();
        assert_eq!(used, wire.len());
        let again = Packet::from_raw(raw.unwrap()).unwrap();
        assert_eq!(again, packet);
        if let Packet::Subscribe(s) = &again {
            assert_eq!(s.filters.iter().count(), 2);
        }
    }
    let frame = ControlFrame::parse(&negotiation).unwrap();
    assert!(frame.flags.ecdh());
    let after = dhat::HeapStats::get();
    dhat::assert_eq!(after.total_blocks, before.total_blocks);

    let with_password = Packet::parse(&connect_password).unwrap();
    let secret = dhat::HeapStats::get();
    dhat::assert_eq!(secret.total_blocks, after.total_blocks + 1);
    assert!(matches!(with_password, Packet::Connect(c) if c.password.is_some()));
}
