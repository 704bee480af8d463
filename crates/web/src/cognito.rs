//! Signing in against a Cognito user pool (the stack's `UserPoolId` and
//! `UserPoolClientId` outputs), and checking the tokens it issues.
//!
//! Sign-in is one unsigned call (InitiateAuth, USER_PASSWORD_AUTH), so the
//! dashboard needs no AWS credentials for it. Tokens are checked here, not
//! by asking Cognito: RS256 against the pool's published keys (JWKS,
//! cached), the pool's exact issuer, the app client, the token's kind and
//! its expiry against the caller's clock.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Where a user pool is.
#[derive(Debug, Clone)]
pub struct CognitoPool {
    pub region: String,
    pub pool_id: String,
    pub client_id: String,
    /// Cognito's endpoint; None: https://cognito-idp.{region}.amazonaws.com (tests: moto's URL).
    pub endpoint: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CognitoError {
    /// Wrong user or password, or a token not valid (expired, foreign-signed, another pool/client, not a Cognito token): a sentence saying which.
    #[error("{0}")]
    Refused(String),
    /// Cognito or its JWKS could not be reached or answered nonsense.
    #[error("{0}")]
    Unavailable(String),
}

use CognitoError::{Refused, Unavailable};

/// What a refused sign-in says, whether the user exists or not.
const WRONG_CREDENTIALS: &str = "wrong user name or password";
/// Answers read from Cognito are at most this long (a key set is a few KB).
const BODY_LIMIT: usize = 1 << 20;
/// Each call (request and answer) ends within this.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Tries of one call when it fails on the way (connection, timeout, 5xx,
/// throttling), with backoff between them.
const ATTEMPTS: u32 = 3;
const BACKOFF: Duration = Duration::from_millis(250);
/// A token is still taken this long after its expiry (clocks differ a little).
const LEEWAY_MS: i64 = 30_000;
const _: () = assert!(LEEWAY_MS <= 60_000, "a minute at most");
/// A token naming a key the cached set lacks fetches the set again, at most this often.
const REFETCH_EVERY_MS: i64 = 60_000;
/// Cognito's tokens are 1–2 KB (more with many groups); longer is not one.
const TOKEN_LIMIT: usize = 16 * 1024;
/// Cognito's limits on a user name and a password.
const USER_LIMIT: usize = 128;
const PASSWORD_LIMIT: usize = 256;

type Https = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;
type Plain = Client<HttpConnector, Full<Bytes>>;

/// Signs users in against one pool and checks its tokens. Cheap to clone
/// (the key cache and connections are shared).
#[derive(Clone)]
pub struct Cognito {
    inner: Arc<Inner>,
}

// Shared by the dashboard's handlers.
const _: fn() = || {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<Cognito>();
};

struct Inner {
    pool: CognitoPool,
    /// Without a trailing slash.
    endpoint: String,
    /// What the pool's tokens carry in `iss`.
    issuer: String,
    transport: Transport,
    keys: RwLock<Keys>,
    /// One key-set fetch at a time; the others wait for its result.
    fetching: tokio::sync::Mutex<()>,
}

enum Transport {
    Tls(Https),
    /// The machine's root certificates could not be loaded: plain HTTP
    /// (a local emulator) still works, HTTPS says why not.
    PlainOnly(Plain, String),
}

#[derive(Default)]
struct Keys {
    by_kid: HashMap<String, DecodingKey>,
    /// Whether a key set was ever read.
    loaded: bool,
    /// The caller's clock at the last fetch (its attempt, whether it worked or not).
    fetched_at_ms: Option<i64>,
}

/// One answer of Cognito that was not a failure on the way.
struct Answer {
    status: StatusCode,
    body: Bytes,
    /// Cognito's error type (`NotAuthorizedException`), for answers not 2xx.
    error_type: Option<String>,
}

impl std::fmt::Debug for Cognito {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cognito").field("pool", &self.inner.pool).finish()
    }
}

