//! SIGKILL at random moments: uploads, checks, watches and consoles share a
//! data dir and are killed mid-way, round after round, at least 50 times.
//! Then everything is let finish (every snapshot loaded once more, checks
//! after the lease), and the invariants hold: the newest snapshot of every
//! item, an unbroken change log, exactly one alert per transition, exactly
//! one outbox line per notified alert, no upload left `received`.
//!
//! The lease (claims and loads) is 300 ms here, for the test only, so the
//! takeovers happen within the test's time.

use stockwatch_testkit as common;

use common::Env;
use common::invariants::{Lcg, hold, snapshots, write_files};
use common::tmux::Tmux;
use std::process::{Child, Stdio};
use std::time::Duration;

const KILLS: usize = 60;
const LEASE_MS: u64 = 300;
const LOW: u32 = 3;

/// A process of the round, and how to kill it.
enum Victim {
    Process(&'static str, Child),
    Console(Tmux),
}

impl Victim {
    fn kind(&self) -> &'static str {
        match self {
            Victim::Process(kind, _) => kind,
            Victim::Console(_) => "console",
        }
    }

    /// SIGKILL if it is still running; whether it was.
    fn kill(self) -> bool {
        match self {
            Victim::Process(_, mut child) => {
                let running = matches!(child.try_wait(), Ok(None));
                let _ = child.kill();
                let _ = child.wait();
                running
            }
            Victim::Console(tmux) => match tmux.console_pid() {
                Some(pid) => unsafe { libc::kill(pid as i32, libc::SIGKILL) == 0 },
                None => false,
            },
        }
    }
}

#[test]
fn processes_killed_at_random_moments_lose_nothing_and_send_each_alert_once() {
    let env = Env::new();
    assert!(env.run(&["provision"]).status.success());
    // Big enough that a load takes a while: kills land in every step of it.
    let snapshots = snapshots(16, 10, 500);
    let files = write_files(&env, &snapshots);
    let lease = LEASE_MS.to_string();
    let command = || {
        let mut cmd = env.cmd();
        cmd.env("STOCKWATCH_TEST_LEASE_MS", &lease)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };
    let mut rng = Lcg(20_261_130);
    let (mut kills, mut rounds) = (0, 0);
    let mut killed: std::collections::BTreeMap<&str, usize> = Default::default();
    while kills < KILLS {
        rounds += 1;
        assert!(
            rounds < 400,
            "only {kills} kills in {rounds} rounds: the processes end too soon"
        );
        let mut victims = Vec::new();
        victims.push(Victim::Process("check", command().arg("check").spawn().unwrap()));
        for _ in 0..2 {
            let (path, as_of) = &files[(rng.draw() % files.len() as u64) as usize];
            let upload = command()
                .args(["upload", "--as-of", &as_of.to_rfc3339()])
                .arg(path)
                .spawn()
                .unwrap();
            victims.push(Victim::Process("upload", upload));
        }
        if rounds % 3 == 0 {
            victims.push(Victim::Process(
                "watch",
                command().args(["watch", "--json"]).spawn().unwrap(),
            ));
            let console = Tmux::start_with(&env, 80, 24, &[("STOCKWATCH_TEST_LEASE_MS", &lease)]);
            victims.push(Victim::Console(console));
        }
        // Each at its own moment: half early (an upload is stored and loaded
        // within ~40 ms), half later (checking, sending, following).
        for victim in victims {
            let wait = if rng.draw().is_multiple_of(2) {
                rng.draw() % 40
            } else {
                40 + rng.draw() % 200
            };
            std::thread::sleep(Duration::from_millis(wait));
            let kind = victim.kind();
            if victim.kill() {
                kills += 1;
                *killed.entry(kind).or_default() += 1;
            }
        }
    }

    // Let everything finish: wait out the leases, load every snapshot once
    // more (scrambled), and check until what the killed ones left is done.
    std::thread::sleep(Duration::from_millis(2 * LEASE_MS));
    let mut order: Vec<usize> = (0..files.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, (rng.draw() % (i as u64 + 1)) as usize);
    }
    for i in order {
        let (path, as_of) = &files[i];
        let out = env
            .cmd()
            .env("STOCKWATCH_TEST_LEASE_MS", &lease)
            .args(["upload", "--as-of", &as_of.to_rfc3339()])
            .arg(path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    for _ in 0..2 {
        std::thread::sleep(Duration::from_millis(2 * LEASE_MS));
        let out = env
            .cmd()
            .env("STOCKWATCH_TEST_LEASE_MS", &lease)
            .arg("check")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    // The kills must have hit the windows that matter, not only idle moments.
    let uploads = env.json(&["uploads", "--json", "--limit", "100000"]);
    let resumed = uploads
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["report"]["resumed"] == true)
        .count();
    eprintln!(
        "{kills} processes killed in {rounds} rounds ({killed:?}); {resumed} uploads left half loaded were resumed"
    );
    assert!(resumed > 0, "no kill landed between storing a file and loading it");
    for kind in ["upload", "check", "watch", "console"] {
        assert!(
            killed.get(kind).is_some_and(|&n| n > 0),
            "no {kind} was killed: {killed:?}"
        );
    }
    hold(&env, &snapshots, LOW);
}
