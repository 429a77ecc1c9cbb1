//! Feeds an arbitrary status code and body to the IRSP response parser for
//! every message, and checks that an accepted response builds back to a
//! body that parses to the same status.
#![no_main]

use irsp_proto::{Limits, MessageKind, Response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [hi, lo, message, body @ ..] = data else {
        return;
    };
    let code = u16::from_be_bytes([*hi, *lo]);
    // Bias towards the codes clause 8 defines so the body parser is reached.
    let code = match code % 8 {
        0 => 200,
        1 => 400,
        2 => 421,
        3 => 422,
        4 => 500,
        _ => code,
    };
    let Some(kind) = MessageKind::from_number(message % 16) else {
        return;
    };
    let limits = Limits::default();
    if let Ok(response) = Response::parse(kind, code, body, &limits) {
        let again = Response::parse(
            kind,
            response.status_code(),
            response.body().as_bytes(),
            &limits,
        );
        assert_eq!(again, Ok(response));
    }
});
