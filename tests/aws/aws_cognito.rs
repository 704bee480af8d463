//! The web dashboard's Cognito sign-in (stockwatch_web::cognito) against
//! moto's user pools: InitiateAuth over real HTTP, the tokens moto issues
//! checked against the key set moto serves. moto signs every pool's tokens
//! with one key, so only the issuer tells its pools apart; the foreign
//! signature is made beforehand (moto's key is public, and so is ours).

use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};
use stockwatch_testkit::{iam, moto};
use stockwatch_web::cognito::{Cognito, CognitoError, CognitoPool};

/// moto puts pools made by unsigned calls in us-east-1.
const REGION: &str = "us-east-1";
const USER: &str = "dashboard-user";
const PASSWORD: &str = "Correct-horse-battery-9";
const TWO_HOURS_MS: i64 = 2 * 3600 * 1000;

/// One pool on moto, its app client and one user with a permanent password.
struct Pool {
    id: String,
    client_id: String,
}

/// A Cognito call to moto (unsigned JSON, as the dashboard's InitiateAuth).
fn cognito_call(action: &str, body: Value) -> Value {
    let target = format!("AWSCognitoIdentityProviderService.{action}");
    let answer = iam::http(
        &moto::endpoint(),
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", &target),
        ],
        &body.to_string(),
    );
    serde_json::from_str(&answer).unwrap_or(Value::Null)
}

/// A pool made as deploy/template.yaml makes it, with `USER` in it.
fn pool_with_user() -> Pool {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "stockwatch-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let pool = cognito_call(
        "CreateUserPool",
        json!({
            "PoolName": name,
            "AdminCreateUserConfig": { "AllowAdminCreateUserOnly": true },
            "UsernameConfiguration": { "CaseSensitive": false },
        }),
    );
    let id = pool["UserPool"]["Id"].as_str().unwrap().to_string();
    let client = cognito_call(
        "CreateUserPoolClient",
        json!({
            "UserPoolId": id,
            "ClientName": "stockwatch-dashboard",
            "GenerateSecret": false,
            "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "PreventUserExistenceErrors": "ENABLED",
        }),
    );
    let client_id = client["UserPoolClient"]["ClientId"].as_str().unwrap().to_string();
    cognito_call(
        "AdminCreateUser",
        json!({ "UserPoolId": id, "Username": USER, "MessageAction": "SUPPRESS" }),
    );
    cognito_call(
        "AdminSetUserPassword",
        json!({ "UserPoolId": id, "Username": USER, "Password": PASSWORD, "Permanent": true }),
    );
    Pool { id, client_id }
}

fn cognito(pool_id: &str, client_id: &str) -> Cognito {
    Cognito::new(CognitoPool {
        region: REGION.into(),
        pool_id: pool_id.into(),
        client_id: client_id.into(),
        endpoint: Some(moto::endpoint()),
    })
}

/// The (access, id) tokens moto issues `USER` of `pool`.
fn tokens(pool: &Pool) -> (String, String) {
    let answer = cognito_call(
        "InitiateAuth",
        json!({
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": pool.client_id,
            "AuthParameters": { "USERNAME": USER, "PASSWORD": PASSWORD },
        }),
    );
    let result = &answer["AuthenticationResult"];
    (
        result["AccessToken"].as_str().unwrap().to_string(),
        result["IdToken"].as_str().unwrap().to_string(),
    )
}

/// A token's claims, read without checking anything.
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let digit = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        _ => 63,
    };
    let digits: Vec<u8> = payload.bytes().map(digit).collect();
    let mut bytes = Vec::new();
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, d)| n | (u32::from(*d) << (18 - 6 * i)));
        bytes.extend(&n.to_be_bytes()[1..chunk.len()]);
    }
    serde_json::from_slice(&bytes).unwrap()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn refused(result: Result<String, CognitoError>) -> String {
    match result {
        Err(CognitoError::Refused(why)) => why,
        other => panic!("not refused: {other:?}"),
    }
}

