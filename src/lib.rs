//! stockwatch: store inventory files in, stock alerts out.
//!
//! Layers point one way: `domain` (pure) ← `ports` (async traits) ←
//! `adapters` (local, aws) ← `pipeline` (loader, checker) ← front ends
//! (`cli`, console, Lambda handlers).

pub mod adapters;
pub mod cli;
pub mod config;
pub mod console;
pub mod domain;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod logging;
pub mod pipeline;
pub mod ports;
pub mod shutdown;
