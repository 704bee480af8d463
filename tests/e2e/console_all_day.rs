//! The console as an operator keeps it all day, at 80×24 in tmux, the
//! real binary: with the six samples loaded every open alert is reachable
//! and every count is whole; with the alerts list scrolled, a new upload
//! says "new" and rings the bell (a BEL byte on the terminal); Enter on an
//! alert opens its item; quitting while an upload runs asks first.

use stockwatch_testkit as common;

use common::Env;
use common::tmux::Tmux;
use std::process::Command;
use std::time::Duration;

/// Loads the six sample files, checked (alerts raised).
fn samples_loaded() -> Env {
    let env = Env::new();
    let mut args = vec!["upload"];
    let samples = common::samples();
    args.extend(samples.iter().map(String::as_str));
    let out = env.run(&args);
    assert!(out.status.success(), "{}", common::stderr(&out));
    env
}

/// The open alerts the ledger holds, by id.
fn open_alerts(env: &Env) -> Vec<u64> {
    env.json(&["alerts", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["state"] == "open")
        .map(|a| a["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// Records everything the console writes to its terminal from now on.
fn record_output(env: &Env, tmux: &Tmux) -> std::path::PathBuf {
    let written = env.dir.path().join("written");
    let pipe = format!("cat >> '{}'", written.display());
    let status = Command::new("tmux")
        .args(["-L", &tmux.socket, "pipe-pane", "-t", "main", "-o", &pipe])
        .status()
        .unwrap();
    assert!(status.success());
    written
}

#[test]
fn at_80x24_every_open_alert_is_reachable_and_every_count_is_whole() {
    let env = samples_loaded();
    let open = open_alerts(&env);
    assert!(open.len() >= 9, "the samples raise at least nine alerts: {open:?}");
    let tmux = Tmux::start(&env, 80, 24);
    let title = format!("Alerts ({} open", open.len());
    let screen = tmux.wait_for("the alerts", false, |s| s.contains(&title));
    // The stock pane needs few rows: the alerts pane gets the rest, and
    // shows every open alert at once.
    for id in &open {
        assert!(screen.contains(&format!("#{id} ")), "#{id} is in view:\n{screen}");
    }
    // And each is reached by moving down the list.
    let mut seen: Vec<u64> = Vec::new();
    let mut screen = screen;
    tmux.keys(&["Tab", "Tab"]);
    for _ in 0..open.len() {
        for id in &open {
            if screen.contains(&format!("#{id} ")) && !seen.contains(id) {
                seen.push(*id);
            }
        }
        tmux.keys(&["j"]);
        screen = tmux.screen(false);
    }
    seen.sort_unstable();
    let mut expected = open.clone();
    expected.sort_unstable();
    assert_eq!(seen, expected, "every open alert was reachable");

    // Counts on screen are the table's, whole: each shown row's count.
    let stock = env.json(&["stock", "--json"]);
    let rows = stock.as_array().unwrap();
    let screen = tmux.screen(false);
    let mut checked = 0;
    for line in screen.lines() {
        // Pane borders, light or (the focused pane's) heavy.
        let Some(stock_part) = line.split(['│', '┃']).nth(3) else {
            continue;
        };
        for row in rows {
            let item = row["item"].as_str().unwrap();
            let cells: Vec<&str> = stock_part.split_whitespace().collect();
            if !stock_part.trim_start().starts_with(item) || cells.is_empty() {
                continue;
            }
            let words = item.split_whitespace().count();
            let shown = cells.get(words).copied().unwrap_or_default();
            let store_has_it = rows
                .iter()
                .any(|r| r["item"] == item && shown.parse::<u64>().ok() == r["count"].as_u64());
            assert!(store_has_it, "`{shown}` is not a whole count of {item}:\n{screen}");
            checked += 1;
            break;
        }
    }
    assert!(checked >= 3, "stock rows were checked ({checked}):\n{screen}");
}

#[test]
fn with_the_alerts_scrolled_a_new_upload_says_new_and_rings_the_bell() {
    let env = samples_loaded();
    let tmux = Tmux::start(&env, 80, 24);
    tmux.wait_for("the alerts", false, |s| s.contains("Alerts ("));
    tmux.keys(&["Tab", "Tab", "j", "j"]);
    let written = record_output(&env, &tmux);
    let file = env.dir.path().join("oslo.csv");
    std::fs::write(&file, "store,item,count\nOslo,Echo Dot,0\nOslo,Echo Show,0\n").unwrap();
    let out = env.run(&["upload", "--no-check", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    // The console's checker raises the two OUT alerts above the operator's place.
    let screen = tmux.wait_for("the new alerts", false, |s| s.contains("2 new ↑"));
    assert!(screen.contains(" 2 new "), "the status bar badge:\n{screen}");
    let bytes = std::fs::read(&written).unwrap_or_default();
    assert!(bytes.contains(&0x07), "a BEL byte was written ({} bytes)", bytes.len());

    // Jumping to the newest clears both.
    tmux.keys(&["g"]);
    tmux.wait_for("the newest in view", false, |s| {
        !s.contains("new ↑") && !s.contains(" 2 new ") && s.contains("Oslo / Echo")
    });
}

#[test]
fn enter_on_an_alert_opens_its_item() {
    let env = samples_loaded();
    let tmux = Tmux::start(&env, 80, 24);
    tmux.wait_for("the alerts", false, |s| s.contains("Alerts ("));
    tmux.keys(&["Tab", "Tab", "Enter"]);
    let newest = env
        .json(&["alerts", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|a| a["id"].as_str().unwrap().parse::<u64>().unwrap())
        .cloned()
        .unwrap();
    let (store, item) = (newest["store"].as_str().unwrap(), newest["item"].as_str().unwrap());
    let screen = tmux.wait_for("the item's detail", false, |s| {
        s.contains(&format!("{store} / {item}")) && s.contains("As of") && s.contains("File")
    });
    assert!(
        screen.contains(&format!("#{} OUT open", newest["id"].as_str().unwrap())),
        "{screen}"
    );
    tmux.keys(&["Escape"]);
    let screen = tmux.wait_for("the store's stock", false, |s| !s.contains("As of"));
    assert!(
        screen.contains(&format!("{store} (")),
        "the stock pane shows the store:\n{screen}"
    );
}

#[test]
fn quitting_during_an_upload_asks_first() {
    let env = Env::new();
    // A file big enough to still be uploading when q is pressed.
    let folder = env.dir.path().join("incoming");
    std::fs::create_dir(&folder).unwrap();
    let mut text = String::from("store,item,count\n");
    // Counts above the LOW threshold: the load is all there is to wait for.
    for i in 0..300_000 {
        text.push_str(&format!("Store {},item {i},{}\n", i % 50, 10 + i % 7));
    }
    std::fs::write(folder.join("big.csv"), text).unwrap();
    let tmux = Tmux::start(&env, 80, 24);
    tmux.wait_for("the console", false, |s| s.contains("Stores ("));
    tmux.keys(&[":"]);
    for key in format!("cd {}", folder.display()).chars() {
        let status = Command::new("tmux")
            .args(["-L", &tmux.socket, "send-keys", "-t", "main", "-l", &key.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
    tmux.keys(&["Enter"]);
    tmux.wait_for("the folder", false, |s| s.contains("big.csv"));
    tmux.keys(&["u", "q"]);
    let screen = tmux.wait_for("the question", false, |s| s.contains("Quit and stop them?"));
    assert!(screen.contains("1 upload still running"), "{screen}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("the load to finish", false, |s| {
        s.contains("1 file loaded") || s.contains("loaded 300,000 rows")
    });
    std::thread::sleep(Duration::from_millis(300));
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("the console to exit", false, |s| s.contains("CONSOLE-EXITED"));
    assert!(screen.contains("CONSOLE-EXITED 0"), "{screen}");
    let uploads = env.json(&["uploads", "--json"]);
    assert_eq!(uploads[0]["status"], "loaded", "nothing was lost: {uploads}");
}
