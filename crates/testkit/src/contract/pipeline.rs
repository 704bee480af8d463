//! The loader and checker over the backend: the architecture's invariants.

use super::counting;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use stockwatch_core::pipeline::{Checker, CheckerConfig, Loader, UploadFlow};
use stockwatch_core::ports::*;
use stockwatch_domain::{Alert, AlertKind, AlertState, Timestamp};

fn sample(name: &str) -> Bytes {
    let path = format!("{}/samples/{name}", crate::repo().display());
    Bytes::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
}

fn checker(b: &Ports) -> Checker {
    Checker::new(b.clone(), CheckerConfig::default())
}

pub async fn all_alerts(b: &Ports) -> Vec<Alert> {
    let filter = &AlertFilter {
        include_resolved: true,
        ..Default::default()
    };
    all_pages(|page| async move { b.ledger.list(filter, page.as_ref(), 500).await })
        .await
        .unwrap()
}

async fn stock(b: &Ports) -> HashMap<(String, String), u32> {
    let filter = &StockFilter::default();
    let rows = all_pages(|page| async move { b.table.scan(filter, page.as_ref(), 500).await });
    rows.await
        .unwrap()
        .into_iter()
        .map(|r| ((r.store, r.item), r.count))
        .collect()
}

pub async fn samples_raise_out_and_low_alerts(b: &Ports) {
    let (b, sent) = counting(b);
    let loader = Loader::new(b.clone());
    for name in ["inventory-berlin.csv", "inventory-calcutta.csv", "inventory-pusan.csv"] {
        let outcome = loader.upload(name, sample(name), None, None).await.unwrap();
        assert!(outcome.is_loaded(), "{name}: {:?}", outcome.report);
        assert_eq!(
            (outcome.report.rows, outcome.report.stores, outcome.report.write.changed),
            (6, 1, 6)
        );
    }
    let report = checker(&b).run_once().await.unwrap();
    assert_eq!(report.changes, 18);
    let alerts = all_alerts(&b).await;
    let mut seen: Vec<_> = alerts
        .iter()
        .map(|a| (a.kind, a.store.as_str(), a.item.as_str()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            (AlertKind::Out, "Berlin", "Echo Plus"),
            (AlertKind::Out, "Calcutta", "Echo (2nd Gen)"),
            (AlertKind::Out, "Pusan", "Echo Show"),
            (AlertKind::Low, "Calcutta", "Echo Look"),
            (AlertKind::Low, "Pusan", "Amazon Tap"),
        ]
    );
    assert_eq!(
        sent.sent.load(Ordering::SeqCst),
        3,
        "OUT alerts are told, LOW ones only when configured"
    );
    assert!(
        alerts
            .iter()
            .filter(|a| a.kind == AlertKind::Out)
            .all(|a| a.published_at.is_some())
    );
    let berlin = alerts.iter().find(|a| a.store == "Berlin").unwrap();
    assert_eq!(berlin.notification().message, "Berlin is out of stock of Echo Plus");
    assert!(berlin.source.ends_with("/inventory-berlin.csv"));
}

pub async fn a_rejected_file_writes_nothing_and_is_kept(b: &Ports) {
    let loader = Loader::new(b.clone());
    loader
        .upload(
            "inventory-berlin.csv",
            sample("inventory-berlin.csv"),
            Some(Timestamp(100)),
            None,
        )
        .await
        .unwrap();
    let before = stock(b).await;
    let tip = b.feed.tip().await.unwrap();
    let bad = Bytes::from_static(b"store,item,count\nBerlin,Echo Dot,0\nBerlin,Echo Show,x\n");
    let outcome = loader
        .upload("bad.csv", bad.clone(), Some(Timestamp(200)), None)
        .await
        .unwrap();
    assert_eq!(outcome.report.status, ObjectStatus::Rejected);
    assert_eq!(outcome.report.problems.len(), 1);
    assert_eq!(outcome.report.problems[0].line, 3);
    assert_eq!(
        stock(b).await,
        before,
        "the valid row of a rejected file is not written"
    );
    assert!(b.feed.read(Some(&tip), 10).await.unwrap().changes.is_empty());
    assert_eq!(
        b.objects.get(&outcome.key).await.unwrap(),
        bad,
        "the rejected bytes are kept"
    );
    let kept = b.objects.head(&outcome.key).await.unwrap();
    assert_eq!(kept.status, ObjectStatus::Rejected);
    assert_eq!(kept.report.unwrap().problems, outcome.report.problems);
}

