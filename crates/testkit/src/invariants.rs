//! What must hold after any number of processes loaded and checked one
//! data dir, whatever order they ran in and wherever they were killed: the
//! newest snapshot of every item, an unbroken change log, one alert per
//! transition, one notification (in one outbox line) per OUT alert.

use crate::Env;
use rusqlite::Connection;
use std::collections::{BTreeMap, HashMap, HashSet};
use stockwatch_domain::{AlertKind, Decision, Timestamp, decide};

pub type Key = (String, String);
/// (id, key, old count, new count, old as-of, new as-of) of a change record.
type LoggedChange = (i64, Key, Option<u32>, u32, Option<i64>, i64);

/// A small deterministic generator: a test must fail the same way twice.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn draw(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

pub struct Snapshot {
    pub as_of: Timestamp,
    pub rows: Vec<(Key, u32)>,
}

/// `count` snapshots a minute apart of `stores` × `items`, each holding
/// about 60% of the items, with many zeros and low counts.
pub fn snapshots(count: usize, stores: usize, items: usize) -> Vec<Snapshot> {
    let base = Timestamp::parse_rfc3339("2026-11-01T00:00:00Z").unwrap().0;
    let counts = [0, 0, 1, 2, 3, 4, 8, 12, 20];
    (0..count)
        .map(|s| {
            let mut rng = Lcg(s as u64 + 7);
            let mut rows = Vec::new();
            for store in 0..stores {
                for item in 0..items {
                    if rng.draw() % 10 < 6 {
                        let count = counts[(rng.draw() % counts.len() as u64) as usize];
                        rows.push(((format!("Store {store}"), format!("Item {item}")), count));
                    }
                }
            }
            Snapshot {
                as_of: Timestamp(base + s as i64 * 60_000),
                rows,
            }
        })
        .collect()
}

/// Writes each snapshot as a CSV file in the env's dir: (path, as-of).
pub fn write_files(env: &Env, snapshots: &[Snapshot]) -> Vec<(std::path::PathBuf, Timestamp)> {
    snapshots
        .iter()
        .enumerate()
        .map(|(i, snap)| {
            let path = env.dir.path().join(format!("snapshot-{i:02}.csv"));
            let mut text = String::from("store,item,count\n");
            for ((store, item), count) in &snap.rows {
                text.push_str(&format!("{store},{item},{count}\n"));
            }
            std::fs::write(&path, text).unwrap();
            (path, snap.as_of)
        })
        .collect()
}

