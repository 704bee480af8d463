//! A small scripted HTTP endpoint speaking the AWS JSON protocol, for the
//! faults moto cannot produce (expired iterators, shard splits, trimmed
//! records, throttling). The real adapter talks to it over real HTTP; the
//! script decides each answer from the operation and the request body, and
//! every call is recorded for the test to inspect.

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

pub type Handler = dyn Fn(&str, &Value) -> (u16, Value) + Send + Sync;

pub struct Scripted {
    pub url: String,
    pub calls: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Scripted {
    /// Operation names called so far, e.g. ["DescribeTable", "GetRecords"].
    pub fn operations(&self) -> Vec<String> {
        self.calls.lock().unwrap().iter().map(|(op, _)| op.clone()).collect()
    }

    pub fn bodies_of(&self, operation: &str) -> Vec<Value> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(op, _)| op == operation)
            .map(|(_, b)| b.clone())
            .collect()
    }
}

/// An AWS JSON error answer.
pub fn error(status: u16, code: &str, message: &str) -> (u16, Value) {
    (
        status,
        serde_json::json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{code}"), "message": message}),
    )
}

pub fn serve(handler: impl Fn(&str, &Value) -> (u16, Value) + Send + Sync + 'static) -> Scripted {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let calls = Arc::new(Mutex::new(Vec::new()));
    let handler: Arc<Handler> = Arc::new(handler);
    let recorded = calls.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (handler, recorded) = (handler.clone(), recorded.clone());
            std::thread::spawn(move || {
                let _ = answer(stream, &*handler, &recorded);
            });
        }
    });
    Scripted { url, calls }
}

/// Serves the requests of one connection until the client closes it.
fn answer(stream: TcpStream, handler: &Handler, calls: &Mutex<Vec<(String, Value)>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut length = 0usize;
        let mut target = String::new();
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    "x-amz-target" => target = value.trim().to_string(),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let operation = target.rsplit('.').next().unwrap_or("").to_string();
        calls.lock().unwrap().push((operation.clone(), json.clone()));
        let (status, reply) = handler(&operation, &json);
        let text = reply.to_string();
        write!(
            writer,
            "HTTP/1.1 {status} {}\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nx-amzn-RequestId: scripted\r\n\r\n{text}",
            if status == 200 { "OK" } else { "Error" },
            text.len()
        )?;
        writer.flush()?;
    }
}