pub async fn loading_twice_changes_nothing(b: &Ports) {
    let (b, sent) = counting(b);
    let loader = Loader::new(b.clone());
    let checker = checker(&b);
    loader
        .upload("berlin.csv", sample("inventory-berlin.csv"), None, None)
        .await
        .unwrap();
    checker.run_once().await.unwrap();
    let (stock_before, alerts_before, tip) = (stock(&b).await, all_alerts(&b).await, b.feed.tip().await.unwrap());
    let again = loader
        .upload("berlin.csv", sample("inventory-berlin.csv"), None, None)
        .await
        .unwrap();
    assert_eq!((again.report.write.changed, again.report.write.unchanged), (0, 6));
    let report = checker.run_once().await.unwrap();
    assert!(report.raised.is_empty());
    assert_eq!(stock(&b).await, stock_before);
    assert_eq!(all_alerts(&b).await, alerts_before);
    // The feed says the as-of moved (followers show it), and nothing else.
    let changes = b.feed.read(Some(&tip), 10).await.unwrap().changes;
    assert!(
        changes
            .iter()
            .all(|c| c.old.as_ref().map(|o| o.count) == c.new.as_ref().map(|n| n.count)),
        "{changes:?}"
    );
    assert_eq!(sent.sent.load(Ordering::SeqCst), 1);
}

pub async fn load_order_does_not_matter(b: &Ports) {
    let snapshots = [
        (100, "store,item,count\nBerlin,Dot,5\nBerlin,Show,1\nPusan,Dot,9\n"),
        (300, "store,item,count\nBerlin,Dot,0\nPusan,Dot,7\n"),
        (200, "store,item,count\nBerlin,Dot,8\nBerlin,Show,4\nPusan,Tap,2\n"),
    ];
    let loader = Loader::new(b.clone());
    // Newest first, the worst order for a naive last-write-wins loader.
    for (as_of, text) in snapshots.iter().rev() {
        loader
            .upload(
                "s.csv",
                Bytes::from_static(text.as_bytes()),
                Some(Timestamp(*as_of)),
                None,
            )
            .await
            .unwrap();
    }
    let got = stock(b).await;
    let expected: HashMap<(String, String), u32> = [
        (("Berlin", "Dot"), 0),
        (("Berlin", "Show"), 4),
        (("Pusan", "Dot"), 7),
        (("Pusan", "Tap"), 2),
    ]
    .into_iter()
    .map(|((s, i), c)| ((s.to_string(), i.to_string()), c))
    .collect();
    assert_eq!(got, expected);
}

pub async fn racing_checkers_raise_each_alert_once(b: &Ports) {
    let (b, sent) = counting(b);
    let mut text = String::from("store,item,count\n");
    for i in 0..60 {
        text.push_str(&format!("S{},item{i},{}\n", i % 4, if i % 3 == 0 { 0 } else { 10 }));
    }
    Loader::new(b.clone())
        .upload("many.csv", Bytes::from(text), None, None)
        .await
        .unwrap();
    // Four checkers with separate checkpoints: each sees every change.
    let runs = (0..4).map(|n| {
        let config = CheckerConfig {
            name: format!("racer{n}"),
            changes_per_read: 7,
            ..CheckerConfig::default()
        };
        let checker = Checker::new(b.clone(), config);
        tokio::spawn(async move { checker.run_once().await.unwrap() })
    });
    let reports = futures_join(runs).await;
    let raised: usize = reports.iter().map(|r| r.raised.len()).sum();
    // What each checker read and won, and what the ledger holds: enough to
    // tell a feed read short from a claim nobody won, should this fail.
    let seen: Vec<(u64, Vec<u64>)> = reports
        .iter()
        .map(|r| (r.changes, r.raised.iter().map(|a| a.id.0).collect()))
        .collect();
    let held: Vec<(u64, String)> = all_alerts(&b).await.into_iter().map(|a| (a.id.0, a.item)).collect();
    assert_eq!(
        raised, 20,
        "each transition is won by exactly one checker; (changes read, ids won) per checker: {seen:?}; ledger: {held:?}"
    );
    assert_eq!(all_alerts(&b).await.len(), 20);
    assert_eq!(sent.sent.load(Ordering::SeqCst), 20, "and told exactly once");
}