/// Every invariant, against the data dir as it is now. `low` is the
/// threshold the checkers ran with.
pub fn hold(env: &Env, snapshots: &[Snapshot], low: u32) {
    // 1. The table holds the newest snapshot of every item.
    let mut newest: HashMap<Key, (Timestamp, u32)> = HashMap::new();
    for snap in snapshots {
        for (key, count) in &snap.rows {
            let entry = newest.entry(key.clone()).or_insert((snap.as_of, *count));
            if snap.as_of > entry.0 {
                *entry = (snap.as_of, *count);
            }
        }
    }
    let stock = env.json(&["stock", "--json"]);
    let table: HashMap<Key, (Timestamp, u32)> = stock
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let key = (
                r["store"].as_str().unwrap().to_string(),
                r["item"].as_str().unwrap().to_string(),
            );
            let as_of = Timestamp::parse_rfc3339(r["as_of"].as_str().unwrap()).unwrap();
            (key, (as_of, r["count"].as_u64().unwrap() as u32))
        })
        .collect();
    assert_eq!(table.len(), newest.len());
    assert_eq!(table, newest, "the table is not the newest snapshot per item");

    // 2. No change is lost: per item, the log is an unbroken chain from
    //    nothing to the final count, moving only to newer snapshots.
    let db = Connection::open(env.data_dir().join("stockwatch.db")).unwrap();
    let mut stmt = db
        .prepare("SELECT id, store, item, old_count, new_count, old_as_of, new_as_of FROM changes ORDER BY id")
        .unwrap();
    let changes: Vec<LoggedChange> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                (r.get(1)?, r.get(2)?),
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut chains: BTreeMap<Key, Vec<&LoggedChange>> = BTreeMap::new();
    for c in &changes {
        chains.entry(c.1.clone()).or_default().push(c);
    }
    assert_eq!(chains.len(), newest.len());
    for (key, chain) in &chains {
        assert_eq!(chain[0].2, None, "{key:?}: the first change is not an insert");
        for pair in chain.windows(2) {
            assert_eq!(
                pair[1].2,
                Some(pair[0].3),
                "{key:?}: a change is missing between {} and {}",
                pair[0].0,
                pair[1].0
            );
            // Same-count snapshots move the as-of without a change record.
            assert!(
                pair[1].4 >= Some(pair[0].5),
                "{key:?}: old image is older than the previous new image"
            );

            assert!(pair[1].5 > pair[0].5, "{key:?}: the log went back to an older snapshot");
        }
        assert_eq!(
            chain.last().unwrap().3,
            newest[key].1,
            "{key:?}: the log does not end at the final count"
        );
    }

    // 3. Each transition has exactly one alert, and no other alerts exist.
    let mut expected: HashSet<(String, &'static str)> = HashSet::new();
    let mut restocks: HashMap<Key, i64> = HashMap::new();
    for (id, key, old, new, _, as_of) in &changes {
        match decide(*old, Some(*new), low) {
            Decision::Raise(kind) => {
                expected.insert((id.to_string(), kind.as_str()));
            }
            Decision::Resolve => {
                let latest = restocks.entry(key.clone()).or_insert(*as_of);
                *latest = (*latest).max(*as_of);
            }
            Decision::Nothing => {}
        }
    }
    let mut stmt = db
        .prepare("SELECT id, change_id, kind, store, item, as_of, state FROM alerts")
        .unwrap();
    let alerts: Vec<(i64, String, String, Key, i64, String)> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                (r.get(3)?, r.get(4)?),
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let got: HashSet<(String, &'static str)> = alerts
        .iter()
        .map(|a| (a.1.clone(), AlertKind::parse(&a.2).unwrap().as_str()))
        .collect();
    assert_eq!(got.len(), alerts.len(), "two alerts for one transition");
    assert_eq!(got, expected, "alerts differ from the transitions in the change log");
    assert!(
        expected.len() > 50,
        "the test should exercise many transitions, got {}",
        expected.len()
    );

    // An alert is resolved exactly when a newer restock of its item happened,
    // whichever checker saw which change first.
    for (id, _, _, key, as_of, state) in &alerts {
        let restocked = restocks.get(key).is_some_and(|&r| r > *as_of);
        assert_eq!(state == "resolved", restocked, "alert {id} of {key:?} is {state}");
    }

    // 4. Each OUT alert still open was notified exactly once; one whose
    // outage ended before a checker sent it may go untold (issue 24.4),
    // never told twice, and nothing else is told.
    let out_ids: HashSet<String> = alerts
        .iter()
        .filter(|a| a.2 == "OUT")
        .map(|a| a.0.to_string())
        .collect();
    let open_out_ids: HashSet<String> = alerts
        .iter()
        .filter(|a| a.2 == "OUT" && a.5 == "open")
        .map(|a| a.0.to_string())
        .collect();
    let outbox = env.outbox();
    let notified: Vec<String> = outbox
        .iter()
        .flat_map(|n| n["alert_ids"].as_array().unwrap().clone())
        .map(|id| id.as_str().unwrap().to_string())
        .collect();
    let unique: HashSet<String> = notified.iter().cloned().collect();
    assert_eq!(unique.len(), notified.len(), "an alert was notified twice");
    assert!(unique.is_subset(&out_ids), "notified what is not an OUT alert");
    let untold: Vec<&String> = open_out_ids.difference(&unique).collect();
    assert!(untold.is_empty(), "open OUT alerts never notified: {untold:?}");

    // 5. No upload is left half loaded.
    let uploads = env.json(&["uploads", "--json", "--limit", "100000"]);
    let received: Vec<&serde_json::Value> = uploads
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["status"] == "received")
        .collect();
    assert!(received.is_empty(), "uploads left received: {received:?}");
}
