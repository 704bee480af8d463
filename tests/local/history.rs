//! History and forecasts through the real binary: the two weeks of sample
//! snapshots loaded with `--spread`, `history`, and `stock`'s forecasts.

use stockwatch_testkit as common;

use common::{Env, stderr, stdout};
use serde_json::Value;

const DAY_MS: i64 = 86_400_000;

fn history_samples() -> Vec<String> {
    (1..=14).map(|d| format!("samples/history/day-{d:02}.csv")).collect()
}

fn load_history_samples(env: &Env) {
    let mut args = vec!["upload", "--spread", "1d"];
    let files = history_samples();
    args.extend(files.iter().map(String::as_str));
    let out = env.run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The count of `store,item` in a sample file.
fn sample_count(file: &str, store: &str, item: &str) -> u64 {
    let text = std::fs::read_to_string(common::repo().join(file)).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{store},{item},")))
        .unwrap()
        .parse()
        .unwrap()
}

fn millis(v: &Value) -> i64 {
    stockwatch_domain::Timestamp::parse_rfc3339(v.as_str().unwrap())
        .unwrap()
        .0
}

#[test]
fn the_history_samples_load_as_two_weeks_of_daily_points() {
    let env = Env::new();
    load_history_samples(&env);
    let points = env.json(&["history", "--store", "Berlin", "--item", "Echo Dot", "--json"]);
    let points = points.as_array().unwrap();
    assert_eq!(points.len(), 14, "{points:?}");
    for (day, point) in points.iter().enumerate() {
        let file = &history_samples()[day];
        assert_eq!(
            point["count"],
            sample_count(file, "Berlin", "Echo Dot"),
            "day {}",
            day + 1
        );
        assert!(
            point["source"]
                .as_str()
                .unwrap()
                .ends_with(&file["samples/history/".len()..])
        );
        if day > 0 {
            assert_eq!(millis(&point["as_of"]) - millis(&points[day - 1]["as_of"]), DAY_MS);
        }
    }
    let now = stockwatch_domain::Timestamp::now().0;
    assert!(
        (now - millis(&points[13]["as_of"])).abs() < 60_000,
        "the last file is as of now"
    );

    // The table: each change, the restock as a rise, and the forecast.
    let out = env.run(&["history", "--store", "Berlin", "--item", "Echo Dot"]);
    let text = stdout(&out);
    assert!(text.contains("+25"), "the restock on day 9: {text}");
    assert!(text.contains("Sells 3.0 a day (last 14 days): 4.0 days left"), "{text}");

    // Since: only the recent points.
    let recent = env.json(&[
        "history", "--store", "Berlin", "--item", "Echo Dot", "--since", "3d", "--json",
    ]);
    assert_eq!(recent.as_array().unwrap().len(), 3, "{recent}");
}

#[test]
fn stock_says_each_items_rate_and_days_left_and_soon_lists_the_most_urgent_first() {
    let env = Env::new();
    load_history_samples(&env);
    let rows = env.json(&["stock", "--json"]);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 36);
    for row in rows {
        let count = row["count"].as_f64().unwrap();
        match (row["rate_per_day"].as_f64(), row["days_left"].as_f64()) {
            (Some(rate), Some(days)) => {
                assert!(rate > 0.0);
                assert!((rate * days - count).abs() <= 0.05 * count.max(1.0), "{row}");
                assert!(row["runs_out_at"].is_string());
            }
            (None, None) => assert!(row["runs_out_at"].is_null(), "{row}"),
            _ => panic!("rate and days left come together: {row}"),
        }
    }
    let dot = rows
        .iter()
        .find(|r| r["store"] == "Berlin" && r["item"] == "Echo Dot")
        .unwrap();
    assert_eq!(
        (dot["rate_per_day"].as_f64(), dot["days_left"].as_f64()),
        (Some(3.0), Some(4.0))
    );

    // Within 3 days (the default), soonest first, none already out.
    let soon = env.json(&["stock", "--soon", "--json"]);
    let soon = soon.as_array().unwrap();
    assert!(!soon.is_empty());
    let days: Vec<f64> = soon.iter().map(|r| r["days_left"].as_f64().unwrap()).collect();
    assert!(days.windows(2).all(|w| w[0] <= w[1]), "{days:?}");
    assert!(days.iter().all(|&d| d <= 3.0), "{days:?}");
    assert!(soon.iter().all(|r| r["count"] != 0));
    let within = |n: &str| -> Vec<(String, String)> {
        env.json(&["stock", "--soon", n, "--json"])
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["store"].as_str().unwrap().into(), r["item"].as_str().unwrap().into()))
            .collect()
    };
    assert!(!within("3").contains(&("Berlin".into(), "Echo Dot".into())));
    assert!(within("5").contains(&("Berlin".into(), "Echo Dot".into())));
    let text = stdout(&env.run(&["stock", "--soon"]));
    assert!(text.contains("DAYS LEFT"), "{text}");
    // The checker raised SOON for items as their run-out came within three
    // days (shown, not notified: notify_soon is off).
    let alerts = env.json(&["alerts", "--all", "--json"]);
    let soon: Vec<&Value> = alerts
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "SOON")
        .collect();
    assert!(!soon.is_empty(), "{alerts}");
    assert!(soon.iter().all(|a| a["published_at"].is_null()), "{soon:?}");
}