async fn futures_join<T: Send + 'static>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap());
    }
    out
}

pub async fn a_dead_publisher_is_replaced_after_the_lease(b: &Ports) {
    let (b, sent) = counting(b);
    // A checker claimed but died before publishing: simulate with a raw claim.
    let claim = super::ledger::claim("change-x", "Berlin", "Dot", 10);
    b.ledger
        .claim(&[claim], &Holder::Sender("dead-checker".into()), Timestamp::now())
        .await
        .unwrap();
    let patient = Checker::new(
        b.clone(),
        CheckerConfig {
            lease: Duration::from_secs(3600),
            ..Default::default()
        },
    );
    patient.run_once().await.unwrap();
    assert_eq!(
        sent.sent.load(Ordering::SeqCst),
        0,
        "inside the lease the claimer may still publish"
    );
    // The lease bounds a send too (a third of it per attempt): long enough
    // for moto under a loaded test run.
    let lease = Duration::from_millis(900);
    tokio::time::sleep(lease + Duration::from_millis(20)).await;
    let eager = Checker::new(
        b.clone(),
        CheckerConfig {
            lease,
            ..Default::default()
        },
    );
    let report = eager.run_once().await.unwrap();
    assert_eq!((report.published, sent.sent.load(Ordering::SeqCst)), (1, 1));
    eager.run_once().await.unwrap();
    assert_eq!(sent.sent.load(Ordering::SeqCst), 1, "published once");
    let alert = all_alerts(&b).await.remove(0);
    assert!(alert.published_at.is_some());
}

pub async fn a_slow_publisher_never_sends_what_was_taken_over(b: &Ports) {
    let (b, sent) = counting(b);
    // Five stores: five messages (one store's would be one).
    let text = "store,item,count\nA,a,0\nB,b,0\nC,c,0\nD,d,0\nE,e,0\n";
    Loader::new(b.clone())
        .upload("five.csv", Bytes::from_static(text.as_bytes()), None, None)
        .await
        .unwrap();
    // Each send of the slow checker takes half a lease: by the third, the
    // claims it has not reached yet are past their lease.
    let lease = Duration::from_millis(900);
    let mut slow_backend = b.clone();
    slow_backend.publisher = std::sync::Arc::new(super::SlowPublisher {
        inner: b.publisher.clone(),
        delay: lease / 2,
    });
    let slow = Checker::new(
        slow_backend,
        CheckerConfig {
            name: "slow".into(),
            lease,
            ..Default::default()
        },
    );
    let slow = tokio::spawn(async move { slow.run_once().await.unwrap() });
    // While the slow checker is still sending, the claims it has not reached
    // yet pass their lease: a second checker takes them over and sends them.
    // It looks every sixth of a lease while the slow one runs (a busy
    // machine or emulator makes the first claims and sends slower).
    let fast = Checker::new(
        b.clone(),
        CheckerConfig {
            name: "fast".into(),
            lease,
            ..Default::default()
        },
    );
    let mut taken = 0;
    while taken == 0 && !slow.is_finished() {
        tokio::time::sleep(lease / 6).await;
        taken += fast.run_once().await.unwrap().published;
    }
    let slow = slow.await.unwrap();
    assert!(taken > 0, "the test should exercise a takeover");
    assert_eq!(slow.published + taken, 5);
    assert_eq!(sent.sent.load(Ordering::SeqCst), 5, "each alert is sent once");
    assert!(all_alerts(&b).await.iter().all(|a| a.published_at.is_some()));
}

