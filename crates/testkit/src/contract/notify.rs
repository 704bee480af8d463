//! How alerts are sent, over the backend: grouping windows across small
//! batches, and reminders of alerts nobody acknowledged.

use bytes::Bytes;
use std::time::Duration;
use stockwatch_core::pipeline::{CheckReport, Checker, CheckerConfig, Loader};
use stockwatch_core::ports::*;
use stockwatch_domain::{Acknowledgement, Alert, AlertId, AlertKind, Message, Snooze, Timestamp};

async fn open_alerts(b: &Ports) -> Vec<Alert> {
    let filter = &AlertFilter::default();
    all_pages(|page| async move { b.ledger.list(filter, page.as_ref(), 500).await })
        .await
        .unwrap()
}

async fn upload(b: &Ports, name: &str, file: &str) {
    let outcome = Loader::new(b.clone())
        .upload(name, Bytes::from(file.to_string()), None, None)
        .await
        .unwrap();
    assert!(outcome.is_loaded(), "{name} was not loaded");
}

fn configured(b: &Ports, name: &str, change: impl FnOnce(&mut CheckerConfig)) -> Checker {
    let mut config = CheckerConfig {
        name: name.into(),
        ..CheckerConfig::default()
    };
    change(&mut config);
    Checker::new(b.clone(), config)
}

/// With a grouping window (the function's, a relay's), what many small
/// batches raise is held, then sent together once no new alert came for
/// the window: one message per store, each alert in exactly one.
pub async fn a_grouping_window_sends_many_batches_as_one_message_per_store(b: &Ports) {
    let (b, recorded) = super::recording(b);
    let mut file = String::from("store,item,count\n");
    for i in 0..30 {
        let store = ["Berlin", "Pusan", "Lima"][i % 3];
        file.push_str(&format!("{store},Item {i},{}\n", if i % 4 == 0 { 0 } else { 9 }));
    }
    upload(&b, "window.csv", &file).await;
    let page = b.feed.read(None, 1000).await.unwrap();
    assert_eq!(page.changes.len(), 30);
    // Long beside the time the 30 batches take on a loaded machine (moto,
    // one request a change: over 1.2 s under a full test run), so the
    // window is still open when the first sweep looks.
    let wait = Duration::from_millis(3000);
    let function = configured(&b, "function", |c| c.group_wait = wait);
    let mut report = CheckReport::default();
    for change in &page.changes {
        function
            .process(std::slice::from_ref(change), &mut report)
            .await
            .unwrap();
    }
    assert_eq!(report.held, 8, "items 0, 4, … 28 are out: held, not sent");
    assert!(recorded.sent.lock().unwrap().is_empty(), "nothing sent per batch");
    function.sweep_now().await.unwrap();
    assert!(
        recorded.sent.lock().unwrap().is_empty(),
        "the window is still open: its newest alert is younger than the wait"
    );

    tokio::time::sleep(wait + Duration::from_millis(300)).await;
    // Any instance's sweep sends the closed window (another's, here).
    let sweep = configured(&b, "another-instance", |c| c.group_wait = wait)
        .sweep_now()
        .await
        .unwrap();
    assert_eq!(sweep.published, 8);
    let sent = recorded.sent.lock().unwrap().clone();
    // Per store, its items (in the order the feed brought them).
    let mut said: Vec<(String, Vec<String>)> = sent
        .iter()
        .map(|m| {
            let (head, items) = m.text.split_once(": ").unwrap();
            let mut items: Vec<String> = items.split(", ").map(String::from).collect();
            items.sort();
            (head.to_string(), items)
        })
        .collect();
    said.sort();
    let items = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    assert_eq!(
        said,
        [
            (
                "Berlin is out of stock of 3 items".to_string(),
                items(&["Item 0", "Item 12", "Item 24"])
            ),
            ("Lima is out of stock of 2 items".into(), items(&["Item 20", "Item 8"])),
            (
                "Pusan is out of stock of 3 items".into(),
                items(&["Item 16", "Item 28", "Item 4"])
            ),
        ]
    );
    let mut carried: Vec<AlertId> = sent.iter().flat_map(|m| m.alert_ids.clone()).collect();
    carried.sort();
    carried.dedup();
    assert_eq!(carried.len(), 8, "each alert in exactly one message");
    assert!(open_alerts(&b).await.iter().all(|a| a.published_at.is_some()));
    function.sweep_now().await.unwrap();
    assert_eq!(recorded.sent.lock().unwrap().len(), 3, "a window is sent once");
}

