//! The real binary on the samples and on invalid files.

use stockwatch_testkit as common;

use common::{Env, invalid_samples, samples, stderr, stdout};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn upload(env: &Env, files: &[String], extra: &[&str]) -> std::process::Output {
    let mut args = vec!["upload"];
    args.extend(extra);
    args.extend(files.iter().map(String::as_str));
    env.run(&args)
}

fn kinds(alerts: &Value, kind: &str) -> Vec<(String, String)> {
    let mut v: Vec<_> = alerts
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == kind)
        .map(|a| {
            (
                a["store"].as_str().unwrap().to_string(),
                a["item"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn uploading_the_samples_raises_six_out_of_stock_alerts() {
    let env = Env::new();
    let out = upload(&env, &samples(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.matches(": loaded 6 rows (1 store)").count(), 6, "{text}");
    assert!(text.contains("#1 OUT Berlin is out of stock of Echo Plus"), "{text}");
    let alerts = env.json(&["alerts", "--json"]);
    assert_eq!(
        kinds(&alerts, "OUT"),
        [
            ("Berlin", "Echo Plus"),
            ("Calcutta", "Echo (2nd Gen)"),
            ("Karachi", "Echo Plus"),
            ("Pusan", "Echo Show"),
            ("Shanghai", "Echo Show"),
            ("Springfield", "Echo Dot")
        ]
        .map(|(s, i)| (s.to_string(), i.to_string()))
    );
    assert_eq!(
        kinds(&alerts, "LOW").len(),
        3,
        "Calcutta Echo Look 3, Pusan Amazon Tap 3, Shanghai Echo Look 2"
    );
    let outbox = env.outbox();
    assert_eq!(outbox.len(), 6, "one notification per OUT alert");
    assert!(outbox.iter().all(|n| n["subject"] == "Inventory Alert!"));
    assert!(
        outbox
            .iter()
            .any(|n| n["message"] == "Pusan is out of stock of Echo Show")
    );
    let listing = stdout(&env.run(&["alerts"]));
    assert!(listing.contains("9 open, 0 acknowledged"), "{listing}");
}

#[test]
fn invalid_files_are_rejected_with_line_numbers_and_change_nothing() {
    let env = Env::new();
    assert!(upload(&env, &samples(), &[]).status.success());
    let stock_before = env.json(&["stock", "--json"]);
    let alerts_before = env.json(&["alerts", "--all", "--json"]);
    let invalid = invalid_samples();
    assert!(invalid.len() >= 8);
    let out = upload(&env, &invalid, &[]);
    assert_eq!(out.status.code(), Some(3), "a rejected file makes the exit code 3");
    let text = stdout(&out);
    assert_eq!(text.matches("REJECTED with").count(), invalid.len(), "{text}");
    for expected in [
        "line 2, column 3 (count): `4.5` is not a whole number",
        "line 3, column 2 (item): the item contains the control character U+001B (ESC)",
        "line 5: store `Pusan` and item `Echo Dot` already appear on line 2",
        "line 3: a quoted value starts here and is never closed",
        "line 3: 2 fields, but the header has 3",
        "line 1: the header has no `count` column",
        "line 2, column 1: the text is not valid UTF-8",
        "line 2: the file has a header but no data rows",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(
        !out.stdout.contains(&0x1b),
        "an escape character from a file reached the terminal"
    );
    assert_eq!(env.json(&["stock", "--json"]), stock_before);
    assert_eq!(env.json(&["alerts", "--all", "--json"]), alerts_before);
    let uploads = env.json(&["uploads", "--json", "--limit", "100"]);
    let rejected: Vec<_> = uploads
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["status"] == "rejected")
        .collect();
    assert_eq!(
        rejected.len(),
        invalid.len(),
        "every rejected file is kept with its report"
    );
    let key = rejected[0]["key"].as_str().unwrap();
    let kept = env.data_dir().join("bucket").join(key);
    assert!(kept.is_file(), "{} is not in the bucket", kept.display());
    let report = stdout(&env.run(&["uploads", key]));
    assert!(
        report.contains("status:    rejected") && report.contains("problem:   line"),
        "{report}"
    );
}

#[test]
fn uploading_the_samples_again_raises_nothing_new() {
    let env = Env::new();
    assert!(upload(&env, &samples(), &[]).status.success());
    let alerts = env.json(&["alerts", "--all", "--json"]);
    let out = upload(&env, &samples(), &[]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert_eq!(text.matches("0 changed, 6 unchanged").count(), 6, "{text}");
    assert_eq!(text.matches("alerts: 0 OUT, 0 LOW").count(), 6, "{text}");
    assert_eq!(env.json(&["alerts", "--all", "--json"]), alerts);
    assert_eq!(env.outbox().len(), 6);
}

#[test]
fn acknowledging_an_alert() {
    let env = Env::new();
    assert!(upload(&env, &samples(), &[]).status.success());
    let out = env.run(&["ack", "1", "--note", "truck on the way"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("acknowledged #1 OUT (Berlin is out of stock of Echo Plus) as tester"));
    let alerts = env.json(&["alerts", "--json"]);
    let first = alerts.as_array().unwrap().iter().find(|a| a["id"] == "1").unwrap();
    assert_eq!(first["state"], "acknowledged");
    assert_eq!(first["acknowledged"]["by"], "tester");
    assert_eq!(first["acknowledged"]["note"], "truck on the way");
    let again = env.run(&["ack", "1"]);
    assert_eq!(again.status.code(), Some(5));
    assert!(
        stderr(&again).contains("already acknowledged by tester"),
        "{}",
        stderr(&again)
    );
    let missing = env.run(&["ack", "999"]);
    assert_eq!(missing.status.code(), Some(4));
    assert!(
        stderr(&missing).contains("there is no alert 999"),
        "{}",
        stderr(&missing)
    );
    let bad = env.run(&["ack", "abc"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("is not an alert id"), "{}", stderr(&bad));
}

#[test]
fn a_mistaken_acknowledgement_is_taken_back() {
    let env = Env::new();
    assert!(upload(&env, &samples(), &[]).status.success());
    assert!(env.run(&["ack", "1"]).status.success());
    let out = env.run(&["unack", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("#1 OUT (Berlin is out of stock of Echo Plus) is open again"),
        "{}",
        stdout(&out)
    );
    let alerts = env.json(&["alerts", "--json"]);
    let first = alerts.as_array().unwrap().iter().find(|a| a["id"] == "1").unwrap();
    assert_eq!(first["state"], "open");
    assert!(first.get("acknowledged").is_none_or(|a| a.is_null()), "{first}");
    // Nothing left to take back: the code of a change the alert cannot make.
    let again = env.run(&["unack", "1"]);
    assert_eq!(again.status.code(), Some(5));
    assert!(
        stderr(&again).contains("no acknowledgement to take back"),
        "{}",
        stderr(&again)
    );
    assert_eq!(env.run(&["unack", "999"]).status.code(), Some(4));
    // It can be acknowledged again.
    assert!(env.run(&["ack", "1"]).status.success());
}

#[test]
fn stock_filters_by_store_out_and_low() {
    let env = Env::new();
    assert!(upload(&env, &samples(), &[]).status.success());
    let all = env.json(&["stock", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 36);
    let out = env.json(&["stock", "--out", "--json"]);
    assert_eq!(out.as_array().unwrap().len(), 6);
    assert!(
        out.as_array()
            .unwrap()
            .iter()
            .all(|r| r["count"] == 0 && r["state"] == "out")
    );
    let low = env.json(&["stock", "--low", "--json"]);
    assert_eq!(low.as_array().unwrap().len(), 3);
    let berlin = env.json(&["stock", "--store", "Berlin", "--json"]);
    assert_eq!(berlin.as_array().unwrap().len(), 6);
    let raised = env.json(&["stock", "--low", "--low-threshold", "5", "--json"]);
    assert_eq!(
        raised.as_array().unwrap().len(),
        4,
        "Karachi Amazon Tap 6 is still not low; Springfield Amazon Tap 5 is"
    );
    let table = stdout(&env.run(&["stock", "--store", "Berlin"]));
    assert!(table.contains("Echo Plus           0  OUT"), "{table}");
    assert!(table.contains("6 items: 1 out of stock, 0 low"), "{table}");
}

#[test]
fn an_older_snapshot_does_not_overwrite_a_newer_one() {
    let env = Env::new();
    let berlin = vec!["samples/inventory-berlin.csv".to_string()];
    assert!(
        upload(&env, &berlin, &["--as-of", "2026-11-02T08:00:00Z"])
            .status
            .success()
    );
    let older = env.dir.path().join("older.csv");
    std::fs::write(&older, "store,item,count\nBerlin,Echo Plus,40\nBerlin,Echo Dot,0\n").unwrap();
    let out = upload(
        &env,
        &[older.to_string_lossy().into_owned()],
        &["--as-of", "2026-11-01T08:00:00Z"],
    );
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("0 changed, 0 unchanged, 2 older than the table"),
        "{}",
        stdout(&out)
    );
    let stock = env.json(&["stock", "--store", "Berlin", "--out", "--json"]);
    assert_eq!(stock[0]["item"], "Echo Plus");
    assert_eq!(stock[0]["as_of"], "2026-11-02T08:00:00Z");
    let bad = upload(&env, &berlin, &["--as-of", "yesterday"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("RFC 3339"), "{}", stderr(&bad));
}

#[test]
fn unreadable_files_and_bad_settings_get_one_clear_sentence() {
    let env = Env::new();
    let out = env.run(&["upload", "no/such/file.csv"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("cannot read no/such/file.csv"),
        "{}",
        stderr(&out)
    );

    let config = env.dir.path().join("bad.toml");
    std::fs::write(&config, "[alerts]\nlow_treshold = 4\n").unwrap();
    let out = env.run(&["--config", config.to_str().unwrap(), "stock"]);
    assert_eq!(out.status.code(), Some(2));
    let message = stderr(&out);
    assert!(
        message.contains("is invalid") && message.contains("line 2") && message.contains("low_treshold"),
        "{message}"
    );
    assert!(!message.contains("panicked"));

    let out = env.run(&["--backend", "local", "--stack", "prod", "stock"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("names an AWS stack, but the backend is local"),
        "{}",
        stderr(&out)
    );

    let blocked = env.dir.path().join("a-file");
    std::fs::write(&blocked, "").unwrap();
    let out = env
        .cmd()
        .env("STOCKWATCH_DATA_DIR", &blocked)
        .arg("stock")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("stockwatch: the data dir ") && stderr(&out).contains("is a file, not a folder"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1);
}

#[test]
fn a_config_file_sets_thresholds_and_low_notifications() {
    let env = Env::new();
    let config = env.dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[alerts]\nlow_threshold = 1\nnotify_low = true\n\n[[alerts.item]]\nitem = \"Amazon Tap\"\nlow_threshold = 6\n",
    )
    .unwrap();
    let out = env
        .cmd()
        .arg("--config")
        .arg(&config)
        .args(["upload"])
        .args(samples())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let alerts = env
        .cmd()
        .arg("--config")
        .arg(&config)
        .args(["alerts", "--json"])
        .output()
        .unwrap();
    let alerts: Value = serde_json::from_slice(&alerts.stdout).unwrap();
    let low = kinds(&alerts, "LOW");
    assert_eq!(
        low,
        [
            ("Karachi", "Amazon Tap"),
            ("Pusan", "Amazon Tap"),
            ("Springfield", "Amazon Tap")
        ]
        .map(|(s, i)| (s.to_string(), i.to_string())),
        "Echo Look at 2 and 3 is above the global 1; Amazon Tap has its own 6"
    );
    // One message per store and pass: a store's OUT and LOW lines together.
    let outbox = env.outbox();
    assert_eq!(outbox.len(), 6, "one message per sample file's store");
    let carried: usize = outbox.iter().map(|n| n["alert_ids"].as_array().unwrap().len()).sum();
    assert_eq!(carried, 9, "LOW alerts are notified when configured");
    assert!(
        outbox.iter().any(|n| n["message"]
            .as_str()
            .unwrap()
            .lines()
            .any(|l| l == "Pusan is low on Amazon Tap: 3 left")),
        "{outbox:?}"
    );
}

#[test]
fn provision_creates_then_finds_the_data_dir() {
    let env = Env::new();
    let first = stdout(&env.run(&["provision"]));
    assert!(first.contains("created database"), "{first}");
    let second = stdout(&env.run(&["provision"]));
    assert!(second.contains("found   database"), "{second}");
    assert!(env.data_dir().join("stockwatch.db").is_file());
}

#[test]
fn help_documents_the_exit_codes() {
    let env = Env::new();
    let help = stdout(&env.run(&["--help"]));
    assert!(
        help.contains("Exit codes:") && help.contains("3  upload: at least one file was rejected"),
        "{help}"
    );
    for command in COMMANDS {
        assert!(help.contains(command), "{command} missing from --help");
    }
}

/// Reads JSON lines from a child until `done` says so, or the deadline passes.
fn read_events(reader: &mut impl BufRead, deadline: Instant, mut done: impl FnMut(&[Value]) -> bool) -> Vec<Value> {
    let mut events = Vec::new();
    let mut line = String::new();
    while Instant::now() < deadline && !done(&events) {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        events.push(serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad line {line:?}: {e}")));
    }
    events
}

/// `watch --json` from the start of the fresh data dir: no race with an
/// upload right after on a slow machine, and still following what comes.
fn watching(env: &Env, stderr: Stdio) -> std::process::Child {
    env.cmd()
        .args(["watch", "--json", "--from-start"])
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap()
}

#[test]
fn watch_streams_changes_and_alerts_as_json_lines() {
    let env = Env::new();
    assert!(env.run(&["provision"]).status.success());
    let mut watch = watching(&env, Stdio::null());
    // Load only: the checker inside `watch` must raise the alert.
    let out = upload(&env, &["samples/inventory-berlin.csv".to_string()], &["--no-check"]);
    assert!(out.status.success());
    let mut reader = BufReader::new(watch.stdout.take().unwrap());
    let events = read_events(&mut reader, Instant::now() + Duration::from_secs(20), |events| {
        events.iter().any(|e| e["type"] == "alert" && e["event"] == "raised")
    });
    let ack = env.run(&["ack", "1"]);
    assert!(ack.status.success(), "{}", stderr(&ack));
    let more = read_events(&mut reader, Instant::now() + Duration::from_secs(20), |events| {
        events.iter().any(|e| e["event"] == "acknowledged")
    });
    watch.kill().unwrap();
    watch.wait().unwrap();
    let changes: Vec<_> = events.iter().filter(|e| e["type"] == "change").collect();
    assert_eq!(changes.len(), 6, "{events:?}");
    let plus = changes.iter().find(|c| c["item"] == "Echo Plus").unwrap();
    assert_eq!(plus["kind"], "INSERT");
    assert_eq!(plus["new"]["count"], 0);
    let raised = events.iter().find(|e| e["event"] == "raised").unwrap();
    assert_eq!(raised["alert"]["item"], "Echo Plus");
    let acked = more
        .iter()
        .find(|e| e["event"] == "acknowledged")
        .expect("the acknowledgement was followed");
    assert_eq!(acked["alert"]["acknowledged"]["by"], "tester");
    assert_eq!(env.outbox().len(), 1, "the watch's checker notified");
}

#[test]
fn reading_commands_do_not_wait_for_a_long_write() {
    let env = Env::new();
    assert!(upload(&env, &samples(), &[]).status.success());
    // Another process is in the middle of a long load: it holds the write lock.
    let mut writer = rusqlite::Connection::open(env.data_dir().join("stockwatch.db")).unwrap();
    let tx = writer
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    tx.execute("DELETE FROM inventory WHERE store = 'Berlin'", []).unwrap();
    let started = Instant::now();
    let stock = env.json(&["stock", "--json"]);
    let alerts = env.json(&["alerts", "--json"]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "reads waited {:?} for the writer",
        started.elapsed()
    );
    assert_eq!(
        stock.as_array().unwrap().len(),
        36,
        "readers see the last committed state"
    );
    assert_eq!(alerts.as_array().unwrap().len(), 9);
    tx.rollback().unwrap();
}

#[test]
fn odd_arguments_are_reported_never_echoed_raw_and_never_panic() {
    use std::os::unix::ffi::OsStrExt;
    let env = Env::new();
    let not_utf8 = std::ffi::OsStr::from_bytes(b"bad\xff.csv");
    let out = env.cmd().arg("upload").arg(not_utf8).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot read bad"), "{}", stderr(&out));

    let out = env.run(&["--config", "/tmp/no\x1b[31mne.toml", "stock"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !out.stderr.contains(&0x1b),
        "a raw ESC reached the terminal: {}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("\\u{1b}[31m"), "{}", stderr(&out));

    let out = env.run(&["ack", "99\r\u{b}"]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(
        stderr(&out),
        "stockwatch: there is no alert 99; `stockwatch alerts --all` lists them\n"
    );
}

#[test]
fn the_console_needs_a_terminal_and_a_valid_keymap() {
    let env = Env::new();
    let out = env.run(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the console needs a terminal; `stockwatch watch`"),
        "{}",
        stderr(&out)
    );

    let keymaps = env.dir.path().join("config/stockwatch");
    std::fs::create_dir_all(&keymaps).unwrap();
    std::fs::write(
        keymaps.join("keymap.toml"),
        "[alerts]\nacknowledge = [\"a\"]\nack_everything = [\"x\"]\n",
    )
    .unwrap();
    let out = env.run(&[]);
    assert_eq!(out.status.code(), Some(2));
    let message = stderr(&out);
    assert!(
        message.contains("keymap.toml, line 3: unknown action `ack_everything` in [alerts]"),
        "{message}"
    );

    let out = env.run(&["--keymap", "emacs"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the built-in keymaps are default and arrows"),
        "{}",
        stderr(&out)
    );
}

/// An as-of far in the future would win over every real snapshot after it:
/// a later outage (count 0) would be "older than the table" and raise nothing.
#[test]
fn a_far_future_as_of_is_refused_and_nothing_is_uploaded() {
    let env = Env::new();
    let out = upload(
        &env,
        &["samples/inventory-berlin.csv".into()],
        &["--as-of", "9999-12-31T23:59:59Z"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(
        said.contains("ahead of this machine's clock") && said.contains("5 minutes"),
        "{said}"
    );
    assert_eq!(said.lines().count(), 1, "{said}");
    assert_eq!(
        env.json(&["uploads", "--json"]),
        serde_json::json!([]),
        "nothing reached the bucket"
    );
    // So a real outage afterwards raises its alert.
    assert!(
        upload(&env, &["samples/inventory-berlin.csv".into()], &[])
            .status
            .success()
    );
    let alerts = env.json(&["alerts", "--json"]);
    assert!(kinds(&alerts, "OUT").contains(&("Berlin".to_string(), "Echo Plus".to_string())));
}

/// A run that raised alerts and stopped before sending them (here: its
/// publisher failed every time) leaves its claims; the next upload's
/// checker sends them after the lease, and its report says so instead of
/// "0 OUT, 0 LOW" and nothing else.
#[test]
fn a_re_run_reports_the_alerts_it_sent_for_a_stopped_run() {
    use stockwatch_core::pipeline::{Checker, CheckerConfig};
    use stockwatch_core::ports::{Delivery, PortError, PortResult, Publisher};
    use stockwatch_domain::Message;

    struct Down;
    #[async_trait::async_trait]
    impl Publisher for Down {
        async fn deliver(&self, _: &[Message], _: &str, _: Duration) -> PortResult<Vec<Delivery>> {
            Err(PortError::Permanent("the network is down".into()))
        }
    }

    let env = Env::new();
    assert!(upload(&env, &samples(), &["--no-check"]).status.success());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut ports = stockwatch_local::LocalBackend::open(&env.data_dir()).unwrap().ports;
        ports.publisher = std::sync::Arc::new(Down);
        let stopped = Checker::new(ports, CheckerConfig::default());
        assert!(stopped.run_once().await.is_err(), "it claimed, then could not send");
    });
    assert_eq!(env.outbox().len(), 0);
    let again = env
        .cmd()
        .env("STOCKWATCH_TEST_LEASE_MS", "1")
        .args(["upload", "samples/inventory-berlin.csv"])
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
    let said = stdout(&again);
    assert!(
        said.contains("alerts: 0 OUT, 0 LOW"),
        "nothing new in the file itself: {said}"
    );
    assert!(
        said.contains("also sent 6 alerts an earlier run raised but stopped before sending"),
        "{said}"
    );
    assert_eq!(env.outbox().len(), 6, "each sent once");
}

/// Every command of `stockwatch --help`, as completions and pages must know them.
const COMMANDS: [&str; 17] = [
    "upload",
    "stock",
    "history",
    "alerts",
    "ack",
    "unack",
    "snooze",
    "unsnooze",
    "watch",
    "uploads",
    "check",
    "relay",
    "serve",
    "users",
    "provision",
    "completions",
    "man",
];

/// Runs a command generated from the command line's definition: it succeeds
/// and leaves nothing behind (no data dir, no log), whatever the backend.
fn generated(env: &Env, args: &[&str]) -> String {
    let out = env.run(args);
    assert!(out.status.success(), "{args:?} failed: {}", stderr(&out));
    assert!(!env.data_dir().exists(), "{args:?} created the data dir");
    assert!(!env.dir.path().join("logs").exists(), "{args:?} opened a log");
    stdout(&out)
}

#[test]
fn completions_for_bash_complete_every_command_and_the_console_s_flags() {
    let env = Env::new();
    let script = generated(&env, &["completions", "bash"]);
    assert!(script.contains("_stockwatch()"), "{script}");
    assert!(script.contains("complete -F _stockwatch"), "{script}");
    for command in COMMANDS {
        assert!(
            script.contains(&format!("stockwatch,{command})")),
            "`{command}` is not completed:\n{script}"
        );
    }
    // Plain `stockwatch` is the console: its flags complete at the top.
    for flag in ["--read-only", "--no-checker", "--keymap"] {
        assert!(script.contains(flag), "{flag} is not completed");
    }
}

#[test]
fn completions_for_zsh_fish_elvish_and_powershell_are_their_own_formats() {
    let env = Env::new();
    let zsh = generated(&env, &["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef stockwatch\n"), "{zsh}");
    assert!(zsh.contains("(upload)"), "{zsh}");
    let fish = generated(&env, &["completions", "fish"]);
    assert!(fish.contains("complete -c stockwatch"), "{fish}");
    assert!(fish.contains("-a \"upload\""), "{fish}");
    let elvish = generated(&env, &["completions", "elvish"]);
    assert!(elvish.contains("edit:completion:arg-completer[stockwatch]"), "{elvish}");
    let powershell = generated(&env, &["completions", "powershell"]);
    assert!(
        powershell.contains("Register-ArgumentCompleter -Native -CommandName 'stockwatch'"),
        "{powershell}"
    );
}

#[test]
fn completions_for_an_unknown_shell_are_a_usage_error() {
    let env = Env::new();
    let out = env.run(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    let message = stderr(&out);
    assert!(
        message.contains("invalid value 'tcsh'") && message.contains("bash, elvish, fish, powershell, zsh"),
        "{message}"
    );
    assert!(!env.data_dir().exists());
}

#[test]
fn man_prints_the_stockwatch_page_without_a_backend() {
    let env = Env::new();
    // An AWS backend with no account or bucket: the page needs neither.
    let page = generated(&env, &["--backend", "aws", "man"]);
    assert!(page.starts_with(".ie") || page.starts_with(".TH"), "{page}");
    assert!(page.contains(".TH stockwatch 1"), "{page}");
    assert!(page.contains(".SH SYNOPSIS"), "{page}");
    assert!(page.contains("Exit codes:"), "{page}");
    for command in COMMANDS {
        assert!(
            page.contains(&format!("stockwatch\\-{command}(1)")),
            "`{command}` is not in the page:\n{page}"
        );
    }
}

#[test]
fn man_out_writes_a_page_per_command() {
    let env = Env::new();
    let dir = env.dir.path().join("man/man1");
    let listing = generated(&env, &["man", "--out", dir.to_str().unwrap()]);
    let root = std::fs::read_to_string(dir.join("stockwatch.1")).unwrap();
    assert!(root.contains(".TH stockwatch 1"), "{root}");
    let upload = std::fs::read_to_string(dir.join("stockwatch-upload.1")).unwrap();
    assert!(upload.contains(".TH stockwatch-upload 1"), "{upload}");
    assert!(
        upload.contains("\\fBstockwatch upload\\fR"),
        "the synopsis is the command as typed:\n{upload}"
    );
    assert!(upload.contains("\\-\\-as\\-of"), "{upload}");
    assert!(
        upload.contains("\\-\\-data\\-dir"),
        "global flags are on every page:\n{upload}"
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut expected: Vec<String> = COMMANDS.iter().map(|c| format!("stockwatch-{c}.1")).collect();
    expected.push("stockwatch.1".into());
    // A command with subcommands has a page for each too.
    expected.extend(["add", "list", "remove"].map(|a| format!("stockwatch-users-{a}.1")));
    expected.sort();
    assert_eq!(names, expected, "no page for clap's `help`, one for every command");
    assert_eq!(listing.lines().count(), expected.len(), "{listing}");
    assert!(listing.contains("stockwatch-upload.1"), "{listing}");
}

#[test]
fn a_snoozed_store_is_shown_snoozed_and_not_notified_until_unsnoozed() {
    let env = Env::new();
    let out = env.run(&["snooze", "--store", "Berlin", "--for", "2h", "--note", "stocktaking"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("snoozed Berlin until"), "{}", stdout(&out));
    assert!(env.run(&["upload", "samples/inventory-berlin.csv"]).status.success());
    assert!(env.outbox().is_empty(), "Berlin's OUT alert was not notified");
    let alerts = env.json(&["alerts", "--json"]);
    assert_eq!(alerts[0]["store"], "Berlin");
    assert_eq!(alerts[0]["snoozed"]["by"], "tester", "{alerts}");
    let listed = stdout(&env.run(&["alerts"]));
    assert!(listed.contains("snoozed by tester until"), "{listed}");
    assert!(env.run(&["unsnooze", "--store", "Berlin"]).status.success());
    let again = env.run(&["unsnooze", "--store", "Berlin"]);
    assert_eq!(again.status.code(), Some(4), "not snoozed any more: {}", stderr(&again));
    let wrong = env.run(&["snooze", "--store", "Berlin", "--for", "soon"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(stderr(&wrong).contains("not a duration"), "{}", stderr(&wrong));
}

/// With STOCKWATCH_RENOTIFY_AFTER=2s, an OUT alert nobody acknowledged is
/// notified again once per interval, however many checkers run (two
/// `watch`es and a `check` here), and no more after `ack`.
#[test]
fn an_unacknowledged_alert_is_reminded_once_per_interval_until_acknowledged() {
    let env = Env::new();
    assert!(env.run(&["upload", "samples/inventory-berlin.csv"]).status.success());
    let first = env.outbox();
    assert_eq!(first.len(), 1, "{first:?}");
    let watch = || {
        env.cmd()
            .env("STOCKWATCH_RENOTIFY_AFTER", "2s")
            .args(["watch", "--json"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut watches = [watch(), watch()];
    std::thread::sleep(std::time::Duration::from_millis(4500));
    let check = env
        .cmd()
        .env("STOCKWATCH_RENOTIFY_AFTER", "2s")
        .arg("check")
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stderr(&check));
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let reminders: Vec<serde_json::Value> = env.outbox().into_iter().filter(|m| m["reminder"] == true).collect();
    // Sent about 2, 4 and 6 s after the alert's message (give or take a
    // poll): never two within one interval, whoever sent them.
    assert!((2..=3).contains(&reminders.len()), "{reminders:?}");
    let millis = |v: &serde_json::Value| {
        serde_json::from_value::<stockwatch_domain::Timestamp>(v["sent_at"].clone())
            .unwrap()
            .0
    };
    let mut last = millis(&first[0]);
    for reminder in &reminders {
        let at = millis(reminder);
        assert!(at - last >= 2000, "a reminder {} ms after the last message", at - last);
        last = at;
        let text = reminder["message"].as_str().unwrap();
        assert!(
            text.starts_with("Berlin is still out of stock after ") && text.ends_with(" s, unacknowledged: Echo Plus"),
            "{text}"
        );
        assert_eq!(reminder["subject"], "Inventory Alert! (reminder)");
        assert_eq!(reminder["alert_ids"], serde_json::json!(["1"]));
    }
    let listed = stdout(&env.run(&["alerts"]));
    assert!(listed.contains("(reminded "), "`alerts` says it was reminded: {listed}");
    assert!(env.run(&["ack", "1"]).status.success());
    let acknowledged = env.outbox().len();
    std::thread::sleep(std::time::Duration::from_millis(4500));
    for watch in &mut watches {
        watch.kill().unwrap();
        watch.wait().unwrap();
    }
    assert_eq!(
        env.outbox().len(),
        acknowledged,
        "no reminder after the acknowledgement"
    );
}

/// The storm guard on the file that once sent 16,677 messages: a million
/// rows in 10,000 stores, uploaded in one command, send one summary that
/// carries every OUT alert.
#[test]
fn a_million_row_file_sends_one_summary() {
    let env = Env::new();
    let path = env.dir.path().join("inventory-all.csv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    use std::io::Write;
    writeln!(file, "store,item,count").unwrap();
    let (mut out, mut stores_out) = (0u64, 0u64);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for s in 0..10_000 {
        let mut store_out = false;
        for i in 0..100 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let count = if seed.is_multiple_of(60) { 0 } else { seed % 50 + 1 };
            if count == 0 {
                out += 1;
                store_out = true;
            }
            writeln!(file, "Store {s:05},Item {i:03},{count}").unwrap();
        }
        stores_out += u64::from(store_out);
    }
    file.flush().unwrap();
    drop(file);
    let uploaded = env.run(&["upload", path.to_str().unwrap()]);
    assert!(uploaded.status.success(), "{}", stderr(&uploaded));
    let outbox = env.outbox();
    assert_eq!(outbox.len(), 1, "one summary, not {} messages", outbox.len());
    let thousands = |n: u64| stockwatch_domain::import::thousands(n);
    assert_eq!(
        outbox[0]["message"],
        format!(
            "{} stores report {} items out of stock (file inventory-all.csv); see stockwatch alerts",
            thousands(stores_out),
            thousands(out)
        )
    );
    assert_eq!(
        outbox[0]["alert_ids"].as_array().unwrap().len() as u64,
        out,
        "every OUT alert carried"
    );
}

/// Numbers that mean nothing are refused as usage errors, not listed as
/// "nothing found".
#[test]
fn soon_days_and_upload_limits_must_mean_something() {
    let env = Env::new();
    for days in ["NaN", "-1", "-inf", "inf", "soon"] {
        let out = env.run(&["stock", &format!("--soon={days}")]);
        assert_eq!(out.status.code(), Some(2), "--soon={days}: {}", stderr(&out));
        assert!(stderr(&out).contains("is not a number of days"), "{}", stderr(&out));
    }
    assert!(env.run(&["stock", "--soon=1.5"]).status.success());
    let out = env.run(&["uploads", "--limit", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!stdout(&out).contains("Nothing uploaded yet"), "{}", stdout(&out));
}

/// Spans, as-of times and durations outside their range are refused at
/// once with a sentence, never looped over or wrapped to 1970.
#[test]
fn times_out_of_range_are_refused_at_once() {
    let env = Env::new();
    assert!(upload(&env, &samples(), &[]).status.success());
    let started = std::time::Instant::now();
    for (args, said) in [
        (
            &["upload", "--spread=1000000000d", "samples/inventory-berlin.csv"][..],
            "longer than",
        ),
        (
            &[
                "upload",
                "--spread=1d",
                "--as-of",
                "1969-12-31T00:00:00Z",
                "samples/inventory-berlin.csv",
            ][..],
            "before 2000-01-01",
        ),
        (
            &[
                "history",
                "--store",
                "Berlin",
                "--item",
                "Echo Dot",
                "--since",
                "9999999999d",
            ][..],
            "longer than a hundred years",
        ),
        (
            &["snooze", "--store", "Berlin", "--for", "99999999999d"][..],
            "longer than",
        ),
        (
            &["snooze", "--store", "Berlin", "--for", "400d"][..],
            "longer than a year",
        ),
    ] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(said), "{args:?}: {}", stderr(&out));
    }
    // Enough files a year apart that the first would be before 2000, whatever today is.
    let years =
        (stockwatch_domain::Timestamp::now().0 - stockwatch_domain::time::EARLIEST_AS_OF_MS) / (366 * 86_400_000);
    let mut args = vec!["upload".to_string(), "--spread=366d".into()];
    args.extend((0..years + 2).map(|_| "samples/inventory-berlin.csv".to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.run(&args);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("before 2000-01-01"), "{}", stderr(&out));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        env.json(&["uploads", "--json"]).as_array().unwrap().len(),
        6,
        "nothing more was uploaded"
    );
}

/// What a killed upload left (its staging copy) and a refused one left (an
/// empty upload folder) are gone after the next command opens the data dir.
#[test]
fn leftovers_of_stopped_uploads_are_removed_by_the_next_run() {
    let env = Env::new();
    assert!(upload(&env, &samples(), &[]).status.success());
    let staging = env.data_dir().join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    // No process has this id (above Linux's largest).
    let copy = staging.join("upload-4294967-1764460800000000000");
    std::fs::write(&copy, "store,item,count\n").unwrap();
    let empty = env.data_dir().join("bucket/uploads/20261130-120000.000-1");
    std::fs::create_dir_all(&empty).unwrap();
    let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::open(&empty).unwrap().set_modified(long_ago).unwrap();
    assert!(env.run(&["stock"]).status.success());
    assert!(!copy.exists(), "the staging copy is removed");
    assert!(!empty.exists(), "the empty upload folder is removed");
    assert_eq!(
        env.json(&["uploads", "--json"]).as_array().unwrap().len(),
        6,
        "the uploads stay"
    );
}

#[test]
fn a_backlog_check_does_not_notify_an_outage_that_already_ended() {
    let env = Env::new();
    let berlin = vec!["samples/inventory-berlin.csv".to_string()];
    assert!(upload(&env, &berlin, &["--no-check"]).status.success());
    let later = env.dir.path().join("later.csv");
    std::fs::write(&later, "store,item,count\nBerlin,Echo Plus,27\n").unwrap();
    assert!(
        upload(&env, &[later.to_string_lossy().into_owned()], &["--no-check"])
            .status
            .success()
    );
    let out = env.run(&["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("1 alerts raised, 1 resolved"), "{}", stdout(&out));
    assert!(env.outbox().is_empty(), "told of an ended outage: {:?}", env.outbox());
    let alerts = env.json(&["alerts", "--all", "--json"]);
    assert_eq!(alerts[0]["item"], "Echo Plus");
    assert_eq!(alerts[0]["state"], "resolved", "recorded, resolved");
}

#[test]
fn a_killed_upload_is_resumed_at_once_by_the_next_process() {
    let env = Env::new();
    let big = env.dir.path().join("big.csv");
    let rows: String = (0..200_000)
        .map(|i| format!("Store{},Item {i},{}\n", i % 40, i % 9))
        .collect();
    std::fs::write(&big, format!("store,item,count\n{rows}")).unwrap();
    let mut upload = env
        .cmd()
        .args(["upload", "--no-check"])
        .arg(&big)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed while it loads (the default five-minute lease is running).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "the upload never started loading");
        assert!(
            upload.try_wait().unwrap().is_none(),
            "the upload finished before it was killed"
        );
        let uploads = env.json(&["uploads", "--json"]);
        if uploads[0]["loading_until"].is_number() || uploads[0]["loading_until"].is_string() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    unsafe { libc::kill(upload.id() as i32, libc::SIGKILL) };
    upload.wait().unwrap();
    let uploads = env.json(&["uploads", "--json"]);
    assert_eq!(uploads[0]["status"], "received", "killed mid-load: {uploads}");
    // Said as stopped at once, not "loading" until the lease ends.
    let listed = env.run(&["uploads"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("stopped (resumed by the next check)") && !listed.contains("loading"),
        "{listed}"
    );

    let started = Instant::now();
    let out = env.run(&["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let uploads = env.json(&["uploads", "--json"]);
    assert_eq!(
        uploads[0]["status"], "loaded",
        "resumed now, not after the lease: {uploads}"
    );
    assert_eq!(uploads[0]["report"]["resumed"], true);
    assert_eq!(uploads[0]["report"]["rows"], 200_000);
    assert!(started.elapsed() < Duration::from_secs(120));
}

#[test]
fn a_watch_whose_data_dir_was_replaced_says_so_and_exits() {
    let env = Env::new();
    assert!(env.run(&["provision"]).status.success());
    let mut watch = watching(&env, Stdio::piped());
    assert!(
        upload(&env, &["samples/inventory-berlin.csv".to_string()], &["--no-check"])
            .status
            .success()
    );
    let mut reader = BufReader::new(watch.stdout.take().unwrap());
    let events = read_events(&mut reader, Instant::now() + Duration::from_secs(20), |events| {
        events.iter().any(|e| e["type"] == "change")
    });
    assert!(!events.is_empty(), "the watch follows the first data dir");
    // Restored from a backup by `mv`: a new database where the old one was.
    let data = env.data_dir();
    std::fs::rename(&data, env.dir.path().join("data.old")).unwrap();
    assert!(env.run(&["provision"]).status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = watch.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            watch.kill().unwrap();
            panic!("the watch went on reading the database that was moved away");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut said = String::new();
    std::io::Read::read_to_string(&mut watch.stderr.take().unwrap(), &mut said).unwrap();
    assert_eq!(status.code(), Some(1), "{said}");
    assert!(said.contains("was removed or replaced"), "{said}");
    assert!(
        said.contains(&data.join("stockwatch.db").display().to_string()),
        "{said}"
    );
}

#[test]
fn an_upload_says_which_data_dir_it_went_into() {
    let env = Env::new();
    let out = upload(&env, &["samples/inventory-berlin.csv".to_string()], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    let into = format!("into local: {}", env.data_dir().display());
    assert!(said.lines().any(|l| l == into), "{said}");
}
