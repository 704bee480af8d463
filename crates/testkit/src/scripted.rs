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
    // An answer goes out in several writes: without this each waits for
    // the client's delayed acknowledgement (about 40 ms a request).
    stream.set_nodelay(true)?;
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
        // The JSON protocol names the operation in a header; the query
        // protocol (SNS, SQS) in the form it posts: `Action=Publish&…`.
        let (operation, json) = if target.is_empty() {
            let form: serde_json::Map<String, Value> = String::from_utf8_lossy(&body)
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (k.to_string(), Value::String(decode_form(v))))
                .collect();
            let action = form.get("Action").and_then(Value::as_str).unwrap_or("").to_string();
            (action, Value::Object(form))
        } else {
            let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            (target.rsplit('.').next().unwrap_or("").to_string(), json)
        };
        calls.lock().unwrap().push((operation.clone(), json.clone()));
        let (status, reply) = handler(&operation, &json);
        // Status 0: the connection drops without an answer (a network fault).
        if status == 0 {
            return Ok(());
        }
        // A string answer is XML (the query protocol's); anything else JSON.
        let (kind, text) = match reply {
            Value::String(xml) => ("text/xml", xml),
            other => ("application/x-amz-json-1.0", other.to_string()),
        };
        write!(
            writer,
            "HTTP/1.1 {status} {}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nx-amzn-RequestId: scripted\r\n\r\n{text}",
            if status == 200 { "OK" } else { "Error" },
            text.len()
        )?;
        writer.flush()?;
    }
}

/// `a%20b+c` → `a b c`.
fn decode_form(value: &str) -> String {
    let bytes = value.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&String::from_utf8_lossy(&bytes[i + 1..i + 3]), 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
