//! The contract suite against the AWS backend, over real HTTP to moto, in
//! both write modes.

mod contract;
#[path = "common/moto.rs"]
mod moto;

use contract::Fixture;
use stockwatch::adapters::aws::{WriteMode, connect_with};

/// The default: rows written in batches per store, under a lock.
async fn aws() -> Fixture {
    let (backend, _, _) = moto::fresh().await;
    Fixture {
        ports: backend,
        _guard: Box::new(()),
    }
}

contract_tests!(aws);

/// The same contract with one conditional PutItem per row.
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

    contract_tests!(aws_conditional);
}
