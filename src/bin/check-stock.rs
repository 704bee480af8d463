//! The check-stock Lambda function: the table's stream batches (and a
//! scheduled sweep) → the checker.

use lambda_runtime::{LambdaEvent, service_fn};
use stockwatch::lambda::{self, FunctionSettings, check_stock};
use stockwatch::pipeline::Checker;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_logging();
    let settings = FunctionSettings::from_env()?;
    let checker = Checker::new(lambda::connect(&settings).await?, settings.checker.clone());
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let checker = &checker;
        async move {
            check_stock::handle_any(checker, event.payload)
                .await
                .map_err(lambda_runtime::Error::from)
        }
    }))
    .await
}
