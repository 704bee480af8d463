//! `stockwatch check`: the checker, once (for cron, or after `upload --no-check`).

use super::error::CliError;
use super::output::{json_line, use_colour};
use super::{Session, write_failed};
use clap::Args;
use serde::Serialize;
use std::io::Write;
use stockwatch_domain::{Alert, escape_for_terminal};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print what was done as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct CheckJson<'a> {
    changes: u64,
    /// The first alerts raised (`raised_total` counts them all).
    raised: &'a [Alert],
    raised_total: u64,
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
            raised_total: report.raised_total(),
            taken_over: &report.taken_over,
            resolved: report.resolved,
            published: report.published,
            unpublished: report.unpublished.len(),
        };
        return json_line(&mut stdout, &json).map_err(write_failed);
    }
    writeln!(
        stdout,
        "checked {} changes: {} alerts raised, {} resolved, {} notifications sent",
        report.changes,
        report.raised_total(),
        report.resolved,
        report.published
    )
    .map_err(write_failed)?;
    super::upload::write_alerts(&mut stdout, &report.raised, report.raised_total(), "  ", use_colour())
        .map_err(write_failed)?;
    if !report.taken_over.is_empty() {
        writeln!(
            stdout,
            "  {} alerts of a checker that stopped before sending them were sent by this one",
            report.taken_over.len()
        )
        .map_err(write_failed)?;
    }
    // Failures look alike in a storm: the first few, then a count.
    for (id, error) in report.unpublished.iter().take(SHOWN_FAILURES) {
        writeln!(
            stdout,
            "  alert {id}: notification failed ({}); it will be retried",
            escape_for_terminal(error)
        )
        .map_err(write_failed)?;
    }
    if report.unpublished.len() > SHOWN_FAILURES {
        writeln!(
            stdout,
            "  … and {} more notifications failed; they will be retried",
            report.unpublished.len() - SHOWN_FAILURES
        )
        .map_err(write_failed)?;
    }
    Ok(())
}

/// Failed notifications listed on a terminal (`--json` counts them all).
const SHOWN_FAILURES: usize = 20;
