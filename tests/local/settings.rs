//! Settings, data dirs and errors, through the real binary: a data dir that
//! is read-only or full, settings that mean nothing, and the error messages
//! and codes scripts and people get.

use stockwatch_testkit as common;

use common::{Env, samples, stderr, stdout};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Runs `cmd` as a user who may not write what root made (nobody), when
/// the tests run as root; as anyone else, permissions already bind.
fn unprivileged(env: &Env, cmd: &mut Command) {
    if unsafe { libc::geteuid() } == 0 {
        // nobody must reach the temp dir, and have a home of its own.
        let mut dir = env.dir.path().to_path_buf();
        loop {
            let mode = std::fs::metadata(&dir).unwrap().permissions();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode.mode() | 0o005)).unwrap();
            if !dir.pop() || dir == std::path::Path::new("/") {
                break;
            }
        }
        cmd.uid(65534).gid(65534).env("HOME", env.dir.path());
    }
}

/// Makes `path` and everything under it read-only for everyone but root.
fn read_only(path: &std::path::Path) {
    let status = Command::new("chmod")
        .args(["-R", "a-w,a+rX"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_read_only_data_dir_reads_and_refuses_writes_with_a_sentence() {
    let env = Env::new();
    let out = env.cmd().arg("upload").args(samples()).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let before = env.json(&["stock", "--json"]);
    let bucket_files = || walk(&env.data_dir().join("bucket")).len();
    let stored = bucket_files();
    read_only(&env.data_dir());

    let run = |args: &[&str]| {
        let mut cmd = env.cmd();
        unprivileged(&env, cmd.args(args));
        cmd.output().unwrap()
    };
    for args in [&["stock"][..], &["alerts", "--all"], &["uploads"], &["stock", "--json"]] {
        let out = run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&run(&["stock", "--json"]).stdout).unwrap(),
        before
    );
    let berlin = &samples()[0];
    for args in [&["upload", berlin.as_str()][..], &["ack", "1"], &["check"]] {
        let out = run(args);
        let said = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {said}");
        assert!(said.contains("is read-only for this user"), "{args:?}: {said}");
        assert!(said.contains("reading works there"), "{args:?}: {said}");
        assert_eq!(said.lines().count(), 1, "one sentence, no retries: {said}");
    }
    assert_eq!(bucket_files(), stored, "the refused upload left no file in the bucket");
}

#[test]
fn a_console_on_a_read_only_data_dir_shows_the_stock_and_offers_no_writes() {
    let env = Env::new();
    assert!(
        env.cmd()
            .arg("upload")
            .args(samples())
            .output()
            .unwrap()
            .status
            .success()
    );
    read_only(&env.data_dir());
    let (status, screen) = common::script::console(&env, &[], "Berlin", b"q", |cmd| unprivileged(&env, cmd));
    assert!(status.success(), "{screen}");
    assert!(!screen.contains("readonly database"), "{screen}");
    assert!(
        screen.contains("read-only"),
        "the console says it is read-only: {screen}"
    );
}

#[test]
fn a_full_disk_fails_with_one_code_at_every_step_and_leaves_nothing_half_made() {
    // A 4 MiB file system of its own, in a mount namespace of its own.
    let script = r#"
        set -u
        mount -t tmpfs -o size=4m tmpfs "$DISK" || exit 99
        "$BIN" upload "$SMALL" >/dev/null || exit 98
        dd if=/dev/zero of="$DISK/filler" bs=64k 2>/dev/null
        truncate -s -300K "$DISK/filler"
        "$BIN" upload "$BIG"; echo "staging=$?"
        echo "staged=$(ls -A "$STOCKWATCH_DATA_DIR/staging" | wc -l)"
        echo "bucket=$(find "$STOCKWATCH_DATA_DIR/bucket" -type f | wc -l)"
        truncate -s -600K "$DISK/filler"
        "$BIN" upload "$MEDIUM"; echo "database=$?"
        echo "staged=$(ls -A "$STOCKWATCH_DATA_DIR/staging" | wc -l)"
        "$BIN" uploads --json >"$DISK/../uploads.json"; echo "uploads=$?"
    "#;
    let env = Env::new();
    let disk = env.dir.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let rows = |name: &str, n: u32| {
        let path = env.dir.path().join(name);
        let mut text = String::from("store,item,count\n");
        for i in 0..n {
            text.push_str(&format!("Store {},Item {},{}\n", i / 1000, i % 1000, i % 9));
        }
        std::fs::write(&path, text).unwrap();
        path
    };
    let (big, medium) = (rows("big.csv", 80_000), rows("medium.csv", 15_000));
    let cmd = env.cmd();
    let out = Command::new("unshare")
        .args(["-rm", "sh", "-c", script])
        .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .env("STOCKWATCH_DATA_DIR", disk.join("data"))
        .env("DISK", &disk)
        .env("BIN", env!("CARGO_BIN_EXE_stockwatch"))
        .env("SMALL", &samples()[0])
        .env("BIG", &big)
        .env("MEDIUM", &medium)
        .current_dir(common::repo())
        .output()
        .unwrap();
    let (text, said) = (stdout(&out), stderr(&out));
    assert_ne!(
        out.status.code(),
        Some(99),
        "this test needs a mount namespace (unshare -rm): {said}"
    );
    assert!(out.status.success(), "{text}\n{said}");
    assert!(text.contains("staging=1\nstaged=0\nbucket=1\n"), "{text}\n{said}");
    assert!(text.contains("database=1\nstaged=0\n"), "{text}\n{said}");
    assert!(text.contains("FAILED: the disk holding"), "{text}");
    assert_eq!(
        said.matches("is full; free some space, then try again").count(),
        1,
        "{said}"
    );
    // The file that reached the bucket is kept, failed, with its report.
    let uploads: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.dir.path().join("uploads.json")).unwrap()).unwrap();
    assert_eq!(uploads[0]["status"], "failed", "{uploads}");
}

