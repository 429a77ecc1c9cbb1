//! The benchmarks of the protocol crates: criterion for time, gungraun
//! (callgrind) for instruction counts, each operation beside the peer crates
//! doing the same work on the same bytes. The benchmarks live in `benches/`
//! (`cargo bench -p benches`); the inputs and the peers' pipelines they
//! share live here, so that both harnesses measure the same thing.

// Fixtures fail loudly on purpose: a broken fixture is a bug.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod fixtures;
