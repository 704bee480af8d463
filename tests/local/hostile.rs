//! Hostile input, through the real binary: files that would eat memory or
//! block, bytes that must never reach a terminal raw, names that look like
//! other names, settings that mean nothing, and the errors they get.

use stockwatch_testkit as common;

use common::{Env, stderr, stdout};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `cmd` to its end: (exit code, peak memory in MB, wall time, stdout, stderr).
fn measured(mut cmd: Command) -> (Option<i32>, f64, Duration, String, String) {
    let started = Instant::now();
    // Reaped by waitpid below.
    #[allow(clippy::zombie_processes)]
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id() as i32;
    // Read the pipes on threads, so a chatty child never blocks on them.
    let (mut out, mut err) = (child.stdout.unwrap(), child.stderr.unwrap());
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).unwrap();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).unwrap();
        s
    });
    // The child's own high-water mark (VmHWM), read until it is gone:
    // wait4's ru_maxrss would count the test binary it was forked from
    // (every test of the tier runs in that one process).
    let peak_kb = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let watcher = {
        let peak_kb = peak_kb.clone();
        std::thread::spawn(move || {
            let status = format!("/proc/{pid}/status");
            while let Ok(text) = std::fs::read_to_string(&status) {
                let Some(kb) = text
                    .lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                else {
                    break; // a zombie: its memory is gone
                };
                peak_kb.fetch_max(kb, std::sync::atomic::Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let mut status = 0;
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid);
    watcher.join().unwrap();
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let peak_mb = peak_kb.load(std::sync::atomic::Ordering::SeqCst) as f64 / 1024.0;
    (
        code,
        peak_mb,
        started.elapsed(),
        out.join().unwrap(),
        err.join().unwrap(),
    )
}

fn upload(env: &Env, path: &std::path::Path) -> (Option<i32>, f64, Duration, String, String) {
    let mut cmd = env.cmd();
    cmd.args(["upload", "--no-check"]).arg(path);
    measured(cmd)
}

#[test]
fn devices_and_pipes_are_refused_before_a_byte_is_read() {
    let env = Env::new();
    let fifo = env.dir.path().join("no-writer.fifo");
    let made = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(made.as_ptr(), 0o600) }, 0);
    for path in [std::path::Path::new("/dev/zero"), &fifo] {
        let (code, peak, took, _, said) = upload(&env, path);
        assert_eq!(code, Some(3), "{said}");
        assert!(said.contains("not a regular file"), "{said}");
        assert!(took < Duration::from_secs(5) && peak < 100.0, "{took:?}, {peak} MB");
    }
    assert_eq!(
        env.json(&["uploads", "--json"]),
        serde_json::json!([]),
        "nothing reached the bucket"
    );
}

#[test]
fn files_that_would_fill_memory_end_in_seconds_under_100_mb() {
    let env = Env::new();
    let dir = env.dir.path();
    // A header of three million columns (12 MB of commas).
    let wide = dir.join("wide.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&wide).unwrap());
    write!(f, "store,item,count").unwrap();
    for i in 0..3_000_000 {
        write!(f, ",x{i}").unwrap();
    }
    writeln!(f).unwrap();
    drop(f);
    // Two million bad lines.
    let bad = dir.join("bad.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&bad).unwrap());
    writeln!(f, "store,item,count").unwrap();
    for i in 0..2_000_000 {
        writeln!(f, "S,i{i},x").unwrap();
    }
    drop(f);
    // 64 MB with no line end.
    let zeros = dir.join("zeros.csv");
    let mut f = std::fs::File::create(&zeros).unwrap();
    f.write_all(b"store,item,count\n").unwrap();
    f.write_all(&vec![0u8; 64 * 1024 * 1024]).unwrap();
    drop(f);
    for (path, why) in [
        (&wide, "more than 10000 fields"),
        (&bad, "is not a number"),
        (&zeros, "runs past 1 MiB without ending"),
    ] {
        let (code, peak, took, out, said) = upload(&env, path);
        assert_eq!(code, Some(3), "{said}");
        assert!(out.contains(why), "{}", &out[..out.len().min(2000)]);
        assert!(took < Duration::from_secs(30), "{path:?} took {took:?}");
        assert!(peak < 100.0, "{path:?} used {peak:.0} MB");
        assert!(
            out.lines().count() < 80,
            "the report on the terminal is cut: {} lines",
            out.lines().count()
        );
    }
    // The report kept is capped too: the first hundred, and every one counted.
    let uploads = env.json(&["uploads", "--json"]);
    let report = uploads
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["key"].as_str().unwrap().ends_with("bad.csv"))
        .unwrap()["report"]
        .clone();
    assert_eq!(report["problems"].as_array().unwrap().len(), 100);
    assert_eq!(report["problem_count"], 2_000_000);
    assert_eq!(report["problem_kinds"]["not_a_number"], 2_000_000);
}

#[test]
fn a_big_file_loads_in_bounded_memory() {
    let env = Env::new();
    let path = env.dir.path().join("big.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "store,item,count").unwrap();
    for i in 0..600_000u32 {
        writeln!(f, "Store {:04},Item {:04},{}", i / 1000, i % 1000, i % 17).unwrap();
    }
    drop(f);
    let (code, peak, _, out, said) = upload(&env, &path);
    assert_eq!(code, Some(0), "{said}");
    assert!(out.contains("loaded 600000 rows"), "{out}");
    // Held whole, the file and its rows took well over twice this.
    assert!(peak < 100.0, "loading 600,000 rows used {peak:.0} MB");
}

/// No byte a terminal would act on: C1 controls, line separators, bidi and
/// other format characters (JSON escapes them as `\uXXXX`).
fn assert_terminal_safe(bytes: &[u8], what: &str) {
    let text = String::from_utf8_lossy(bytes);
    let bad: Vec<String> = text
        .chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c as u32, 0x2028 | 0x2029 | 0x202A..=0x202E | 0x2066..=0x2069 | 0x00AD | 0xE0000..=0xE007F)
        })
        .map(|c| format!("U+{:04X}", c as u32))
        .collect();
    assert!(bad.is_empty(), "{what} carries raw {bad:?}: {text}");
}