#[test]
fn empty_and_missing_settings_are_refused_not_taken_for_the_current_folder() {
    let env = Env::new();
    let cwd = tempfile::tempdir().unwrap();
    let config = env.dir.path().join("config.toml");
    std::fs::write(&config, "backend = \"local\"\ndata_dir = \"\"\n").unwrap();
    let mut cmd = env.cmd();
    cmd.env_remove("STOCKWATCH_DATA_DIR")
        .arg("--config")
        .arg(&config)
        .arg("stock");
    let out = cmd.current_dir(cwd.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("line 2: data_dir is empty"), "{}", stderr(&out));

    let out = env
        .cmd()
        .env("STOCKWATCH_LOG_DIR", "")
        .arg("stock")
        .current_dir(cwd.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("STOCKWATCH_LOG_DIR is set but empty"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_dir(cwd.path()).unwrap().count(),
        0,
        "nothing made in the current folder"
    );

    let out = env.run(&["--config", "/nonexistent/stockwatch.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("does not exist; create it") && stderr(&out).contains("unset STOCKWATCH_CONFIG"),
        "{}",
        stderr(&out)
    );
    let out = env
        .cmd()
        .env("STOCKWATCH_CONFIG", "/dev/zero")
        .arg("stock")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a regular file"), "{}", stderr(&out));
}

#[test]
fn a_bucket_folder_that_cannot_be_made_says_what_to_do() {
    let env = Env::new();
    std::fs::create_dir(env.data_dir()).unwrap();
    read_only(&env.data_dir());
    let mut cmd = env.cmd();
    unprivileged(&env, cmd.arg("stock"));
    let out = cmd.output().unwrap();
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("Permission denied") && said.contains("check its permissions"),
        "{said}"
    );
}

#[test]
fn config_mistakes_are_named_by_their_line() {
    let env = Env::new();
    let config = env.dir.path().join("config.toml");
    let check = |text: &str, wanted: &[&str]| {
        std::fs::write(&config, text).unwrap();
        let out = env.cmd().arg("--config").arg(&config).arg("stock").output().unwrap();
        let said = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{said}");
        for w in wanted {
            assert!(said.contains(w), "{w:?} in {said}");
        }
        said
    };
    check(
        "[alerts]\nlow_threshold = 2\n\n[[alerts.item]]\nitem = \"Tap\"\nlow_threshold = 1\n\n[[alerts.item]]\nitem = \"Tap\"\nlow_threshold = 5\n",
        &["line 8: a second [[alerts.item]] for item `Tap` (every store); the first is on line 4"],
    );
    check("keymap = \"emacs\"\n", &["line 1: there is no built-in keymap `emacs`"]);
    check("backend = \"gcp\"\n", &["line 1: backend `gcp` is unknown"]);
    // TOML's own errors keep their lines: the one at fault, and a caret under it.
    let said = check("[alerts]\nlow_threshold = \"five\"\n", &["TOML parse error at line 2"]);
    let lines: Vec<&str> = said.lines().collect();
    assert!(lines.len() >= 4, "{said}");
    assert!(lines.iter().any(|l| l.contains("low_threshold = \"five\"")), "{said}");
    assert!(
        lines.iter().any(|l| l.trim_start().starts_with('|') && l.contains('^')),
        "{said}"
    );
}

#[test]
fn errors_come_as_json_when_json_is_asked_for() {
    let env = Env::new();
    for (args, code, kind) in [
        (&["ack", "999", "--json"][..], 4, "not_found"),
        (&["stock", "--json", "--bogus"], 2, "usage"),
        (&["alerts", "--json", "--config", "/nonexistent.toml"], 2, "usage"),
    ] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(code), "{args:?}");
        assert!(out.stdout.is_empty(), "stdout keeps only results");
        let error: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap_or_else(|e| {
            panic!("{args:?}: not JSON ({e}): {}", stderr(&out));
        });
        assert_eq!(error["error"]["exit_code"], code);
        assert_eq!(error["error"]["kind"], kind);
        assert!(error["error"]["message"].as_str().unwrap().len() > 10);
    }
}