#[tokio::test]
async fn a_cognito_issued_token_is_accepted() {
    let pool = pool_with_user();
    let cognito = cognito(&pool.id, &pool.client_id);
    assert_eq!(cognito.sign_in(USER, PASSWORD, now_ms()).await.unwrap(), USER);
    let (access, id) = tokens(&pool);
    assert_eq!(claims(&access)["token_use"], "access");
    assert_eq!(cognito.verify(&access, now_ms()).await.unwrap(), USER);
    assert_eq!(claims(&id)["token_use"], "id");
    assert_eq!(cognito.verify(&id, now_ms()).await.unwrap(), USER);
}

#[tokio::test]
async fn a_wrong_password_is_refused_without_saying_whether_the_user_exists() {
    let pool = pool_with_user();
    let cognito = cognito(&pool.id, &pool.client_id);
    // moto answers NotAuthorizedException for the one, UserNotFoundException
    // for the other: both are the same refusal.
    let wrong_password = refused(cognito.sign_in(USER, "Wrong-horse-battery-9", now_ms()).await);
    assert_eq!(wrong_password, "wrong user name or password");
    let no_such_user = refused(cognito.sign_in("nobody-here", PASSWORD, now_ms()).await);
    assert_eq!(no_such_user, wrong_password);
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let pool = pool_with_user();
    let cognito = cognito(&pool.id, &pool.client_id);
    let (access, id) = tokens(&pool);
    for token in [access, id] {
        let exp_ms = claims(&token)["exp"].as_i64().unwrap() * 1000;
        assert_eq!(cognito.verify(&token, exp_ms - 60_000).await.unwrap(), USER);
        let why = refused(cognito.verify(&token, exp_ms + TWO_HOURS_MS).await);
        assert!(why.starts_with("the token expired at "), "{why}");
    }
}

/// The pool these tokens name (moto serves its key set for any pool id).
const FIXED_POOL: &str = "us-east-1_Foreign0000";
const FIXED_CLIENT: &str = "foreignclient0000000000000";
/// An access token of alice in `FIXED_POOL` for `FIXED_CLIENT`, expiring
/// 2100-01-01, kid "dummy" (moto's), signed with moto's key (its
/// jwks-private.json)…
const SIGNED_BY_MOTO: &str = "eyJ0eXAiOiJKV1QiLCJraWQiOiJkdW1teSIsImFsZyI6IlJTMjU2In0.eyJpc3MiOiJodHRwczovL2NvZ25pdG8taWRwLnVzLWVhc3QtMS5hbWF6b25hd3MuY29tL3VzLWVhc3QtMV9Gb3JlaWduMDAwMCIsInN1YiI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDAwMCIsImNsaWVudF9pZCI6ImZvcmVpZ25jbGllbnQwMDAwMDAwMDAwMDAwIiwidG9rZW5fdXNlIjoiYWNjZXNzIiwiaWF0Ijo0MTAyNDQxMjAwLCJhdXRoX3RpbWUiOjQxMDI0NDEyMDAsImV4cCI6NDEwMjQ0NDgwMCwianRpIjoiMTExMTExMTEtMTExMS00MTExLTgxMTEtMTExMTExMTExMTExIiwidXNlcm5hbWUiOiJhbGljZSJ9.WGwU4gdYWprmdrRZjRMir8jj3JKubsWQTps0HDL9-bPCcGaJiG2xAlUFDg9vYiICZmfn3m4hcUkq7sKOaEcmNOYjUt-7s9mOBfJ9bDpp1Gz5JdN-hnHjytDSiXppOWe6WaEiRloC2G61WUuuS1O-mPDtWLXhzS06LPTnvH3e1UqvpFCpfvGNm2LOQnNkT-0X4GUiQDrC72G8tonP1YVPICTv45YLUy0usqNzedZXdQ5Sj0BXgRO1bx-yyMwQ5XxDpTN2WsiIrqxQg35EiXSe2jk3i8h0m4xvIZPs9P736W354tqu2BHkkzeQet0uaXOv4_-3-YNJUVqd2gKFfLYuuA";
/// …and the same header and claims signed with another RSA key (the test
/// key of crates/web/src/cognito.rs).
const SIGNED_BY_ANOTHER_KEY: &str = "eyJ0eXAiOiJKV1QiLCJraWQiOiJkdW1teSIsImFsZyI6IlJTMjU2In0.eyJpc3MiOiJodHRwczovL2NvZ25pdG8taWRwLnVzLWVhc3QtMS5hbWF6b25hd3MuY29tL3VzLWVhc3QtMV9Gb3JlaWduMDAwMCIsInN1YiI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDAwMCIsImNsaWVudF9pZCI6ImZvcmVpZ25jbGllbnQwMDAwMDAwMDAwMDAwIiwidG9rZW5fdXNlIjoiYWNjZXNzIiwiaWF0Ijo0MTAyNDQxMjAwLCJhdXRoX3RpbWUiOjQxMDI0NDEyMDAsImV4cCI6NDEwMjQ0NDgwMCwianRpIjoiMTExMTExMTEtMTExMS00MTExLTgxMTEtMTExMTExMTExMTExIiwidXNlcm5hbWUiOiJhbGljZSJ9.HVHfI4xhj462TScj5TldPUFLgzCimmwZjTNRvq1g2f3YesFurbArvBq16ZO8z44LGB43IxqzbU1gQlyNFlAUCtpJrrI8qa9bRPCYrxMCBEaiXXRNCWn5m09fAMMBY9ES6Lkv114nqZLmmIsSKAIHSHzsW_HqNKKKuIik8UCN9cuvMyILO1YQ038EIFFj3VMt4D1AYUnf9Ov-A8VHGsUkcTEvK2rJ-MvJ7S_iTCt-CPYM6cfI1qiEtg1RqmNaWD66b_O2dA44r3d51ylfI6DQxYaw6GZ3Pw1DProXC7PhWVzb2E29Pxdkht0dfZhHxdiSPshCGrWT2lowPSXQU-PWjA";

