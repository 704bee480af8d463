//! Object store, inventory table, change feed and checkpoints.

use super::snapshot;
use bytes::Bytes;
use std::sync::{Arc, Mutex};
use stockwatch_core::ports::*;
use stockwatch_domain::Timestamp;

fn key(k: &str) -> ObjectKey {
    ObjectKey::parse(k).unwrap()
}

pub async fn objects_round_trip(b: &Ports) {
    let body = Bytes::from(vec![b'x'; 3 * 1024 * 1024 + 5]);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let progress: Progress = Arc::new(move |sent, total| sink.lock().unwrap().push((sent, total)));
    let info = b
        .objects
        .put(&key("uploads/a b+ü.csv"), &body.clone().into(), None, Some(progress))
        .await
        .unwrap();
    assert_eq!(info.size, body.len() as u64);
    assert_eq!(info.status, ObjectStatus::Received);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.last(),
        Some(&(body.len() as u64, body.len() as u64)),
        "progress ends at the total"
    );
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "progress only grows");
    assert_eq!(b.objects.get(&key("uploads/a b+ü.csv")).await.unwrap(), body);
    let head = b.objects.head(&key("uploads/a b+ü.csv")).await.unwrap();
    assert_eq!(head.size, body.len() as u64);
}

pub async fn objects_keep_reports_and_list_newest_first(b: &Ports) {
    // Upload keys start with their time, as `upload_key` makes them.
    for name in ["1-one.csv", "2-two.csv", "3-three.csv"] {
        b.objects
            .put(
                &key(&format!("uploads/{name}")),
                &Bytes::from_static(b"x").into(),
                None,
                None,
            )
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let report = LoadReport {
        status: ObjectStatus::Rejected,
        as_of: Timestamp(5),
        rows: 2,
        stores: 0,
        write: WriteSummary::default(),
        warnings: vec![],
        problems: stockwatch_domain::import(b"store,item,count\nB,a,x\n")
            .unwrap_err()
            .problems
            .shown,
        problem_count: 1,
        problem_kinds: [("not_a_number".to_string(), 1)].into(),
        failure: None,
        resumed: false,
        sha256: Some("ab".repeat(32)),
        source_changed: true,
        loaded_at: Timestamp(6),
    };
    b.objects.set_report(&key("uploads/2-two.csv"), &report).await.unwrap();
    let first = b.objects.list(None, 2).await.unwrap();
    let names: Vec<_> = first.items.iter().map(|o| o.key.file_name().to_string()).collect();
    assert_eq!(names, ["3-three.csv", "2-two.csv"]);
    assert_eq!(first.items[1].status, ObjectStatus::Rejected);
    assert_eq!(first.items[1].report.as_ref(), Some(&report));
    let rest = b.objects.list(first.next.as_ref(), 2).await.unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].key.file_name(), "1-one.csv");
    assert!(rest.next.is_none());
}

pub async fn missing_objects_are_not_found(b: &Ports) {
    assert!(matches!(
        b.objects.get(&key("nope.csv")).await,
        Err(PortError::NotFound(_))
    ));
    assert!(matches!(
        b.objects.head(&key("nope.csv")).await,
        Err(PortError::NotFound(_))
    ));
}

async fn scan_all(b: &Ports, filter: &StockFilter, limit: usize) -> (Vec<StockRow>, usize) {
    let (mut all, mut pages, mut token) = (Vec::new(), 0, None);
    loop {
        let page = b.table.scan(filter, token.as_ref(), limit).await.unwrap();
        pages += 1;
        all.extend(page.items);
        match page.next {
            Some(t) => token = Some(t),
            None => return (all, pages),
        }
    }
}

