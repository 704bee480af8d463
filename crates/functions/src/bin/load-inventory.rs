//! The load-inventory Lambda function: S3 ObjectCreated events (and a
//! scheduled sweep) → the loader.

use lambda_runtime::{LambdaEvent, service_fn};
use stockwatch_core::pipeline::Loader;
use stockwatch_functions::{self as lambda, FunctionSettings, load_inventory};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_logging();
    let settings = lambda::or_stop(FunctionSettings::from_env());
    let connected = lambda::or_stop(lambda::connect(&settings).await);
    let function = load_inventory::LoadInventory {
        loader: Loader::new(connected.ports),
        bucket: settings.aws.bucket.clone(),
        failures: connected.failures,
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let function = &function;
        async move {
            load_inventory::handle_any(function, event.payload)
                .await
                .map_err(|e| lambda::failed(e.kind(), &e))
        }
    }))
    .await
}