#[tokio::test]
async fn a_foreign_signed_token_is_refused() {
    // Two tokens alike but for their signer: the pool's signature passes
    // every check, another key's fails on it alone.
    let (head, _) = SIGNED_BY_MOTO.rsplit_once('.').unwrap();
    assert!(SIGNED_BY_ANOTHER_KEY.starts_with(&format!("{head}.")));
    let fixed = cognito(FIXED_POOL, FIXED_CLIENT);
    let before_expiry = claims(SIGNED_BY_MOTO)["exp"].as_i64().unwrap() * 1000 - TWO_HOURS_MS;
    assert_eq!(fixed.verify(SIGNED_BY_MOTO, before_expiry).await.unwrap(), "alice");
    let why = refused(fixed.verify(SIGNED_BY_ANOTHER_KEY, before_expiry).await);
    assert!(why.contains("signature is not the user pool's"), "{why}");

    // A token moto issued, its claims changed (another user) under its own signature.
    let pool = pool_with_user();
    let cognito = cognito(&pool.id, &pool.client_id);
    let (access, _) = tokens(&pool);
    let (header, rest) = access.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let mut changed = claims(&access);
    changed["username"] = json!("admin");
    let changed = base64url(&serde_json::to_vec(&changed).unwrap());
    assert_ne!(changed, payload);
    let tampered = format!("{header}.{changed}.{signature}");
    let why = refused(cognito.verify(&tampered, now_ms()).await);
    assert!(why.contains("signature is not the user pool's"), "{why}");
}

#[tokio::test]
async fn a_token_of_another_pool_is_refused_by_its_issuer() {
    let ours = pool_with_user();
    let theirs = pool_with_user();
    let (access, id) = tokens(&theirs);
    // Their client's id, our pool's: only the issuer differs (moto's key
    // signs both pools, so the signature passes).
    let ours_with_their_client = cognito(&ours.id, &theirs.client_id);
    let our_verifier = cognito(&ours.id, &ours.client_id);
    for token in [&access, &id] {
        for verifier in [&ours_with_their_client, &our_verifier] {
            let why = refused(verifier.verify(token, now_ms()).await);
            assert!(why.contains("not issued by this user pool"), "{why}");
        }
        let their_verifier = cognito(&theirs.id, &theirs.client_id);
        assert_eq!(their_verifier.verify(token, now_ms()).await.unwrap(), USER);
    }
}

