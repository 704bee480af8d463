//! The real console inside a tmux server of the test's own.

#![allow(dead_code)]

use crate::Env;
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server of our own (its own socket), killed when dropped.
pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    pub fn start(env: &Env, width: u16, height: u16) -> Tmux {
        Tmux::start_with(env, width, height, &[])
    }

    /// The console with more environment (`NAME=value` pairs).
    pub fn start_with(env: &Env, width: u16, height: u16, extra: &[(&str, &str)]) -> Tmux {
        assert!(
            Command::new("tmux")
                .arg("-V")
                .output()
                .is_ok_and(|o| o.status.success()),
            "tmux is not installed: ./scripts/test.sh installs it (apt-get install tmux)"
        );
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let socket = format!("stockwatch-test-{}-{n}", std::process::id());
        let binary = crate::binary("stockwatch");
        let binary = binary.display();
        let extra: String = extra.iter().map(|(k, v)| format!("{k}='{v}' ")).collect();
        let script = format!(
            "STOCKWATCH_DATA_DIR='{}' STOCKWATCH_LOG_DIR='{}' XDG_CONFIG_HOME='{}' STOCKWATCH_USER=tester TERM=xterm-256color {extra}'{}'; echo CONSOLE-EXITED $?; sleep 30",
            env.data_dir().display(),
            env.dir.path().join("logs").display(),
            env.dir.path().join("config").display(),
            binary
        );
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "new-session",
                "-d",
                "-s",
                "main",
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .arg(script)
            .env_remove("TMUX")
            .status()
            .unwrap();
        assert!(status.success());
        Tmux { socket }
    }

    /// The screen, with colours as escape sequences when `escapes`.
    pub fn screen(&self, escapes: bool) -> String {
        let mut cmd = Command::new("tmux");
        cmd.args(["-L", &self.socket, "capture-pane", "-p", "-t", "main"]);
        if escapes {
            cmd.arg("-e");
        }
        String::from_utf8_lossy(&cmd.output().unwrap().stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        for key in keys {
            let status = Command::new("tmux")
                .args(["-L", &self.socket, "send-keys", "-t", "main", key])
                .status()
                .unwrap();
            assert!(status.success());
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Waits for `done` to hold of the screen; fails with the screen if not.
    pub fn wait_for(&self, what: &str, escapes: bool, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen(escapes);
            if done(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).status();
    }
}

impl Tmux {
    /// The pid of the console in the pane (the shell's child), once it runs.
    pub fn console_pid(&self) -> Option<u32> {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "display-message", "-p", "-t", "main", "#{pane_pid}"])
            .output()
            .ok()?;
        let shell: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).ok()?;
        children.split_whitespace().next()?.parse().ok()
    }
}
