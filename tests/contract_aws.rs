//! The contract suite against the AWS backend, over real HTTP to moto.

mod contract;
#[path = "common/moto.rs"]
mod moto;

use contract::Fixture;

async fn aws() -> Fixture {
    let (backend, _, _) = moto::fresh().await;
    Fixture {
        backend,
        _guard: Box::new(()),
    }
}

contract_tests!(aws);
