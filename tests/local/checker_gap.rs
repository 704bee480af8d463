//! When the feed reports lost changes (a trimmed or replaced stream), the
//! checker reads the table and raises what it can no longer see happen:
//! the real local backend, with only the feed told to report a gap.

use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use stockwatch_core::pipeline::{Checker, CheckerConfig, Loader};
use stockwatch_core::ports::{ChangeFeed, FeedCursor, FeedPage, PortResult, Ports};
use stockwatch_domain::AlertKind;
use stockwatch_local::LocalBackend;

/// The first read lost everything before the tip, as after 24 h of downtime.
struct LostHistory {
    inner: Arc<dyn ChangeFeed>,
    lost: AtomicBool,
}

#[async_trait::async_trait]
impl ChangeFeed for LostHistory {
    async fn read(&self, cursor: Option<&FeedCursor>, limit: usize) -> PortResult<FeedPage> {
        if !self.lost.swap(true, Ordering::SeqCst) {
            return Ok(FeedPage {
                changes: Vec::new(),
                cursor: self.inner.tip().await?,
                gap: true,
            });
        }
        self.inner.read(cursor, limit).await
    }

    async fn tip(&self) -> PortResult<FeedCursor> {
        self.inner.tip().await
    }
}

/// A checker over `backend` whose feed lost its history.
fn gap_checker(backend: &Ports, name: &str) -> Checker {
    let mut lossy = backend.clone();
    lossy.feed = Arc::new(LostHistory {
        inner: backend.feed.clone(),
        lost: AtomicBool::new(false),
    });
    Checker::new(
        lossy,
        CheckerConfig {
            name: name.into(),
            ..Default::default()
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_raises_alerts_for_what_is_out_or_low_now_and_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let real = LocalBackend::open(dir.path()).unwrap().ports;
    let text = "store,item,count\nB,out,0\nB,low,2\nB,fine,10\nC,out,0\n";
    Loader::new(real.clone())
        .upload("x.csv", Bytes::from_static(text.as_bytes()), None, None)
        .await
        .unwrap();
    // Every transition was alerted before the history was lost.
    let before = Checker::new(
        real.clone(),
        CheckerConfig {
            name: "before".into(),
            ..Default::default()
        },
    );
    assert_eq!(before.run_once().await.unwrap().raised.len(), 3);
    let first = gap_checker(&real, "after-gap").run_once().await.unwrap();
    assert!(first.gap);
    assert!(
        first.raised.is_empty(),
        "items already alerted are not alerted again: {:?}",
        first.raised
    );

    // A fresh data dir whose history is lost before any checker saw it.
    let dir = tempfile::tempdir().unwrap();
    let fresh = LocalBackend::open(dir.path()).unwrap().ports;
    Loader::new(fresh.clone())
        .upload("x.csv", Bytes::from_static(text.as_bytes()), None, None)
        .await
        .unwrap();
    let report = gap_checker(&fresh, "one").run_once().await.unwrap();
    assert!(report.gap);
    let mut raised: Vec<_> = report
        .raised
        .iter()
        .map(|a| (a.store.clone(), a.item.clone(), a.kind))
        .collect();
    raised.sort();
    assert_eq!(
        raised,
        [
            ("B".to_string(), "low".to_string(), AlertKind::Low),
            ("B".to_string(), "out".to_string(), AlertKind::Out),
            ("C".to_string(), "out".to_string(), AlertKind::Out)
        ]
    );
    assert_eq!(report.published, 2, "the OUT ones are notified");
    let again = gap_checker(&fresh, "two").run_once().await.unwrap();
    assert!(
        again.raised.is_empty(),
        "a second checker over the same gap raises nothing new"
    );
}

/// The real shape of a gap: the feed says records were lost, and goes on
/// with the ones it kept, which include the very transition the reconcile
/// finds in the table. Found twice, alerted and notified once.
struct TrimmedBefore {
    inner: Arc<dyn ChangeFeed>,
    /// The first read starts here (the oldest record kept) and says "gap".
    kept_from: FeedCursor,
    trimmed: AtomicBool,
}

#[async_trait::async_trait]
impl ChangeFeed for TrimmedBefore {
    async fn read(&self, cursor: Option<&FeedCursor>, limit: usize) -> PortResult<FeedPage> {
        if !self.trimmed.swap(true, Ordering::SeqCst) {
            let mut page = self.inner.read(Some(&self.kept_from), limit).await?;
            page.gap = true;
            return Ok(page);
        }
        self.inner.read(cursor, limit).await
    }

    async fn tip(&self) -> PortResult<FeedCursor> {
        self.inner.tip().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_followed_by_the_records_kept_alerts_each_transition_once() {
    let dir = tempfile::tempdir().unwrap();
    let local = LocalBackend::open(dir.path()).unwrap();
    let real = local.ports.clone();
    let loader = Loader::new(real.clone());
    let load = |text: &'static str| {
        let loader = loader.clone();
        async move {
            loader
                .upload("x.csv", Bytes::from_static(text.as_bytes()), None, None)
                .await
                .unwrap()
        }
    };
    load("store,item,count\nB,dot,9\nB,show,9\n").await;
    // Everything before this point is trimmed away; what follows is kept.
    let kept_from = real.feed.tip().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    load("store,item,count\nB,dot,0\nB,show,2\n").await;
    let mut lossy = real.clone();
    lossy.feed = Arc::new(TrimmedBefore {
        inner: real.feed.clone(),
        kept_from,
        trimmed: AtomicBool::new(false),
    });
    let report = Checker::new(lossy, CheckerConfig::default()).run_once().await.unwrap();
    assert!(report.gap);
    let mut raised: Vec<_> = report.raised.iter().map(|a| (a.item.clone(), a.kind)).collect();
    raised.sort();
    assert_eq!(
        raised,
        [
            ("dot".to_string(), AlertKind::Out),
            ("show".to_string(), AlertKind::Low)
        ],
        "one alert per transition, though the reconcile and the kept records both found them"
    );
    let outbox = std::fs::read_to_string(dir.path().join(stockwatch_local::OUTBOX_FILE)).unwrap();
    assert_eq!(outbox.lines().count(), 1, "one notification for B/dot: {outbox}");
}