impl Cognito {
    pub fn new(pool: CognitoPool) -> Cognito {
        let endpoint = pool
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("https://cognito-idp.{}.amazonaws.com", pool.region))
            .trim_end_matches('/')
            .to_string();
        // Moto names its tokens' issuer as AWS does, whatever its own URL.
        let issuer = format!("https://cognito-idp.{}.amazonaws.com/{}", pool.region, pool.pool_id);
        let transport = match hyper_rustls::HttpsConnectorBuilder::new().with_native_roots() {
            Ok(builder) => Transport::Tls(
                Client::builder(TokioExecutor::new()).build(builder.https_or_http().enable_http1().build()),
            ),
            Err(e) => Transport::PlainOnly(
                Client::builder(TokioExecutor::new()).build_http(),
                format!("this machine's root certificates could not be loaded ({e})"),
            ),
        };
        Cognito {
            inner: Arc::new(Inner {
                pool,
                endpoint,
                issuer,
                transport,
                keys: RwLock::new(Keys::default()),
                fetching: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// InitiateAuth with USER_PASSWORD_AUTH (an unsigned JSON call: POST {endpoint}/ with X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth, Content-Type application/x-amz-json-1.1), then the returned token verified with `verify`; returns the user's name.
    pub async fn sign_in(&self, user: &str, password: &str, now_ms: i64) -> Result<String, CognitoError> {
        // Cognito would refuse these too; no call for them.
        if user.trim().is_empty()
            || password.is_empty()
            || user.chars().count() > USER_LIMIT
            || password.chars().count() > PASSWORD_LIMIT
        {
            return Err(Refused(WRONG_CREDENTIALS.into()));
        }
        let body = json!({
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": self.inner.pool.client_id,
            "AuthParameters": { "USERNAME": user, "PASSWORD": password },
        })
        .to_string();
        let url = format!("{}/", self.inner.endpoint);
        let answer = self
            .exchange("signing in to the Cognito user pool", || {
                Request::builder()
                    .method(Method::POST)
                    .uri(&url)
                    .header("content-type", "application/x-amz-json-1.1")
                    .header("x-amz-target", "AWSCognitoIdentityProviderService.InitiateAuth")
                    .header("user-agent", "stockwatch")
                    .body(Full::new(Bytes::from(body.clone())))
            })
            .await?;
        let parsed: Option<Value> = serde_json::from_slice(&answer.body).ok();
        if !answer.status.is_success() {
            let message = parsed
                .as_ref()
                .and_then(|v| v.get("message").or_else(|| v.get("Message")))
                .and_then(Value::as_str)
                .unwrap_or("");
            return Err(refusal_of_sign_in(
                answer.error_type.as_deref().unwrap_or(""),
                message,
                answer.status,
            ));
        }
        let parsed =
            parsed.ok_or_else(|| Unavailable("Cognito answered the sign-in with something not JSON".into()))?;
        if let Some(token) = parsed
            .pointer("/AuthenticationResult/AccessToken")
            .and_then(Value::as_str)
        {
            return self.verify(token, now_ms).await;
        }
        match parsed.get("ChallengeName").and_then(Value::as_str) {
            Some("NEW_PASSWORD_REQUIRED") => Err(Refused(
                "this user must choose a new password first: an administrator sets one with \
                 `aws cognito-idp admin-set-user-password --permanent`"
                    .into(),
            )),
            Some(challenge) => Err(Refused(format!(
                "the user pool asks this user for more ({}), which the dashboard does not support",
                short(challenge)
            ))),
            None => Err(Unavailable("Cognito answered the sign-in without a token".into())),
        }
    }

    /// Verifies a Cognito-issued JWT (access or id token): RS256 only, key by `kid` from the pool's JWKS ({endpoint}/{pool_id}/.well-known/jwks.json, cached, fetched again once on an unknown kid, at most once a minute), issuer must be exactly https://cognito-idp.{region}.amazonaws.com/{pool_id} (moto uses this real-AWS issuer; moto signs every pool with the same key, so the issuer check is what tells pools apart), token_use "access" (then client_id claim == client_id) or "id" (then aud == client_id), exp checked against `now_ms` (injected clock: no test depends on the day), small leeway (60 s at most). Returns the user name (`username` claim for access tokens, `cognito:username` for id tokens).
    ///
    /// The once-a-minute limit on fetching the key set again is kept by `now_ms` too.
    pub async fn verify(&self, token: &str, now_ms: i64) -> Result<String, CognitoError> {
        let token = token.trim();
        if token.len() > TOKEN_LIMIT {
            return Err(Refused("the token is too long to be one of Cognito's".into()));
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| Refused("the token is not a JSON web token signed with RS256 as Cognito's are".into()))?;
        if header.alg != Algorithm::RS256 {
            return Err(Refused(format!(
                "the token is signed with {:?}, not RS256 as Cognito's are",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| Refused("the token names no signing key (kid), as Cognito's do".into()))?;
        let key = self.key(&kid, now_ms).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        // Checked below, with the caller's clock and sentences of our own.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::new();
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| {
                Refused(match e.kind() {
                    ErrorKind::InvalidSignature => {
                        "the token's signature is not the user pool's (signed by another key, or altered)".into()
                    }
                    ErrorKind::InvalidAlgorithm => "the token is not signed with RS256 as Cognito's are".into(),
                    _ => format!("the token cannot be read ({e})"),
                })
            })?
            .claims;
        check_claims(&claims, &self.inner.issuer, &self.inner.pool.client_id, now_ms)
    }

    /// The pool's key named `kid`, fetching the key set when it was never
    /// read, or when it lacks `kid` and was not fetched within the minute.
    async fn key(&self, kid: &str, now_ms: i64) -> Result<DecodingKey, CognitoError> {
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let _one_fetch = self.inner.fetching.lock().await;
        // Another call may have fetched it meanwhile.
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let unknown = || {
            Refused(format!(
                "the token is signed with a key the user pool does not have (kid {})",
                short(kid)
            ))
        };
        {
            let keys = self.inner.keys.read().unwrap_or_else(|e| e.into_inner());
            // A clock gone back counts as a minute passed.
            let recent = keys
                .fetched_at_ms
                .is_some_and(|at| now_ms >= at && now_ms - at < REFETCH_EVERY_MS);
            if keys.loaded && recent {
                return Err(unknown());
            }
        }
        self.inner.keys.write().unwrap_or_else(|e| e.into_inner()).fetched_at_ms = Some(now_ms);
        let fetched = self.fetch_keys().await?;
        {
            let mut keys = self.inner.keys.write().unwrap_or_else(|e| e.into_inner());
            keys.by_kid = fetched;
            keys.loaded = true;
        }
        self.cached(kid).ok_or_else(unknown)
    }

    fn cached(&self, kid: &str) -> Option<DecodingKey> {
        let keys = self.inner.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.by_kid.get(kid).cloned()
    }

    /// The pool's RS256 signing keys by kid.
    async fn fetch_keys(&self) -> Result<HashMap<String, DecodingKey>, CognitoError> {
        let pool_id = &self.inner.pool.pool_id;
        if pool_id.is_empty()
            || !pool_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(Unavailable(format!(
                "{} is not a user pool id (region_ID, the stack's output UserPoolId)",
                short(pool_id)
            )));
        }
        let url = format!("{}/{pool_id}/.well-known/jwks.json", self.inner.endpoint);
        let what = format!("reading the user pool's keys ({url})");
        let answer = self
            .exchange(&what, || {
                Request::builder()
                    .method(Method::GET)
                    .uri(&url)
                    .header("user-agent", "stockwatch")
                    .body(Full::new(Bytes::new()))
            })
            .await?;
        if !answer.status.is_success() {
            return Err(Unavailable(format!("{what}: Cognito answered {}", answer.status)));
        }
        let set: Value =
            serde_json::from_slice(&answer.body).map_err(|_| Unavailable(format!("{what}: the answer is not JSON")))?;
        let mut keys = HashMap::new();
        for key in set.get("keys").and_then(Value::as_array).into_iter().flatten() {
            // A key this crate cannot read (another kind) is skipped, not fatal.
            let Ok(jwk) = serde_json::from_value::<Jwk>(key.clone()) else {
                continue;
            };
            let rsa = matches!(jwk.algorithm, AlgorithmParameters::RSA(_));
            let rs256 = matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::RS256));
            let signs = matches!(jwk.common.public_key_use, None | Some(PublicKeyUse::Signature));
            let (Some(kid), true, true, true) = (jwk.common.key_id.clone(), rsa, rs256, signs) else {
                continue;
            };
            if let Ok(decoding) = DecodingKey::from_jwk(&jwk) {
                keys.insert(kid, decoding);
            }
        }
        if keys.is_empty() {
            return Err(Unavailable(format!("{what}: the key set holds no RS256 signing key")));
        }
        Ok(keys)
    }

    /// One call, tried again when it failed on the way; an answer Cognito
    /// gave (2xx or an error of its own) is returned as it is.
    async fn exchange(
        &self,
        what: &str,
        request: impl Fn() -> Result<Request<Full<Bytes>>, hyper::http::Error>,
    ) -> Result<Answer, CognitoError> {
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt)).await;
            }
            let request = request().map_err(|e| Unavailable(format!("{what}: {e}")))?;
            match tokio::time::timeout(CALL_TIMEOUT, self.once(request)).await {
                Err(_) => last = format!("no answer within {} s", CALL_TIMEOUT.as_secs()),
                Ok(Err(Fatal(e))) => return Err(Unavailable(format!("{what}: {e}"))),
                Ok(Err(Transient(e))) => last = e,
                Ok(Ok(answer)) => {
                    let throttled = matches!(
                        answer.error_type.as_deref(),
                        Some("TooManyRequestsException" | "ThrottlingException" | "InternalErrorException")
                    );
                    if answer.status.is_server_error() || answer.status == StatusCode::TOO_MANY_REQUESTS || throttled {
                        last = format!(
                            "Cognito answered {}{}",
                            answer.status,
                            answer.error_type.map(|t| format!(" {}", short(&t))).unwrap_or_default()
                        );
                    } else {
                        return Ok(answer);
                    }
                }
            }
        }
        Err(Unavailable(format!("{what}: {last} ({ATTEMPTS} tries)")))
    }

    async fn once(&self, request: Request<Full<Bytes>>) -> Result<Answer, Failure> {
        let response = match &self.inner.transport {
            Transport::Tls(client) => client.request(request).await,
            Transport::PlainOnly(client, why) => {
                if request.uri().scheme_str() != Some("http") {
                    return Err(Fatal(format!("HTTPS is not possible: {why}")));
                }
                client.request(request).await
            }
        };
        let response = response.map_err(|e| Transient(describe(&e)))?;
        let status = response.status();
        let header_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(':').next().unwrap_or(v).to_string());
        let body = Limited::new(response.into_body(), BODY_LIMIT)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                    Fatal(format!("the answer is longer than {} KiB", BODY_LIMIT / 1024))
                } else {
                    Transient(format!("the answer broke off ({e})"))
                }
            })?
            .to_bytes();
        let error_type = if status.is_success() {
            None
        } else {
            // `__type` may carry a namespace: `com.amazon…#NotAuthorizedException`.
            serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("__type").and_then(Value::as_str).map(String::from))
                .map(|t| t.rsplit('#').next().unwrap_or(&t).to_string())
                .or(header_type)
        };
        Ok(Answer {
            status,
            body,
            error_type,
        })
    }
}

