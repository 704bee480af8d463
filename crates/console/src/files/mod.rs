//! The file pane, in three parts named for what they do: `listing` reads
//! directories (no UI), `pane` holds the pane's state, `view` draws it.

pub mod listing;
pub mod pane;
pub mod view;
