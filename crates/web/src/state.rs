//! What every request shares: the backend's use cases, the live picture,
//! the sessions, the settings the server was started with.

use crate::held::Held;
use crate::picture::Picture;
use crate::session::{Sessions, SignIn};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use stockwatch_core::app::Operations;
use stockwatch_core::pipeline::UploadFlow;
use stockwatch_domain::{Thresholds, Timestamp};
use tokio::sync::watch;

/// What a visitor who has not signed in may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anonymous {
    /// See every page; acting needs signing in.
    Read,
    /// Nothing but the sign-in page (and /healthz).
    Refuse,
}

/// The time as the server sees it; tests give a fixed one.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// What every handler shares.
pub struct Shared {
    pub ops: Operations,
    pub picture: Picture,
    pub sessions: Sessions,
    pub sign_in: Option<SignIn>,
    pub anonymous: Anonymous,
    pub uploads: Option<UploadFlow>,
    pub thresholds: Thresholds,
    pub max_upload_bytes: u64,
    pub secure_cookies: bool,
    pub location: String,
    pub clock: Clock,
    pub held_uploads: Held,
    /// Turns true on shutdown: event streams end.
    pub stopping: watch::Receiver<bool>,
    /// Requests and streams open, by client address.
    pub clients: Mutex<HashMap<IpAddr, usize>>,
    pub per_client: usize,
}

pub type AppState = Arc<Shared>;

impl Shared {
    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }
}
