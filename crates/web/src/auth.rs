//! Who is asking: sessions (an `HttpOnly`, `SameSite=Strict` cookie, also
//! `Secure` over TLS, naming a session held in memory), a CSRF token per
//! session on every form, a bearer token from Cognito for scripts, and
//! signing in (local users or a Cognito pool) under a rate limit.

use crate::cognito::{Cognito, CognitoError};
use crate::pages::{Frame, page};
use crate::server::{Anonymous, AppState};
use crate::users::Users;
use askama::Template;
use axum::extract::{ConnectInfo, Form, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const SESSION_COOKIE: &str = "stockwatch_session";
const LOGIN_COOKIE: &str = "stockwatch_login";
/// A session not used for this long ends.
const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);
/// Sessions held at most; past it the longest idle goes.
const SESSIONS_AT_MOST: usize = 10_000;
/// Failed sign-ins allowed per address and per name in `FAILURE_WINDOW`.
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
struct Session {
    user: String,
    csrf: String,
    used: Instant,
}

/// Sessions in memory: a restart signs everyone out, which is the safe side.
#[derive(Default)]
pub struct Sessions {
    held: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// 244 random bits, as hex.
pub fn random_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

impl Sessions {
    fn start(&self, user: String) -> (String, String) {
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

    fn find(&self, id: &str) -> Option<Session> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let session = held.get_mut(id)?;
        if session.used.elapsed() >= SESSION_IDLE {
            held.remove(id);
            return None;
        }
        session.used = Instant::now();
        Some(session.clone())
    }

    fn end(&self, id: &str) {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }

    /// How long until `keys` may try again, if any of them failed too often.
    fn refused_for(&self, keys: &[String]) -> Option<Duration> {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter()
            .filter_map(|key| {
                let times = failures.get_mut(key)?;
                while times.front().is_some_and(|t| t.elapsed() >= FAILURE_WINDOW) {
                    times.pop_front();
                }
                let first = times.front().filter(|_| times.len() >= FAILURES_ALLOWED)?;
                Some(FAILURE_WINDOW.saturating_sub(first.elapsed()))
            })
            .max()
    }

    fn failed(&self, keys: &[String]) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() > SESSIONS_AT_MOST {
            failures.retain(|_, t| t.back().is_some_and(|t| t.elapsed() < FAILURE_WINDOW));
        }
        for key in keys {
            let times = failures.entry(key.clone()).or_default();
            times.push_back(Instant::now());
            if times.len() > FAILURES_ALLOWED {
                times.pop_front();
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
    session: Option<String>,
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

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, shared: &AppState) -> Result<Visitor, Response> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if let Some(token) = bearer {
            let Some(SignIn::Cognito(cognito)) = &shared.sign_in else {
                return Err((
                    StatusCode::UNAUTHORIZED,
                    "bearer tokens are taken only with a Cognito user pool",
                )
                    .into_response());
            };
            return match cognito.verify(token.trim(), shared.now().0).await {
                Ok(user) => Ok(Visitor {
                    user: Some(user),
                    bearer: true,
                    ..Visitor::default()
                }),
                Err(CognitoError::Refused(why)) => Err((StatusCode::UNAUTHORIZED, why).into_response()),
                Err(CognitoError::Unavailable(why)) => Err((StatusCode::SERVICE_UNAVAILABLE, why).into_response()),
            };
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(id) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) else {
            return Ok(Visitor::default());
        };
        Ok(match shared.sessions.find(&id) {
            Some(session) => Visitor {
                user: Some(session.user),
                csrf: Some(session.csrf),
                bearer: false,
                session: Some(id),
            },
            None => Visitor::default(),
        })
    }
}

/// Pages a visitor who has not signed in may not see when they are refused.
pub fn refuse_anonymous(shared: &AppState, visitor: &Visitor, here: &str) -> Option<Response> {
    (visitor.user.is_none() && shared.anonymous == Anonymous::Refuse)
        .then(|| Redirect::to(&format!("/login?next={}", crate::pages::url_part(here))).into_response())
}

fn cookie(shared: &AppState, name: &'static str, value: String, path: &'static str) -> Cookie<'static> {
    let mut cookie = Cookie::new(name, value);
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Strict);
    cookie.set_secure(shared.secure_cookies);
    cookie.set_path(path);
    cookie
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    frame: Frame,
    login_token: String,
    next: String,
    problem: Option<String>,
    user_typed: String,
    how: &'static str,
}

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

/// Where to go after signing in: a path of this site only.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        "/".into()
    }
}

fn how(shared: &AppState) -> &'static str {
    match &shared.sign_in {
        Some(SignIn::Local(_)) => "local",
        Some(SignIn::Cognito(_)) => "cognito",
        None => "none",
    }
}