pub async fn an_upload_can_wait_for_a_loader_elsewhere(b: &Ports) {
    // The "deployed function": loads whatever arrives in the bucket.
    let function = Loader::new(b.clone());
    let objects = b.objects.clone();
    let loads = tokio::spawn(async move {
        for _ in 0..200 {
            let page = objects.list(None, 20).await.unwrap();
            if let Some(new) = page.items.iter().find(|o| o.status == ObjectStatus::Received) {
                return function.load_object(&new.key, None).await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("nothing was uploaded");
    });
    let waiting = Loader::new(b.clone()).loaded_elsewhere(Duration::from_secs(20));
    let outcome = waiting
        .upload("berlin.csv", sample("inventory-berlin.csv"), None, None)
        .await
        .unwrap();
    assert!(outcome.is_loaded());
    assert_eq!(outcome.report.rows, 6);
    assert_eq!(loads.await.unwrap().key, outcome.key);
    // Nobody loads: the upload says so instead of waiting forever.
    let alone = Loader::new(b.clone()).loaded_elsewhere(Duration::from_millis(300));
    let err = alone
        .upload("pusan.csv", sample("inventory-pusan.csv"), None, None)
        .await
        .unwrap_err();
    assert!(
        err.is_transient() && err.to_string().contains("is the load function deployed?"),
        "{err}"
    );
}

pub async fn restock_resolves_and_a_new_outage_alerts_again(b: &Ports) {
    let loader = Loader::new(b.clone());
    let checker = checker(b);
    let load = |as_of: i64, count: u32| {
        let loader = loader.clone();
        async move {
            let text = format!("store,item,count\nBerlin,Dot,{count}\n");
            loader
                .upload("b.csv", Bytes::from(text), Some(Timestamp(as_of)), None)
                .await
                .unwrap();
        }
    };
    load(100, 0).await;
    checker.run_once().await.unwrap();
    load(200, 2).await; // back in, but low: the outage alert stays open
    checker.run_once().await.unwrap();
    let alerts = all_alerts(b).await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].state, AlertState::Open);
    load(300, 12).await;
    let report = checker.run_once().await.unwrap();
    assert_eq!(report.resolved, 1);
    assert_eq!(all_alerts(b).await[0].state, AlertState::Resolved);
    load(400, 0).await;
    checker.run_once().await.unwrap();
    let alerts = all_alerts(b).await;
    assert_eq!(alerts.len(), 2);
    assert_eq!(alerts[0].state, AlertState::Open, "a new outage is a new alert");
}

/// A file and its correction uploaded within one second: the later one wins
/// whole. (S3's LastModified has whole seconds; a tie keeps the lower count
/// per item, which mixed the two files.)
pub async fn two_uploads_in_one_second_keep_the_later_whole(b: &Ports) {
    let loader = Loader::new(b.clone());
    let first = "store,item,count\nB,dot,5\nB,show,1\n";
    let correction = "store,item,count\nB,dot,9\nB,show,0\n";
    loader
        .upload("first.csv", Bytes::from_static(first.as_bytes()), None, None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2)).await;
    loader
        .upload("correction.csv", Bytes::from_static(correction.as_bytes()), None, None)
        .await
        .unwrap();
    let stock = stock(b).await;
    assert_eq!(stock[&("B".to_string(), "dot".to_string())], 9, "{stock:?}");
    assert_eq!(stock[&("B".to_string(), "show".to_string())], 0, "{stock:?}");
}

/// An upload whose loader stopped (killed after storing the file) is
/// loaded by the next loader that looks, as of the time its uploader asked
/// for, and its report says it was resumed.
pub async fn an_upload_whose_loader_stopped_is_resumed(b: &Ports) {
    // Named as its uploader named it an hour ago, as of a day before: no
    // date in a fixture (the sweep looks at recent uploads only).
    let uploaded = Timestamp(Timestamp::now().0 - 3_600_000);
    let key = ObjectKey::parse(&format!("uploads/{}-dead/inventory-berlin.csv", uploaded.to_compact())).unwrap();
    let as_of = Timestamp(uploaded.0 - 86_400_000);
    b.objects
        .put(&key, &sample("inventory-berlin.csv").into(), Some(as_of), None)
        .await
        .unwrap();
    // Nobody loads it: its uploader "died" here.
    let info = b.objects.head(&key).await.unwrap();
    assert_eq!(info.status, ObjectStatus::Received);
    assert_eq!(info.as_of, Some(as_of), "the as-of asked for is kept with the object");
    // S3's listing times have whole seconds: look a little ahead.
    let later = Timestamp(Timestamp::now().0 + 2000);
    assert_eq!(b.objects.stalled(later, 10).await.unwrap(), vec![key.clone()]);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let resumed = Loader::new(b.clone())
        .with_lease(Duration::from_millis(1))
        .resume_stalled()
        .await
        .unwrap();
    assert_eq!(resumed.len(), 1);
    let report = &resumed[0].report;
    assert_eq!(report.status, ObjectStatus::Loaded);
    assert!(report.resumed, "the report says another loader finished it");
    assert_eq!(report.as_of, as_of);
    assert_eq!(b.objects.head(&key).await.unwrap().status, ObjectStatus::Loaded);
    assert!(b.objects.stalled(later, 10).await.unwrap().is_empty(), "settled");
    assert_eq!(stock(b).await.len(), 6);
}

