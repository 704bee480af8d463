//! The operations console (ratatui + crossterm).

pub mod app;
pub mod files;
pub mod keymap;
pub mod latest;
pub mod live_stock;
pub mod run;
#[cfg(test)]
mod test_support;
pub mod theme;
pub mod view;
