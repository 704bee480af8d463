//! The real console in a terminal that is a bare pty (`script`): nobody on
//! the other side answers a terminal's queries, as on some serial lines and
//! wedged multiplexers.

use crate::Env;
use std::io::Write;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Runs the console with `args` at 100×30, waits for `wait_for` on its
/// screen, types `keys`, and returns how it ended and every byte it wrote.
/// `adjust` may change the command (run it as another user).
pub fn console(
    env: &Env,
    args: &[&str],
    wait_for: &str,
    keys: &[u8],
    adjust: impl FnOnce(&mut Command),
) -> (ExitStatus, String) {
    let typescript = env.dir.path().join(format!("typescript-{}", std::process::id()));
    let line = std::iter::once(crate::binary("stockwatch").display().to_string())
        .chain(args.iter().map(|a| format!("'{a}'")))
        .collect::<Vec<_>>()
        .join(" ");
    // Made here, writable by whoever `adjust` runs the console as.
    std::fs::write(&typescript, "").unwrap();
    std::fs::set_permissions(&typescript, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
    let mut script = Command::new("script");
    script
        .args(["-qfec", &format!("stty cols 100 rows 30; exec {line}")])
        .arg(&typescript)
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
    for (key, value) in env.cmd().get_envs() {
        match value {
            Some(v) => script.env(key, v),
            None => script.env_remove(key),
        };
    }
    adjust(&mut script);
    let mut child = script.spawn().unwrap();
    let started = Instant::now();
    while !std::fs::read_to_string(&typescript)
        .unwrap_or_default()
        .contains(wait_for)
    {
        if started.elapsed() > Duration::from_secs(20) || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the console never showed {wait_for:?}: {}",
                String::from_utf8_lossy(&std::fs::read(&typescript).unwrap_or_default())
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.stdin.as_mut().unwrap().write_all(keys).unwrap();
    let status = child.wait().unwrap();
    let screen = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).into_owned();
    (status, screen)
}
