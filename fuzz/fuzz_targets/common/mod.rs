//! What the machine targets share: the loop that cuts the input into
//! operations, and the drain that takes what a machine queued through the
//! family's contract checker (`iot_sansio::testing::Checked`), which
//! asserts the contract on every call.

#![allow(dead_code)]

use iot_sansio::Machine;
use iot_sansio::testing::{Checked, events, transmits};

/// The operations in `input`: each an operation byte and the chunk that
/// follows it, `len(op)` bytes long (fewer at the end of the input).
pub fn ops(input: &[u8], len: impl Fn(u8) -> usize) -> impl Iterator<Item = (u8, &[u8])> {
    let mut input = input;
    core::iter::from_fn(move || {
        let (&op, rest) = input.split_first()?;
        let (chunk, next) = rest.split_at(len(op).min(rest.len()));
        input = next;
        Some((op, chunk))
    })
}

/// Takes everything the machine queued, transmits first as a runtime
/// does; returns the events.
pub fn drain<M: Machine>(machine: &mut Checked<M>) -> Vec<M::Event> {
    transmits(machine);
    events(machine)
}
