//! The operations console (ratatui + crossterm).

pub mod app;
pub mod files;
pub mod files_pane;
mod files_view;
pub mod keymap;
pub mod live_stock;
pub mod run;
#[cfg(test)]
mod test_support;
pub mod view;
