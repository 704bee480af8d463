//! The dashboard over real HTTP on a real local backend (SQLite in a temp
//! dir): what a store manager sees and does, and what the server refuses.

mod support;

use http_body_util::BodyExt;
use hyper::StatusCode;
use std::time::{Duration, Instant};
use stockwatch_core::app::Operations;
use stockwatch_core::ports::{AlertFilter, RetryPolicy};
use stockwatch_domain::{Alert, AlertState};
use support::{Dashboard, Setup, Visitor, field};

const SAMPLE: &str =
    "store,item,count\nCalcutta,Echo Plus,0\nCalcutta,Echo Dot,2\nCalcutta,Kindle,40\nPusan,Echo Plus,9\n";

async fn alerts(dashboard: &Dashboard) -> Vec<Alert> {
    Operations::new(dashboard.ports.clone(), RetryPolicy::default())
        .alerts(&AlertFilter::default())
        .await
        .unwrap()
}

/// Polls `page` until it holds `text` (the follower applies within ~100 ms).
async fn page_showing(visitor: &mut Visitor, page: &str, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, body) = visitor.get(page).await;
        if body.contains(text) {
            return body;
        }
        assert!(Instant::now() < deadline, "{page} never showed {text}:\n{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn stores_come_most_urgent_first_and_out_rows_say_so_without_colour() {
    let dashboard = Dashboard::start().await;
    dashboard.upload("a.csv", SAMPLE).await;
    let mut visitor = Visitor::new(&dashboard);
    let home = page_showing(&mut visitor, "/", "Calcutta").await;
    assert!(
        home.find("Calcutta").unwrap() < home.find("Pusan").unwrap(),
        "Calcutta (1 OUT) first:\n{home}"
    );
    let store = page_showing(&mut visitor, "/store?name=Calcutta", "Echo Plus").await;
    let row = store.split("data-item=\"Echo Plus\"").nth(1).unwrap();
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("✖ OUT"), "{row}");
    assert!(
        store.contains("<tr class=\"out\" data-store=\"Calcutta\" data-item=\"Echo Plus\">"),
        "{store}"
    );
    assert!(store.contains("▲ LOW"), "Echo Dot at 2 is low:\n{store}");
    let (status, found) = visitor.get("/search?q=echo%20pl").await;
    assert_eq!(status, StatusCode::OK);
    assert!(found.contains("/item?store=Calcutta&#38;item=Echo%20Plus"), "{found}");
}

