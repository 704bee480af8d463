//! An HTTP proxy in front of moto that holds back the requests of chosen
//! operations (by their X-Amz-Target) for a while, so a test can make one
//! process's write land after another's: the race a real network makes.
//! It also counts every request by operation, so a test can say which
//! calls a path makes (no Scan, no GetRecords).

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct DelayProxy {
    pub url: String,
    /// Requests seen, by operation (the X-Amz-Target after its dot, e.g.
    /// `Scan`, `Query`, `GetRecords`; other services' requests as `other`).
    pub counts: Arc<Mutex<HashMap<String, usize>>>,
}

impl DelayProxy {
    pub fn count(&self, operation: &str) -> usize {
        self.counts.lock().unwrap().get(operation).copied().unwrap_or(0)
    }

    pub fn reset(&self) {
        self.counts.lock().unwrap().clear();
    }
}

/// Only counts, delays nothing.
pub fn counting_proxy(upstream: &str) -> DelayProxy {
    delay_proxy(upstream, &[], Duration::ZERO)
}

/// Forwards every request to `upstream` (http://host:port), holding back
/// those whose target ends with one of `operations` for `delay`.
pub fn delay_proxy(upstream: &str, operations: &'static [&'static str], delay: Duration) -> DelayProxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
    let counts: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let counted = counts.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let upstream = upstream.clone();
            let counted = counted.clone();
            std::thread::spawn(move || {
                let _ = relay(client, &upstream, operations, delay, &counted);
            });
        }
    });
    DelayProxy { url, counts }
}

/// One request per connection (moto closes each one after answering).
fn relay(
    client: TcpStream,
    upstream: &str,
    operations: &[&str],
    delay: Duration,
    counts: &Mutex<HashMap<String, usize>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut length = 0usize;
    let mut target = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "x-amz-target" => target = value.trim().to_string(),
                _ => {}
            }
        }
        // The proxy answers once per connection: say so to the client.
        if !line.to_ascii_lowercase().starts_with("connection:") {
            head.extend_from_slice(line.as_bytes());
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let operation = target.rsplit_once('.').map_or("other", |(_, op)| op).to_string();
    *counts.lock().unwrap().entry(operation).or_insert(0) += 1;
    if operations.iter().any(|op| target.ends_with(op)) {
        std::thread::sleep(delay);
    }
    let mut server = TcpStream::connect(upstream)?;
    let end = head.len() - 2;
    server.write_all(&head[..end])?;
    server.write_all(b"Connection: close\r\n\r\n")?;
    server.write_all(&body)?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer)?;
    let mut client = client;
    client.write_all(&answer)?;
    client.flush()
}
