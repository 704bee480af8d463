//! The real binary's console inside tmux: load a sample from outside, wait
//! for the red out-of-stock row, acknowledge the alert with the key, check
//! it through `stockwatch alerts --json`, quit and get the terminal back.

use stockwatch_testkit as common;

use common::Env;
use common::tmux::Tmux;
use std::process::Command;
use std::time::{Duration, Instant};

/// tmux writes red as SGR 31 or as colour 1 of the 256.
fn is_red(line: &str) -> bool {
    line.contains("\x1b[31m") || line.contains(";31m") || line.contains("38;5;1m")
}

#[test]
fn an_operator_sees_the_red_row_and_acknowledges_the_alert() {
    let env = Env::new();
    let tmux = Tmux::start(&env, 100, 30);
    tmux.wait_for("the empty console", false, |s| s.contains("No stock yet"));

    let upload = env.run(&["upload", "--no-check", "samples/inventory-berlin.csv"]);
    assert!(upload.status.success(), "{}", common::stderr(&upload));
    let started = Instant::now();
    let screen = tmux.wait_for("the red out-of-stock row", true, |s| {
        s.lines()
            .any(|l| l.contains("Echo Plus") && l.contains("OUT") && is_red(l))
    });
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the change took {:?} to show:\n{screen}",
        started.elapsed()
    );
    tmux.wait_for("the alert the console's checker raised", false, |s| {
        s.contains("Alerts (1 open")
    });

    tmux.keys(&["Tab", "Tab", "a"]);
    tmux.wait_for("the acknowledgement", false, |s| s.contains("acknowledged #1"));
    let alerts = env.json(&["alerts", "--json"]);
    assert_eq!(alerts[0]["state"], "acknowledged");
    assert_eq!(alerts[0]["acknowledged"]["by"], "tester");

    tmux.keys(&["q"]);
    let screen = tmux.wait_for("the console to exit", false, |s| s.contains("CONSOLE-EXITED"));
    assert!(screen.contains("CONSOLE-EXITED 0"), "{screen}");
    assert!(!screen.contains("Stores ("), "the alternate screen was left:\n{screen}");
}

#[test]
fn a_hangup_gives_the_terminal_back() {
    let env = Env::new();
    let tmux = Tmux::start(&env, 80, 24);
    tmux.wait_for("the console", false, |s| s.contains("Stores ("));
    // The pane runs a shell; the console is its child.
    let console = tmux
        .console_pid()
        .expect("the console under the pane's shell")
        .to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &console])
            .status()
            .unwrap()
            .success()
    );
    let screen = tmux.wait_for("the console to exit", false, |s| s.contains("CONSOLE-EXITED"));
    assert!(!screen.contains("Stores ("), "{screen}");
}

#[test]
fn an_idle_console_writes_nothing_and_a_second_console_sees_acknowledgements() {
    let env = Env::new();
    assert!(env.run(&["upload", "samples/inventory-pusan.csv"]).status.success());
    let first = Tmux::start(&env, 100, 30);
    let second = Tmux::start(&env, 100, 30);
    for console in [&first, &second] {
        console.wait_for("the loaded console", false, |s| s.contains("Alerts (2 open"));
    }
    // Everything the console program writes to its terminal, from now on.
    let written = env.dir.path().join("written");
    let pipe = format!("cat >> '{}'", written.display());
    assert!(
        Command::new("tmux")
            .args(["-L", &second.socket, "pipe-pane", "-t", "main", "-o", &pipe])
            .status()
            .unwrap()
            .success()
    );
    std::thread::sleep(Duration::from_secs(3));
    let idle = std::fs::metadata(&written).map_or(0, |m| m.len());
    assert_eq!(idle, 0, "the idle console wrote {idle} bytes in 3 s");

    first.keys(&["Tab", "Tab", "a"]);
    first.wait_for("the acknowledgement", false, |s| s.contains("acknowledged #"));
    let started = Instant::now();
    second.wait_for("the acknowledgement in the second console", false, |s| {
        s.contains("(1 open, 1 acknowledged)")
    });
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "it took {:?}",
        started.elapsed()
    );
    assert!(
        std::fs::metadata(&written).map_or(0, |m| m.len()) > 0,
        "the change was drawn"
    );
}

