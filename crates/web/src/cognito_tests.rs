//! The Cognito checks against a key set served from a local listener.
use super::*;
use jsonwebtoken::{EncodingKey, Header};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A test-only RSA key (`openssl genrsa 2048`, PKCS#1), and its public
/// half as a JWK's modulus and exponent.
const TEST_KEY_PEM: &str = "\
-----BEGIN RSA PRIVATE KEY-----
MIIEogIBAAKCAQEAyzs9c/CUU/U2J+Tpg96uAPTxlQ6jm1LV+WIXXG+YoSMS0aq9
Hvtypsj19UQ9utjedrBsR69B6icl4roE8u/QhwzwN2oRm5DGodQ6PZu7qvYDZpCi
695+HmPgZdOZu3p7W6pM3U8XpHwytHU+HO/uLkHNcDT4eXDD18oFrA5/qDablKby
6H3yixMWyEkoDlXFIDx0G1VdypidL5l9oTAkEoJ4MUUQFhvTUtb7DdTh2pL7BC3I
ALgPtlbvaY/pJpIQGozf4JqeceL3w6DLbidIMqAe7f2Llx3rK3vCNvFeL6fTAr5M
Ah3cm8Y9rmSihbKBvJGY00xW0OQqoWkGvKFrQwIDAQABAoIBADcvJU8rluM7VNK9
Xkkf+Kiq2kRqvrMo6ZA3efdwGAY9M1l6XrMgfO/b5qmMN6TaSYH6AtTuOlw9+BQa
Bcj/pGRfd4TciN5wj/cWXSAofut7tM2vXYXlmuJepWqQ7BATwJZR5mA7n0RbMxt8
MHsEDW1DEekzgPrcy1j3ctXW9AP1IBqWSm+1Z2J2bYOggNwTlj2RGKHUQhQm3RU8
7KhQm4S2AIoTDyqNkn+N/oyx4D9LGJbh9u6E/hPtQ8uACRr2mEudVRQjkvjlnqDo
3vBOFCk9L7VLEDYiWSDrCPyPPq3XFsrLJI75fVUQ/3Al5IfMz7Iz+uQJ0o7lEChC
QacwodkCgYEA6q7ZWST052gq7EyCUk9qFRIchQkuZRmBl+Ms3+PpejT0ght/puWC
2XT5l2SvlzywaiZCJbIpadzfpicRW5OSG+zMHq1MdGnyzViNXzu6B0p2a9esuFaB
gA+qfVblviBEF18qe5+vpMHOQZApsw3BqjthWl+CG5XNtmLXPFiuk8kCgYEA3bEJ
vVM+QEk9fNVbH1z9tVjNlI6ymZi+NvL9EGdtAPOfMRKEwEdslp5AY9D1hHzhHy88
D0kgsmUaRcKdj07F4AzYCtOd7lo+j1rVn8Ct2lNLiuawJtZhFpFH/PINjKrCDs3d
b0tDAaU9kXXxJ+/IZYbgHU63Dcw65j8CbnsxFKsCgYB45FlScpc2HZL+5uq7O+2J
rSrD3Vbo/Zqkg4I6U02ShnTuEPxRHSmqm3d3ZYaOgdTe2ZZ5lK2Auyb6kGWApyQ8
/l6n7t3TmkBZR6SLyliqKNGX/CIdU3KiZW+N4ZW3uydYYs2foUL5vFxjqb/RXOTG
rJAZ3dlIHIM70O7PR1+nAQKBgB06137n9+BAB+RquS4Ec8syX0DEI9ZOpl3WYfmE
uYGTnZy5xVkY0b92NCU1CvoiAQi8kJ2vValP3UvvYhjgGQT2jJG43yzrJy59mocK
v6F2tBInYnhscbapByXZwGGYrieHize+Y6JW6CxCsb5DRlfkla4nj8k48VckXay1
f34rAoGAA2v7kgV4aFrnM8rwfgNeVFjo7POR1DiI3SaJsdtwg7k2CzbS5ePMy9Jm
ghWBnEYUHC8A86OaIJAMjIKnfFdPDBJwHl8ww2lKaP+Z5+3GTSzaQWzTaFBlDVQ7
yYjeQACUC397L3vt/G0Qu7c/jegyWz3p6FBW7NLTYc3G28rN+f8=
-----END RSA PRIVATE KEY-----
";
const TEST_KEY_N: &str = "yzs9c_CUU_U2J-Tpg96uAPTxlQ6jm1LV-WIXXG-YoSMS0aq9Hvtypsj19UQ9utjedrBsR69B6icl4roE8u_QhwzwN2oRm5DGodQ6PZu7qvYDZpCi695-HmPgZdOZu3p7W6pM3U8XpHwytHU-HO_uLkHNcDT4eXDD18oFrA5_qDablKby6H3yixMWyEkoDlXFIDx0G1VdypidL5l9oTAkEoJ4MUUQFhvTUtb7DdTh2pL7BC3IALgPtlbvaY_pJpIQGozf4JqeceL3w6DLbidIMqAe7f2Llx3rK3vCNvFeL6fTAr5MAh3cm8Y9rmSihbKBvJGY00xW0OQqoWkGvKFrQw";
/// Another RSA public key (moto's), for a set that lacks the test key.
const OTHER_KEY_N: &str = "j1pT3xKbswmMySvCefmiD3mfDaRFpZ9Y3Jl4fF0hMaCRVAt_e0yR7BeueDfqmj_NhVSO0WB5ao5e8V-9RFQOtK8SrqKl3i01-CyWYPICwybaGKhbJJR0S_6cZ8n5kscF1MjpIlsJcCzm-yKgTc3Mxk6KtrLoNgRvMwGLeHUXPkhS9YHfDKRe864iMFOK4df69brIYEICG2VLduh0hXYa0i-J3drwm7vxNdX7pVpCDu34qJtYoWq6CXt3Tzfi3YfWp8cFjGNbaDa3WnCd2IXpp0TFsFS-cEsw5rJjSl5OllJGeZKBtLeyVTy9PYwnk7MW43WSYeYstbk9NluX4H8Iuw";

const REGION: &str = "eu-west-1";
const POOL: &str = "eu-west-1_TestPool";
const CLIENT: &str = "testclient0000000000000000";
/// 2026-12-07T12:00:00Z, in ms; tokens expire an hour after.
const NOW_MS: i64 = 1_796_644_800_000;
const EXP: i64 = NOW_MS / 1000 + 3600;

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' | b'-' => 62,
        _ => 63,
    };
    let digits: Vec<u8> = text
        .bytes()
        .filter(|c| c.is_ascii_alphanumeric() || b"+/-_".contains(c))
        .map(value)
        .collect();
    let mut out = Vec::new();
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, d)| n | (u32::from(*d) << (18 - 6 * i)));
        out.extend(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

fn signing_key() -> EncodingKey {
    let body: String = TEST_KEY_PEM.lines().filter(|l| !l.starts_with("-----")).collect();
    EncodingKey::from_rsa_der(&base64_decode(&body))
}

fn issuer() -> String {
    format!("https://cognito-idp.{REGION}.amazonaws.com/{POOL}")
}

fn access_claims() -> Value {
    json!({
        "iss": issuer(), "sub": "5b1c…", "client_id": CLIENT, "token_use": "access",
        "iat": EXP - 3600, "auth_time": EXP - 3600, "exp": EXP, "jti": "j", "username": "alice",
    })
}

fn id_claims() -> Value {
    json!({
        "iss": issuer(), "sub": "5b1c…", "aud": CLIENT, "token_use": "id",
        "iat": EXP - 3600, "auth_time": EXP - 3600, "exp": EXP, "cognito:username": "alice",
    })
}

fn token(claims: &Value, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &signing_key()).unwrap()
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

fn jwks(keys: &[(&str, &str)]) -> String {
    let keys: Vec<Value> = keys
        .iter()
        .map(|(kid, n)| json!({"alg": "RS256", "e": "AQAB", "kid": kid, "kty": "RSA", "n": n, "use": "sig"}))
        .collect();
    json!({ "keys": keys }).to_string()
}

/// A local HTTP endpoint standing in for Cognito: each request (path,
/// X-Amz-Target) is counted and answered by `answer` with a status,
/// headers and body.
struct FakeCognito {
    url: String,
    requests: Arc<Mutex<Vec<(String, String)>>>,
}

type Answerer = dyn Fn(&str, &str, usize) -> (u16, Vec<(&'static str, String)>, String) + Send + Sync;

impl FakeCognito {
    async fn start(answer: Arc<Answerer>) -> FakeCognito {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (answer, seen) = (answer.clone(), seen.clone());
                tokio::spawn(async move {
                    let mut read = Vec::new();
                    let mut buf = [0u8; 4096];
                    let head_end = loop {
                        let n = socket.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        read.extend_from_slice(&buf[..n]);
                        if let Some(i) = read.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                    };
                    let head = String::from_utf8_lossy(&read[..head_end]).to_string();
                    let header = |name: &str| {
                        head.lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                            })
                            .unwrap_or_default()
                    };
                    let length: usize = header("content-length").parse().unwrap_or(0);
                    while read.len() < head_end + length {
                        let n = socket.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        read.extend_from_slice(&buf[..n]);
                    }
                    let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                    let target = header("x-amz-target");
                    let nth = {
                        let mut seen = seen.lock().unwrap();
                        seen.push((path.clone(), target.clone()));
                        seen.len()
                    };
                    let (status, headers, body) = answer(&path, &target, nth);
                    let mut out = format!(
                        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                        body.len()
                    );
                    for (k, v) in headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    out.push_str(&body);
                    let _ = socket.write_all(out.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        FakeCognito { url, requests }
    }

    /// Serves `jwks` (which the test may change) at the pool's key set.
    async fn serving_keys(jwks: Arc<Mutex<String>>) -> FakeCognito {
        FakeCognito::start(Arc::new(move |path: &str, _: &str, _| {
            if path == format!("/{POOL}/.well-known/jwks.json") {
                (200, vec![], jwks.lock().unwrap().clone())
            } else {
                (404, vec![], String::new())
            }
        }))
        .await
    }

    fn cognito(&self) -> Cognito {
        Cognito::new(CognitoPool {
            region: REGION.into(),
            pool_id: POOL.into(),
            client_id: CLIENT.into(),
            endpoint: Some(self.url.clone()),
        })
    }

    fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

async fn verifier() -> (FakeCognito, Cognito) {
    let fake = FakeCognito::serving_keys(Arc::new(Mutex::new(jwks(&[("test", TEST_KEY_N)])))).await;
    let cognito = fake.cognito();
    (fake, cognito)
}

fn refused(result: Result<String, CognitoError>) -> String {
    match result {
        Err(Refused(why)) => why,
        other => panic!("not refused: {other:?}"),
    }
}

#[tokio::test]
async fn an_access_or_id_token_of_the_pool_and_client_names_its_user() {
    let (fake, cognito) = verifier().await;
    assert_eq!(
        cognito.verify(&token(&access_claims(), "test"), NOW_MS).await.unwrap(),
        "alice"
    );
    assert_eq!(
        cognito.verify(&token(&id_claims(), "test"), NOW_MS).await.unwrap(),
        "alice"
    );
    assert_eq!(fake.count(), 1, "the key set is read once and kept");
}

#[tokio::test]
async fn a_token_of_another_pool_or_issuer_is_refused() {
    let (_fake, cognito) = verifier().await;
    for iss in [
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_OtherPool".to_string(),
        format!("https://cognito-idp.us-east-1.amazonaws.com/{POOL}"),
        format!("{}/", issuer()),
        "https://evil.example/".to_string(),
    ] {
        let why = refused(
            cognito
                .verify(&token(&with(access_claims(), "iss", json!(iss)), "test"), NOW_MS)
                .await,
        );
        assert!(why.contains("not issued by this user pool"), "{iss}: {why}");
    }
    let no_issuer = {
        let mut claims = access_claims();
        claims.as_object_mut().unwrap().remove("iss");
        claims
    };
    let why = refused(cognito.verify(&token(&no_issuer, "test"), NOW_MS).await);
    assert!(why.contains("not issued by this user pool"), "{why}");
}

#[tokio::test]
async fn a_token_of_another_app_client_is_refused() {
    let (_fake, cognito) = verifier().await;
    let access = with(access_claims(), "client_id", json!("otherclient"));
    let id = with(id_claims(), "aud", json!("otherclient"));
    // An access token's client is client_id, not aud (and the other way).
    let access_with_aud = with(with(access_claims(), "client_id", Value::Null), "aud", json!(CLIENT));
    let id_with_client_id = with(with(id_claims(), "aud", Value::Null), "client_id", json!(CLIENT));
    let id_of_several = with(id_claims(), "aud", json!(["otherclient", "third"]));
    for claims in [access, id, access_with_aud, id_with_client_id, id_of_several] {
        let why = refused(cognito.verify(&token(&claims, "test"), NOW_MS).await);
        assert_eq!(why, "the token was issued to another app client", "{claims}");
    }
    let id_among_several = with(id_claims(), "aud", json!(["otherclient", CLIENT]));
    assert_eq!(
        cognito.verify(&token(&id_among_several, "test"), NOW_MS).await.unwrap(),
        "alice"
    );
}

#[tokio::test]
async fn an_expired_token_is_refused_past_a_leeway_of_under_a_minute() {
    let (_fake, cognito) = verifier().await;
    let access = token(&access_claims(), "test");
    let exp_ms = EXP * 1000;
    assert_eq!(cognito.verify(&access, exp_ms + LEEWAY_MS).await.unwrap(), "alice");
    let why = refused(cognito.verify(&access, exp_ms + LEEWAY_MS + 1).await);
    assert_eq!(why, "the token expired at 2026-12-07T13:00:00Z");
    let without_exp = {
        let mut claims = access_claims();
        claims.as_object_mut().unwrap().remove("exp");
        claims
    };
    let why = refused(cognito.verify(&token(&without_exp, "test"), NOW_MS).await);
    assert_eq!(why, "the token has no expiry (exp)");
    let early = with(access_claims(), "nbf", json!(NOW_MS / 1000 + 600));
    let why = refused(cognito.verify(&token(&early, "test"), NOW_MS).await);
    assert!(why.contains("not valid before"), "{why}");
}

#[tokio::test]
async fn a_token_of_neither_kind_or_naming_no_user_is_refused() {
    let (_fake, cognito) = verifier().await;
    for kind in [json!("refresh"), json!(null), json!(["access"])] {
        let why = refused(
            cognito
                .verify(&token(&with(access_claims(), "token_use", kind), "test"), NOW_MS)
                .await,
        );
        assert_eq!(why, "the token is neither an access token nor an id token");
    }
    // An access token names its user in username, an id token in cognito:username.
    let swapped = with(
        with(access_claims(), "username", Value::Null),
        "cognito:username",
        json!("alice"),
    );
    let why = refused(cognito.verify(&token(&swapped, "test"), NOW_MS).await);
    assert_eq!(why, "the token names no user (username)");
    let blank = with(id_claims(), "cognito:username", json!(" "));
    let why = refused(cognito.verify(&token(&blank, "test"), NOW_MS).await);
    assert_eq!(why, "the token names no user (cognito:username)");
}

#[tokio::test]
async fn a_token_signed_by_another_key_or_altered_is_refused() {
    // The set's key "test" is another than the one the token is signed with.
    let fake = FakeCognito::serving_keys(Arc::new(Mutex::new(jwks(&[("test", OTHER_KEY_N)])))).await;
    let cognito = fake.cognito();
    let why = refused(cognito.verify(&token(&access_claims(), "test"), NOW_MS).await);
    assert!(why.contains("signature is not the user pool's"), "{why}");

    let (_fake, cognito) = verifier().await;
    let genuine = token(&access_claims(), "test");
    let other = token(&with(access_claims(), "username", json!("mallory")), "test");
    let (head_and_claims, _) = other.rsplit_once('.').unwrap();
    let (_, signature) = genuine.rsplit_once('.').unwrap();
    let why = refused(cognito.verify(&format!("{head_and_claims}.{signature}"), NOW_MS).await);
    assert!(why.contains("signature is not the user pool's"), "{why}");
}

#[tokio::test]
async fn only_rs256_tokens_with_a_key_id_are_read() {
    let (_fake, cognito) = verifier().await;
    // HS256 keyed with the public modulus: the old algorithm-confusion forgery.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("test".into());
    let forged = jsonwebtoken::encode(
        &header,
        &access_claims(),
        &EncodingKey::from_secret(TEST_KEY_N.as_bytes()).unwrap(),
    )
    .unwrap();
    let why = refused(cognito.verify(&forged, NOW_MS).await);
    assert_eq!(why, "the token is signed with HS256, not RS256 as Cognito's are");
    let unsigned = format!(
        "{}.{}.",
        "eyJhbGciOiJub25lIiwia2lkIjoidGVzdCJ9", // {"alg":"none","kid":"test"}
        token(&access_claims(), "test").split('.').nth(1).unwrap()
    );
    let why = refused(cognito.verify(&unsigned, NOW_MS).await);
    assert!(why.contains("not a JSON web token signed with RS256"), "{why}");
    let mut header = Header::new(Algorithm::RS256);
    header.kid = None;
    let no_kid = jsonwebtoken::encode(&header, &access_claims(), &signing_key()).unwrap();
    let why = refused(cognito.verify(&no_kid, NOW_MS).await);
    assert!(why.contains("names no signing key"), "{why}");
    for garbage in ["", "not a token", "a.b.c", &"x".repeat(20_000)] {
        refused(cognito.verify(garbage, NOW_MS).await);
    }
}

#[tokio::test]
async fn an_unknown_key_fetches_the_set_again_at_most_once_a_minute() {
    let keys = Arc::new(Mutex::new(jwks(&[("old", OTHER_KEY_N)])));
    let fake = FakeCognito::serving_keys(keys.clone()).await;
    let cognito = fake.cognito();
    let rotated = token(&access_claims(), "new");
    let why = refused(cognito.verify(&rotated, NOW_MS).await);
    assert_eq!(
        why,
        "the token is signed with a key the user pool does not have (kid new)"
    );
    assert_eq!(fake.count(), 1);
    // The pool rotates its keys: within the minute the set is not read again.
    *keys.lock().unwrap() = jwks(&[("old", OTHER_KEY_N), ("new", TEST_KEY_N)]);
    refused(cognito.verify(&rotated, NOW_MS + 59_000).await);
    assert_eq!(fake.count(), 1, "not again within a minute");
    assert_eq!(cognito.verify(&rotated, NOW_MS + 60_000).await.unwrap(), "alice");
    assert_eq!(fake.count(), 2);
    // Known now: no more reads, whatever the clock.
    cognito.verify(&rotated, NOW_MS + 60_001).await.unwrap();
    assert_eq!(fake.count(), 2);
}

#[tokio::test]
async fn a_key_set_that_cannot_be_read_is_unavailable_not_a_refusal() {
    let fake = FakeCognito::start(Arc::new(|_: &str, _: &str, _| (200, vec![], "<html>".into()))).await;
    match fake.cognito().verify(&token(&access_claims(), "test"), NOW_MS).await {
        Err(Unavailable(why)) => assert!(why.contains("not JSON"), "{why}"),
        other => panic!("{other:?}"),
    }
    let huge = format!("{{\"keys\":[],\"pad\":\"{}\"}}", "x".repeat(BODY_LIMIT));
    let fake = FakeCognito::start(Arc::new(move |_: &str, _: &str, _| (200, vec![], huge.clone()))).await;
    match fake.cognito().verify(&token(&access_claims(), "test"), NOW_MS).await {
        Err(Unavailable(why)) => assert!(why.contains("longer than 1024 KiB"), "{why}"),
        other => panic!("{other:?}"),
    }
    let fake = FakeCognito::start(Arc::new(|_: &str, _: &str, _| (200, vec![], jwks(&[])))).await;
    match fake.cognito().verify(&token(&access_claims(), "test"), NOW_MS).await {
        Err(Unavailable(why)) => assert!(why.contains("no RS256 signing key"), "{why}"),
        other => panic!("{other:?}"),
    }
    let cognito = Cognito::new(CognitoPool {
        region: REGION.into(),
        pool_id: POOL.into(),
        client_id: CLIENT.into(),
        endpoint: Some("http://127.0.0.1:9".into()),
    });
    match cognito.verify(&token(&access_claims(), "test"), NOW_MS).await {
        Err(Unavailable(why)) => assert!(why.contains("(3 tries)"), "{why}"),
        other => panic!("{other:?}"),
    }
}

/// A fake pool answering InitiateAuth with `auth` and serving the test key.
async fn pool_answering(
    auth: impl Fn(usize) -> (u16, Vec<(&'static str, String)>, String) + Send + Sync + 'static,
) -> FakeCognito {
    let calls = AtomicUsize::new(0);
    FakeCognito::start(Arc::new(move |path: &str, target: &str, _| {
        if target == "AWSCognitoIdentityProviderService.InitiateAuth" && path == "/" {
            auth(calls.fetch_add(1, Ordering::SeqCst) + 1)
        } else if path == format!("/{POOL}/.well-known/jwks.json") {
            (200, vec![], jwks(&[("test", TEST_KEY_N)]))
        } else {
            (404, vec![], String::new())
        }
    }))
    .await
}

fn cognito_error(status: u16, kind: &str, message: &str) -> (u16, Vec<(&'static str, String)>, String) {
    (
        status,
        vec![("X-Amzn-ErrorType", format!("{kind}:"))],
        json!({"__type": kind, "message": message}).to_string(),
    )
}

#[tokio::test]
async fn a_wrong_password_or_unknown_user_is_refused_alike() {
    for (kind, message) in [
        ("NotAuthorizedException", "Incorrect username or password."),
        ("UserNotFoundException", "User does not exist."),
        ("NotAuthorizedException", "User is disabled."),
    ] {
        let fake = pool_answering(move |_| cognito_error(400, kind, message)).await;
        let why = refused(fake.cognito().sign_in("alice", "wrong", NOW_MS).await);
        assert_eq!(why, "wrong user name or password");
    }
    let fake = pool_answering(|_| panic!("no call for an empty password")).await;
    let why = refused(fake.cognito().sign_in("alice", "", NOW_MS).await);
    assert_eq!(why, "wrong user name or password");
}

#[tokio::test]
async fn a_sign_in_returns_the_name_in_the_verified_token_after_transient_failures() {
    let fake = pool_answering(|call| match call {
        1 => (503, vec![], String::new()),
        2 => cognito_error(400, "TooManyRequestsException", "Rate exceeded"),
        _ => (
            200,
            vec![],
            json!({"AuthenticationResult": {
                "AccessToken": token(&with(access_claims(), "username", json!("Alice")), "test"),
                "IdToken": token(&id_claims(), "test"), "ExpiresIn": 3600, "TokenType": "Bearer"}})
            .to_string(),
        ),
    })
    .await;
    let name = fake.cognito().sign_in("ALICE", "right", NOW_MS).await.unwrap();
    assert_eq!(name, "Alice", "the pool's name for the user, not what was typed");
    let calls: Vec<String> = fake.requests.lock().unwrap().iter().map(|(p, _)| p.clone()).collect();
    assert_eq!(calls, ["/", "/", "/", &format!("/{POOL}/.well-known/jwks.json")]);
    // A token the pool did not sign is not a sign-in, whatever answered.
    let fake = pool_answering(|_| {
        let forged = with(
            access_claims(),
            "iss",
            json!("https://cognito-idp.eu-west-1.amazonaws.com/other"),
        );
        (
            200,
            vec![],
            json!({"AuthenticationResult": {"AccessToken": token(&forged, "test")}}).to_string(),
        )
    })
    .await;
    let why = refused(fake.cognito().sign_in("alice", "right", NOW_MS).await);
    assert!(why.contains("not issued by this user pool"), "{why}");
}

#[tokio::test]
async fn a_sign_in_cognito_cannot_finish_says_why() {
    let fake = pool_answering(|_| {
        (
            200,
            vec![],
            json!({"ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": "s"}).to_string(),
        )
    })
    .await;
    let why = refused(fake.cognito().sign_in("alice", "temporary", NOW_MS).await);
    assert!(why.contains("admin-set-user-password --permanent"), "{why}");
    let fake = pool_answering(|_| {
        cognito_error(
            400,
            "InvalidParameterException",
            "USER_PASSWORD_AUTH flow not enabled for this client",
        )
    })
    .await;
    match fake.cognito().sign_in("alice", "right", NOW_MS).await {
        Err(Unavailable(why)) => assert!(why.contains("USER_PASSWORD_AUTH flow not enabled"), "{why}"),
        other => panic!("{other:?}"),
    }
    let fake = pool_answering(|_| {
        cognito_error(
            400,
            "NotAuthorizedException",
            "Client 1a2b is configured with secret but SECRET_HASH was not received",
        )
    })
    .await;
    match fake.cognito().sign_in("alice", "right", NOW_MS).await {
        Err(Unavailable(why)) => assert!(why.contains("GenerateSecret false"), "{why}"),
        other => panic!("{other:?}"),
    }
    let fake = pool_answering(|_| (500, vec![], "oops".into())).await;
    match fake.cognito().sign_in("alice", "right", NOW_MS).await {
        Err(Unavailable(why)) => assert!(why.contains("500") && why.contains("(3 tries)"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.count(), 3);
}