pub async fn login_page(
    State(shared): State<AppState>,
    visitor: Visitor,
    Query(q): Query<NextQuery>,
    jar: CookieJar,
) -> Response {
    let token = random_token();
    let jar = jar.add(cookie(&shared, LOGIN_COOKIE, token.clone(), "/login"));
    let frame = Frame::new(&shared, &visitor, "Sign in");
    let login = LoginPage {
        frame,
        login_token: token,
        next: safe_next(&q.next),
        problem: None,
        user_typed: String::new(),
        how: how(&shared),
    };
    (jar, page(login)).into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    user: String,
    password: String,
    login_token: String,
    #[serde(default)]
    next: String,
}

pub async fn login(
    State(shared): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    let retry = |problem: String, status: StatusCode, jar: CookieJar| {
        let token = random_token();
        let jar = jar.add(cookie(&shared, LOGIN_COOKIE, token.clone(), "/login"));
        let login = LoginPage {
            frame: Frame::new(&shared, &Visitor::default(), "Sign in"),
            login_token: token,
            next: safe_next(&form.next),
            problem: Some(problem),
            user_typed: form.user.clone(),
            how: how(&shared),
        };
        (status, jar, page(login)).into_response()
    };
    let expected = jar.get(LOGIN_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.login_token.as_bytes()) {
        return retry(
            "the sign-in form was stale: try again".into(),
            StatusCode::FORBIDDEN,
            jar,
        );
    }
    let Some(sign_in) = shared.sign_in.clone() else {
        return retry(
            "nobody can sign in to this dashboard: it is read-only".into(),
            StatusCode::FORBIDDEN,
            jar,
        );
    };
    let name = form.user.trim().to_string();
    let keys = [format!("ip {}", addr.ip()), format!("user {}", name.to_lowercase())];
    if let Some(wait) = shared.sessions.refused_for(&keys) {
        let problem = format!(
            "too many failed sign-ins: try again in {}",
            stockwatch_domain::time::short_span(wait.max(Duration::from_secs(1)))
        );
        return retry(problem, StatusCode::TOO_MANY_REQUESTS, jar);
    }
    let signed_in = match sign_in {
        SignIn::Local(users) => {
            let (name, password) = (name.clone(), form.password.clone());
            match tokio::task::spawn_blocking(move || users.verify(&name, &password)).await {
                Ok(Ok(true)) => Ok(form.user.trim().to_string()),
                Ok(Ok(false)) => Err(Failed::Refused(WRONG.into())),
                Ok(Err(e)) => Err(Failed::Unavailable(e.to_string())),
                Err(e) => Err(Failed::Unavailable(e.to_string())),
            }
        }
        SignIn::Cognito(cognito) => match cognito.sign_in(&name, &form.password, shared.now().0).await {
            Ok(user) => Ok(user),
            // Cognito's sentence: a wrong password reads as ours; a
            // password still temporary says what to do.
            Err(CognitoError::Refused(why)) => Err(Failed::Refused(why)),
            Err(CognitoError::Unavailable(why)) => Err(Failed::Unavailable(why)),
        },
    };
    match signed_in {
        Ok(user) => {
            tracing::info!(user = %user, from = %addr.ip(), "signed in");
            // A new id at every sign-in: an id planted before cannot be used after.
            let (id, _) = shared.sessions.start(user);
            let jar = jar
                .remove(cookie(&shared, LOGIN_COOKIE, String::new(), "/login"))
                .add(cookie(&shared, SESSION_COOKIE, id, "/"));
            (jar, Redirect::to(&safe_next(&form.next))).into_response()
        }
        Err(Failed::Refused(why)) => {
            shared.sessions.failed(&keys);
            tracing::info!(user = %name, from = %addr.ip(), "sign-in refused");
            retry(why, StatusCode::UNAUTHORIZED, jar)
        }
        Err(Failed::Unavailable(why)) => {
            tracing::warn!(error = %why, "sign-in could not be checked");
            retry(
                format!("cannot check the password now: {why}"),
                StatusCode::SERVICE_UNAVAILABLE,
                jar,
            )
        }
    }
}

/// The one answer to a wrong name or password: it does not tell which.
const WRONG: &str = "wrong user name or password";

/// Why a sign-in did not happen.
enum Failed {
    /// The password (or the account's state) says no: counted against the limit.
    Refused(String),
    /// It could not be checked (the users file, Cognito): not the user's fault.
    Unavailable(String),
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

pub async fn logout(
    State(shared): State<AppState>,
    visitor: Visitor,
    jar: CookieJar,
    Form(form): Form<LogoutForm>,
) -> Response {
    if let Err(refused) = visitor.acting(&form.csrf) {
        return refused.into_response();
    }
    if let Some(id) = &visitor.session {
        shared.sessions.end(id);
    }
    let jar = jar.remove(cookie(&shared, SESSION_COOKIE, String::new(), "/"));
    (jar, Redirect::to("/")).into_response()
}