#[test]
fn an_item_that_does_not_sell_has_no_forecast() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<String> = (0..3)
        .map(|d| {
            let path = dir.path().join(format!("day{d}.csv"));
            std::fs::write(
                &path,
                "store,item,count\nLyon,Kindle,40\nLyon,Echo,40\n".replace("Echo,40", &format!("Echo,{}", 40 - d * 10)),
            )
            .unwrap();
            path.to_string_lossy().into_owned()
        })
        .collect();
    let mut args = vec!["upload", "--spread", "1d"];
    args.extend(files.iter().map(String::as_str));
    assert!(env.run(&args).status.success());
    let rows = env.json(&["stock", "--json"]);
    let kindle = &rows[1];
    assert_eq!(kindle["item"], "Kindle");
    assert!(kindle["rate_per_day"].is_null() && kindle["days_left"].is_null() && kindle["runs_out_at"].is_null());
    assert_eq!(rows[0]["rate_per_day"], 10.0);
    assert_eq!(rows[0]["days_left"], 2.0);
}

/// The change log (the local history) keeps what was written within the
/// kept period: older records go when a checker next runs, and checking
/// goes on (alerts from them were raised first).
#[tokio::test]
async fn the_local_history_drops_what_is_older_than_the_kept_period() {
    use stockwatch_core::pipeline::{Checker, CheckerConfig, Loader};
    use stockwatch_local::LocalBackend;
    let dir = tempfile::tempdir().unwrap();
    let load = |ports: &stockwatch_core::ports::Ports, text: &'static str| {
        let loader = Loader::new(ports.clone());
        async move {
            loader
                .upload("lyon.csv", bytes::Bytes::from(text), None, None)
                .await
                .unwrap()
        }
    };
    let kept = LocalBackend::open(dir.path()).unwrap().ports;
    load(&kept, "store,item,count\nLyon,Kindle,0\n").await;
    Checker::new(kept.clone(), CheckerConfig::default())
        .run_once()
        .await
        .unwrap();
    let since = stockwatch_domain::Timestamp(0);
    assert_eq!(
        kept.history.points("Lyon", "Kindle", since).await.unwrap().len(),
        1,
        "90 days: kept"
    );

    // Kept for no time at all: the next checker drops the records it has
    // read (the one it reads now stays until its checkpoint passes it).
    let brief = LocalBackend::keeping_history(dir.path(), std::time::Duration::ZERO)
        .unwrap()
        .ports;
    load(&brief, "store,item,count\nLyon,Kindle,5\n").await;
    let report = Checker::new(brief.clone(), CheckerConfig::default())
        .run_once()
        .await
        .unwrap();
    assert!(report.raised.is_empty(), "a restock raises nothing");
    let left = brief.history.points("Lyon", "Kindle", since).await.unwrap();
    assert_eq!(left.iter().map(|p| p.count).collect::<Vec<_>>(), [5], "the 0 is gone");
    let rows = brief.feed.read(None, 10).await.unwrap();
    assert_eq!(rows.changes.len(), 1, "the change log keeps the last change only");
}

