//! Processes a test or a bench starts and must end however it ends (a
//! failed assertion too): each runs in a process group of its own, killed
//! as a group, since faketime runs the binary as its child.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A started process, killed with its group when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        end(&mut self.0);
    }
}

/// Puts what `cmd` starts in a group of its own, for `end`.
pub fn own_group(cmd: &mut Command) -> &mut Command {
    std::os::unix::process::CommandExt::process_group(cmd, 0)
}

/// Kills a process started in its own group, and everything in the group.
pub fn end(child: &mut Child) {
    unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    let _ = child.wait();
}

/// `stockwatch relay` from `cmd` (the binary on a setup), given time for
/// its first beat, so followers started after it follow through it.
pub fn relay(mut cmd: Command) -> Running {
    let child = own_group(&mut cmd)
        .arg("relay")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    Running(child)
}

/// `stockwatch serve` from `cmd` with `args`, listening on a free loopback
/// port; the process and the URL it says it serves on.
pub fn serve(mut cmd: Command, args: &[&str]) -> (Running, String) {
    let mut child = own_group(&mut cmd)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let read = std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line);
    let running = Running(child);
    read.unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("serve said: {line}"))
        .to_string();
    (running, url)
}
