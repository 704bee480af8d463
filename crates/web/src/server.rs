//! The server: routes, the limits every request passes (body size,
//! time, connections per client), and a shutdown that ends the event
//! streams so SIGTERM stops it within seconds.

use crate::picture::{self, Picture};
use crate::session::{Sessions, SignIn};
use crate::state::{Anonymous, AppState, Clock, Shared};
use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stockwatch_core::app::{Duties, FollowOptions, Operations};
use stockwatch_core::pipeline::UploadFlow;
use stockwatch_domain::Thresholds;
use tokio::sync::watch;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

/// A page or an action taking longer than this is cut with 503.
const REQUEST_TIME: Duration = Duration::from_secs(30);
/// Forms other than uploads are small.
const FORM_BYTES: usize = 64 * 1024;
/// After SIGTERM, requests under way get this long to finish.
const DRAIN: Duration = Duration::from_secs(10);

pub struct ServeOptions {
    pub listen: SocketAddr,
    pub anonymous: Anonymous,
    /// Who may sign in; `None`: nobody (the dashboard is read-only).
    pub sign_in: Option<SignIn>,
    /// Uploads through the page; `None`: read-only (no upload offered).
    pub uploads: Option<UploadFlow>,
    pub thresholds: Thresholds,
    /// The largest file an upload takes.
    pub max_upload_bytes: u64,
    /// Requests and event streams one client may hold open at once.
    pub per_client: usize,
    /// Cookies are `Secure` (served over TLS, usually by a proxy in front).
    pub secure_cookies: bool,
    /// The follower's name and options (one per server).
    pub follower: String,
    pub follow: FollowOptions,
    /// The in-process relay of a server that raises the alerts itself.
    pub duties: Option<(Duties, Duration)>,
    /// What the backend is, as the pages' footer says it.
    pub location: String,
    pub clock: Clock,
}

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("cannot listen on {addr}: {error}")]
    Bind { addr: SocketAddr, error: std::io::Error },
    #[error("the server failed: {0}")]
    Serve(std::io::Error),
}

/// A bound server, not yet serving: tests learn its address first.
pub struct Server {
    listener: tokio::net::TcpListener,
    shared: AppState,
    follow: Option<(String, FollowOptions)>,
    duties: Option<(Duties, Duration)>,
    stop: watch::Sender<bool>,
}

