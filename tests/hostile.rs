//! Hostile input, through the real binary: files that would eat memory or
//! block, bytes that must never reach a terminal raw, names that look like
//! other names, settings that mean nothing, and the errors they get.

mod common;

use common::Env;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `cmd` to its end: (exit code, peak memory in MB, wall time, stdout, stderr).
fn measured(mut cmd: Command) -> (Option<i32>, f64, Duration, String, String) {
    let started = Instant::now();
    // Reaped by wait4 below, which also gives the peak memory `wait` cannot.
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
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid);
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let peak_mb = usage.ru_maxrss as f64 / 1024.0;
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