fn base64url(bytes: &[u8]) -> String {
    const DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(DIGITS[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// `stockwatch serve` signing in against the pool: the login form, and a
/// bearer token for scripts; who acknowledges is the pool's user.
mod served {
    use super::*;
    use std::io::{Read, Write};
    use stockwatch_testkit::Env;
    use stockwatch_testkit::running;

    /// One request; (status line, `Set-Cookie` pairs, body).
    fn request(
        url: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (String, Vec<String>, String) {
        let host = url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(host).unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        stream.write_all(format!("{head}\r\n{body}").as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        let cookies = head
            .lines()
            .filter_map(|l| l.strip_prefix("set-cookie: "))
            .map(|c| c.split(';').next().unwrap().to_string())
            .collect();
        (head.lines().next().unwrap().to_string(), cookies, body.to_string())
    }

    fn alert_by(env: &Env) -> Value {
        let out = env.cmd().args(["alerts", "--json"]).output().unwrap();
        let alerts: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        alerts.into_iter().find(|a| a["item"] == "Echo Plus").unwrap()
    }

    #[tokio::test]
    async fn the_dashboard_signs_in_against_the_pool_and_acknowledges_as_its_user() {
        let pool = pool_with_user();
        let env = Env::new();
        let file = env.dir.path().join("out.csv");
        std::fs::write(&file, "store,item,count\nCalcutta,Echo Plus,0\n").unwrap();
        assert!(env.cmd().arg("upload").arg(&file).output().unwrap().status.success());
        let id = alert_by(&env)["id"].as_str().unwrap().to_string();
        let mut cmd = env.cmd();
        cmd.env("AWS_ENDPOINT_URL", moto::endpoint());
        let pool_flags = [
            "--user-pool",
            pool.id.as_str(),
            "--user-pool-client",
            pool.client_id.as_str(),
        ];
        let (_server, url) = running::serve(cmd, &pool_flags);
        let form = ("Content-Type", "application/x-www-form-urlencoded");

        // A wrong password, then the right one, through the sign-in form.
        let (_, cookies, page) = request(&url, "GET", "/login", &[], "");
        let login_cookie = cookies.join("; ");
        let token = page
            .split("name=\"login_token\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let wrong = format!("user={USER}&password=nope&login_token={token}");
        let (status, _, _) = request(&url, "POST", "/login", &[form, ("Cookie", &login_cookie)], &wrong);
        assert!(status.contains("401"), "{status}");
        let right = format!("user={USER}&password={PASSWORD}&login_token={token}");
        let (status, cookies, _) = request(&url, "POST", "/login", &[form, ("Cookie", &login_cookie)], &right);
        assert!(status.contains("303"), "{status}");
        let session = cookies
            .into_iter()
            .find(|c| c.starts_with("stockwatch_session="))
            .unwrap();
        let (_, _, home) = request(&url, "GET", "/", &[("Cookie", &session)], "");
        assert!(home.contains(&format!("<span class=\"user\">{USER}</span>")), "{home}");
        let csrf = home
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let ack = format!("csrf={csrf}&id={id}&note=from+the+pool");
        let (status, _, _) = request(&url, "POST", "/ack", &[form, ("Cookie", &session)], &ack);
        assert!(status.contains("303"), "{status}");
        let acked = alert_by(&env);
        assert_eq!(acked["acknowledged"]["by"], USER);

        // A script with the pool's token: no cookie, no CSRF token needed.
        let (access, _) = tokens(&pool);
        let bearer = format!("Bearer {access}");
        let (status, _, _) = request(
            &url,
            "POST",
            "/unack",
            &[form, ("Authorization", &bearer)],
            &format!("csrf=&id={id}"),
        );
        assert!(status.contains("303"), "{status}");
        assert_eq!(alert_by(&env)["state"], "open");
        // Another key's token changes nothing.
        let forged = format!("Bearer {SIGNED_BY_ANOTHER_KEY}");
        let (status, _, body) = request(
            &url,
            "POST",
            "/ack",
            &[form, ("Authorization", &forged)],
            &format!("csrf=&id={id}"),
        );
        assert!(status.contains("401"), "{status} {body}");
        assert_eq!(alert_by(&env)["state"], "open");
    }
}