impl Server {
    pub async fn bind(ops: Operations, options: ServeOptions) -> Result<Server, WebError> {
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .map_err(|error| WebError::Bind {
                addr: options.listen,
                error,
            })?;
        let (stop, stopping) = watch::channel(false);
        let shared = Arc::new(Shared {
            picture: Picture::new(options.thresholds.clone()),
            ops,
            sessions: Sessions::default(),
            sign_in: options.sign_in,
            anonymous: options.anonymous,
            uploads: options.uploads,
            thresholds: options.thresholds,
            max_upload_bytes: options.max_upload_bytes,
            secure_cookies: options.secure_cookies,
            location: options.location,
            clock: options.clock,
            held_uploads: crate::held::Held::default(),
            stopping,
            clients: Mutex::new(HashMap::new()),
            per_client: options.per_client.max(1),
        });
        Ok(Server {
            listener,
            shared,
            follow: Some((options.follower, options.follow)),
            duties: options.duties,
            stop,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then stops taking connections,
    /// ends the event streams and gives requests under way `DRAIN`.
    pub async fn run(
        mut self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), WebError> {
        let shared = self.shared.clone();
        let mut tasks = tokio::task::JoinSet::new();
        if let Some((name, options)) = self.follow.take() {
            tasks.spawn(picture::follow(
                shared.ops.clone(),
                name,
                options,
                shared.picture.clone(),
                shared.stopping.clone(),
            ));
        }
        if let Some((duties, idle_poll)) = self.duties.take() {
            let mut stop = shared.stopping.clone();
            let stop = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            tasks.spawn(duties.keep_running(idle_poll, "the dashboard's checker", stop));
        }
        let app = router(shared.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let stop = self.stop;
        let mut stopped = shared.stopping.clone();
        let serving = axum::serve(self.listener, app).with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("stopping: no new connections, event streams end");
            let _ = stop.send(true);
        });
        let serving = tokio::spawn(async move { serving.await });
        let result = tokio::select! {
            done = serving => done.map_err(|e| WebError::Serve(std::io::Error::other(e)))?.map_err(WebError::Serve),
            _ = async { let _ = stopped.wait_for(|s| *s).await; tokio::time::sleep(DRAIN).await } => {
                tracing::warn!("requests still under way after {DRAIN:?}: stopped anyway");
                Ok(())
            }
        };
        // The follower removes its queue; bounded, as the drain is.
        let _ = tokio::time::timeout(DRAIN, async { while tasks.join_next().await.is_some() {} }).await;
        result
    }
}

pub fn router(shared: AppState) -> Router {
    let pages = Router::new()
        .route("/", get(crate::pages::dashboard))
        .route("/store", get(crate::pages::store))
        .route("/item", get(crate::pages::item))
        .route("/alerts", get(crate::pages::alerts))
        .route("/search", get(crate::pages::search))
        .route("/login", get(crate::login::login_page).post(crate::login::login))
        .route("/logout", post(crate::login::logout))
        .route("/ack", post(crate::actions::acknowledge))
        .route("/unack", post(crate::actions::unacknowledge))
        .route("/snooze", post(crate::actions::snooze))
        .route("/upload", get(crate::upload::form_page))
        .layer(DefaultBodyLimit::max(FORM_BYTES))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIME,
        ));
    // Uploads stream their body under their own cap, and a confirmed one
    // loads for as long as its file takes; the event stream is endless:
    // none is under the pages' timeout.
    let streams = Router::new()
        .route("/upload", post(crate::upload::receive))
        .layer(DefaultBodyLimit::disable())
        .route(
            "/upload/confirm",
            post(crate::upload::confirm).layer(DefaultBodyLimit::max(FORM_BYTES)),
        )
        .route("/events", get(crate::events::events));
    Router::new()
        .merge(pages)
        .merge(streams)
        .route("/healthz", get(healthz))
        .route("/static/app.js", get(script))
        .route("/static/style.css", get(style))
        .layer(middleware::from_fn_with_state(shared.clone(), per_client))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
            ),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .with_state(shared)
}

/// `200 ok` with the follower's state, for load balancers and probes: the
/// server answers; whether its picture is whole is in the body.
async fn healthz(State(shared): State<AppState>) -> Response {
    let live = shared.picture.read();
    let body = serde_json::json!({
        "status": "ok",
        "ready": live.ready,
        "trouble": live.trouble,
        "stores": live.stock.store_count(),
        "pages_following": shared.picture.pages_following(),
    });
    axum::Json(body).into_response()
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../static/app.js"),
    )
        .into_response()
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../static/style.css"),
    )
        .into_response()
}

/// Refuses a client holding `per_client` requests or streams open
/// already (429); the count is held until the response's body ends, so an
/// event stream counts for as long as it is open.
async fn per_client(State(shared): State<AppState>, request: Request, next: Next) -> Response {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let Some(ip) = ip else {
        return next.run(request).await;
    };
    let Some(guard) = ClientGuard::enter(shared.clone(), ip) else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "5")],
            "too many connections from this address at once; close some tabs",
        )
            .into_response();
    };
    let response = next.run(request).await;
    let (parts, body) = response.into_parts();
    let body = futures_util::StreamExt::map(body.into_data_stream(), move |chunk| {
        let _held = &guard;
        chunk
    });
    Response::from_parts(parts, axum::body::Body::from_stream(body))
}

struct ClientGuard {
    shared: AppState,
    ip: IpAddr,
}

impl ClientGuard {
    fn enter(shared: AppState, ip: IpAddr) -> Option<ClientGuard> {
        {
            let mut clients = shared.clients.lock().unwrap_or_else(|p| p.into_inner());
            let open = clients.entry(ip).or_default();
            if *open >= shared.per_client {
                return None;
            }
            *open += 1;
        }
        Some(ClientGuard { shared, ip })
    }
}

impl Drop for ClientGuard {
    fn drop(&mut self) {
        let mut clients = self.shared.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(open) = clients.get_mut(&self.ip) {
            *open -= 1;
            if *open == 0 {
                clients.remove(&self.ip);
            }
        }
    }
}
