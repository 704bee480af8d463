//! The local tier: everything that needs no emulator. Plain `cargo test`
//! runs it: the CLI and the real binary on the samples, the contract suite
//! on the embedded backend, the checker's gaps, history, hostile input,
//! property tests of the parsers, settings, concurrency and the layering.

mod checker_gap;
mod cli;
mod concurrency;
mod contract_local;
mod history;
mod hostile;
mod layering;
mod properties;
mod settings;
