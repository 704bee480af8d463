//! A dashboard on a local backend in a temp dir, and a client that keeps
//! cookies like a browser, over real HTTP on loopback.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use stockwatch_core::app::{FollowOptions, Operations, PUBLISHER_SILENT};
use stockwatch_core::pipeline::{Checker, CheckerConfig, Loader, UploadFlow};
use stockwatch_core::ports::{Ports, RetryPolicy};
use stockwatch_domain::{Thresholds, Timestamp};
use stockwatch_local::LocalBackend;
use stockwatch_web::session::SignIn;
use stockwatch_web::users::Users;
use stockwatch_web::{Anonymous, ServeOptions, Server, WebError};
use tokio::sync::oneshot;

pub const PASSWORD: &str = "correct horse battery";

pub struct Dashboard {
    pub dir: tempfile::TempDir,
    pub ports: Ports,
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<Result<(), WebError>>>,
}

pub struct Setup {
    pub anonymous: Anonymous,
    pub per_client: usize,
    pub max_upload_bytes: u64,
}

impl Default for Setup {
    fn default() -> Setup {
        Setup {
            anonymous: Anonymous::Read,
            per_client: 32,
            max_upload_bytes: 10_000_000,
        }
    }
}

impl Dashboard {
    pub async fn start() -> Dashboard {
        Dashboard::with(Setup::default()).await
    }

    pub async fn with(setup: Setup) -> Dashboard {
        let dir = tempfile::tempdir().unwrap();
        let local = LocalBackend::open(dir.path()).unwrap();
        let ports = local.ports.clone();
        Users::in_dir(dir.path()).add("ana", PASSWORD).unwrap();
        let ops = Operations::new(ports.clone(), RetryPolicy::default());
        let options = ServeOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            anonymous: setup.anonymous,
            sign_in: Some(SignIn::Local(Users::in_dir(dir.path()))),
            uploads: Some(upload_flow(&ports)),
            thresholds: Thresholds::default(),
            max_upload_bytes: setup.max_upload_bytes,
            per_client: setup.per_client,
            secure_cookies: false,
            follower: "test dashboard".into(),
            follow: FollowOptions {
                snapshot: true,
                snoozes: true,
                from_start: false,
                wait: Duration::from_millis(100),
                keep_alive_every: Duration::from_secs(60),
                silent_after: PUBLISHER_SILENT,
            },
            duties: None,
            location: format!("local: {}", dir.path().display()),
            clock: Arc::new(Timestamp::now),
        };
        let server = Server::bind(ops, options).await.unwrap();
        let addr = server.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let done = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        let dashboard = Dashboard {
            dir,
            ports,
            addr,
            stop: Some(stop),
            done: Some(done),
        };
        dashboard.wait_ready().await;
        dashboard
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn wait_ready(&self) {
        let mut visitor = Visitor::new(self);
        for _ in 0..200 {
            let (_, body) = visitor.get("/healthz").await;
            if body.contains("\"ready\":true") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the dashboard never read its first snapshot");
    }

    /// Uploads a CSV as the CLI does (loaded and checked here).
    pub async fn upload(&self, name: &str, csv: &str) {
        let path = self.dir.path().join("files").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, csv).unwrap();
        upload_flow(&self.ports).upload_file(&path, None, None).await.unwrap();
    }

    /// Asks the server to stop (as SIGTERM does); its task, to wait for.
    pub fn stop(&mut self) -> tokio::task::JoinHandle<Result<(), WebError>> {
        let _ = self.stop.take().unwrap().send(());
        self.done.take().unwrap()
    }
}

pub fn upload_flow(ports: &Ports) -> UploadFlow {
    let checker = Checker::new(ports.clone(), CheckerConfig::default());
    UploadFlow::new(ports.clone(), Loader::new(ports.clone()), Some(checker))
}

/// A browser: keeps the cookies the server sets.
pub struct Visitor {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
    pub cookies: HashMap<String, String>,
}

pub type Answer = (StatusCode, HashMap<String, String>, String);

impl Visitor {
    pub fn new(dashboard: &Dashboard) -> Visitor {
        Visitor {
            base: dashboard.url(""),
            client: Client::builder(TokioExecutor::new()).build_http(),
            cookies: HashMap::new(),
        }
    }

    async fn send(&mut self, method: Method, path: &str, content_type: Option<String>, body: Vec<u8>) -> Answer {
        let mut request = Request::builder().method(method).uri(format!("{}{path}", self.base));
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            request = request.header("cookie", cookie);
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = self
            .client
            .request(request.body(Full::new(Bytes::from(body))).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let mut headers = HashMap::new();
        for (name, value) in response.headers() {
            let value = value.to_str().unwrap_or_default().to_string();
            if name == "set-cookie" {
                let pair = value.split(';').next().unwrap_or_default();
                if let Some((k, v)) = pair.split_once('=') {
                    if v.is_empty() {
                        self.cookies.remove(k);
                    } else {
                        self.cookies.insert(k.to_string(), v.to_string());
                    }
                }
                headers.insert(
                    format!("set-cookie {}", pair.split('=').next().unwrap_or_default()),
                    value,
                );
                continue;
            }
            headers.insert(name.to_string(), value);
        }
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    pub async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let (status, _, body) = self.send(Method::GET, path, None, Vec::new()).await;
        (status, body)
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            Method::POST,
            path,
            Some("application/x-www-form-urlencoded".into()),
            body.into_bytes(),
        )
        .await
    }

    pub async fn post_file(&mut self, csrf: &str, name: &str, content: &[u8]) -> (StatusCode, String) {
        let boundary = "stockwatchtestboundary";
        let mut body = format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\n\
             content-disposition: form-data; name=\"file\"; filename=\"{name}\"\r\ncontent-type: text/csv\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(content);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let (status, _, body) = self.send(Method::POST, "/upload", Some(content_type), body).await;
        (status, body)
    }

    /// The sign-in form's token (and its cookie, kept).
    pub async fn login_token(&mut self) -> String {
        let (_, page) = self.get("/login").await;
        field(&page, "login_token")
    }

    /// Sends the sign-in form as ana with `password`, going on to `next`.
    pub async fn try_sign_in(&mut self, password: &str, next: &str) -> Answer {
        let token = self.login_token().await;
        self.send_sign_in(&token, password, next).await
    }

    /// Sends the sign-in form with a token got before.
    pub async fn send_sign_in(&mut self, token: &str, password: &str, next: &str) -> Answer {
        let form = [
            ("user", "ana"),
            ("password", password),
            ("login_token", token),
            ("next", next),
        ];
        self.post("/login", &form).await
    }

    /// Signs in as ana through the form, as a browser does; the session's CSRF token.
    pub async fn sign_in(&mut self) -> String {
        let (status, headers, _) = self.try_sign_in(PASSWORD, "/").await;
        assert_eq!(status, StatusCode::SEE_OTHER, "signing in: {headers:?}");
        let (_, page) = self.get("/").await;
        field(&page, "csrf")
    }
}

/// The value of the first hidden field `name` on a page.
pub fn field(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} on the page:\n{page}"))
        + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}
