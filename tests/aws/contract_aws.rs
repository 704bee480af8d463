//! The contract suite against the AWS backend, over real HTTP to moto, in
//! both write modes.

use stockwatch_testkit::moto;
use stockwatch_testkit::{contract, contract_tests};

use contract::Fixture;
use stockwatch_aws::{WriteMode, connect_publisher, connect_with};

/// The default: rows written in batches per store, under a lock; followers
/// through the fan-out topic and a queue each (the relay's ports).
async fn aws() -> Fixture {
    let (_, settings, clients) = moto::fresh().await;
    let backend = connect_publisher(&settings, clients).await.unwrap();
    Fixture {
        ports: backend,
        _guard: Box::new(()),
    }
}

// Racing checkers are judged on DynamoDB Local (below): moto's conditions
// are not atomic under concurrent writers.
contract_tests!(aws, without_races);

/// The same contract with one conditional PutItem per row, and followers
/// reading the streams directly (no relay is alive).
mod conditional {
    use super::*;

    async fn aws_conditional() -> Fixture {
        let (_, mut settings, clients) = moto::fresh().await;
        settings.write_mode = WriteMode::Conditional;
        let backend = connect_with(&settings, clients).await.unwrap();
        Fixture {
            ports: backend,
            _guard: Box::new(()),
        }
    }

    contract_tests!(aws_conditional, without_races);
}

/// The same contract with DynamoDB and its streams served by DynamoDB
/// Local, the emulator AWS publishes: conditions checked and transactions
/// serialized as DynamoDB does, real Streams answers (moto keeps S3, SNS
/// and SQS). What neither shows: docs/testing.md.
mod dynamodb_local {
    use super::*;

    async fn aws_on_dynamodb_local() -> Fixture {
        let (settings, clients) = moto::fresh_on_dynamodb_local().await;
        let backend = connect_publisher(&settings, clients).await.unwrap();
        Fixture {
            ports: backend,
            _guard: Box::new(()),
        }
    }

    contract_tests!(aws_on_dynamodb_local);
}
