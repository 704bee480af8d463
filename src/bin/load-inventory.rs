//! The load-inventory Lambda function: S3 ObjectCreated events → the loader.

use aws_lambda_events::event::s3::S3Event;
use lambda_runtime::{LambdaEvent, service_fn};
use stockwatch::lambda::{self, FunctionSettings, load_inventory};
use stockwatch::pipeline::Loader;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_logging();
    let settings = FunctionSettings::from_env()?;
    let loader = Loader::new(lambda::connect(&settings).await?);
    let bucket = settings.aws.bucket.as_str();
    lambda_runtime::run(service_fn(|event: LambdaEvent<S3Event>| {
        let loader = &loader;
        async move {
            load_inventory::handle(loader, bucket, event.payload)
                .await
                .map_err(lambda_runtime::Error::from)
        }
    }))
    .await
}