/// One pass (a file's check) notifies one message per store, the original
/// text for a single item, a list for several; a pass over more stores
/// than the limit sends one summary. Every alert is in exactly one message.
pub async fn alerts_raised_together_are_one_message_per_store(b: &Ports) {
    let (b, recorded) = super::recording(b);
    let loader = Loader::new(b.clone());
    let file = "store,item,count\nBerlin,Echo Plus,0\nBerlin,Echo Dot,0\nBerlin,Echo Show,0\nBerlin,Tap,9\nPusan,Echo Show,0\n";
    assert!(
        loader
            .upload("three.csv", Bytes::from(file), None, None)
            .await
            .unwrap()
            .is_loaded()
    );
    checker(&b).run_once().await.unwrap();
    let sent = recorded.sent.lock().unwrap().clone();
    let texts: Vec<&str> = sent.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(sent.len(), 2, "{texts:?}");
    let berlin = sent.iter().find(|m| m.text.starts_with("Berlin")).unwrap();
    assert!(
        berlin.text.starts_with("Berlin is out of stock of 3 items: "),
        "{texts:?}"
    );
    for item in ["Echo Plus", "Echo Dot", "Echo Show"] {
        assert!(berlin.text.contains(item), "{texts:?}");
    }
    assert_eq!(berlin.alert_ids.len(), 3);
    assert!(texts.contains(&"Pusan is out of stock of Echo Show"), "{texts:?}");

    // More stores than the pass may message: one summary carries them all.
    let storm = "store,item,count\nOslo,A,0\nRiga,B,0\nLima,C,0\n";
    assert!(
        loader
            .upload("storm.csv", Bytes::from(storm), None, None)
            .await
            .unwrap()
            .is_loaded()
    );
    let strict = Checker::new(
        b.clone(),
        CheckerConfig {
            max_messages: 2,
            ..checker(&b).config().clone()
        },
    );
    strict.run_once().await.unwrap();
    let sent = recorded.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(
        sent[2].text,
        "3 stores report 3 items out of stock (file storm.csv); see stockwatch alerts"
    );
    let mut carried: Vec<_> = sent.iter().flat_map(|m| m.alert_ids.clone()).collect();
    let count = carried.len();
    carried.sort();
    carried.dedup();
    assert_eq!(carried.len(), count, "no alert in two messages");
    let notified = all_alerts(&b).await.iter().filter(|a| a.kind == AlertKind::Out).count();
    assert_eq!(count, notified, "every OUT alert in one message");
}

