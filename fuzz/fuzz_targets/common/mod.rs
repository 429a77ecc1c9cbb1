//! What the machine targets check after each step, in one place.

/// After one step of a machine that ends at most once: `ended` its events
/// since the last step (`is_end` picks the end), `sent` the transmits
/// since; `idle` whether it has no timer. At most one end, nothing
/// reported or sent after it, and no timer once ended. Updates `ended`.
pub fn after_step<E: core::fmt::Debug>(
    events: impl Iterator<Item = E>,
    is_end: impl Fn(&E) -> bool,
    sent: usize,
    idle: impl FnOnce() -> bool,
    ended: &mut bool,
) {
    let mut ends = 0;
    for e in events {
        assert!(!*ended, "an event after the end: {e:?}");
        ends += usize::from(is_end(&e));
    }
    assert!(ends <= 1);
    if *ended {
        assert_eq!(sent, 0, "bytes after the end");
    }
    *ended |= ends == 1;
    if *ended {
        assert!(idle(), "a timer after the end");
    }
}
