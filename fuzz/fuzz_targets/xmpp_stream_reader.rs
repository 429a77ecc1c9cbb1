//! The XML stream reader fed arbitrary bytes, cut at arbitrary places:
//! whatever the cuts, it gives the same items (or fails at the same
//! point), never buffers more than its limit, and every element it hands
//! out is within the limit.
#![no_main]

use iot_xmpp::StanzaLimits;
use iot_xmpp::stream::{StreamItem, StreamReadError, StreamReader};
use libfuzzer_sys::fuzz_target;

/// The items of `data` read in pieces of `piece` bytes, and whether the
/// reading failed.
fn read(data: &[u8], piece: usize, limits: StanzaLimits) -> (Vec<String>, bool) {
    let mut reader = StreamReader::new(limits);
    let mut items = Vec::new();
    for chunk in data.chunks(piece) {
        let result = reader.feed(chunk, |item| {
            items.push(match item {
                StreamItem::Header(h) => format!("header {h:?}"),
                StreamItem::Element(e) => {
                    assert!(e.len() <= limits.max_len);
                    // What the reader hands out, the element readers take
                    // without panicking.
                    let _ = reader_of(e);
                    e.to_owned()
                }
                StreamItem::Closed => "closed".to_owned(),
            });
            Ok::<_, StreamReadError>(true)
        });
        if result.is_err() {
            return (items, true);
        }
    }
    (items, false)
}

fn reader_of(element: &str) -> bool {
    let stanza = iot_xmpp::Stanza::parse(element, &StanzaLimits::default()).is_ok();
    let nonza = StreamReader::default().read_element(element).is_ok();
    stanza || nonza
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, data)) = data.split_first() else {
        return;
    };
    let limits = StanzaLimits {
        max_len: 64 + usize::from(cut) * 8,
        max_depth: 8,
        max_elements: 32,
        max_attributes: 16,
    };
    let whole = read(data, data.len().max(1), limits);
    let pieces = read(data, usize::from(cut % 13) + 1, limits);
    assert_eq!(whole, pieces);
});
