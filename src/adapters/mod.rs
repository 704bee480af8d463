//! Backends: each implements every port.

pub mod aws;
pub mod local;
