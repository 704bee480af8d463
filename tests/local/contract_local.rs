//! The contract suite against the embedded local backend (a real SQLite file).

use stockwatch_testkit::{contract, contract_tests};

use contract::Fixture;
use stockwatch_local::LocalBackend;

async fn local() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let backend = LocalBackend::open(dir.path()).unwrap().ports;
    Fixture {
        ports: backend,
        _guard: Box::new(dir),
    }
}

contract_tests!(local);
