//! The operations console (ratatui + crossterm).

pub mod inventory;
pub mod keymap;