#[test]
fn the_file_pane_uploads_marked_files_and_shows_loads_and_rejections() {
    let env = Env::new();
    // The console starts in the repository (its working directory).
    let tmux = Tmux::start(&env, 140, 40);
    tmux.wait_for("the console", false, |s| s.contains("Stores ("));
    tmux.keys(&["f"]);
    tmux.wait_for("the file pane", false, |s| {
        s.contains("Files: ") && s.contains("samples/")
    });
    tmux.keys(&["/", "s", "a", "m", "p", "Enter", "Enter"]);
    tmux.wait_for("the samples", false, |s| s.contains("inventory-berlin.csv"));
    // history/ and invalid/ are first; Berlin and Calcutta come next.
    tmux.keys(&["j", "j"]);
    tmux.wait_for("Berlin's preview", false, |s| {
        s.contains("Preview: inventory-berlin.csv") && s.contains("would load: 6 rows")
    });
    tmux.keys(&["Space", "Space", "g", "j", "Enter"]);
    tmux.wait_for("the invalid files", false, |s| s.contains("bad-counts.csv"));
    tmux.keys(&["Space"]);
    tmux.wait_for("three marks", false, |s| s.contains("(3 marked)"));
    tmux.keys(&["u"]);
    let screen = tmux.wait_for("three results", false, |s| {
        s.matches("loaded 6 rows").count() == 2 && s.contains("REJECTED")
    });
    assert!(
        screen.contains("bad-counts.csv  REJECTED, 5 problems: line 2, column 3 (count): `4.5`"),
        "{screen}"
    );
    let stock = env.json(&["stock", "--json"]);
    let stores: std::collections::BTreeSet<String> = stock
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["store"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        stores,
        ["Berlin", "Calcutta"].map(String::from).into(),
        "two loads, the rejected file wrote nothing"
    );

    // The next console's file pane starts where this one was.
    tmux.keys(&["q"]);
    tmux.wait_for("the console to exit", false, |s| s.contains("CONSOLE-EXITED"));
    let again = Tmux::start(&env, 140, 40);
    again.wait_for("the console", false, |s| s.contains("Stores ("));
    again.keys(&["f"]);
    again.wait_for("the remembered directory", false, |s| {
        s.contains("samples/invalid") && s.contains("bad-counts.csv")
    });
}

/// Two weeks of sample snapshots, then the console: a store's items show
/// their trend and days left, `r` lists what runs out soon across stores,
/// and Enter on an item draws its history and forecast.
#[test]
fn the_console_shows_trends_days_left_and_the_forecast_chart() {
    let env = Env::new();
    let mut upload = vec!["upload", "--spread", "1d"];
    let files: Vec<String> = (1..=14).map(|d| format!("samples/history/day-{d:02}.csv")).collect();
    upload.extend(files.iter().map(String::as_str));
    let out = env.run(&upload);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let tmux = Tmux::start(&env, 160, 48);
    tmux.wait_for("the console", false, |s| s.contains("Stores (6)"));
    tmux.keys(&[
        ":", "s", "t", "o", "r", "e", "Space", "B", "e", "r", "l", "i", "n", "Enter",
    ]);
    let screen = tmux.wait_for("Berlin's trends and days left", false, |s| {
        s.contains("TREND") && s.lines().any(|l| l.contains("Echo Dot") && l.contains(" 4.0 "))
    });
    let dot = screen.lines().find(|l| l.contains("Echo Dot")).unwrap();
    assert!(dot.chars().filter(|c| ('▁'..='█').contains(c)).count() >= 13, "{dot}");
    tmux.keys(&["r"]);
    tmux.wait_for("the soon view", false, |s| s.contains("Runs out soon, every store"));
    tmux.keys(&[
        "Escape", ":", "s", "t", "o", "r", "e", "Space", "B", "e", "r", "l", "i", "n", "Enter",
    ]);
    tmux.keys(&["/", "D", "o", "t", "Enter", "Enter"]);
    tmux.wait_for("the detail view's forecast and chart", false, |s| {
        s.contains("sells 3.0 a day: 4.0 days left") && s.contains("last 14 days · forecast")
    });
    tmux.keys(&["Escape", "q"]);
    tmux.wait_for("the console to exit", false, |s| s.contains("CONSOLE-EXITED 0"));
}
