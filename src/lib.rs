//! stockwatch: store inventory files in, stock alerts out.
//!
//! This package is the `stockwatch` binary: the CLI that reads settings,
//! opens a backend (`stockwatch-local` or `stockwatch-aws`) and hands it to
//! the application layer, the console or the pipeline (`stockwatch-core`).
//! The layers are crates; ARCHITECTURE.md draws them.

pub mod cli;
