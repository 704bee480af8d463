//! The check-stock Lambda function: the table's stream batches (and a
//! scheduled sweep) → the checker.

use lambda_runtime::{LambdaEvent, service_fn};
use stockwatch_aws::feed::StreamFeed;
use stockwatch_core::pipeline::Checker;
use stockwatch_functions::{self as lambda, FunctionSettings, check_stock};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_logging();
    let settings = lambda::or_stop(FunctionSettings::from_env());
    let connected = lambda::or_stop(lambda::connect(&settings).await);
    let fanout = connected.ports.fanout.clone();
    let mut function = check_stock::CheckStock::new(Checker::new(connected.ports, settings.checker.clone()));
    if settings.aws.fanout_topic_arn.is_some() {
        function = function.publishing(fanout, settings.aws.ledger_table.clone());
    }
    if let Some(failures) = connected.failures {
        let clients = connected.clients;
        let feed = StreamFeed::new(clients.streams, clients.dynamodb, settings.aws.table.clone());
        function = function.with_failures(feed, failures);
    }
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let function = &function;
        async move {
            check_stock::handle_any(function, event.payload)
                .await
                .map_err(|e| lambda::failed(e.kind(), &e))
        }
    }))
    .await
}
