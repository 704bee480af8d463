//! History: every change of an item's count with its as-of time, kept by
//! whoever reads the feed (locally the change log already is it).

use super::pipeline::all_alerts;
use bytes::Bytes;
use stockwatch_core::pipeline::{Checker, CheckerConfig, Loader};
use stockwatch_core::ports::*;
use stockwatch_domain::Timestamp;

const DAY: i64 = 86_400_000;

async fn load(b: &Ports, name: &str, text: &str, as_of: i64) {
    Loader::new(b.clone())
        .upload(name, Bytes::from(text.to_string()), Some(Timestamp(as_of)), None)
        .await
        .unwrap();
}

fn counts(points: &[HistoryPoint]) -> Vec<(i64, u32)> {
    points.iter().map(|p| (p.as_of.0, p.count)).collect()
}

pub async fn history_keeps_each_count_of_an_item_in_as_of_order(b: &Ports) {
    let now = Timestamp::now().0 - 10 * DAY;
    let checker = Checker::new(b.clone(), CheckerConfig::default());
    for (day, dot, plus) in [(0, 20, 9), (1, 14, 9), (2, 9, 7), (3, 30, 7)] {
        let text = format!("store,item,count\nBerlin,Echo Dot,{dot}\nBerlin,Echo Plus,{plus}\n");
        load(b, &format!("berlin-day{day}.csv"), &text, now + day * DAY).await;
        // On AWS the history is written by whoever reads the stream.
        checker.run_once().await.unwrap();
    }
    let dot = b.history.points("Berlin", "Echo Dot", Timestamp(0)).await.unwrap();
    assert_eq!(
        counts(&dot),
        vec![(now, 20), (now + DAY, 14), (now + 2 * DAY, 9), (now + 3 * DAY, 30)]
    );
    assert!(dot[2].source.ends_with("berlin-day2.csv"), "{:?}", dot[2].source);

    // Since a time: the points as of it or later.
    let recent = b
        .history
        .points("Berlin", "Echo Dot", Timestamp(now + 2 * DAY))
        .await
        .unwrap();
    assert_eq!(counts(&recent), vec![(now + 2 * DAY, 9), (now + 3 * DAY, 30)]);

    // Many items at once, in the order asked; an unknown one has none.
    let many = b
        .history
        .points_of(
            &[
                ("Berlin".into(), "Echo Plus".into()),
                ("Nowhere".into(), "Echo Dot".into()),
                ("Berlin".into(), "Echo Dot".into()),
            ],
            Timestamp(now + DAY),
        )
        .await
        .unwrap();
    // Echo Plus's count changed only on day 2; loading day 1's 9 again moved its as-of.
    assert_eq!(
        counts(&many[0]),
        vec![(now + DAY, 9), (now + 2 * DAY, 7), (now + 3 * DAY, 7)]
    );
    assert!(many[1].is_empty());
    assert_eq!(many[2].len(), 3);
    // In table order (as a page of the table asks), the same answers.
    let sorted: Vec<(String, String)> = [("Berlin", "Echo Dot"), ("Berlin", "Echo Plus"), ("Berlin", "Echo Show")]
        .map(|(s, i)| (s.to_string(), i.to_string()))
        .to_vec();
    let in_order = b.history.points_of_page(&sorted, Timestamp(now + DAY)).await.unwrap();
    assert_eq!(in_order, vec![many[2].clone(), many[0].clone(), Vec::new()]);
}

pub async fn recording_a_change_again_changes_nothing(b: &Ports) {
    let now = Timestamp::now().0 - DAY;
    load(b, "hamburg.csv", "store,item,count\nHamburg,Kindle,5\n", now).await;
    let changes = b.feed.read(None, 100).await.unwrap().changes;
    b.history.record(&changes).await.unwrap();
    b.history.record(&changes).await.unwrap();
    let points = b.history.points("Hamburg", "Kindle", Timestamp(0)).await.unwrap();
    assert_eq!(counts(&points), vec![(now, 5)]);
}