#[test]
fn json_output_escapes_c1_controls_and_bidi_characters() {
    let env = Env::new();
    // A file name holding a CSI (U+009B) and a right-to-left override.
    let name = "evil\u{9b}2J\u{202e}vsc.csv";
    let path = env.dir.path().join(name);
    std::fs::write(&path, "store,item,count\nBerlin,Echo Dot,0\n").unwrap();
    let out = env.cmd().args(["upload", "--json"]).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_terminal_safe(&out.stdout, "upload --json");
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["file"], path.to_str().unwrap(), "still the same JSON");

    // Names an older stockwatch let in, straight in the database: every
    // listing must still escape them.
    let db = rusqlite::Connection::open(env.data_dir().join("stockwatch.db")).unwrap();
    db.execute_batch(
        "UPDATE inventory SET store = 'Ber\u{202e}lin\u{2066}';
         UPDATE alerts SET store = 'Ber\u{202e}lin\u{2066}', acked_by = 'm\u{9b}31m';",
    )
    .unwrap();
    for args in [
        &["stock", "--json"][..],
        &["alerts", "--all", "--json"],
        &["uploads", "--json"],
    ] {
        let out = env.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_terminal_safe(&out.stdout, &format!("{args:?}"));
    }
    let stock = env.json(&["stock", "--json"]);
    assert_eq!(
        stock[0]["store"], "Ber\u{202e}lin\u{2066}",
        "a parser reads the same name"
    );
    let text = env.run(&["stock"]);
    assert_terminal_safe(&text.stdout, "stock");
}

