//! `stockwatch uploads`: uploaded files with their load status, or one
//! file's whole report.

use super::error::CliError;
use super::output::{Cell, JsonArray, Table, Tone, use_colour, write_json};
use super::{Session, write_failed};
use clap::Args;
use std::io::Write;
use stockwatch_core::ports::{ObjectInfo, ObjectKey, ObjectStatus, PortError};

#[derive(Debug, Args)]
pub struct UploadsArgs {
    /// Show the full report of this upload (its key, as listed).
    #[arg(value_name = "KEY")]
    pub key: Option<String>,
    /// At most this many uploads, newest first.
    #[arg(long, default_value_t = 50, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub limit: usize,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ctx: &Session, args: &UploadsArgs) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    let colour = use_colour() && !args.json;
    if let Some(key) = &args.key {
        let key = ObjectKey::parse(key).map_err(|e| CliError::Port(PortError::Invalid(e.into())))?;
        let info = ctx.ops.upload_info(&key).await?;
        if args.json {
            write_json(&mut stdout, &info, true).map_err(write_failed)?;
            return writeln!(stdout).map_err(write_failed);
        }
        let mut text = format!(
            "key:       {}\nsize:      {} bytes\nuploaded:  {}\nstatus:    {}\n",
            info.key,
            info.size,
            info.uploaded_at.to_display(),
            status(&info)
        );
        if let Some(r) = &info.report {
            text.push_str(&format!(
                "as of:     {}\nrows:      {} ({} stores)\nwritten:   {} changed, {} unchanged, {} older\n",
                r.as_of.to_display(),
                r.rows,
                r.stores,
                r.write.changed,
                r.write.unchanged,
                r.write.older
            ));
            if let Some(failure) = &r.failure {
                text.push_str(&format!(
                    "failure:   {}\n",
                    stockwatch_domain::escape_for_terminal(failure)
                ));
            }
            for p in &r.problems {
                text.push_str(&format!("problem:   {p}\n"));
            }
            if r.problems_in_all() > r.problems.len() as u64 {
                text.push_str(&format!(
                    "problems:  {} in all, the first {} above ({})\n",
                    stockwatch_domain::import::thousands(r.problems_in_all()),
                    r.problems.len(),
                    r.problem_kinds_said()
                ));
            }
            if let Some(sha) = &r.sha256 {
                text.push_str(&format!("sha256:    {sha}\n"));
            }
            for w in &r.warnings {
                text.push_str(&format!("warning:   {w}\n"));
            }
            if let Some(said) = r.source_change_said() {
                text.push_str(&format!("warning:   {said}\n"));
            }
        }
        return stdout.write_all(text.as_bytes()).map_err(write_failed);
    }
    let uploads = ctx.ops.uploads(args.limit).await?;
    if args.json {
        let mut json = JsonArray::start(&mut stdout).map_err(write_failed)?;
        for info in &uploads {
            json.push(info).map_err(write_failed)?;
        }
        return json.finish().map_err(write_failed);
    }
    if uploads.is_empty() {
        return writeln!(stdout, "Nothing uploaded yet. Try: stockwatch upload samples/*.csv").map_err(write_failed);
    }
    let mut table = Table::new(vec!["UPLOADED", "STATUS", "ROWS", "PROBLEMS", "KEY"])
        .align_right(2)
        .align_right(3);
    for info in &uploads {
        let (rows, problems) = info.report.as_ref().map_or((0, 0), |r| (r.rows, r.problems_in_all()));
        let tone = match info.status {
            ObjectStatus::Rejected | ObjectStatus::Failed => Tone::Red,
            ObjectStatus::Received => Tone::Yellow,
            ObjectStatus::Loaded => Tone::Plain,
        };
        table.row(
            vec![
                Cell::new(&info.uploaded_at.to_display()),
                Cell::toned(&status(info), tone),
                Cell::new(&rows.to_string()),
                Cell::new(&problems.to_string()),
                Cell::new(info.key.as_str()),
            ],
            Tone::Plain,
        );
    }
    table.write(&mut stdout, colour).map_err(write_failed)
}

/// What happened to an upload, said honestly: a load under way, a load
/// whose process stopped (the next stockwatch that checks finishes it), or
/// one another process finished.
fn status(info: &ObjectInfo) -> String {
    let now = stockwatch_domain::Timestamp::now();
    match (info.status, info.loading_until, &info.report) {
        (ObjectStatus::Received, Some(until), _) if until > now => "loading".into(),
        (ObjectStatus::Received, Some(_), _) => "stopped (resumed by the next check)".into(),
        (status, _, Some(report)) if report.resumed => format!("{} (resumed)", status.as_str()),
        (status, _, _) => status.as_str().into(),
    }
}