/// A snoozed store's or item's new alerts are raised but not notified;
/// a snooze ends by itself, or when ended.
pub async fn snoozed_alerts_are_raised_not_notified(b: &Ports) {
    let (b, recorded) = super::recording(b);
    let now = Timestamp::now();
    let snooze = |store: &str, item: Option<&str>, until: i64| stockwatch_domain::Snooze {
        store: store.into(),
        item: item.map(String::from),
        until: Timestamp(until),
        by: "ana".into(),
        note: Some("stocktaking".into()),
    };
    b.ledger
        .snooze(&snooze("Berlin", None, now.0 + 3_600_000))
        .await
        .unwrap();
    b.ledger
        .snooze(&snooze("Pusan", Some("Dot"), now.0 + 3_600_000))
        .await
        .unwrap();
    b.ledger.snooze(&snooze("Oslo", None, now.0 - 1)).await.unwrap();
    let active = b.ledger.snoozes(now).await.unwrap();
    assert_eq!(active.len(), 2, "an ended snooze is not active: {active:?}");
    let file = "store,item,count\nBerlin,Tap,0\nPusan,Dot,0\nPusan,Show,0\nOslo,Pen,0\n";
    Loader::new(b.clone())
        .upload("snoozed.csv", Bytes::from(file), None, None)
        .await
        .unwrap();
    let report = checker(&b).run_once().await.unwrap();
    assert_eq!(report.raised.len(), 4, "every alert is raised");
    let mut texts: Vec<String> = recorded.sent.lock().unwrap().iter().map(|m| m.text.clone()).collect();
    texts.sort();
    assert_eq!(
        texts,
        ["Oslo is out of stock of Pen", "Pusan is out of stock of Show"],
        "Berlin (store) and Pusan / Dot (item) are snoozed"
    );
    assert!(b.ledger.unsnooze("Berlin", None).await.unwrap());
    assert!(!b.ledger.unsnooze("Berlin", None).await.unwrap(), "ended once");
    assert_eq!(b.ledger.snoozes(now).await.unwrap().len(), 1);
}

/// The bucket, with the uploaded file rewritten just after each copy is
/// kept: a file changing while it is uploaded.
struct RewrittenAfterPut {
    inner: Arc<dyn ObjectStore>,
    source: std::path::PathBuf,
    rewrite: Vec<u8>,
}

#[async_trait::async_trait]
impl ObjectStore for RewrittenAfterPut {
    async fn put(
        &self,
        key: &ObjectKey,
        body: &Body,
        as_of: Option<Timestamp>,
        progress: Option<Progress>,
    ) -> PortResult<ObjectInfo> {
        let info = self.inner.put(key, body, as_of, progress).await?;
        std::fs::write(&self.source, &self.rewrite).unwrap();
        Ok(info)
    }
    async fn get(&self, key: &ObjectKey) -> PortResult<Bytes> {
        self.inner.get(key).await
    }
    async fn fetch(&self, key: &ObjectKey) -> PortResult<Fetched> {
        self.inner.fetch(key).await
    }
    async fn head(&self, key: &ObjectKey) -> PortResult<ObjectInfo> {
        self.inner.head(key).await
    }
    async fn set_report(&self, key: &ObjectKey, report: &LoadReport) -> PortResult<()> {
        self.inner.set_report(key, report).await
    }
    async fn list(&self, page: Option<&PageToken>, limit: usize) -> PortResult<Page<ObjectInfo>> {
        self.inner.list(page, limit).await
    }
    async fn begin_load(&self, key: &ObjectKey, token: &str, lease: Duration) -> PortResult<bool> {
        self.inner.begin_load(key, token, lease).await
    }
    async fn stalled(&self, before: Timestamp, limit: usize) -> PortResult<Vec<ObjectKey>> {
        self.inner.stalled(before, limit).await
    }
}

/// A file cut while it uploads (`…,134` cut to `…,1`) loads what was kept,
/// not the cut file; the report names the kept bytes' SHA-256 and says the
/// file changed.
pub async fn the_bytes_loaded_are_the_bytes_kept(b: &Ports) {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("berlin.csv");
    let kept = b"store,item,count\nBerlin,Echo Dot,134\nBerlin,Echo Plus,9\n";
    std::fs::write(&source, kept).unwrap();
    let original = b.clone();
    let mut b = b.clone();
    b.objects = Arc::new(RewrittenAfterPut {
        inner: b.objects.clone(),
        source: source.clone(),
        rewrite: b"store,item,count\nBerlin,Echo Dot,1".to_vec(),
    });
    let flow = UploadFlow::new(b.clone(), Loader::new(b.clone()), None);
    let uploaded = flow.upload_file(&source, None, None).await.unwrap();
    let report = &uploaded.outcome.report;
    assert!(uploaded.outcome.is_loaded(), "{report:?}");
    assert_eq!(report.rows, 2, "the kept file's rows: {report:?}");
    let counts = stock(&b).await;
    assert_eq!(counts[&("Berlin".to_string(), "Echo Dot".to_string())], 134);
    let kept_bytes = b.objects.get(&uploaded.outcome.key).await.unwrap();
    assert_eq!(&kept_bytes[..], kept);
    let sha = stockwatch_core::pipeline::digest::sha256_of(&kept_bytes[..]).unwrap();
    assert_eq!(report.sha256.as_deref(), Some(sha.as_str()));
    assert!(report.source_changed, "the cut is said: {report:?}");
    let stored = b.objects.head(&uploaded.outcome.key).await.unwrap().report.unwrap();
    assert_eq!(
        (stored.sha256.as_deref(), stored.source_changed),
        (Some(sha.as_str()), true)
    );

    // A file left alone is not said to have changed.
    let calm = dir.path().join("calm.csv");
    std::fs::write(&calm, kept).unwrap();
    let flow = UploadFlow::new(original.clone(), Loader::new(original), None);
    let calm = flow.upload_file(&calm, None, None).await.unwrap().outcome.report;
    assert_eq!(
        (calm.sha256.as_deref(), calm.source_changed),
        (Some(sha.as_str()), false)
    );
}

