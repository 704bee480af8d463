//! Who is asking, held between requests: sessions in memory (a restart
//! signs everyone out, the safe side), each with its CSRF token; the
//! visitor of a request and what it may do; who may sign in.

use crate::cognito::Cognito;
use crate::users::Users;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const SESSION_COOKIE: &str = "stockwatch_session";
pub const LOGIN_COOKIE: &str = "stockwatch_login";
/// A session not used for this long ends.
const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);
/// Sessions held at most; past it the longest idle goes.
const SESSIONS_AT_MOST: usize = 10_000;
/// Sign-ins allowed to fail per address and per name in `FAILURE_WINDOW`.
const FAILURES_ALLOWED: usize = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(5 * 60);

/// Who may sign in.
#[derive(Clone)]
pub enum SignIn {
    /// `users.toml` in the data dir (`stockwatch users add`).
    Local(Users),
    /// A Cognito user pool (a stack's, or named by flags).
    Cognito(Cognito),
}

#[derive(Debug, Clone)]
pub struct Session {
    pub user: String,
    pub csrf: String,
    used: Instant,
}

/// Sessions in memory: a restart signs everyone out, which is the safe side.
#[derive(Default)]
pub struct Sessions {
    held: Mutex<HashMap<String, Session>>,
    /// Sign-in attempts by address and by name, within `FAILURE_WINDOW`.
    attempts: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// 244 random bits, as hex.
pub fn random_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

impl Sessions {
    pub fn start(&self, user: String) -> (String, String) {
        let (id, csrf) = (random_token(), random_token());
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.retain(|_, s| s.used.elapsed() < SESSION_IDLE);
        if held.len() >= SESSIONS_AT_MOST
            && let Some(oldest) = held.iter().min_by_key(|(_, s)| s.used).map(|(id, _)| id.clone())
        {
            held.remove(&oldest);
        }
        held.insert(
            id.clone(),
            Session {
                user,
                csrf: csrf.clone(),
                used: Instant::now(),
            },
        );
        (id, csrf)
    }

    pub fn find(&self, id: &str) -> Option<Session> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let session = held.get_mut(id)?;
        if session.used.elapsed() >= SESSION_IDLE {
            held.remove(id);
            return None;
        }
        session.used = Instant::now();
        Some(session.clone())
    }

    pub fn end(&self, id: &str) {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }

    /// Counts a sign-in attempt for each of `keys`, under one lock, unless
    /// one of them has used up its attempts: then how long until it may
    /// try again (nothing is counted).
    pub fn try_attempt(&self, keys: &[String]) -> Option<Duration> {
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        if attempts.len() > SESSIONS_AT_MOST {
            attempts.retain(|_, t| t.back().is_some_and(|t| t.elapsed() < FAILURE_WINDOW));
        }
        let wait = keys
            .iter()
            .filter_map(|key| {
                let times = attempts.get_mut(key)?;
                while times.front().is_some_and(|t| t.elapsed() >= FAILURE_WINDOW) {
                    times.pop_front();
                }
                let first = times.front().filter(|_| times.len() >= FAILURES_ALLOWED)?;
                Some(FAILURE_WINDOW.saturating_sub(first.elapsed()))
            })
            .max();
        if wait.is_none() {
            for key in keys {
                attempts.entry(key.clone()).or_default().push_back(Instant::now());
            }
        }
        wait
    }

    /// Takes back the attempt just counted for `keys` (it signed in, or
    /// could not be checked): only failures use the allowance up.
    pub fn forgive(&self, keys: &[String]) {
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        for key in keys {
            if let Some(times) = attempts.get_mut(key) {
                times.pop_back();
            }
        }
    }
}

/// The visitor of a request: signed in (`user`) with the session's CSRF
/// token, or through a bearer token (no cookie: no CSRF to fear), or not.
#[derive(Debug, Clone, Default)]
pub struct Visitor {
    pub user: Option<String>,
    pub csrf: Option<String>,
    pub bearer: bool,
    /// The session's id, when the visitor came with one.
    pub session: Option<String>,
}

/// Why an action was refused.
#[derive(Debug)]
pub enum Refused {
    NotSignedIn,
    BadToken,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::NotSignedIn => (
                StatusCode::UNAUTHORIZED,
                "sign in first: acting on the stock needs a signed-in user",
            )
                .into_response(),
            Refused::BadToken => (
                StatusCode::FORBIDDEN,
                "this form is stale or was not sent by this dashboard (its CSRF token does not match): reload the page and try again",
            )
                .into_response(),
        }
    }
}

impl Visitor {
    /// The signed-in user, if the form's token is the session's.
    pub fn acting(&self, token: &str) -> Result<&str, Refused> {
        let user = self.user.as_deref().ok_or(Refused::NotSignedIn)?;
        if self.bearer {
            return Ok(user);
        }
        match &self.csrf {
            Some(csrf) if constant_time_eq(csrf.as_bytes(), token.as_bytes()) => Ok(user),
            _ => Err(Refused::BadToken),
        }
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
