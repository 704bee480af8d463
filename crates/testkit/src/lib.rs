//! What the integration tests share: the real binary on a temporary data
//! dir (`Env`), the emulators (`moto`, with DynamoDB Local), scripted and
//! delaying HTTP endpoints for faults no emulator makes, the console in
//! tmux, the IAM judge of the template's policies, and the contract suite
//! every backend keeps (`contract`, `contract_tests!`).

pub mod chain;
pub mod contract;
pub mod delay_proxy;
pub mod iam;
pub mod invariants;
pub mod moto;
pub mod running;
pub mod runtime_api;
pub mod script;
pub mod scripted;
pub mod throttle_proxy;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Default for Env {
    fn default() -> Env {
        Env::new()
    }
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `stockwatch` with this env's data dir, config dir and log dir, and
    /// nothing inherited that could change its behaviour.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(binary("stockwatch"));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("STOCKWATCH_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("STOCKWATCH_DATA_DIR", self.data_dir())
            .env("STOCKWATCH_LOG_DIR", self.dir.path().join("logs"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("STOCKWATCH_USER", "tester")
            .current_dir(repo());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// Runs and parses stdout as JSON, asserting success.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
    }

    pub fn outbox(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.data_dir().join("outbox.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// The repository's root (samples, events, the template).
pub fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// A binary of the workspace, built by `cargo test` beside the test that
/// runs it (`target/<profile>/<name>`): a test of one crate can run another
/// crate's binary, which `CARGO_BIN_EXE_*` cannot name.
pub fn binary(name: &str) -> PathBuf {
    let test = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let path = test
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .join(name);
    assert!(
        path.exists(),
        "{} is not built: `cargo test --workspace` builds every binary before the tests run",
        path.display()
    );
    path
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The six sample files, as paths relative to the repository.
pub fn samples() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(repo().join("samples"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.ends_with(".csv").then(|| format!("samples/{name}"))
        })
        .collect();
    files.sort();
    files
}

pub fn invalid_samples() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(repo().join("samples/invalid"))
        .unwrap()
        .map(|e| format!("samples/invalid/{}", e.unwrap().file_name().into_string().unwrap()))
        .collect();
    files.sort();
    files
}