pub async fn scans_are_ordered_filtered_and_paged(b: &Ports) {
    let spec = [
        ("Pusan", "Dot", 4),
        ("Berlin", "Show", 0),
        ("Berlin", "Dot", 9),
        ("Berlin", "Plus", 2),
        ("Karachi", "Dot", 1),
    ];
    b.table.write(snapshot(&spec, 10, "k/a.csv")).await.unwrap();
    let (all, pages) = scan_all(b, &StockFilter::default(), 2).await;
    let keys: Vec<_> = all.iter().map(|r| format!("{}/{}", r.store, r.item)).collect();
    // Every row once; a store's rows together, in item order. The order of
    // the stores is the backend's: by name locally, by the hash of the key
    // on DynamoDB (a Scan's own order: sorting each page would split a store
    // across pages).
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["Berlin/Dot", "Berlin/Plus", "Berlin/Show", "Karachi/Dot", "Pusan/Dot"]
    );
    let mut stores: Vec<&str> = all.iter().map(|r| r.store.as_str()).collect();
    stores.dedup();
    assert_eq!(stores.len(), 3, "a store's rows come together: {keys:?}");
    let berlin: Vec<&str> = all
        .iter()
        .filter(|r| r.store == "Berlin")
        .map(|r| r.item.as_str())
        .collect();
    assert_eq!(berlin, ["Dot", "Plus", "Show"], "in item order");
    assert!(pages >= 3);
    let dot = all.iter().find(|r| r.store == "Berlin" && r.item == "Dot").unwrap();
    assert_eq!(dot.as_of, Timestamp(10));
    assert_eq!(dot.source, "k/a.csv");
    let (berlin, _) = scan_all(
        b,
        &StockFilter {
            store: Some("Berlin".into()),
            count_at_most: None,
        },
        10,
    )
    .await;
    assert_eq!(berlin.len(), 3);
    let (low, _) = scan_all(
        b,
        &StockFilter {
            store: None,
            count_at_most: Some(2),
        },
        10,
    )
    .await;
    let counts: Vec<_> = low.iter().map(|r| r.count).collect();
    assert_eq!(counts, [2, 0, 1]);
}

async fn count_of(b: &Ports, store: &str, item: &str) -> Option<StockRow> {
    let filter = StockFilter {
        store: Some(store.into()),
        count_at_most: None,
    };
    scan_all(b, &filter, 100).await.0.into_iter().find(|r| r.item == item)
}

pub async fn newer_snapshots_win_whatever_the_order(b: &Ports) {
    let s = b
        .table
        .write(snapshot(&[("Berlin", "Dot", 5)], 200, "k/new.csv"))
        .await
        .unwrap();
    assert_eq!((s.changed, s.unchanged, s.older), (1, 0, 0));
    let s = b
        .table
        .write(snapshot(&[("Berlin", "Dot", 0)], 100, "k/old.csv"))
        .await
        .unwrap();
    assert_eq!(
        (s.changed, s.unchanged, s.older),
        (0, 0, 1),
        "an older snapshot is ignored"
    );
    let row = count_of(b, "Berlin", "Dot").await.unwrap();
    assert_eq!(
        (row.count, row.as_of, row.source.as_str()),
        (5, Timestamp(200), "k/new.csv")
    );
    let s = b
        .table
        .write(snapshot(&[("Berlin", "Dot", 5)], 300, "k/same.csv"))
        .await
        .unwrap();
    assert_eq!((s.changed, s.unchanged, s.older), (0, 1, 0), "same count, newer as-of");
    assert_eq!(count_of(b, "Berlin", "Dot").await.unwrap().as_of, Timestamp(300));
    let s = b
        .table
        .write(snapshot(&[("Berlin", "Dot", 0)], 250, "k/between.csv"))
        .await
        .unwrap();
    assert_eq!(s.older, 1, "older than the as-of the unchanged write moved forward");
    assert_eq!(count_of(b, "Berlin", "Dot").await.unwrap().count, 5);
    let s = b
        .table
        .write(snapshot(&[("Berlin", "Dot", 5)], 250, "k/older-same.csv"))
        .await
        .unwrap();
    assert_eq!(
        (s.changed, s.unchanged, s.older),
        (0, 0, 1),
        "an older snapshot with the same count is older, not unchanged"
    );
    let s = b
        .table
        .write(snapshot(&[("Berlin", "Dot", 5)], 300, "k/same-again.csv"))
        .await
        .unwrap();
    assert_eq!((s.changed, s.unchanged, s.older), (0, 1, 0), "the same snapshot again");
}

pub async fn equal_as_of_keeps_the_lower_count(b: &Ports) {
    b.table
        .write(snapshot(&[("Berlin", "Dot", 5)], 100, "k/a.csv"))
        .await
        .unwrap();
    b.table
        .write(snapshot(&[("Berlin", "Dot", 2)], 100, "k/b.csv"))
        .await
        .unwrap();
    b.table
        .write(snapshot(&[("Berlin", "Dot", 9)], 100, "k/c.csv"))
        .await
        .unwrap();
    assert_eq!(count_of(b, "Berlin", "Dot").await.unwrap().count, 2);
}

