//! Feeds arbitrary bytes to the OSAP frame decoder, cut into pieces at
//! points the input chooses, reads every frame both as an MQTT packet and
//! as a control frame, and checks that whatever parses encodes back to the
//! same bytes, and that a PUBLISH topic read as a business topic is its
//! levels.
#![no_main]

use libfuzzer_sys::fuzz_target;
use osap_proto::business::BusinessTopic;
use osap_proto::{ControlFrame, FrameDecoder, Packet, RawFrame};

fn check(raw: RawFrame<'_>) {
    let mut wire = Vec::new();
    raw.encode(&mut wire).unwrap();
    if let Ok(packet) = Packet::from_raw(raw) {
        let mut out = Vec::new();
        packet.encode(&mut out).unwrap();
        assert_eq!(out, wire, "{packet:?}");
        assert_eq!(packet.encoded_len().unwrap(), out.len());
        if let Packet::Publish(p) = &packet
            && let Ok(t) = BusinessTopic::parse(&p.topic)
        {
            let levels = [t.devid, t.direction.as_str(), t.area, t.kind];
            assert_eq!(format!("osap/{}", levels.join("/")), p.topic);
        }
    }
    if let Ok(frame) = ControlFrame::from_raw(raw) {
        let mut out = Vec::new();
        frame.encode(&mut out).unwrap();
        assert_eq!(out, wire, "{frame:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, stream)) = data.split_first() else {
        return;
    };
    let piece = usize::from(cut % 16) + 1;
    let mut decoder = FrameDecoder::new(1024);
    for chunk in stream.chunks(piece) {
        let mut rest = chunk;
        loop {
            match decoder.decode(rest) {
                Ok((used, frame)) => {
                    assert!(used <= rest.len());
                    rest = &rest[used..];
                    match frame {
                        Some(raw) => check(raw),
                        None => break,
                    }
                }
                Err(_) => return,
            }
        }
        assert!(rest.is_empty());
    }
});
