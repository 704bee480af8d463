//! Eight processes upload overlapping, out-of-order snapshots into one data
//! dir at once. Afterwards the table holds the newest snapshot of every
//! item, the change log is an unbroken chain per item, and every transition
//! has exactly one alert and (for OUT) exactly one notification.

mod common;

use common::Env;
use rusqlite::Connection;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Barrier};
use stockwatch::domain::{AlertKind, Decision, Timestamp, decide};

const WORKERS: usize = 8;
const SNAPSHOTS: usize = 32;
const STORES: usize = 8;
const ITEMS: usize = 40;
const LOW: u32 = 3;

type Key = (String, String);
/// (id, key, old count, new count, old as-of, new as-of) of a change record.
type LoggedChange = (i64, Key, Option<u32>, u32, Option<i64>, i64);

/// A small deterministic generator: the test must fail the same way twice.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

struct Snapshot {
    as_of: Timestamp,
    rows: Vec<(Key, u32)>,
}

fn snapshots() -> Vec<Snapshot> {
    let base = Timestamp::parse_rfc3339("2026-11-01T00:00:00Z").unwrap().0;
    let counts = [0, 0, 1, 2, 3, 4, 8, 12, 20];
    (0..SNAPSHOTS)
        .map(|s| {
            let mut rng = Lcg(s as u64 + 7);
            let mut rows = Vec::new();
            for store in 0..STORES {
                for item in 0..ITEMS {
                    if rng.next() % 10 < 6 {
                        let count = counts[(rng.next() % counts.len() as u64) as usize];
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

#[test]
fn eight_processes_loading_out_of_order_lose_nothing_and_alert_once() {
    let env = Env::new();
    assert!(env.run(&["provision"]).status.success());
    let snapshots = snapshots();
    let mut files = Vec::new();
    for (i, snap) in snapshots.iter().enumerate() {
        let path = env.dir.path().join(format!("snapshot-{i:02}.csv"));
        let mut text = String::from("store,item,count\n");
        for ((store, item), count) in &snap.rows {
            text.push_str(&format!("{store},{item},{count}\n"));
        }
        std::fs::write(&path, text).unwrap();
        files.push((path, snap.as_of));
    }
    // Deal the snapshots out in a scrambled order: newer files often load first.
    let mut order: Vec<usize> = (0..SNAPSHOTS).collect();
    let mut rng = Lcg(42);
    for i in (1..order.len()).rev() {
        order.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }
    let env = Arc::new(env);
    let barrier = Arc::new(Barrier::new(WORKERS));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let mine: Vec<_> = order
                .iter()
                .skip(w)
                .step_by(WORKERS)
                .map(|&i| files[i].clone())
                .collect();
            let (env, barrier) = (env.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                for (path, as_of) in mine {
                    let out = env
                        .cmd()
                        .args(["upload", "--as-of", &as_of.to_rfc3339()])
                        .arg(&path)
                        .output()
                        .unwrap();
                    assert!(
                        out.status.success(),
                        "{}: {}{}",
                        path.display(),
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }

    // Every upload ran the checker after loading: nothing is left to raise.
    let check = env.json(&["check", "--json"]);
    assert_eq!(check["raised"].as_array().unwrap().len(), 0, "{check}");

    // 1. The table holds the newest snapshot of every item.
    let mut newest: HashMap<Key, (Timestamp, u32)> = HashMap::new();
    for snap in &snapshots {
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
        match decide(*old, Some(*new), LOW) {
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

    // 4. Each OUT alert was notified exactly once.
    let out_ids: HashSet<String> = alerts
        .iter()
        .filter(|a| a.2 == "OUT")
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
    assert_eq!(unique, out_ids, "notifications differ from the OUT alerts");
}
