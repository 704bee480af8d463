//! The web dashboard (`stockwatch serve`): the console's live picture for
//! people who never open a terminal. One follower per server keeps the
//! live copies (`picture`); pages are drawn from them (`pages`, askama
//! templates that escape every text from files); open pages hear of
//! changes through server-sent events (`events`); signed-in users act
//! (`actions`, `upload`) under sessions with CSRF tokens (`auth`), their
//! passwords in the data dir (`users`) or in a Cognito user pool
//! (`cognito`). `server` puts the routes behind the limits.

pub mod actions;
pub mod chart;
pub mod cognito;
pub mod events;
pub mod held;
pub mod login;
pub mod pages;
pub mod picture;
pub mod server;
pub mod session;
pub mod state;
pub mod upload;
pub mod users;
pub mod view;
pub mod visitor;

pub use server::{ServeOptions, Server, WebError};
pub use state::Anonymous;
