//! `stockwatch provision`: on the local backend, create the data dir.

use super::error::CliError;
use super::{Context, GlobalArgs};
use crate::adapters::local::{BUCKET_DIR, DB_FILE, OUTBOX_FILE};
use clap::Args;

#[derive(Debug, Args)]
pub struct ProvisionArgs {}

pub async fn run(global: &GlobalArgs, _args: &ProvisionArgs) -> Result<(), CliError> {
    let ctx = Context::open(global)?;
    let Some(local) = &ctx.local else {
        return Ok(());
    };
    let opened = &local.opened;
    let dir = opened.data_dir.display();
    let word = |created: bool| if created { "created" } else { "found  " };
    println!(
        "{} data dir  {dir}",
        word(opened.created_database && opened.created_bucket)
    );
    println!(
        "{} database  {dir}/{DB_FILE}",
        word(opened.created_database)
    );
    println!(
        "{} bucket    {dir}/{BUCKET_DIR}/",
        word(opened.created_bucket)
    );
    println!("notifications go to {dir}/{OUTBOX_FILE}");
    Ok(())
}