/// Reminders (`alerts.renotify_after`): an OUT alert still open and
/// unacknowledged is notified again once per interval however many
/// checkers sweep, grouped per store; acknowledging, resolving and
/// snoozing stop them, and a reminder claimed but not yet sent when its
/// alert is acknowledged is never sent.
pub async fn reminders_come_once_per_interval_until_acknowledged(b: &Ports) {
    let (b, recorded) = super::recording(b);
    let every = Duration::from_millis(1500);
    let file = "store,item,count\nBerlin,Dot,0\nBerlin,Show,0\nPusan,Tap,0\nOslo,Pen,0\nLima,Cup,2\n";
    upload(&b, "out.csv", file).await;
    let one = configured(&b, "one", |c| c.renotify_after = Some(every));
    let two = configured(&b, "two", |c| c.renotify_after = Some(every));
    one.run_once().await.unwrap();
    assert_eq!(
        recorded.sent.lock().unwrap().len(),
        3,
        "Berlin, Pusan and Oslo; LOW is not notified"
    );
    let reminders = || -> Vec<Message> {
        recorded
            .sent
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.reminder)
            .cloned()
            .collect()
    };
    let sweep_both = || async {
        let (a, b) = tokio::join!(one.sweep_now(), two.sweep_now());
        a.unwrap().reminded + b.unwrap().reminded
    };
    assert_eq!(sweep_both().await, 0, "not due yet");

    tokio::time::sleep(every + Duration::from_millis(200)).await;
    assert_eq!(sweep_both().await, 4, "each OUT alert reminded once, by one of the two");
    let first = reminders();
    assert_eq!(first.len(), 3, "one per store: {first:?}");
    let berlin = first.iter().find(|m| m.text.starts_with("Berlin")).unwrap();
    assert!(
        berlin.text.starts_with("Berlin is still out of stock after ") && berlin.text.contains(" s, unacknowledged: "),
        "{}",
        berlin.text
    );
    assert!(
        berlin.text.contains("Dot") && berlin.text.contains("Show"),
        "{}",
        berlin.text
    );
    assert_eq!(berlin.subject, "Inventory Alert! (reminder)");
    let alerts = open_alerts(&b).await;
    let out: Vec<&Alert> = alerts.iter().filter(|a| a.kind == AlertKind::Out).collect();
    assert!(
        out.iter().all(|a| a.reminders == 1 && a.published_at.is_some()),
        "{out:?}"
    );
    assert_eq!(sweep_both().await, 0, "the next is an interval after this one");

    // Dot acknowledged, Oslo snoozed, Pusan's Tap restocked: only Show left.
    let id_of = |item: &str| alerts.iter().find(|a| a.item == item).unwrap().id;
    let ack = |at: Timestamp| Acknowledgement {
        by: "ana".into(),
        at,
        note: None,
    };
    b.ledger
        .acknowledge(id_of("Dot"), &ack(Timestamp::now()))
        .await
        .unwrap();
    b.ledger
        .snooze(&Snooze {
            store: "Oslo".into(),
            item: None,
            until: Timestamp(Timestamp::now().0 + 3_600_000),
            by: "ana".into(),
            note: None,
        })
        .await
        .unwrap();
    upload(&b, "restock.csv", "store,item,count\nPusan,Tap,5\n").await;
    one.run_once().await.unwrap();
    tokio::time::sleep(every + Duration::from_millis(200)).await;
    assert_eq!(sweep_both().await, 1);
    let second = reminders().split_off(3);
    assert_eq!(second.len(), 1);
    assert!(
        second[0].text.starts_with("Berlin is still out of stock after ") && second[0].text.ends_with(": Show"),
        "{}",
        second[0].text
    );

    // A reminder claimed, then its alert acknowledged before it went out.
    tokio::time::sleep(every + Duration::from_millis(200)).await;
    let due = b
        .ledger
        .due_reminders(Timestamp(Timestamp::now().0 - every.as_millis() as i64))
        .await
        .unwrap();
    let due: Vec<Alert> = due.into_iter().filter(|a| a.item == "Show").collect();
    let claimed = b.ledger.claim_reminders(&due, "slow", Timestamp::now()).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].reminders, 3, "its third reminder");
    let again = b.ledger.claim_reminders(&due, "other", Timestamp::now()).await.unwrap();
    assert!(again.is_empty(), "one claimer per reminder");
    b.ledger
        .acknowledge(id_of("Show"), &ack(Timestamp::now()))
        .await
        .unwrap();
    let reminder = stockwatch_domain::notify::reminders(&claimed, 10, Timestamp::now());
    let lease = Duration::from_secs(60);
    assert_eq!(
        b.publisher.deliver(&reminder, "slow", lease).await.unwrap(),
        [Delivery::NotOurs],
        "acknowledged meanwhile: not sent"
    );
    let later = Timestamp(Timestamp::now().0 + 1);
    assert!(
        b.ledger
            .take_stale(later, "sweeper", Timestamp::now())
            .await
            .unwrap()
            .is_empty(),
        "and nobody sends it later"
    );
    assert_eq!(sweep_both().await, 0);
}

