//! What a signed-in user does from a page: acknowledge an alert (with a
//! note), take an acknowledgement back, snooze a store or an item. Each
//! form carries the session's CSRF token; who acted is the session's user,
//! never a name the form sends. The change comes back through the
//! follower like anyone else's, so every open page shows it.

use crate::session::Visitor;
use crate::state::AppState;
use axum::extract::{Form, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::time::Duration;
use stockwatch_core::app::{AppError, SnoozeTarget};
use stockwatch_core::ports::PortError;
use stockwatch_domain::AlertId;

/// Back to the page the form was on (a path of this site only).
fn back(to: &str) -> Response {
    Redirect::to(crate::view::local_path(to)).into_response()
}

/// What the backend said no to, as a page line (a refused note, a gone alert).
fn failed(e: AppError) -> Response {
    let status = match &e {
        AppError::Invalid { .. } => StatusCode::BAD_REQUEST,
        AppError::Port(PortError::NotFound(_)) => StatusCode::NOT_FOUND,
        AppError::Port(PortError::Conflict(_)) => StatusCode::CONFLICT,
        AppError::Port(PortError::Invalid(_)) => StatusCode::BAD_REQUEST,
        AppError::Port(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        e.to_string(),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct AckForm {
    csrf: String,
    id: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    back: String,
}

/// The signed-in user acting on alert `id`, if the form's token is the
/// session's and the number is one.
fn acting_on(visitor: &Visitor, csrf: &str, id: &str) -> Result<(String, AlertId), Box<Response>> {
    let user = visitor.acting(csrf).map_err(|r| Box::new(r.into_response()))?;
    let id = id
        .parse::<AlertId>()
        .map_err(|_| Box::new((StatusCode::BAD_REQUEST, "no such alert number").into_response()))?;
    Ok((user.to_string(), id))
}

pub async fn acknowledge(State(shared): State<AppState>, visitor: Visitor, Form(form): Form<AckForm>) -> Response {
    let (user, id) = match acting_on(&visitor, &form.csrf, &form.id) {
        Ok(acting) => acting,
        Err(refused) => return *refused,
    };
    let note = Some(form.note.trim()).filter(|n| !n.is_empty());
    match shared.ops.acknowledge(id, &user, note, shared.now()).await {
        Ok(alert) => {
            tracing::info!(alert = %id, user = %user, "acknowledged from the dashboard");
            shared.picture.apply_own_alert(alert);
            back(&form.back)
        }
        Err(e) => failed(e),
    }
}

#[derive(Deserialize)]
pub struct UnackForm {
    csrf: String,
    id: String,
    #[serde(default)]
    back: String,
}

pub async fn unacknowledge(State(shared): State<AppState>, visitor: Visitor, Form(form): Form<UnackForm>) -> Response {
    let (user, id) = match acting_on(&visitor, &form.csrf, &form.id) {
        Ok(acting) => acting,
        Err(refused) => return *refused,
    };
    match shared.ops.unacknowledge(id, shared.now()).await {
        Ok(alert) => {
            tracing::info!(alert = %id, user = %user, "acknowledgement taken back from the dashboard");
            shared.picture.apply_own_alert(alert);
            back(&form.back)
        }
        Err(e) => failed(e),
    }
}

#[derive(Deserialize)]
pub struct SnoozeForm {
    csrf: String,
    store: String,
    /// Empty: the whole store.
    #[serde(default)]
    item: String,
    /// `30m`, `2h`, `1d`…
    #[serde(rename = "for")]
    span: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    back: String,
}

pub async fn snooze(State(shared): State<AppState>, visitor: Visitor, Form(form): Form<SnoozeForm>) -> Response {
    let user = match visitor.acting(&form.csrf) {
        Ok(user) => user.to_string(),
        Err(refused) => return refused.into_response(),
    };
    let span: Duration = match stockwatch_domain::parse_span(&form.span) {
        Ok(span) => span,
        Err(why) => return (StatusCode::BAD_REQUEST, why).into_response(),
    };
    let target = SnoozeTarget::Store {
        store: form.store.clone(),
        item: Some(form.item.trim().to_string()).filter(|i| !i.is_empty()),
    };
    let note = Some(form.note.trim()).filter(|n| !n.is_empty());
    match shared.ops.snooze(&target, span, &user, note, shared.now()).await {
        Ok(snooze) => {
            tracing::info!(target = %snooze.target(), user = %user, "snoozed from the dashboard");
            shared.picture.apply_own_snooze(snooze);
            back(&form.back)
        }
        Err(e) => failed(e),
    }
}