/// Ten a day sold from 60: four days left on day 2, three on day 3 (the
/// default horizon): SOON once, not again on day 4, resolved by the restock
/// on day 5. An item already LOW gets its LOW alert, never also SOON.
pub async fn soon_is_raised_once_as_the_run_out_nears_and_resolved_by_a_restock(b: &Ports) {
    let (b, sent) = super::counting(b);
    let start = Timestamp::now().0 - 10 * DAY;
    let notifying = Checker::new(
        b.clone(),
        CheckerConfig {
            notify_soon: true,
            ..CheckerConfig::default()
        },
    );
    let soon_alerts = || async {
        let all = all_alerts(&b).await;
        all.into_iter()
            .filter(|a| a.kind == stockwatch_domain::AlertKind::Soon)
            .collect::<Vec<_>>()
    };
    let days = [(60, 5), (50, 4), (40, 4), (30, 3), (20, 3), (100, 2)];
    let mut raised_on = Vec::new();
    for (day, (dot, plus)) in days.into_iter().enumerate() {
        let text = format!("store,item,count\nBerlin,Echo Dot,{dot}\nBerlin,Echo Plus,{plus}\n");
        load(&b, &format!("berlin-{day}.csv"), &text, start + day as i64 * DAY).await;
        notifying.run_once().await.unwrap();
        raised_on.push(soon_alerts().await.len());
    }
    assert_eq!(raised_on, [0, 0, 0, 1, 1, 1], "SOON raised on day 3 only");
    let soon = soon_alerts().await.remove(0);
    assert_eq!(
        (soon.store.as_str(), soon.item.as_str(), soon.count),
        ("Berlin", "Echo Dot", 30)
    );
    assert_eq!(
        soon.state,
        stockwatch_domain::AlertState::Resolved,
        "the restock resolved it"
    );
    assert!(soon.published_at.is_some(), "notify_soon: it was sent");
    // Echo Plus: selling one every two days, never within three days of
    // running out while above its threshold; LOW on day 3 (3 left), no SOON.
    let all = all_alerts(&b).await;
    let plus: Vec<_> = all.iter().filter(|a| a.item == "Echo Plus").map(|a| a.kind).collect();
    assert_eq!(plus, [stockwatch_domain::AlertKind::Low]);
    // Sent: the SOON alert (LOW is not notified by default).
    assert_eq!(sent.sent.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// Four a day sold: SOON on day 2 (three days left); on day 4 the item is
/// LOW, and the LOW alert takes over: the SOON one is resolved, as is what
/// else was open only by the time the stock comes back.
pub async fn a_low_alert_takes_over_from_soon(b: &Ports) {
    let start = Timestamp::now().0 - 10 * DAY;
    let checker = Checker::new(b.clone(), CheckerConfig::default());
    for (day, count) in [20, 16, 12, 8, 3].into_iter().enumerate() {
        let text = format!("store,item,count\nBerlin,Echo Show,{count}\n");
        load(b, &format!("show-{day}.csv"), &text, start + day as i64 * DAY).await;
        checker.run_once().await.unwrap();
    }
    let mut alerts: Vec<(stockwatch_domain::AlertKind, stockwatch_domain::AlertState, u32)> = all_alerts(b)
        .await
        .into_iter()
        .map(|a| (a.kind, a.state, a.count))
        .collect();
    alerts.sort_by_key(|a| a.2);
    use stockwatch_domain::{AlertKind::*, AlertState::*};
    assert_eq!(
        alerts,
        [(Low, Open, 3), (Soon, Resolved, 12)],
        "one SOON, then LOW instead"
    );
}

/// Back files loaded after newer ones: the table keeps the newest count,
/// the history every snapshot; in either order, the same points. Many
/// items at once (a page's read) and one at a time agree.
pub async fn back_files_loaded_in_any_order_give_the_same_history(b: &Ports) {
    let start = Timestamp::now().0 - 20 * DAY;
    let checker = Checker::new(b.clone(), CheckerConfig::default());
    let counts_by_day = [40, 36, 36, 29, 20, 55];
    let mut days: Vec<usize> = (0..counts_by_day.len()).collect();
    // Forward for Echo Dot, newest first for Echo Show, shuffled for Echo Plus.
    for (item, order) in [
        ("Echo Dot", days.clone()),
        ("Echo Show", days.iter().rev().copied().collect()),
        ("Echo Plus", {
            days.swap(0, 4);
            days.swap(1, 5);
            days.clone()
        }),
    ] {
        for day in order {
            let text = format!("store,item,count\nBerlin,{item},{}\n", counts_by_day[day]);
            load(b, &format!("berlin-{day}.csv"), &text, start + day as i64 * DAY).await;
            checker.run_once().await.unwrap();
        }
    }
    let expected: Vec<(i64, u32)> = counts_by_day
        .iter()
        .enumerate()
        .map(|(day, &count)| (start + day as i64 * DAY, count))
        .collect();
    for item in ["Echo Dot", "Echo Show", "Echo Plus"] {
        let points = b.history.points("Berlin", item, Timestamp(0)).await.unwrap();
        assert_eq!(counts(&points), expected, "{item}");
    }
    let items: Vec<(String, String)> = ["Echo Dot", "Echo Plus", "Echo Show"]
        .iter()
        .map(|item| ("Berlin".to_string(), item.to_string()))
        .collect();
    for points in b.history.points_of(&items, Timestamp(0)).await.unwrap() {
        assert_eq!(counts(&points), expected);
    }
    // The table holds the newest snapshot's count, whatever the order.
    let rows = b.table.scan(&StockFilter::default(), None, 10).await.unwrap().items;
    assert!(
        rows.iter().all(|r| r.count == 55 && r.as_of.0 == start + 5 * DAY),
        "{rows:?}"
    );
    // Loading a back file again adds no point.
    load(b, "again.csv", "store,item,count\nBerlin,Echo Dot,36\n", start + DAY).await;
    let points = b.history.points("Berlin", "Echo Dot", Timestamp(0)).await.unwrap();
    assert_eq!(counts(&points), expected);
}
