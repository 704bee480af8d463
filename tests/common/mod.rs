//! Running the real binary on a temporary data dir.

#![allow(dead_code)]

pub mod invariants;
pub mod script;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Env {
    pub dir: tempfile::TempDir,
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
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_stockwatch"));
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

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
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
