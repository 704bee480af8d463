//! The web dashboard in a real browser: Debian's headless Chromium driven
//! through chromedriver (WebDriver), against the real `stockwatch serve`
//! on a local data dir, with uploads and checks from the real CLI.
//! `./scripts/test.sh` installs chromium and chromium-driver.
//! With STOCKWATCH_SCREENSHOTS=1 (scripts/screenshots.sh) it also takes
//! the README's screenshots of the dashboard, desktop and phone widths.

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use stockwatch_testkit::Env;
use stockwatch_testkit::running::{self, Running, own_group};

const PASSWORD: &str = "correct horse battery";
const EVIL: &str = "<script>alert(1)</script>";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn chromedriver() -> (Running, String) {
    let port = free_port();
    let mut cmd = Command::new("chromedriver");
    let child = own_group(&mut cmd)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (Debian's chromium-driver; ./scripts/test.sh installs it)");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (Running(child), format!("http://127.0.0.1:{port}"))
}

async fn browser(driver: &str) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900", "--lang=en-GB"] }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(driver)
        .await
        .expect("a Chromium session")
}

fn upload(env: &Env, name: &str, csv: &str) {
    upload_with(env, name, csv, &[]);
}

fn upload_with(env: &Env, name: &str, csv: &str, flags: &[&str]) {
    let path = env.dir.path().join(name);
    std::fs::write(&path, csv).unwrap();
    let out = env.cmd().arg("upload").args(flags).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", stockwatch_testkit::stderr(&out));
}

/// A POST with no cookie, as a page on another site would send it; the status line.
fn post_without_session(url: &str, path: &str, body: &str) -> String {
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or_default().to_string()
}

fn alert_of(env: &Env, store: &str, item: &str) -> serde_json::Value {
    let out = env.cmd().args(["alerts", "--json"]).output().unwrap();
    let alerts: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    alerts
        .into_iter()
        .find(|a| a["store"] == store && a["item"] == item)
        .unwrap_or_else(|| panic!("no alert of {store} / {item}"))
}

/// An element's text, read in the page (the page replaces its rows as
/// events come, so a handle found first can go stale).
async fn text_of(client: &Client, css: &str) -> String {
    let script = "const e = document.querySelector(arguments[0]); return e ? e.textContent.trim() : null;";
    let text = client.execute(script, vec![json!(css)]).await.unwrap();
    text.as_str()
        .unwrap_or_else(|| panic!("nothing matches {css}"))
        .to_string()
}

