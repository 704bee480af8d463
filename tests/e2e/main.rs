//! The console end-to-end tier: the real binary inside tmux, all day and
//! killed at random points (crash). Needs tmux; built with
//! `--features tier-e2e` (`./scripts/test.sh` turns every tier on).

mod console_all_day;
mod console_chain;
mod console_e2e;
mod crash;
mod web_browser;
