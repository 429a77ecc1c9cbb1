//! The end-of-session reason: its accessors, its mapping into another
//! machine's types, its text, and the scripted RNG of test vectors.

use iot_sansio::testing::Scripted;
use iot_sansio::{End, Input, Never, Outbox};
use rand_core::RngCore;

type E = End<&'static str, u8>;

#[test]
fn accessors_give_the_detail_of_their_variant_only() {
    assert_eq!(E::PeerFault("bad").fault(), Some(&"bad"));
    assert_eq!(E::PeerFault("bad").refusal(), None);
    assert_eq!(E::Refused(7).refusal(), Some(&7));
    assert_eq!(E::Refused(7).fault(), None);
    for plain in [E::Closed, E::TimedOut, E::PeerClosed] {
        assert_eq!(plain.fault(), None);
        assert_eq!(plain.refusal(), None);
    }
}

#[test]
fn map_carries_details_and_keeps_plain_ends() {
    let len = |s: &str| s.len();
    let wide = |r: u8| u32::from(r) * 1000;
    assert_eq!(E::PeerFault("four").map(len, wide), End::PeerFault(4));
    assert_eq!(E::Refused(3).map(len, wide), End::Refused(3000));
    assert_eq!(E::Closed.map(len, wide), End::<usize, u32>::Closed);
    assert_eq!(E::TimedOut.map(len, wide), End::<usize, u32>::TimedOut);
    assert_eq!(E::PeerClosed.map(len, wide), End::<usize, u32>::PeerClosed);
}

#[test]
fn display_says_why_the_session_ended() {
    assert_eq!(E::Closed.to_string(), "closed by this side");
    assert_eq!(E::TimedOut.to_string(), "the peer did not answer in time");
    assert_eq!(E::PeerClosed.to_string(), "the peer closed the connection");
    assert_eq!(
        E::PeerFault("bad length").to_string(),
        "the peer misbehaved: bad length"
    );
    assert_eq!(E::Refused(9).to_string(), "refused: 9");
    let boxed: Box<dyn std::error::Error> = Box::new(End::<&str, Never>::TimedOut);
    assert_eq!(boxed.to_string(), "the peer did not answer in time");
}

#[test]
fn input_is_copy_and_outbox_default_is_empty() {
    let data = Input::Data(&b"x"[..]);
    let copy = data;
    assert_eq!(copy, data);
    let mut outbox: Outbox<u8, E> = Outbox::default();
    assert!(!outbox.is_ended());
    assert_eq!(outbox.pop_transmit(), None);
    assert_eq!(outbox.pop_event(), None);
}

#[test]
fn scripted_rng_gives_its_bytes_then_zeros() {
    let mut rng = Scripted::new(&[1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 9]);
    assert_eq!(rng.next_u32(), 1);
    assert_eq!(rng.next_u64(), 2);
    let mut rest = [0xff; 3];
    rng.try_fill_bytes(&mut rest).unwrap();
    assert_eq!(rest, [9, 0, 0]);
    assert_eq!(rng.next_u32(), 0);
}