#[tokio::test]
async fn a_store_named_with_markup_renders_as_text() {
    let dashboard = Dashboard::start().await;
    let evil = "<script>alert(1)</script>";
    dashboard
        .upload(
            "evil.csv",
            &format!("store,item,count\n{evil},<img src=x onerror=alert(2)>,0\n"),
        )
        .await;
    let mut visitor = Visitor::new(&dashboard);
    let home = page_showing(&mut visitor, "/", "&#60;script&#62;alert(1)&#60;/script&#62;").await;
    assert!(!home.contains(evil), "the name went out raw:\n{home}");
    let (_, store) = visitor.get("/store?name=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert!(store.contains("&#60;img src=x onerror=alert(2)&#62;"), "{store}");
    assert!(!store.contains("<img src=x"), "{store}");
    assert!(!store.contains("<script>alert"), "{store}");
}

#[tokio::test]
async fn a_change_reaches_an_open_event_stream_within_a_second() {
    let dashboard = Dashboard::start().await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let response = client.get(dashboard.url("/events").parse().unwrap()).await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();
    let uploaded = Instant::now();
    dashboard.upload("a.csv", SAMPLE).await;
    let mut seen = String::new();
    while !seen.contains("event: stock") {
        let frame = tokio::time::timeout(Duration::from_secs(2), body.frame())
            .await
            .expect("no event within 2 s")
            .unwrap()
            .unwrap();
        if let Some(data) = frame.data_ref() {
            seen.push_str(&String::from_utf8_lossy(data));
        }
    }
    assert!(uploaded.elapsed() < Duration::from_secs(1), "{:?}", uploaded.elapsed());
    assert!(
        seen.contains(r#""store":"Calcutta","item":"Echo Plus","count":0,"level":"OUT""#),
        "{seen}"
    );
}

#[tokio::test]
async fn a_signed_in_user_acknowledges_as_themselves_with_a_note() {
    let dashboard = Dashboard::start().await;
    dashboard.upload("a.csv", SAMPLE).await;
    let id = alerts(&dashboard)
        .await
        .iter()
        .find(|a| a.item == "Echo Plus")
        .unwrap()
        .id
        .to_string();
    let mut visitor = Visitor::new(&dashboard);
    let csrf = visitor.sign_in().await;
    // The form names someone else: the session's user is who acknowledged.
    let form = [
        ("csrf", csrf.as_str()),
        ("id", id.as_str()),
        ("note", "reordered 20"),
        ("by", "mallory"),
        ("back", "/alerts"),
    ];
    let (status, headers, _) = visitor.post("/ack", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{headers:?}");
    let alert = alerts(&dashboard)
        .await
        .into_iter()
        .find(|a| a.id.to_string() == id)
        .unwrap();
    assert_eq!(alert.state, AlertState::Acknowledged);
    let ack = alert.acknowledged.unwrap();
    assert_eq!((ack.by.as_str(), ack.note.as_deref()), ("ana", Some("reordered 20")));
    let page = page_showing(&mut visitor, "/alerts", "reordered 20").await;
    assert!(page.contains("by <span class=\"by\">ana</span>"), "{page}");
    // Taken back: open again.
    let (status, _, _) = visitor
        .post("/unack", &[("csrf", csrf.as_str()), ("id", id.as_str())])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let alert = alerts(&dashboard)
        .await
        .into_iter()
        .find(|a| a.id.to_string() == id)
        .unwrap();
    assert_eq!(alert.state, AlertState::Open);
}

#[tokio::test]
async fn without_a_session_or_with_a_wrong_token_nothing_changes() {
    let dashboard = Dashboard::start().await;
    dashboard.upload("a.csv", SAMPLE).await;
    let id = alerts(&dashboard).await[0].id.to_string();
    let mut stranger = Visitor::new(&dashboard);
    let (status, _, _) = stranger.post("/ack", &[("csrf", "x"), ("id", id.as_str())]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let mut visitor = Visitor::new(&dashboard);
    let csrf = visitor.sign_in().await;
    let (status, _, body) = visitor.post("/ack", &[("csrf", "0123"), ("id", id.as_str())]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, _) = visitor
        .post("/snooze", &[("csrf", &csrf[1..]), ("store", "Calcutta"), ("for", "2h")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(alerts(&dashboard).await.iter().all(|a| a.state == AlertState::Open));
    let ops = Operations::new(dashboard.ports.clone(), RetryPolicy::default());
    assert!(
        ops.snoozes(stockwatch_domain::Timestamp::now())
            .await
            .unwrap()
            .is_empty()
    );
    // Signed out, the old token is worth nothing.
    let (status, _, _) = visitor.post("/logout", &[("csrf", csrf.as_str())]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = visitor
        .post("/ack", &[("csrf", csrf.as_str()), ("id", id.as_str())])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn session_cookies_are_http_only_and_strict_and_renewed_at_sign_in() {
    let dashboard = Dashboard::start().await;
    let mut visitor = Visitor::new(&dashboard);
    visitor.cookies.insert("stockwatch_session".into(), "planted".into());
    let (status, headers, _) = visitor.try_sign_in(support::PASSWORD, "/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookie = &headers["set-cookie stockwatch_session"];
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert_ne!(visitor.cookies["stockwatch_session"], "planted");
}

#[tokio::test]
async fn wrong_passwords_are_limited_and_say_nothing_of_which_part_was_wrong() {
    let dashboard = Dashboard::start().await;
    let mut visitor = Visitor::new(&dashboard);
    for attempt in 0..6 {
        let (status, _, body) = visitor.try_sign_in("guess", "/").await;
        if attempt < 5 {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
            assert!(body.contains("wrong user name or password"), "{body}");
        } else {
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "attempt {attempt}");
            assert!(body.contains("too many failed sign-ins"), "{body}");
        }
    }
    // Even the right password waits now.
    let token = visitor.login_token().await;
    let (status, _, _) = visitor.send_sign_in(&token, support::PASSWORD, "/").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // A sign-in form not from this site (no login cookie) is refused.
    let mut other = Visitor::new(&dashboard);
    let (status, _, _) = other.send_sign_in(&token, support::PASSWORD, "/").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn refusing_anonymous_visitors_shows_them_only_the_sign_in() {
    let dashboard = Dashboard::with(Setup {
        anonymous: stockwatch_web::Anonymous::Refuse,
        ..Setup::default()
    })
    .await;
    dashboard.upload("a.csv", SAMPLE).await;
    let mut visitor = Visitor::new(&dashboard);
    for page in ["/", "/store?name=Calcutta", "/alerts", "/search?q=echo"] {
        let (status, body) = visitor.get(page).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        assert!(!body.contains("Calcutta"), "{page}: {body}");
    }
    let (status, _) = visitor.get("/events").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    visitor.sign_in().await;
    page_showing(&mut visitor, "/", "Calcutta").await;
}

#[tokio::test]
async fn an_upload_is_previewed_then_loaded_and_a_bad_file_is_kept_rejected() {
    let dashboard = Dashboard::start().await;
    let mut visitor = Visitor::new(&dashboard);
    let csrf = visitor.sign_in().await;
    let (status, preview) = visitor
        .post_file(
            &csrf,
            "berlin.csv",
            b"store,item,count\nBerlin,Echo Plus,0\nBerlin,Dot,x\nBerlin,Tap,-1\n",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert!(preview.contains("Would be rejected: 2 problems"), "{preview}");
    assert!(
        preview.contains("line 3") && preview.contains("line 4"),
        "every bad line is named:\n{preview}"
    );
    let token = field(&preview, "token");
    let (status, _, report) = visitor
        .post("/upload/confirm", &[("csrf", csrf.as_str()), ("token", token.as_str())])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(report.contains("berlin.csv: rejected"), "{report}");
    let ops = Operations::new(dashboard.ports.clone(), RetryPolicy::default());
    let kept = ops.uploads(10).await.unwrap();
    assert_eq!(kept.len(), 1, "the rejected file is kept with its report");
    assert!(
        ops.stock_row("Berlin", "Echo Plus").await.unwrap().is_none(),
        "nothing of it loaded"
    );
    // A token is used once.
    let (status, _, _) = visitor
        .post("/upload/confirm", &[("csrf", csrf.as_str()), ("token", token.as_str())])
        .await;
    assert_eq!(status, StatusCode::GONE);

    let (_, preview) = visitor
        .post_file(&csrf, "ok.csv", b"store,item,count\nBerlin,Echo Plus,0\n")
        .await;
    assert!(preview.contains("Would load."), "{preview}");
    let token = field(&preview, "token");
    let (_, _, report) = visitor
        .post("/upload/confirm", &[("csrf", csrf.as_str()), ("token", token.as_str())])
        .await;
    assert!(
        report.contains("ok.csv: loaded") && report.contains("✖ 1 OUT"),
        "{report}"
    );
    assert_eq!(ops.stock_row("Berlin", "Echo Plus").await.unwrap().unwrap().count, 0);
}

#[tokio::test]
async fn an_upload_over_the_cap_keeps_nothing_and_an_upload_without_a_session_is_refused() {
    let dashboard = Dashboard::with(Setup {
        max_upload_bytes: 1000,
        ..Setup::default()
    })
    .await;
    let mut visitor = Visitor::new(&dashboard);
    let (status, _) = visitor
        .post_file("nothing", "a.csv", b"store,item,count\nBerlin,Dot,0\n")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let csrf = visitor.sign_in().await;
    let big = format!("store,item,count\n{}", "Berlin,Dot,1\n".repeat(200));
    let (status, page) = visitor.post_file(&csrf, "big.csv", big.as_bytes()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.contains("larger than this server takes"), "{page}");
    let ops = Operations::new(dashboard.ports.clone(), RetryPolicy::default());
    assert!(ops.uploads(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn one_client_holds_at_most_its_share_of_connections() {
    let dashboard = Dashboard::with(Setup {
        per_client: 3,
        ..Setup::default()
    })
    .await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let mut open = Vec::new();
    for _ in 0..3 {
        let response = client.get(dashboard.url("/events").parse().unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        open.push(response);
    }
    let refused = client.get(dashboard.url("/").parse().unwrap()).await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    drop(open.pop());
    // The closed stream's place is free again once the server notices.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let response = client.get(dashboard.url("/healthz").parse().unwrap()).await.unwrap();
        if response.status() == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "the closed stream was never let go");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn shutdown_ends_open_event_streams_and_the_server_within_seconds() {
    let mut dashboard = Dashboard::start().await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let response = client.get(dashboard.url("/events").parse().unwrap()).await.unwrap();
    let mut body = response.into_body();
    let asked = Instant::now();
    let done = dashboard.stop();
    let mut seen = String::new();
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(Duration::from_secs(5), body.frame()).await {
        if let Some(data) = frame.data_ref() {
            seen.push_str(&String::from_utf8_lossy(data));
        }
    }
    assert!(seen.contains("event: bye"), "{seen}");
    tokio::time::timeout(Duration::from_secs(5), done)
        .await
        .expect("the server did not stop")
        .unwrap()
        .unwrap();
    assert!(asked.elapsed() < Duration::from_secs(3), "{:?}", asked.elapsed());
    assert!(
        tokio::net::TcpStream::connect(dashboard.addr).await.is_err(),
        "still listening"
    );
}

#[tokio::test]
async fn healthz_answers_with_the_picture_s_state() {
    let dashboard = Dashboard::start().await;
    let mut visitor = Visitor::new(&dashboard);
    let (status, body) = visitor.get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["ready"], true);
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn after_signing_in_a_next_that_leaves_the_site_goes_home() {
    let dashboard = Dashboard::start().await;
    for next in [
        "//evil.example",
        "/\t/evil.example",
        "/\\evil.example",
        "https://evil.example",
        "/\n/evil.example",
    ] {
        let mut visitor = Visitor::new(&dashboard);
        let (status, headers, _) = visitor.try_sign_in(support::PASSWORD, next).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(headers["location"], "/", "{next:?}");
    }
    let mut visitor = Visitor::new(&dashboard);
    let csrf = visitor.sign_in().await;
    let form = [
        ("csrf", csrf.as_str()),
        ("store", "Calcutta"),
        ("for", "1h"),
        ("back", "/\t/evil.example"),
    ];
    let (status, headers, _) = visitor.post("/snooze", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/");
}

#[tokio::test]
async fn wrong_passwords_sent_at_once_still_get_five_tries() {
    let dashboard = Dashboard::start().await;
    let mut tries = Vec::new();
    for _ in 0..12 {
        let mut visitor = Visitor::new(&dashboard);
        let token = visitor.login_token().await;
        tries.push(tokio::spawn(async move {
            visitor.send_sign_in(&token, "guess", "/").await.0
        }));
    }
    let mut checked = 0;
    for attempt in tries {
        let status = attempt.await.unwrap();
        if status == StatusCode::UNAUTHORIZED {
            checked += 1;
        } else {
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        }
    }
    assert_eq!(checked, 5, "passwords checked out of 12 sent at once");
}

#[tokio::test]
async fn an_upload_form_with_a_huge_token_is_refused_unread() {
    let dashboard = Dashboard::start().await;
    let mut visitor = Visitor::new(&dashboard);
    visitor.sign_in().await;
    let huge = "x".repeat(1_000_000);
    let (status, _) = visitor
        .post_file(&huge, "a.csv", b"store,item,count\nBerlin,Dot,0\n")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let ops = Operations::new(dashboard.ports.clone(), RetryPolicy::default());
    assert!(ops.uploads(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_closed_tab_stops_counting_while_nothing_happens() {
    let dashboard = Dashboard::start().await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let response = client.get(dashboard.url("/events").parse().unwrap()).await.unwrap();
    let mut visitor = Visitor::new(&dashboard);
    let following = |body: &str| serde_json::from_str::<serde_json::Value>(body).unwrap()["pages_following"].clone();
    assert_eq!(following(&visitor.get("/healthz").await.1), 1);
    drop(response);
    let deadline = Instant::now() + Duration::from_secs(3);
    while following(&visitor.get("/healthz").await.1) != 0 {
        assert!(
            Instant::now() < deadline,
            "a closed tab is still counted with no event sent"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
