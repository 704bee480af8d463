//! A stand-in for Lambda's Runtime API (the HTTP interface a function's
//! `bootstrap` polls), so the real function binaries run as Lambda runs
//! them: the test queues an event, the binary fetches it from
//! `/runtime/invocation/next` and posts its response or error back.

#![allow(dead_code)]

use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// What a function answered to one invocation.
#[derive(Debug, Clone)]
pub enum Answer {
    Response(Value),
    Error(Value),
}

#[derive(Default)]
struct State {
    queued: VecDeque<(String, Value)>,
    answers: HashMap<String, Answer>,
    next_id: u32,
}

pub struct RuntimeApi {
    /// `host:port`, the value of AWS_LAMBDA_RUNTIME_API.
    pub address: String,
    state: Arc<(Mutex<State>, Condvar)>,
}

impl RuntimeApi {
    pub fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let state: Arc<(Mutex<State>, Condvar)> = Arc::default();
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &shared);
                });
            }
        });
        RuntimeApi { address, state }
    }

    /// Queues an event and waits for the function's answer to it.
    pub fn invoke(&self, event: &Value, timeout: Duration) -> Answer {
        let (lock, changed) = &*self.state;
        let mut state = lock.lock().unwrap();
        state.next_id += 1;
        let id = format!("request-{}", state.next_id);
        state.queued.push_back((id.clone(), event.clone()));
        changed.notify_all();
        let (mut state, waited) = changed
            .wait_timeout_while(state, timeout, |s| !s.answers.contains_key(&id))
            .unwrap();
        assert!(
            !waited.timed_out(),
            "the function did not answer {id} within {timeout:?}"
        );
        state.answers.remove(&id).unwrap()
    }
}

fn serve(stream: TcpStream, shared: &(Mutex<State>, Condvar)) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request)? == 0 {
            return Ok(());
        }
        let (mut length, mut chunked) = (0usize, false);
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            let header = line.trim_end().to_ascii_lowercase();
            if header.is_empty() {
                break;
            }
            if let Some(v) = header.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if header.starts_with("transfer-encoding:") && header.contains("chunked") {
                chunked = true;
            }
        }
        let body = if chunked {
            read_chunked(&mut reader)?
        } else {
            read_exact(&mut reader, length)?
        };
        let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
        let (lock, changed) = shared;
        if path.ends_with("/runtime/invocation/next") {
            let state = lock.lock().unwrap();
            let mut state = changed.wait_while(state, |s| s.queued.is_empty()).unwrap();
            let (id, event) = state.queued.pop_front().unwrap();
            drop(state);
            let body = event.to_string();
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 60_000;
            write!(
                writer,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: {id}\r\n\
                 Lambda-Runtime-Deadline-Ms: {deadline}\r\n\
                 Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:test\r\n\
                 Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000;Sampled=0\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                body.len()
            )?;
        } else {
            let parts: Vec<&str> = path.split('/').collect();
            let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if let [.., "invocation", id, kind] = parts.as_slice() {
                let answer = if *kind == "response" {
                    Answer::Response(value)
                } else {
                    Answer::Error(value)
                };
                lock.lock().unwrap().answers.insert(id.to_string(), answer);
                changed.notify_all();
            }
            write!(writer, "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{{}}")?;
        }
        writer.flush()?;
    }
}

fn read_exact(reader: &mut impl Read, length: usize) -> std::io::Result<Vec<u8>> {
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(body)
}

fn read_chunked(reader: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size)?;
        let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
        let chunk = read_exact(reader, size + 2)?;
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}