#[test]
fn who_acknowledges_is_checked_like_the_note() {
    let env = Env::new();
    let out = env.cmd().arg("upload").args(common::samples()).output().unwrap();
    assert!(out.status.success());
    let first = env.json(&["alerts", "--json"])[0]["id"].as_str().unwrap().to_string();
    for (by, named) in [
        ("mal\u{9b}31m", "U+009B"),
        ("ops\u{202e}nimda", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("Ann\u{ad}a", "U+00AD SOFT HYPHEN"),
    ] {
        // From the environment and from the flag alike.
        let from_env = env
            .cmd()
            .env("STOCKWATCH_USER", by)
            .args(["ack", &first])
            .output()
            .unwrap();
        let from_flag = env.cmd().args(["ack", &first, "--by", by]).output().unwrap();
        for out in [from_env, from_flag] {
            let said = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{said}");
            assert!(said.contains(named), "{said}");
            assert_terminal_safe(&out.stderr, "the refusal");
        }
    }
    let note = env.run(&["ack", &first, "--note", "on it\u{2028}really"]);
    assert_eq!(note.status.code(), Some(2));
    let alerts = env.json(&["alerts", "--json"]);
    assert!(
        alerts.as_array().unwrap().iter().all(|a| a["acknowledged"].is_null()),
        "nothing was acknowledged"
    );
    let ok = env.run(&["ack", &first, "--by", "Zoë Ops"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
}

#[test]
fn invisible_characters_in_names_are_refused_and_named() {
    let env = Env::new();
    let honest = env.dir.path().join("honest.csv");
    std::fs::write(&honest, "store,item,count\nBerlin,Echo Dot,12\n").unwrap();
    assert!(env.cmd().arg("upload").arg(&honest).output().unwrap().status.success());
    for (hidden, named) in [
        ('\u{ad}', "U+00AD SOFT HYPHEN"),
        ('\u{3164}', "U+3164 HANGUL FILLER"),
        ('\u{180e}', "U+180E MONGOLIAN VOWEL SEPARATOR"),
        ('\u{e0041}', "U+E0041 TAG CHARACTER"),
        ('\u{fff9}', "U+FFF9 INTERLINEAR ANNOTATION ANCHOR"),
    ] {
        let path = env.dir.path().join("lookalike.csv");
        std::fs::write(&path, format!("store,item,count\nBer{hidden}lin,Echo Dot,0\n")).unwrap();
        let out = env.cmd().arg("upload").arg(&path).output().unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(3), "{said}");
        assert!(said.contains("line 2") && said.contains(named), "{said}");
        assert_terminal_safe(&out.stdout, "the report");
    }
    let stock = env.json(&["stock", "--json"]);
    assert_eq!(stock.as_array().unwrap().len(), 1, "only the real Berlin");
    assert_eq!(stock[0]["count"], 12);
    assert!(env.outbox().is_empty(), "no message says Berlin is out");
}

#[test]
fn a_name_composed_or_decomposed_is_one_item() {
    let env = Env::new();
    let composed = env.dir.path().join("composed.csv");
    std::fs::write(&composed, "store,item,count\nCafé,Tea,9\n").unwrap();
    assert!(
        env.cmd()
            .arg("upload")
            .arg(&composed)
            .output()
            .unwrap()
            .status
            .success()
    );
    let decomposed = env.dir.path().join("decomposed.csv");
    std::fs::write(&decomposed, "store,item,count\nCafe\u{301},Tea,1\n").unwrap();
    let out = env.cmd().arg("upload").arg(&decomposed).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("stored composed (NFC)"), "the change is said: {said}");
    let stock = env.json(&["stock", "--json"]);
    assert_eq!(stock.as_array().unwrap().len(), 1, "one Café: {stock}");
    assert_eq!(
        (stock[0]["store"].as_str(), stock[0]["count"].as_u64()),
        (Some("Café"), Some(1))
    );

    // Both forms in one file are the same row twice.
    let both = env.dir.path().join("both.csv");
    std::fs::write(&both, "store,item,count\nCafé,Tea,1\nCafe\u{301},Tea,9\n").unwrap();
    let out = env.cmd().arg("upload").arg(&both).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(said.contains("line 3"), "{said}");
}

#[test]
fn reports_keep_the_original_value_and_names_say_how_they_were_stored() {
    let env = Env::new();
    let path = env.dir.path().join("back\\slash.csv");
    std::fs::write(&path, "store,item,count\nBerlin,Echo Dot,1\u{9b}2J\n").unwrap();
    let out = env.cmd().arg("upload").arg(&path).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(said.contains("stored as back_slash.csv (backslashes"), "{said}");
    let uploads = env.json(&["uploads", "--json"]);
    let key = uploads[0]["key"].as_str().unwrap();
    assert!(key.ends_with("/back_slash.csv"), "{key}");
    let out = env.run(&["uploads", key, "--json"]);
    assert_terminal_safe(&out.stdout, "the report");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problem = &report["report"]["problems"][0];
    assert_eq!(
        problem["value"], "1\u{9b}2J",
        "the value as it was in the file: {problem}"
    );
}

#[test]
fn a_terminal_that_never_answers_the_cursor_query_still_gets_a_console_and_its_screen_back() {
    let env = Env::new();
    let (status, text) = common::script::console(&env, &[], "Stores", b"q", |_| {});
    assert!(status.success(), "{text}");
    let entered = text.find("\x1b[?1049h").expect("the alternate screen");
    let left = text.rfind("\x1b[?1049l").expect("the screen given back");
    assert!(left > entered, "{text}");
    assert!(!text.contains("\x1b[6n"), "nobody asks where the cursor is");
}

/// A damaged database is said with what to do, and nothing retries it.
#[test]
fn a_damaged_database_says_what_to_do() {
    let env = Env::new();
    assert!(env.run(&["upload", "samples/inventory-berlin.csv"]).status.success());
    let db = env.data_dir().join("stockwatch.db");
    let mut bytes = std::fs::read(&db).unwrap();
    bytes[..16].copy_from_slice(b"not a database!\0");
    std::fs::write(&db, bytes).unwrap();
    for args in [&["stock"][..], &["watch", "--no-checker"][..]] {
        let started = Instant::now();
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            said.contains("is damaged") && said.contains("restore it from a backup") && said.contains("provision"),
            "{args:?}: {said}"
        );
        assert!(started.elapsed() < Duration::from_secs(10), "{args:?} gave up at once");
    }
}

