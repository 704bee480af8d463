//! The moto server the test command starts (STOCKWATCH_TEST_MOTO), and fresh,
//! uniquely named AWS resources on it for each test.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use stockwatch::adapters::aws::provision::{Request, provision};
use stockwatch::adapters::aws::{AwsSettings, Clients, connect_with};
use stockwatch::ports::Backend;

/// The endpoint, or a clear failure: an AWS test that cannot reach moto must
/// not pass by skipping.
pub fn endpoint() -> String {
    std::env::var("STOCKWATCH_TEST_MOTO").unwrap_or_else(|_| {
        panic!(
            "STOCKWATCH_TEST_MOTO is not set: the AWS tests run against moto's server, which ./scripts/test.sh \
             installs and starts (or start one yourself: moto_server -p 5000, then STOCKWATCH_TEST_MOTO=http://127.0.0.1:5000)"
        )
    })
}

pub async fn sdk_config() -> aws_config::SdkConfig {
    sdk_config_at(&endpoint()).await
}

/// A configuration for moto at `url` (the benchmark puts a proxy in front).
pub async fn sdk_config_at(url: &str) -> aws_config::SdkConfig {
    let credentials = aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "moto");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .load()
        .await
}

pub async fn clients() -> Clients {
    Clients::from_config(&sdk_config().await, true, None).unwrap()
}

/// Names no other test (or earlier run against the same server) uses.
pub fn unique_settings() -> AwsSettings {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let tag = format!(
        "{}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst),
        nanos % 100_000
    );
    let mut settings = AwsSettings::new(format!("sw-test-{tag}"));
    settings.table = format!("Inventory-{tag}");
    settings.ledger_table = format!("Alerts-{tag}");
    settings.topic = format!("NoStock-{tag}");
    settings
}

/// Provisions a fresh deployment on moto and connects to it.
pub async fn fresh() -> (Backend, AwsSettings, Clients) {
    fresh_at(&endpoint()).await
}

pub async fn fresh_at(url: &str) -> (Backend, AwsSettings, Clients) {
    let clients = Clients::from_config(&sdk_config_at(url).await, true, None).unwrap();
    let mut settings = unique_settings();
    let (_, arn) = provision(
        &clients,
        Request {
            settings: &settings,
            email: None,
            sms: None,
        },
    )
    .await
    .unwrap_or_else(|e| panic!("provisioning on moto at {} failed: {e}", endpoint()));
    settings.topic_arn = Some(arn);
    let backend = connect_with(&settings, clients.clone()).await.unwrap();
    (backend, settings, clients)
}
