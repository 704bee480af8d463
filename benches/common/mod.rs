//! Helpers the benchmarks share: their flags, their percentiles and their
//! synthetic inventory files.
#![allow(dead_code)] // each benchmark uses a subset

pub mod counting;
pub mod moto_server;

/// Runs a benchmark's body on a multi-thread runtime, with moto up (the
/// one STOCKWATCH_TEST_MOTO names, or one started for the run).
pub fn on_moto<F: std::future::Future<Output = ()>>(body: impl FnOnce() -> F) {
    let _moto = moto_server::ensure_moto();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(body());
}

use std::time::Duration;

/// `--name N` from the command line, or `default`.
pub fn flag(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `p` quantile (0.0–1.0) of sorted durations, nearest rank.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// A synthetic inventory file of `stores` × `items` rows, the same every run:
/// each count is `count(r)` of a xorshift random number `r`.
pub fn write_inventory(
    out: &mut impl std::io::Write,
    stores: usize,
    items: usize,
    count: impl Fn(u64) -> u64,
) -> std::io::Result<()> {
    writeln!(out, "store,item,count")?;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for s in 0..stores {
        for i in 0..items {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            writeln!(out, "Store {s:05},Item {i:03},{}", count(seed))?;
        }
    }
    out.flush()
}

/// A TCP proxy in front of moto that holds every new connection for `delay`
/// before passing it on: one network round trip per request, as a client in
/// the same AWS region sees (moto closes every connection, so each request
/// opens one). Runs until the benchmark ends.
pub async fn latency_proxy(target: std::net::SocketAddr, delay: Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    url
}
