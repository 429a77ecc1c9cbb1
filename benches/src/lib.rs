//! Criterion benchmarks of the protocol crates. The benchmarks live in
//! `benches/`; run them with `cargo bench -p benches`.
