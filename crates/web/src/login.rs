//! Signing in (a local user's password, or a Cognito pool's) under a rate
//! limit, with a token of its own against forged sign-in forms, and
//! signing out.

use crate::cognito::CognitoError;
use crate::session::{LOGIN_COOKIE, SESSION_COOKIE, SignIn, Visitor, constant_time_eq, random_token};
use crate::state::AppState;
use crate::view::{Frame, page};
use askama::Template;
use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Duration;

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
    crate::view::local_path(next).to_string()
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
    // The attempt counts before the password is checked (attempts sent at
    // once must not all pass the limit), and is forgiven if it was right.
    if let Some(wait) = shared.sessions.try_attempt(&keys) {
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
            shared.sessions.forgive(&keys);
            tracing::info!(user = %user, from = %addr.ip(), "signed in");
            // A new id at every sign-in: an id planted before cannot be used after.
            let (id, _) = shared.sessions.start(user);
            let jar = jar
                .remove(cookie(&shared, LOGIN_COOKIE, String::new(), "/login"))
                .add(cookie(&shared, SESSION_COOKIE, id, "/"));
            (jar, Redirect::to(&safe_next(&form.next))).into_response()
        }
        Err(Failed::Refused(why)) => {
            tracing::info!(user = %name, from = %addr.ip(), "sign-in refused");
            retry(why, StatusCode::UNAUTHORIZED, jar)
        }
        Err(Failed::Unavailable(why)) => {
            shared.sessions.forgive(&keys);
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
