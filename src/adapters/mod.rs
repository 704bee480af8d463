//! Backends: each implements every port.

pub mod local;