#[test]
fn a_private_file_is_kept_private_and_its_first_line_is_not_echoed() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    // A private file, through a link (as a link to /etc/shadow would be).
    let secret = env.dir.path().join("secret");
    let line = "root:$6$Zx9salt$Q8hashhashhashhashhashhash:19000:0:99999:7:::";
    std::fs::write(&secret, format!("{line}\nmore\n")).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = env.dir.path().join("inventory.csv");
    std::os::unix::fs::symlink(&secret, &link).unwrap();
    let out = env.run(&["upload", &link.to_string_lossy()]);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!said.contains("Q8hash"), "the line is not echoed whole: {said}");
    let uploads = env.json(&["uploads", "--json"]);
    let key = uploads[0]["key"].as_str().unwrap();
    let kept = env.data_dir().join("bucket").join(key);
    let mode = std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode & 0o077, 0, "kept {kept:?} as {mode:o}, wider than its source");
    let report = env.run(&["uploads", key]);
    assert!(!stdout(&report).contains("Q8hash"), "{}", stdout(&report));

    // A file others may read is kept readable by the group at most.
    let open = env.dir.path().join("open.csv");
    std::fs::write(&open, "store,item,count\nBerlin,Dot,4\n").unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o666)).unwrap();
    assert!(env.run(&["upload", &open.to_string_lossy()]).status.success());
    let uploads = env.json(&["uploads", "--json"]);
    let kept = env.data_dir().join("bucket").join(uploads[0]["key"].as_str().unwrap());
    let mode = std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode & 0o137, 0, "kept as {mode:o}: no more than rw-r-----");
}