/// A window's sender takes only the claims held for the window, never one
/// a sender holds while it sends (taking that would send it twice on SNS,
/// which cannot take a message back); a held claim whose window sender
/// never came is taken by any checker once no window may be open so long.
pub async fn a_window_takes_only_held_claims(b: &Ports) {
    use super::ledger::claim;
    let now = Timestamp::now();
    let long_ago = Timestamp(now.0 - 60_000);
    let ledger = &b.ledger;
    let sending = ledger
        .claim(
            &[claim("w1", "Berlin", "Dot", 10)],
            &Holder::Sender("sender".into()),
            now,
        )
        .await
        .unwrap();
    let held = ledger
        .claim(
            &[claim("w2", "Berlin", "Show", 10)],
            &Holder::Window("function-a".into()),
            long_ago,
        )
        .await
        .unwrap();
    let window = configured(b, "function-b", |c| c.group_wait = Duration::from_millis(500));
    let swept = window.sweep_now().await.unwrap();
    assert_eq!(swept.published, 1, "the held claim only");
    assert!(ledger.get(held[0].alert().id).await.unwrap().published_at.is_some());
    let sender = ledger.get(sending[0].alert().id).await.unwrap();
    assert!(sender.published_at.is_none(), "still the sender's to send");
    let message = Message::for_alert(&sender);
    let lease = Duration::from_secs(60);
    assert_eq!(
        b.publisher.deliver(&[message], "sender", lease).await.unwrap(),
        [Delivery::Sent],
        "its sender still holds it"
    );

    // Held, and no window sender ever came: a plain takeover finds it only
    // once no window may still be open.
    let abandoned = ledger
        .claim(
            &[claim("w3", "Pusan", "Tap", 10)],
            &Holder::Window("gone".into()),
            long_ago,
        )
        .await
        .unwrap();
    assert!(
        ledger
            .take_stale(now, "checker", Timestamp::now())
            .await
            .unwrap()
            .is_empty()
    );
    let much_later = Timestamp(now.0 + WINDOW_LONGEST.as_millis() as i64);
    let taken = ledger.take_stale(much_later, "checker", much_later).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].id, abandoned[0].alert().id);
}
