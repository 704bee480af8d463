//! Newest snapshot wins whatever the writers' clocks say (issue: the
//! batched writer's store lock had no fencing). Two real stockwatch
//! processes load one store on moto: A an older snapshot, whose writes a
//! proxy holds back so they land last; B a newer one, in a process whose
//! clock runs six minutes ahead (libfaketime), which is what let a writer
//! take a live store lock (its lease was five minutes). The table must end
//! with B's counts.

use stockwatch_testkit::delay_proxy;
use stockwatch_testkit::moto;

use std::process::{Command, Stdio};
use std::time::Duration;
use stockwatch_core::ports::{StockFilter, all_pages};
use stockwatch_domain::Timestamp;

fn stockwatch(settings: &stockwatch_aws::AwsSettings, logs: &std::path::Path, clock: Option<&str>) -> Command {
    let mut cmd = moto::stockwatch_on(settings, logs, &moto::endpoint(), clock);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_load_whose_writes_land_last_never_overwrites_a_newer_one_whatever_the_clocks() {
    assert!(
        Command::new("faketime").arg("--version").output().is_ok(),
        "faketime is missing: ./scripts/test.sh installs it (Debian package faketime)"
    );
    let (ports, settings, _clients) = moto::fresh().await;
    let logs = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let older = dir.path().join("older.csv");
    let newer = dir.path().join("newer.csv");
    let rows = |count: u32| (0..40).map(|i| format!("B,item{i},{count}\n")).collect::<String>();
    std::fs::write(&older, format!("store,item,count\n{}", rows(5))).unwrap();
    std::fs::write(&newer, format!("store,item,count\n{}", rows(0))).unwrap();
    let now = Timestamp::now().0;
    let (t1, t2) = (Timestamp(now - 120_000), Timestamp(now - 60_000));
    // A reads at once, but its writes reach DynamoDB three seconds late.
    let proxy = delay_proxy::delay_proxy(
        &moto::endpoint(),
        &["TransactWriteItems", "BatchWriteItem"],
        Duration::from_secs(3),
    );
    let a = stockwatch(&settings, logs.path(), None)
        .env("AWS_ENDPOINT_URL_DYNAMODB", &proxy.url)
        .args(["upload", "--no-check", "--as-of", &t1.to_rfc3339()])
        .arg(&older)
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let b = stockwatch(&settings, logs.path(), Some("+6m"))
        .args(["upload", "--no-check", "--as-of", &t2.to_rfc3339()])
        .arg(&newer)
        .output()
        .unwrap();
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    let a = a.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&a.stdout);
    assert!(a.status.success(), "{said}{}", String::from_utf8_lossy(&a.stderr));
    let table = &ports.table;
    let filter = &StockFilter::default();
    let stock = all_pages(|page| async move { table.scan(filter, page.as_ref(), 500).await })
        .await
        .unwrap();
    assert_eq!(stock.len(), 40);
    assert!(
        stock.iter().all(|r| r.count == 0 && r.as_of == t2),
        "the older snapshot overwrote the newer: {:?}",
        stock.iter().filter(|r| r.count != 0).take(3).collect::<Vec<_>>()
    );
    assert!(
        said.contains("40 older than the table"),
        "A was told its rows were older: {said}"
    );
}
