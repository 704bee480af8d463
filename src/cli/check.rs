//! `stockwatch check`: the checker, once (for cron, or after `upload --no-check`).

use super::error::CliError;
use super::{Session, write_failed};
use crate::domain::{Alert, escape_for_terminal};
use clap::Args;
use serde::Serialize;
use std::io::Write;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print what was done as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct CheckJson<'a> {
    changes: u64,
    raised: &'a [Alert],
    /// Claims of a checker that stopped before sending them, sent by this run.
    taken_over: &'a [Alert],
    resolved: u64,
    published: u64,
    unpublished: usize,
}

pub async fn run(ctx: &Session, args: &CheckArgs) -> Result<(), CliError> {
    for resumed in ctx.loader().resume_stalled().await? {
        super::upload::say_resumed(&resumed);
    }
    let report = ctx.checker().run_once().await?;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let json = CheckJson {
            changes: report.changes,
            raised: &report.raised,
            taken_over: &report.taken_over,
            resolved: report.resolved,
            published: report.published,
            unpublished: report.unpublished.len(),
        };
        serde_json::to_writer(&mut stdout, &json).map_err(|e| write_failed(e.into()))?;
        return writeln!(stdout).map_err(write_failed);
    }
    writeln!(
        stdout,
        "checked {} changes: {} alerts raised, {} resolved, {} notifications sent",
        report.changes,
        report.raised.len(),
        report.resolved,
        report.published
    )
    .map_err(write_failed)?;
    for alert in &report.raised {
        writeln!(stdout, "  {}", escape_for_terminal(&alert.to_string())).map_err(write_failed)?;
    }
    if !report.taken_over.is_empty() {
        writeln!(
            stdout,
            "  {} alerts of a checker that stopped before sending them were sent by this one",
            report.taken_over.len()
        )
        .map_err(write_failed)?;
    }
    for (id, error) in &report.unpublished {
        writeln!(
            stdout,
            "  alert {id}: notification failed ({}); it will be retried",
            escape_for_terminal(error)
        )
        .map_err(write_failed)?;
    }
    Ok(())
}
