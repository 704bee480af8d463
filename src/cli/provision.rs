//! `stockwatch provision`: prepare the backend. Local: the data dir and its
//! database. AWS: the bucket, tables, topic and optional subscriptions.

use super::error::CliError;
use super::{BackendKind, GlobalArgs, Resolved, write_failed};
use clap::Args;
use std::io::Write;
use stockwatch_aws::connect_with;
use stockwatch_aws::provision::{Request, provision};
use stockwatch_domain::escape_for_terminal;
use stockwatch_local::{BUCKET_DIR, DB_FILE, LocalBackend, OUTBOX_FILE};

#[derive(Debug, Args)]
pub struct ProvisionArgs {
    /// AWS: subscribe this email address to the topic (it must confirm).
    #[arg(long, value_name = "ADDRESS")]
    pub email: Option<String>,
    /// AWS: subscribe this phone number (E.164, e.g. +4915112345678) to the topic.
    #[arg(long, value_name = "NUMBER")]
    pub sms: Option<String>,
}

fn word(created: bool) -> &'static str {
    if created { "created" } else { "found  " }
}

pub async fn run(global: &GlobalArgs, args: &ProvisionArgs) -> Result<(), CliError> {
    let resolved = Resolved::from(global).await?;
    let text = match (resolved.kind, &resolved.data_dir, &resolved.aws) {
        (BackendKind::Aws, _, Some(settings)) => {
            let clients = resolved.clients(settings).await?;
            let request = Request {
                settings,
                email: args.email.as_deref(),
                sms: args.sms.as_deref(),
            };
            // Every step looks before it creates: the whole is safe to retry.
            let (steps, arn) = super::retries()
                .run("provision", || provision(&clients, request))
                .await?;
            // Prove the result is usable the way every other command uses it.
            let mut with_arn = settings.clone();
            with_arn.topic_arn = Some(arn);
            super::retries()
                .run("connect", || connect_with(&with_arn, clients.clone()))
                .await?;
            let mut text = format!("AWS region {}\n", clients.region);
            for step in steps {
                text.push_str(&format!("{} {}\n", word(step.created), escape_for_terminal(&step.what)));
            }
            text
        }
        (_, Some(dir), _) => {
            if args.email.is_some() || args.sms.is_some() {
                return Err(CliError::Usage(
                    "--email and --sms subscribe to the AWS topic; the local backend writes notifications to its outbox file"
                        .into(),
                ));
            }
            let opened = LocalBackend::open(dir)?.opened;
            let dir = escape_for_terminal(&opened.data_dir.to_string_lossy()).into_owned();
            format!(
                "{} data dir  {dir}\n{} database  {dir}/{DB_FILE}\n{} bucket    {dir}/{BUCKET_DIR}/\nnotifications go to {dir}/{OUTBOX_FILE}\n",
                word(opened.created_database && opened.created_bucket),
                word(opened.created_database),
                word(opened.created_bucket),
            )
        }
        _ => unreachable!("every backend resolves its settings"),
    };
    std::io::stdout().write_all(text.as_bytes()).map_err(write_failed)
}