enum Failure {
    Transient(String),
    Fatal(String),
}
use Failure::{Fatal, Transient};

/// 250 ms, 500 ms… with up to as much again of jitter.
fn backoff(attempt: u32) -> Duration {
    let base = BACKOFF * 2u32.pow(attempt - 1);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    base + base.mul_f64(f64::from(nanos % 1000) / 1000.0)
}

/// A connection failure with its cause (hyper's own says only "client error").
fn describe(e: &hyper_util::client::legacy::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

/// What an error Cognito gave to a sign-in means to the person signing in.
fn refusal_of_sign_in(error_type: &str, message: &str, status: StatusCode) -> CognitoError {
    match error_type {
        // An app client with a secret needs a SECRET_HASH, which this
        // client never sends: the stack's client has none.
        "NotAuthorizedException" if message.contains("SECRET_HASH") => Unavailable(
            "the user pool's app client has a secret; the dashboard signs in with one without (GenerateSecret false)"
                .into(),
        ),
        // Which of the two (or a disabled user) is not said.
        "NotAuthorizedException" | "UserNotFoundException" => Refused(WRONG_CREDENTIALS.into()),
        "PasswordResetRequiredException" => Refused(
            "this user's password was reset: an administrator sets a new one with \
             `aws cognito-idp admin-set-user-password --permanent`"
                .into(),
        ),
        "UserNotConfirmedException" => Refused(
            "this user is not confirmed: an administrator confirms it (`aws cognito-idp admin-confirm-sign-up`)".into(),
        ),
        "" => Unavailable(format!("Cognito answered the sign-in with {status}")),
        other => Unavailable(format!(
            "Cognito refused the sign-in: {}{}",
            short(other),
            if message.is_empty() {
                String::new()
            } else {
                format!(" ({})", short(message))
            }
        )),
    }
}

/// The checks after the signature: issuer, client, kind, expiry; the user's name.
fn check_claims(
    claims: &Map<String, Value>,
    issuer: &str,
    client_id: &str,
    now_ms: i64,
) -> Result<String, CognitoError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(issuer) {
        return Err(Refused(format!(
            "the token was not issued by this user pool (its issuer is not {issuer})"
        )));
    }
    let name_claim = match text("token_use") {
        Some("access") => {
            if text("client_id") != Some(client_id) {
                return Err(Refused("the token was issued to another app client".into()));
            }
            "username"
        }
        Some("id") => {
            let ours = match claims.get("aud") {
                Some(Value::String(aud)) => aud == client_id,
                Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(client_id)),
                _ => false,
            };
            if !ours {
                return Err(Refused("the token was issued to another app client".into()));
            }
            "cognito:username"
        }
        _ => return Err(Refused("the token is neither an access token nor an id token".into())),
    };
    let seconds = |name: &str| claims.get(name).and_then(Value::as_f64);
    let exp = seconds("exp").ok_or_else(|| Refused("the token has no expiry (exp)".into()))?;
    let exp_ms = (exp * 1000.0) as i64;
    if now_ms > exp_ms.saturating_add(LEEWAY_MS) {
        return Err(Refused(format!("the token expired at {}", timestamp(exp_ms))));
    }
    if let Some(nbf) = seconds("nbf")
        && ((nbf * 1000.0) as i64).saturating_sub(LEEWAY_MS) > now_ms
    {
        return Err(Refused(format!(
            "the token is not valid before {}",
            timestamp((nbf * 1000.0) as i64)
        )));
    }
    match text(name_claim) {
        Some(name) if !name.trim().is_empty() => Ok(name.to_string()),
        _ => Err(Refused(format!("the token names no user ({name_claim})"))),
    }
}

fn timestamp(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| format!("{ms} ms after 1970"))
}

/// Text from elsewhere in a message: one line, not too long.
fn short(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    if text.chars().count() > 200 {
        out.push('…');
    }
    out
}

#[cfg(test)]
#[path = "cognito_tests.rs"]
mod tests;
