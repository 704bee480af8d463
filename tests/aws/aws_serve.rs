//! `stockwatch serve` on the AWS backend (moto): the dashboard follows the
//! tables' streams and shows an upload made by another process.

use std::time::{Duration, Instant};
use stockwatch_testkit::{iam, moto, running};

#[tokio::test]
async fn the_dashboard_on_aws_shows_an_upload_from_another_process() {
    let (_ports, settings, _clients) = moto::fresh().await;
    let dir = tempfile::tempdir().unwrap();
    let endpoint = moto::endpoint();
    let (_server, url) = running::serve(moto::stockwatch_on(&settings, dir.path(), &endpoint, None), &[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !iam::http(&url, "GET", "/healthz", &[], "").contains("\"ready\":true") {
        assert!(Instant::now() < deadline, "the dashboard never read its first snapshot");
        std::thread::sleep(Duration::from_millis(100));
    }
    let file = dir.path().join("calcutta.csv");
    std::fs::write(&file, "store,item,count\nCalcutta,Echo Plus,0\nCalcutta,Kindle,40\n").unwrap();
    let out = moto::stockwatch_on(&settings, dir.path(), &endpoint, None)
        .arg("upload")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stockwatch_testkit::stderr(&out));
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let page = iam::http(&url, "GET", "/store?name=Calcutta", &[], "");
        if page.contains("<tr class=\"out\" data-store=\"Calcutta\" data-item=\"Echo Plus\">") {
            assert!(page.contains("data-item=\"Kindle\""), "{page}");
            break;
        }
        assert!(Instant::now() < deadline, "the upload never showed:\n{page}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let alerts = iam::http(&url, "GET", "/alerts", &[], "");
    assert!(alerts.contains("Echo Plus") && alerts.contains("1 open"), "{alerts}");
}