async fn screenshot(client: &Client, name: &str) {
    if std::env::var_os("STOCKWATCH_SCREENSHOTS").is_none() {
        return;
    }
    let png = client.screenshot().await.unwrap();
    std::fs::write(stockwatch_testkit::repo().join("screenshots").join(name), png).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_signs_in_sees_an_upload_live_and_acknowledges_it() {
    let env = Env::new();
    upload(
        &env,
        "first.csv",
        &std::fs::read_to_string("samples/inventory-calcutta.csv").unwrap(),
    );
    let mut add = env
        .cmd()
        .args(["users", "add", "ana"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(add.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(add.wait().unwrap().success());
    let (_server, url) = running::serve(env.cmd(), &[]);
    let (_driver, driver_url) = chromedriver();
    let client = browser(&driver_url).await;
    let result = run(&env, &client, &url).await;
    let _ = client.close().await;
    result
}

async fn run(env: &Env, client: &Client, url: &str) {
    // Signing in.
    client.goto(&format!("{url}/login")).await.unwrap();
    client
        .find(Locator::Css("input[name=user]"))
        .await
        .unwrap()
        .send_keys("ana")
        .await
        .unwrap();
    client
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    client
        .find(Locator::Css("form.login button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client.wait().for_element(Locator::Css(".who .user")).await.unwrap();

    // The store's page follows the events: a CLI upload turns Echo Plus red.
    client.goto(&format!("{url}/store?name=Calcutta")).await.unwrap();
    let row = "tr[data-store='Calcutta'][data-item='Echo Plus']";
    let before = client.find(Locator::Css(row)).await.unwrap();
    assert_eq!(before.attr("class").await.unwrap().as_deref(), Some("ok"));
    client
        .wait()
        .for_element(Locator::Css("#live-state.live"))
        .await
        .unwrap();
    upload(env, "calcutta-out.csv", "store,item,count\nCalcutta,Echo Plus,0\n");
    let uploaded = Instant::now();
    let red = format!("{row}.out");
    client
        .wait()
        .at_most(Duration::from_secs(2))
        .every(Duration::from_millis(50))
        .for_element(Locator::Css(&red))
        .await
        .expect("Echo Plus red within 2 s of the upload");
    let seen_after = uploaded.elapsed();
    let state = text_of(client, &format!("{red} .state")).await;
    assert_eq!(state, "✖ OUT", "readable without colour");
    assert!(seen_after < Duration::from_secs(2), "{seen_after:?}");

    // A wrong CSRF token: refused, nothing changes.
    client.goto(&format!("{url}/")).await.unwrap();
    let ack_form = "tr.alert.open:has(a[href*='Echo%20Plus']) form.ack";
    client.wait().for_element(Locator::Css(ack_form)).await.unwrap();
    client
        .execute(
            &format!("document.querySelector(\"{ack_form} input[name=csrf]\").value = 'forged'; document.querySelector(\"{ack_form}\").submit();"),
            vec![],
        )
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::XPath("//*[contains(text(), 'CSRF token does not match')]"))
        .await
        .unwrap();
    assert_eq!(alert_of(env, "Calcutta", "Echo Plus")["state"], "open");
    let id = alert_of(env, "Calcutta", "Echo Plus")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let refused = post_without_session(url, "/ack", &format!("csrf=x&id={id}"));
    assert!(refused.contains("401"), "{refused}");
    assert_eq!(alert_of(env, "Calcutta", "Echo Plus")["state"], "open");

    // Acknowledging with a note: the signed-in user is who acknowledged.
    client.goto(&format!("{url}/")).await.unwrap();
    let note = client
        .wait()
        .for_element(Locator::Css(&format!("{ack_form} input[name=note]")))
        .await
        .unwrap();
    note.send_keys("reordered 20").await.unwrap();
    client
        .find(Locator::Css(&format!("{ack_form} button")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client.wait().for_element(Locator::Css("span.by")).await.unwrap();
    let acked = alert_of(env, "Calcutta", "Echo Plus");
    assert_eq!(acked["state"], "acknowledged");
    assert_eq!(acked["acknowledged"]["by"], "ana");
    assert_eq!(acked["acknowledged"]["note"], "reordered 20");

    // A store named with markup is text on the page, and no script ran.
    // Loaded without a check: the server's own checker raises its alert.
    upload_with(
        env,
        "evil.csv",
        &format!("store,item,count\n{EVIL},Echo Plus,0\n"),
        &["--no-check"],
    );
    client.goto(&format!("{url}/")).await.unwrap();
    let link = client
        .wait()
        .for_element(Locator::XPath(
            "//table[@class='stores']//a[starts-with(text(), '<script')]",
        ))
        .await
        .expect("the store's name shown as text");
    assert_eq!(link.text().await.unwrap(), EVIL);
    assert!(
        client.get_alert_text().await.is_err(),
        "a dialog opened: the name ran as a script"
    );
    let store = client.find(Locator::LinkText(EVIL)).await.unwrap();
    store.click().await.unwrap();
    client.wait().for_element(Locator::Css("h1")).await.unwrap();
    assert_eq!(text_of(client, "h1").await, EVIL);
    assert!(client.get_alert_text().await.is_err());

    screenshots(env, client, url).await;
}

async fn screenshots(env: &Env, client: &Client, url: &str) {
    if std::env::var_os("STOCKWATCH_SCREENSHOTS").is_none() {
        return;
    }
    for file in stockwatch_testkit::samples() {
        upload(
            env,
            &format!("s-{}", file.rsplit('/').next().unwrap()),
            &std::fs::read_to_string(&file).unwrap(),
        );
    }
    client.set_window_size(1280, 900).await.unwrap();
    client.goto(&format!("{url}/")).await.unwrap();
    client
        .wait()
        .for_element(Locator::Css("#live-state.live"))
        .await
        .unwrap();
    screenshot(client, "dashboard-desktop.png").await;
    client.goto(&format!("{url}/store?name=Calcutta")).await.unwrap();
    screenshot(client, "dashboard-store.png").await;
    client.set_window_size(390, 844).await.unwrap();
    client.goto(&format!("{url}/")).await.unwrap();
    screenshot(client, "dashboard-phone.png").await;
}
