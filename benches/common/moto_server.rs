//! A moto server for the AWS benchmarks: the one STOCKWATCH_TEST_MOTO
//! names, or one started from the test venv and stopped when dropped.

use std::time::Duration;

pub struct Moto(Option<std::process::Child>);

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Uses the moto of STOCKWATCH_TEST_MOTO, or starts one from the test venv.
pub fn ensure_moto() -> Moto {
    if std::env::var_os("STOCKWATCH_TEST_MOTO").is_some() {
        return Moto(None);
    }
    let server = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/moto-venv/bin/moto_server");
    assert!(
        server.exists(),
        "no moto: run ./scripts/test.sh once (it installs moto), or set STOCKWATCH_TEST_MOTO"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // SAFETY: set before any other thread of this process reads the environment.
    unsafe { std::env::set_var("STOCKWATCH_TEST_MOTO", &url) };
    Moto(Some(child))
}
