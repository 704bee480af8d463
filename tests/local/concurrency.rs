//! Eight processes upload overlapping, out-of-order snapshots into one data
//! dir at once. Afterwards the table holds the newest snapshot of every
//! item, the change log is an unbroken chain per item, and every transition
//! has exactly one alert and (for OUT) exactly one notification.

use stockwatch_testkit as common;

use common::Env;
use common::invariants::{Lcg, hold, snapshots, write_files};
use std::sync::{Arc, Barrier};

const WORKERS: usize = 8;
const SNAPSHOTS: usize = 32;
const STORES: usize = 8;
const ITEMS: usize = 40;
const LOW: u32 = 3;

#[test]
fn eight_processes_loading_out_of_order_lose_nothing_and_alert_once() {
    let env = Env::new();
    assert!(env.run(&["provision"]).status.success());
    let snapshots = snapshots(SNAPSHOTS, STORES, ITEMS);
    let files = write_files(&env, &snapshots);
    // Deal the snapshots out in a scrambled order: newer files often load first.
    let mut order: Vec<usize> = (0..SNAPSHOTS).collect();
    let mut rng = Lcg(42);
    for i in (1..order.len()).rev() {
        order.swap(i, (rng.draw() % (i as u64 + 1)) as usize);
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

    hold(&env, &snapshots, LOW);
}
