//! `stockwatch provision`: on the local backend, create the data dir.

use super::error::CliError;
use super::{Context, GlobalArgs, write_failed};
use crate::adapters::local::{BUCKET_DIR, DB_FILE, OUTBOX_FILE};
use crate::domain::escape_for_terminal;
use clap::Args;
use std::io::Write;

#[derive(Debug, Args)]
pub struct ProvisionArgs {}

pub async fn run(global: &GlobalArgs, _args: &ProvisionArgs) -> Result<(), CliError> {
    let ctx = Context::open(global)?;
    let Some(local) = &ctx.local else {
        return Ok(());
    };
    let opened = &local.opened;
    let dir = escape_for_terminal(&opened.data_dir.to_string_lossy()).into_owned();
    let word = |created: bool| if created { "created" } else { "found  " };
    let text = format!(
        "{} data dir  {dir}\n{} database  {dir}/{DB_FILE}\n{} bucket    {dir}/{BUCKET_DIR}/\nnotifications go to {dir}/{OUTBOX_FILE}\n",
        word(opened.created_database && opened.created_bucket),
        word(opened.created_database),
        word(opened.created_bucket),
    );
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(write_failed)?;
    Ok(())
}
