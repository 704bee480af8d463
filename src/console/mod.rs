//! The operations console (ratatui + crossterm).

pub mod keymap;