#[test]
fn names_typed_as_arguments_are_read_as_files_names_are() {
    let env = Env::new();
    let cafe = env.dir.path().join("cafe.csv");
    std::fs::write(&cafe, "store,item,count\nCafé,Thé,0\n").unwrap();
    assert!(env.run(&["upload", &cafe.to_string_lossy()]).status.success());
    // Decomposed on the command line, as a keyboard or a paste may give it.
    let stock = env.json(&["stock", "--store", "Cafe\u{301}", "--json"]);
    assert_eq!(stock.as_array().map(Vec::len), Some(1), "{stock}");
    let history = env.run(&["history", "--store", "Cafe\u{301}", "--item", "The\u{301}"]);
    assert!(history.status.success(), "{}", stderr(&history));
    let snoozed = env.run(&["snooze", "--store", "Cafe\u{301}", "--for", "1h"]);
    assert!(snoozed.status.success(), "{}", stderr(&snoozed));
    assert!(!stderr(&snoozed).contains("no file has named"), "{}", stderr(&snoozed));
    assert!(env.run(&["unsnooze", "--store", "Café"]).status.success(), "one store");

    // Empty, or holding what shows as nothing: refused, exit 2, said.
    for bad in ["", "  ", "Caf\u{ad}é", "\u{2800}"] {
        let out = env.run(&["snooze", "--store", bad, "--for", "1h"]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("the store (--store)"),
            "{bad:?}: {}",
            stderr(&out)
        );
        let out = env.run(&["stock", "--store", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
    }
    // A store no file has named yet: kept, and said (a typo would mute nothing).
    let out = env.run(&["snooze", "--store", "Cafe", "--for", "1h"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no file has named the store `Cafe` yet"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn names_that_scripts_and_emoji_need_joiners_for_load_and_show_as_written() {
    let env = Env::new();
    let names = [
        "می\u{200C}خواهم",
        "क्\u{200D}ष",
        "👨\u{200D}👩\u{200D}👧",
        "🏳\u{FE0F}\u{200D}🌈",
        "1\u{FE0F}\u{20E3}",
        "ᠠ\u{180B}ᠢ",
        "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}",
    ];
    let rows: String = names.iter().map(|n| format!("Tehran,{n},0\n")).collect();
    let file = env.dir.path().join("scripts.csv");
    std::fs::write(&file, format!("store,item,count\n{rows}")).unwrap();
    let out = env.run(&["upload", &file.to_string_lossy()]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let stock = env.json(&["stock", "--json"]);
    let mut kept: Vec<&str> = stock
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["item"].as_str().unwrap())
        .collect();
    let mut expected = names.to_vec();
    kept.sort();
    expected.sort();
    assert_eq!(kept, expected, "kept exactly as written");
    let shown = stdout(&env.run(&["stock", "--store", "Tehran"]));
    for name in names {
        assert!(shown.contains(name), "{name:?} shown as written: {shown}");
    }

    // Where they only hide a difference, still refused, and named.
    let hidden = env.dir.path().join("hidden.csv");
    std::fs::write(
        &hidden,
        "store,item,count\nBer\u{200D}lin,Dot,1\nBerlin,\u{200C}Dot,1\nBerlin,Dot\u{200D},1\n",
    )
    .unwrap();
    let out = env.run(&["upload", &hidden.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let said = stdout(&out);
    for line in ["line 2", "line 3", "line 4"] {
        assert!(said.contains(line), "{line}: {said}");
    }
    assert!(said.contains("ZERO WIDTH JOINER"), "{said}");
}

/// A storm: 100,000 stores out of stock in one file. Uploading it (load,
/// check, notify), listing its alerts and their JSON each stay well inside
/// 150 MB: alerts are read, told and listed a page at a time (BENCHMARKS.md
/// has the figures at 800,000).
#[test]
fn a_storm_of_alerts_is_raised_told_and_listed_in_bounded_memory() {
    const MB: f64 = 150.0;
    let env = Env::new();
    let file = env.dir.path().join("storm.csv");
    let rows: String = (0..100_000).map(|i| format!("Store{i:06},Dot,0\n")).collect();
    std::fs::write(&file, format!("store,item,count\n{rows}")).unwrap();
    let mut cmd = env.cmd();
    cmd.arg("upload").arg(&file);
    let (code, peak, _, out, err) = measured(cmd);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("alerts: 100,000 OUT, 0 LOW"), "{out}");
    assert!(out.contains("… and 99,980 more"), "{out}");
    assert!(peak < MB, "upload peaked at {peak:.0} MB");
    let outbox = env.outbox();
    assert_eq!(outbox.len(), 1, "one summary");
    assert_eq!(outbox[0]["alert_ids"].as_array().map(Vec::len), Some(100_000));
    for args in [&["alerts"][..], &["alerts", "--json"][..]] {
        let mut cmd = env.cmd();
        cmd.args(args);
        let (code, peak, _, out, err) = measured(cmd);
        assert_eq!(code, Some(0), "{err}");
        assert!(peak < MB, "{args:?} peaked at {peak:.0} MB");
        assert!(out.len() > 100_000 * 20, "{args:?} listed them all");
    }
}
