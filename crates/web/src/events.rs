//! `/events`: the open page's server-sent event stream. Every page follows
//! the one picture's channel (no stream reader or queue per tab); a page
//! too slow to keep up is told `resync` and reads itself again. The stream
//! ends when the server stops, so shutdown is not held up by open tabs.

use crate::session::Visitor;
use crate::state::{Anonymous, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// A comment line this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How soon a browser reconnects after the stream drops.
const RETRY: Duration = Duration::from_secs(2);

pub async fn events(State(shared): State<AppState>, visitor: Visitor) -> Response {
    if visitor.user.is_none() && shared.anonymous == Anonymous::Refuse {
        return (StatusCode::UNAUTHORIZED, "sign in to follow the stock").into_response();
    }
    let mut told = shared.picture.subscribe();
    let hello = format!("{{\"version\":{}}}", shared.picture.read().version);
    let mut stopping = shared.stopping.clone();
    let stream = async_stream(move |tx| async move {
        // First: the picture's version, so a page drawn from an older one reads itself again.
        let _ = tx.send(Event::default().event("hello").data(hello).retry(RETRY)).await;
        loop {
            tokio::select! {
                next = told.recv() => match next {
                    Ok(t) => {
                        if tx.send(Event::default().event(t.kind).data(&*t.data)).await.is_err() {
                            return;
                        }
                    }
                    Err(RecvError::Lagged(_)) => {
                        if tx.send(Event::default().event("resync").data("{}")).await.is_err() {
                            return;
                        }
                    }
                    Err(RecvError::Closed) => return,
                },
                // A closed tab ends its task now, not at the next event.
                _ = tx.closed() => return,
                _ = async { let _ = stopping.wait_for(|s| *s).await; } => {
                    let _ = tx.send(Event::default().event("bye").data("{}")).await;
                    return;
                }
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

/// A stream fed by a task through a small channel: the task ends when the
/// page goes (the channel closes).
fn async_stream<F, Fut>(produce: F) -> impl futures_util::Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Event>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(produce(tx));
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) })
}