/// A backlog checked at once (`upload --no-check` twice, then `check`):
/// an outage that ended within the pass is recorded, resolved and counted,
/// and nobody is told of it; in one page, across pages, and across a
/// grouping window's batches; nor is it sent after the lease.
pub async fn an_outage_that_ended_within_a_pass_is_not_notified(b: &Ports) {
    let (b, sent) = counting(b);
    let loader = Loader::new(b.clone());
    let load = |as_of: i64, item: &str, count: u32| {
        let (loader, text) = (loader.clone(), format!("store,item,count\nBerlin,{item},{count}\n"));
        async move {
            loader
                .upload("b.csv", Bytes::from(text), Some(Timestamp(as_of)), None)
                .await
                .unwrap();
        }
    };
    // One page: the outage and its end in one read of the feed.
    load(100, "Echo Plus", 0).await;
    load(200, "Echo Plus", 27).await;
    let report = checker(&b).run_once().await.unwrap();
    assert_eq!(report.raised.len(), 1, "the outage is recorded");
    assert_eq!(report.resolved, 1, "and its end counted: {report:?}");
    // Across pages: one change per read.
    load(300, "Echo Dot", 0).await;
    load(400, "Echo Dot", 5_000).await;
    let paged = Checker::new(
        b.clone(),
        CheckerConfig {
            changes_per_read: 1,
            ..CheckerConfig::default()
        },
    );
    let report = paged.run_once().await.unwrap();
    assert_eq!((report.raised.len(), report.resolved), (1, 1), "{report:?}");
    // A grouping window: one batch raises, the next resolves before it closes.
    load(500, "Echo Show", 0).await;
    load(600, "Echo Show", 8).await;
    let windowed = Checker::new(
        b.clone(),
        CheckerConfig {
            name: "windowed".into(),
            group_wait: Duration::from_millis(1),
            ..CheckerConfig::default()
        },
    );
    let changes = b.feed.read(None, 1000).await.unwrap().changes;
    let show: Vec<Change> = changes.into_iter().filter(|c| c.item == "Echo Show").collect();
    assert_eq!(show.len(), 2);
    let mut report = stockwatch_core::pipeline::CheckReport::default();
    windowed.process(&show[..1], &mut report).await.unwrap();
    windowed.process(&show[1..], &mut report).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    windowed.sweep_now().await.unwrap();

    let alerts = all_alerts(&b).await;
    assert_eq!(alerts.len(), 3, "{alerts:?}");
    assert!(alerts.iter().all(|a| a.state == AlertState::Resolved), "{alerts:?}");
    assert_eq!(sent.sent.load(Ordering::SeqCst), 0, "an ended outage is not told");
    let after_the_lease = Timestamp(Timestamp::now().0 + 3_600_000);
    let stale = b
        .ledger
        .take_stale(after_the_lease, "later", Timestamp::now())
        .await
        .unwrap();
    assert!(stale.is_empty(), "nor sent after the lease: {stale:?}");
    // An outage still open at the end of the pass is told.
    load(700, "Amazon Tap", 0).await;
    checker(&b).run_once().await.unwrap();
    assert_eq!(sent.sent.load(Ordering::SeqCst), 1);
}
