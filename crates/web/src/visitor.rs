//! The visitor of a request, read from its session cookie or its bearer
//! token; and the pages refused to visitors who have not signed in.

use crate::cognito::CognitoError;
use crate::session::{SESSION_COOKIE, SignIn, Visitor};
use crate::state::{Anonymous, AppState};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;

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
        .then(|| Redirect::to(&format!("/login?next={}", crate::view::url_part(here))).into_response())
}
