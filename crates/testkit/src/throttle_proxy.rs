//! A TCP proxy that carries what the client sends at a fixed rate: a slow
//! uplink (an office line, a shop's SIM card) in front of moto.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

pub struct ThrottleProxy {
    pub url: String,
}

/// Client → `upstream` at `bytes_per_second`; answers come back at once.
pub fn throttle_proxy(upstream: &str, bytes_per_second: u64) -> ThrottleProxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            let (client_in, server_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || pace(client_in, server_out, bytes_per_second));
            std::thread::spawn(move || {
                let (mut from, mut to) = (server, client);
                let _ = std::io::copy(&mut from, &mut to);
                let _ = to.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    ThrottleProxy { url }
}

/// Copies at most `rate` bytes a second, in small steps.
fn pace(mut from: TcpStream, mut to: TcpStream, rate: u64) {
    let started = Instant::now();
    let mut sent = 0u64;
    let mut buffer = [0u8; 4096];
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        sent += n as u64;
        let due = Duration::from_secs_f64(sent as f64 / rate as f64);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        if to.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}