pub async fn the_feed_carries_old_and_new_images(b: &Ports) {
    let start = b.feed.tip().await.unwrap();
    b.table
        .write(snapshot(&[("Berlin", "Dot", 5), ("Berlin", "Show", 1)], 100, "k/a.csv"))
        .await
        .unwrap();
    b.table
        .write(snapshot(&[("Berlin", "Dot", 0)], 200, "k/b.csv"))
        .await
        .unwrap();
    let first = b.feed.read(Some(&start), 2).await.unwrap();
    assert_eq!(first.changes.len(), 2);
    // One write's items may land in any order (the stream orders per item only).
    let dot = first.changes.iter().find(|c| c.item == "Dot").unwrap();
    assert_eq!(dot.kind, ChangeKind::Insert);
    assert_eq!(dot.old, None);
    assert_eq!(dot.new.as_ref().unwrap().count, 5);
    assert!(first.changes.iter().any(|c| c.item == "Show"));
    let second = b.feed.read(Some(&first.cursor), 10).await.unwrap();
    assert_eq!(second.changes.len(), 1);
    let c = &second.changes[0];
    assert_eq!(
        (c.kind, c.store.as_str(), c.item.as_str()),
        (ChangeKind::Modify, "Berlin", "Dot")
    );
    assert_eq!(
        c.old,
        Some(Image {
            count: 5,
            as_of: Timestamp(100),
            source: "k/a.csv".into()
        })
    );
    assert_eq!(
        c.new,
        Some(Image {
            count: 0,
            as_of: Timestamp(200),
            source: "k/b.csv".into()
        })
    );
    let ids: Vec<_> = first
        .changes
        .iter()
        .chain(&second.changes)
        .map(|c| c.id.clone())
        .collect();
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), 3, "change ids are unique");
    let empty = b.feed.read(Some(&second.cursor), 10).await.unwrap();
    assert!(empty.changes.is_empty());
    assert_eq!(empty.cursor, second.cursor, "an empty read keeps the cursor");
    let tip = b.feed.tip().await.unwrap();
    assert!(
        b.feed.read(Some(&tip), 10).await.unwrap().changes.is_empty(),
        "the tip is past every change"
    );
    b.table
        .write(snapshot(&[("Berlin", "Show", 7)], 300, "k/c.csv"))
        .await
        .unwrap();
    let after_tip = b.feed.read(Some(&tip), 10).await.unwrap();
    assert_eq!(after_tip.changes.len(), 1, "a change after the tip is read from it");
    assert_eq!(after_tip.changes[0].new.as_ref().unwrap().count, 7);
}

pub async fn a_newer_snapshot_of_the_same_count_is_one_change(b: &Ports) {
    b.table
        .write(snapshot(&[("Berlin", "Dot", 5)], 100, "k/a.csv"))
        .await
        .unwrap();
    let tip = b.feed.tip().await.unwrap();
    b.table
        .write(snapshot(&[("Berlin", "Dot", 5)], 200, "k/b.csv"))
        .await
        .unwrap();
    b.table
        .write(snapshot(&[("Berlin", "Dot", 5)], 200, "k/b.csv"))
        .await
        .unwrap();
    let changes = b.feed.read(Some(&tip), 10).await.unwrap().changes;
    assert_eq!(
        changes.len(),
        1,
        "the as-of moved once; the same snapshot again is nothing"
    );
    let (old, new) = (changes[0].old.as_ref().unwrap(), changes[0].new.as_ref().unwrap());
    assert_eq!((old.count, new.count), (5, 5));
    assert_eq!((old.as_of.0, new.as_of.0), (100, 200), "followers see the as-of move");
}

pub async fn checkpoints_never_move_back(b: &Ports) {
    assert_eq!(b.checkpoints.load("c").await.unwrap(), None);
    b.table
        .write(snapshot(&[("A", "x", 1), ("A", "y", 1)], 1, "k/a.csv"))
        .await
        .unwrap();
    let all = b.feed.read(None, 10).await.unwrap();
    let one = b.feed.read(None, 1).await.unwrap();
    b.checkpoints.save("c", &all.cursor).await.unwrap();
    b.checkpoints.save("c", &one.cursor).await.unwrap();
    assert_eq!(b.checkpoints.load("c").await.unwrap(), Some(all.cursor.clone()));
    assert_eq!(b.checkpoints.load("other").await.unwrap(), None);
}