#[test]
fn notify_low_takes_the_usual_boolean_spellings() {
    let low_messages = |value: &str| {
        let env = Env::new();
        let out = env
            .cmd()
            .env("STOCKWATCH_NOTIFY_LOW", value)
            .arg("upload")
            .args(samples())
            .output()
            .unwrap();
        assert!(out.status.success(), "{value}: {}", stderr(&out));
        // Alerts notified (a store's OUT and LOW share one message).
        env.outbox()
            .iter()
            .map(|m| m["alert_ids"].as_array().unwrap().len())
            .sum::<usize>()
    };
    let (on, off) = (low_messages("1"), low_messages("0"));
    assert!(on > off, "LOW alerts notified with 1 ({on}) and not with 0 ({off})");
    assert_eq!(low_messages("yes"), on);
    assert_eq!(low_messages("no"), off);
    assert_eq!(low_messages("true"), on);
    let env = Env::new();
    let out = env
        .cmd()
        .env("STOCKWATCH_NOTIFY_LOW", "maybe")
        .arg("stock")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_cuts_a_storm_to_a_count_and_the_log_has_no_empty_errors() {
    let env = Env::new();
    let path = env.dir.path().join("storm.csv");
    let mut text = String::from("store,item,count\n");
    for i in 0..300 {
        text.push_str(&format!("Berlin,Item {i},0\n"));
    }
    std::fs::write(&path, text).unwrap();
    let out = env.cmd().args(["upload", "--no-check"]).arg(&path).output().unwrap();
    assert!(out.status.success());
    let out = env.run(&["check"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("300 alerts raised"), "{text}");
    assert!(text.contains("… and 280 more (stockwatch alerts lists them)"), "{text}");
    assert!(text.lines().count() < 30, "{text}");

    // A rejected upload exits 3 and the log says so without an empty error.
    let bad = env.dir.path().join("bad.csv");
    std::fs::write(&bad, "store,item,count\nBerlin,Tap,x\n").unwrap();
    let out = env.cmd().arg("upload").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let log = std::fs::read_to_string(env.dir.path().join("logs/stockwatch.log")).unwrap();
    assert!(!log.contains("error="), "{log}");
    assert!(log.contains("code=3"), "{log}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// A keymap beside the config file named by --config is the one used, and
/// one that unbinds `quit` is refused before the console starts.
#[test]
fn a_keymap_beside_the_config_that_leaves_no_way_out_is_refused() {
    let env = Env::new();
    let dir = env.dir.path().join("elsewhere");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), "").unwrap();
    std::fs::write(dir.join("keymap.toml"), "[global]\nquit = []\n").unwrap();
    let out = env.cmd().arg("--config").arg(dir.join("config.toml")).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(
        said.contains("elsewhere/keymap.toml") && said.contains("`quit` has no key"),
        "{said}"
    );
}