/// Dropping old change records never takes one a checker has yet to read
/// (its checkpoint bounds the drop); a follower whose place was dropped is
/// told of a gap once, and reads on from past it.
#[tokio::test]
async fn pruning_spares_what_a_checker_has_not_read_and_says_gap_to_a_follower() {
    use stockwatch_core::pipeline::{Checker, CheckerConfig, Loader};
    use stockwatch_core::ports::FeedCursor;
    use stockwatch_local::LocalBackend;
    let dir = tempfile::tempdir().unwrap();
    // Each "process" prunes once when its checker first records history.
    let process = || {
        LocalBackend::keeping_history(dir.path(), std::time::Duration::ZERO)
            .unwrap()
            .ports
    };
    let checker = |ports: &stockwatch_core::ports::Ports, name: &str| {
        Checker::new(
            ports.clone(),
            CheckerConfig {
                name: name.into(),
                ..CheckerConfig::default()
            },
        )
    };
    let load = |ports: stockwatch_core::ports::Ports, text: &'static str| async move {
        Loader::new(ports)
            .upload("lyon.csv", bytes::Bytes::from(text), None, None)
            .await
            .unwrap()
    };
    let first = process();
    load(first.clone(), "store,item,count\nLyon,Kindle,0\n").await; // change 1
    checker(&first, "slow").run_once().await.unwrap(); // reads 1; its checkpoint: 1
    load(first.clone(), "store,item,count\nLyon,Kindle,9\n").await; // change 2

    // Another process's checker reads 2 and prunes: not 2, which "slow" has not read.
    let second = process();
    checker(&second, "fast").run_once().await.unwrap();
    let after_one = second.feed.read(Some(&FeedCursor("1".into())), 10).await.unwrap();
    assert_eq!(after_one.changes.len(), 1, "change 2 is kept for the slow checker");
    assert!(!after_one.gap);

    // Once both have read it, a third process drops it; a follower still at 1 hears of a gap, once.
    checker(&first, "slow").run_once().await.unwrap();
    let third = process();
    load(third.clone(), "store,item,count\nLyon,Kindle,8\n").await; // change 3
    checker(&third, "fast").run_once().await.unwrap();
    let stale = third.feed.read(Some(&FeedCursor("1".into())), 10).await.unwrap();
    assert!(stale.gap, "the follower missed change 2");
    let next = third.feed.read(Some(&stale.cursor), 10).await.unwrap();
    assert!(!next.gap, "said once");
}

/// Many items in table order (a checker's page of a whole file) are read in
/// one walk of the index; the answer is the same as item by item.
#[tokio::test]
async fn reading_many_items_at_once_gives_each_its_own_points() {
    use stockwatch_core::pipeline::Loader;
    use stockwatch_domain::Timestamp;
    use stockwatch_local::LocalBackend;
    let dir = tempfile::tempdir().unwrap();
    let ports = LocalBackend::open(dir.path()).unwrap().ports;
    let day = 86_400_000;
    let start = Timestamp::now().0 - 5 * day;
    for d in 0..3 {
        let mut text = String::from("store,item,count\n");
        for i in 0..100 {
            text.push_str(&format!("Lyon,Item {i:03},{}\n", 100 + i - d * (i % 7)));
        }
        Loader::new(ports.clone())
            .upload(
                "lyon.csv",
                bytes::Bytes::from(text),
                Some(Timestamp(start + d as i64 * day)),
                None,
            )
            .await
            .unwrap();
    }
    let mut items: Vec<(String, String)> = (0..100).map(|i| ("Lyon".to_string(), format!("Item {i:03}"))).collect();
    let since = Timestamp(0);
    let at_once = ports.history.points_of(&items, since).await.unwrap();
    items.reverse(); // out of table order: item by item
    let mut one_by_one = ports.history.points_of(&items, since).await.unwrap();
    one_by_one.reverse();
    assert_eq!(at_once, one_by_one);
    // Item 003 sold 3 a day; item 007 nothing (its count never changed after day 0).
    let counts = |n: usize| at_once[n].iter().map(|p| p.count).collect::<Vec<_>>();
    assert_eq!(counts(3), [103, 100, 97]);
    assert_eq!(counts(7), [107, 107, 107]);
}

#[test]
fn back_files_loaded_after_the_samples_still_make_the_history() {
    // The README's order: today's samples first, then two weeks of back
    // files, thirteen of them older than what the table holds.
    let env = Env::new();
    let mut args = vec!["upload"];
    let samples = common::samples();
    args.extend(samples.iter().map(String::as_str));
    assert!(env.run(&args).status.success());
    let mut args = vec!["upload", "--spread", "1d"];
    let files = history_samples();
    args.extend(files.iter().map(String::as_str));
    let out = env.run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("older than the table (kept in the history)"),
        "{}",
        stdout(&out)
    );
    let points = env.json(&["history", "--store", "Berlin", "--item", "Echo Dot", "--json"]);
    let points = points.as_array().unwrap();
    // The fourteen days, and the sample's snapshot between day 13 and 14.
    assert_eq!(points.len(), 15, "{points:?}");
    for (day, file) in history_samples().iter().enumerate().take(13) {
        assert_eq!(
            points[day]["count"],
            sample_count(file, "Berlin", "Echo Dot"),
            "day {}",
            day + 1
        );
    }
    let out = env.run(&["history", "--store", "Berlin", "--item", "Echo Dot"]);
    assert!(stdout(&out).contains("days left"), "a forecast: {}", stdout(&out));
}
