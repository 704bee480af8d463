//! The operations console (ratatui + crossterm).
//!
//! One direction of flow: terminal input and background tasks send `Msg`s
//! into one channel; `update(app, msg)` changes the state (`App`) and
//! returns `Effect`s; the runtime performs them (background jobs whose
//! answers are more messages) and, when something changed, `view(frame,
//! &app)` draws. No I/O in `update` or `view`.
//!
//! State: `app` (the whole), `live` (the copies of the inventory table and
//! the alert ledger, shared with the web dashboard), `pane` (what every
//! pane's list shares) and one module per pane: `stores_pane`, `stock_pane`,
//! `alerts_pane`, `files::pane`.
//! Changing it: `messages` (what goes in and out), `update`, `keys` (what a
//! key does: global keys, then the focused pane's), `keymap` (key bindings
//! as data), `latest` (the newest request wins).
//! Typing: `prompt` (the one-line field of `:`, `/` and notes), `mouse`.
//! Drawing: `view`, `layout`, `panes_view`, `overlays`, `files::view`,
//! `columns` (fitting tables), `clock` (times), `text`, `theme`.
//! Running: `run` (the loop), `terminal`, `tasks`, `effects`.

pub mod alerts_pane;
#[cfg(test)]
mod all_day_tests;
pub mod app;
#[cfg(test)]
mod chain_tests;
pub mod clock;
mod columns;
mod effects;
pub mod files;
mod item_chart;

pub mod keymap;
mod keys;
pub mod latest;
mod layout;
#[cfg(test)]
mod live_alerts_tests;
pub use stockwatch_core::live::{self, finding};
#[cfg(test)]
mod live_stock_properties;
#[cfg(test)]
mod live_stock_tests;
pub mod messages;
mod mouse;
mod overlays;
pub mod pane;
pub(crate) mod panes_view;
pub mod prompt;
pub mod run;
pub mod stock_pane;
pub mod stores_pane;
mod tasks;
mod terminal;
#[cfg(test)]
mod test_support;
mod text;
pub mod theme;
pub mod update;
pub mod view;
