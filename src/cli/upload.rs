//! `stockwatch upload FILE...`

use super::error::{CliError, exit};
use super::output::{Tone, json_line, paint, use_colour};
use super::{Session, write_failed};
use clap::Args;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use stockwatch_core::pipeline::{UploadError, Uploaded};
use stockwatch_core::ports::{LoadReport, ObjectStatus};
use stockwatch_core::settings::{Checks, Loads};
use stockwatch_domain::import::thousands;
use stockwatch_domain::{Alert, AlertKind, Timestamp, escape_for_terminal};

/// Problems listed per file on a terminal; the full list is in the report.
const SHOWN_PROBLEMS: usize = 50;
/// Alerts listed per file on a terminal; `stockwatch alerts` has them all.
const SHOWN_ALERTS: usize = 20;

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Inventory CSV files (header `store,item,count`).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The time the counts were taken (RFC 3339) [default: the upload time].
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub as_of: Option<Timestamp>,
    /// The files are snapshots taken one SPAN apart, in the order given, the
    /// last at --as-of (or now): a folder of daily exports is `--spread 1d`.
    #[arg(long, value_name = "SPAN", value_parser = stockwatch_domain::parse_span)]
    pub spread: Option<std::time::Duration>,
    /// Load only; leave raising alerts to a running console or `watch`.
    #[arg(long)]
    pub no_check: bool,
    /// One JSON object per file, one per line.
    #[arg(long)]
    pub json: bool,
}

fn parse_time(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse_rfc3339(text)
}

#[derive(Serialize)]
struct FileResult<'a> {
    file: String,
    key: &'a str,
    #[serde(flatten)]
    report: &'a LoadReport,
    /// The first alerts its rows raised (`alerts_total` counts them all).
    alerts: &'a [Alert],
    alerts_total: u64,
    /// Alerts an earlier run raised but stopped before sending, sent by this one.
    taken_over: &'a [Alert],
    /// Why the check after the load stopped (the load stands).
    #[serde(skip_serializing_if = "Option::is_none")]
    check_error: Option<String>,
}

/// The as-of of the `n`th file: `--as-of`, or with `--spread` the last file
/// at it (or now) and each earlier one a span before the next.
fn spread_as_of(args: &UploadArgs) -> impl Fn(usize) -> Option<Timestamp> + '_ {
    let end = args.as_of.unwrap_or_else(Timestamp::now);
    move |n| match args.spread {
        None => args.as_of,
        Some(span) => {
            let before = (args.files.len() - 1 - n) as i64;
            Some(Timestamp(end.0.saturating_sub(before * span.as_millis() as i64)))
        }
    }
}

pub async fn run(ctx: &Session, args: &UploadArgs) -> Result<(), CliError> {
    if (args.as_of.is_some() || args.spread.is_some()) && ctx.roles.loads == Loads::Function {
        return Err(CliError::Usage(
            "--as-of and --spread need stockwatch to load the file itself (--loader console): the deployed \
             function uses the upload time"
                .into(),
        ));
    }
    let as_of_of = spread_as_of(args);
    // The first file's as-of is the earliest: with it in range, all are.
    if let Some(first) = as_of_of(0) {
        stockwatch_domain::check_as_of_given(first, Timestamp::now())
            .map_err(|problem| CliError::Usage(format!("--spread over {} files: {problem}", args.files.len())))?;
    }
    let flow = ctx.upload_flow(!args.no_check);
    // Files refused for what they are (exit 3), and loads that failed for
    // where they were going (exit 1: a full disk, a backend that gave up),
    // whichever step it failed at.
    let (mut rejected, mut failed) = (0, 0);
    let colour = use_colour() && !args.json;
    let mut stdout = std::io::stdout().lock();
    // Uploads a stopped process left half loaded go first: said, not hidden.
    for resumed in flow.resume_stalled().await? {
        say_resumed(&resumed);
    }
    for (n, path) in args.files.iter().enumerate() {
        let shown_path = escape_for_terminal(&path.to_string_lossy()).into_owned();
        let uploaded = match flow.upload_file(path, as_of_of(n), None).await {
            Ok(uploaded) => uploaded,
            Err(e @ UploadError::Unreadable { .. }) => {
                // Not a file one can upload (a folder, a pipe): nothing reached the bucket.
                rejected += 1;
                super::say(&e.to_string());
                continue;
            }
            Err(UploadError::Port(e)) => return Err(e.into()),
        };
        let outcome = &uploaded.outcome;
        match outcome.report.status {
            // Loaded, but its alerts were not all raised and sent: exit 1.
            ObjectStatus::Loaded if uploaded.check_error.is_some() => failed += 1,
            ObjectStatus::Loaded => {}
            ObjectStatus::Rejected => rejected += 1,
            ObjectStatus::Failed | ObjectStatus::Received => failed += 1,
        }
        if args.json {
            let result = FileResult {
                file: path.to_string_lossy().into_owned(),
                key: outcome.key.as_str(),
                report: &outcome.report,
                alerts: &uploaded.alerts,
                alerts_total: uploaded.counts.total,
                taken_over: uploaded.check.as_ref().map_or(&[][..], |c| &c.taken_over),
                check_error: uploaded.check_error.as_ref().map(ToString::to_string),
            };
            json_line(&mut stdout, &result).map_err(write_failed)?;
        } else {
            let alerts = if args.no_check {
                AlertsSaid::NotChecked
            } else if ctx.roles.checks != Checks::Here {
                AlertsSaid::Elsewhere
            } else {
                AlertsSaid::Here
            };
            print_outcome(&mut stdout, &shown_path, &uploaded, alerts, colour).map_err(write_failed)?;
            say_renamed(&mut stdout, path, &outcome.key).map_err(write_failed)?;
        }
    }
    if !args.json && !args.files.is_empty() {
        // Where it went: another data dir than the console's is the usual
        // reason an upload "does not show".
        writeln!(stdout, "into {}", escape_for_terminal(&ctx.ports.location)).map_err(write_failed)?;
    }
    if rejected > 0 {
        Err(CliError::Reported(exit::REJECTED))
    } else if failed > 0 {
        Err(CliError::Reported(exit::FAILURE))
    } else {
        Ok(())
    }
}

/// Who raises a loaded file's alerts, for its report.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AlertsSaid {
    /// `--no-check`: nobody yet.
    NotChecked,
    /// The stack's check function (or a relay), from the table's changes.
    Elsewhere,
    /// This run's checker: listed.
    Here,
}

fn print_outcome(
    out: &mut impl Write,
    path: &str,
    uploaded: &Uploaded,
    said: AlertsSaid,
    colour: bool,
) -> std::io::Result<()> {
    let (outcome, alerts) = (&uploaded.outcome, &uploaded.alerts);
    let r = &outcome.report;
    match r.status {
        ObjectStatus::Loaded => {
            writeln!(
                out,
                "{path}: {} {} rows ({} {}): {} changed, {} unchanged, {} older than the table{}",
                paint("loaded", Tone::Green, colour),
                r.rows,
                r.stores,
                if r.stores == 1 { "store" } else { "stores" },
                r.write.changed,
                r.write.unchanged,
                r.write.older,
                if r.write.older > 0 {
                    " (kept in the history)"
                } else {
                    ""
                }
            )?;
            let counts = &uploaded.counts;
            if let Some(e) = &uploaded.check_error {
                writeln!(
                    out,
                    "  alerts: the check stopped: {}",
                    escape_for_terminal(&e.to_string())
                )?;
                writeln!(
                    out,
                    "  {} raised before it stopped, {} of them not sent yet; the load stands",
                    thousands(counts.total),
                    thousands(counts.unsent)
                )?;
                write_alerts(out, alerts, counts.total, "    ", colour)?;
                writeln!(
                    out,
                    "  then run `stockwatch check`: what was not raised is raised and what was not sent is sent, each once"
                )?;
            } else if said == AlertsSaid::NotChecked {
                writeln!(out, "  alerts: not checked (--no-check)")?;
            } else if said == AlertsSaid::Elsewhere {
                writeln!(
                    out,
                    "  alerts: raised by the deployment's checker from the table's changes (stockwatch alerts lists them)"
                )?;
            } else {
                write!(
                    out,
                    "  alerts: {} OUT, {} LOW",
                    thousands(counts.out),
                    thousands(counts.low)
                )?;
                if counts.soon > 0 {
                    write!(out, ", {} SOON", thousands(counts.soon))?;
                }
                writeln!(out)?;
                write_alerts(out, alerts, counts.total, "    ", colour)?;
                // What this run sent for an earlier run that stopped: said, not hidden.
                let taken_over = uploaded.check.as_ref().map_or(0, |c| c.taken_over.len());
                if taken_over > 0 {
                    writeln!(
                        out,
                        "  also sent {taken_over} alerts an earlier run raised but stopped before sending \
                         (stockwatch alerts lists them)"
                    )?;
                }
            }
        }
        ObjectStatus::Rejected => {
            writeln!(
                out,
                "{path}: {} with {} {}; nothing was written",
                paint("REJECTED", Tone::Red, colour),
                thousands(r.problems_in_all()),
                if r.problems_in_all() == 1 {
                    "problem"
                } else {
                    "problems"
                }
            )?;
            for problem in r.problems.iter().take(SHOWN_PROBLEMS) {
                writeln!(out, "  {problem}")?;
            }
            let shown = r.problems.len().min(SHOWN_PROBLEMS) as u64;
            if r.problems_in_all() > shown {
                writeln!(
                    out,
                    "  … and {} more ({} in all: {})",
                    thousands(r.problems_in_all() - shown),
                    thousands(r.problems_in_all()),
                    r.problem_kinds_said()
                )?;
            }
        }
        ObjectStatus::Failed | ObjectStatus::Received => {
            writeln!(
                out,
                "{path}: {}: {}",
                paint("FAILED", Tone::Red, colour),
                escape_for_terminal(r.failure.as_deref().unwrap_or("the load did not finish"))
            )?;
            for failure in r.write.failed.iter().take(SHOWN_PROBLEMS) {
                writeln!(out, "  line {}: {}", failure.line, escape_for_terminal(&failure.reason))?;
            }
        }
    }
    for warning in &r.warnings {
        writeln!(out, "  warning: {warning}")?;
    }
    if let Some(said) = r.source_change_said() {
        writeln!(out, "  warning: {said}")?;
    }
    if r.status != ObjectStatus::Loaded {
        writeln!(
            out,
            "  kept as {} (full report: stockwatch uploads '{}')",
            outcome.key, outcome.key
        )?;
    }
    Ok(())
}

/// The first alerts, one line each, then how many more: a storm of 16,000
/// alerts is a count on a terminal, not 16,000 lines (`alerts` lists them).
/// `total`: how many there are, of which `alerts` are the first.
pub(super) fn write_alerts(
    out: &mut impl Write,
    alerts: &[Alert],
    total: u64,
    indent: &str,
    colour: bool,
) -> std::io::Result<()> {
    for alert in alerts.iter().take(SHOWN_ALERTS) {
        let tone = if alert.kind == AlertKind::Out {
            Tone::Red
        } else {
            Tone::Yellow
        };
        let text = format!(
            "#{} {} {}",
            alert.id,
            alert.kind.as_str(),
            escape_for_terminal(&alert.notification().message)
        );
        writeln!(out, "{indent}{}", paint(&text, tone, colour))?;
    }
    let shown = alerts.len().min(SHOWN_ALERTS) as u64;
    if total > shown {
        let more = thousands(total - shown);
        writeln!(out, "{indent}… and {more} more (stockwatch alerts lists them)")?;
    }
    Ok(())
}

/// The name in the bucket, when it is not the file's own: said, so nobody
/// looks for `back\slash.csv` and finds only `back_slash.csv`.
fn say_renamed(
    out: &mut impl Write,
    path: &std::path::Path,
    key: &stockwatch_core::ports::ObjectKey,
) -> std::io::Result<()> {
    let own = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    if key.file_name() == own {
        return Ok(());
    }
    let mut why = Vec::new();
    if stockwatch_core::pipeline::loader::key_safe_name(&own) != own {
        why.push("backslashes and characters a terminal cannot show became `_`");
    }
    if key.file_name().ends_with(".csv") && !own.ends_with(".csv") && !own.ends_with(".CSV") {
        why.push("`.csv` was added so the load function sees it");
    }
    if why.is_empty() {
        why.push("the name cannot be a bucket key");
    }
    writeln!(
        out,
        "  stored as {} ({})",
        escape_for_terminal(key.file_name()),
        why.join("; ")
    )
}

/// On stderr (stdout is this command's own files): an upload another
/// process left half loaded, loaded now.
pub fn say_resumed(resumed: &stockwatch_core::pipeline::LoadOutcome) {
    super::say(&format!(
        "{} was left half loaded by a process that stopped; loaded it now: {} ({} rows)",
        resumed.key,
        resumed.report.status.as_str(),
        resumed.report.rows
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use stockwatch_core::pipeline::{Checker, CheckerConfig, Loader, UploadFlow};
    use stockwatch_core::ports::{Delivery, PortError, PortResult, Publisher};
    use stockwatch_domain::Message;

    /// The disk filled between the load and the notifications.
    struct DiskFull;
    #[async_trait::async_trait]
    impl Publisher for DiskFull {
        async fn deliver(&self, _: &[Message], _: &str, _: Duration) -> PortResult<Vec<Delivery>> {
            Err(PortError::permanent(
                "the disk holding /data/stockwatch.db is full; free some space, then try again",
            ))
        }
    }

    #[tokio::test]
    async fn a_check_that_stops_after_the_load_still_reports_the_file_and_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let mut ports = stockwatch_local::LocalBackend::open(dir.path()).unwrap().ports;
        ports.publisher = std::sync::Arc::new(DiskFull);
        let checker = Checker::new(ports.clone(), CheckerConfig::default());
        let flow = UploadFlow::new(ports.clone(), Loader::new(ports), Some(checker));
        let berlin = stockwatch_testkit::repo().join("samples/inventory-berlin.csv");
        let uploaded = flow.upload_file(&berlin, None, None).await.unwrap();
        assert!(uploaded.check_error.is_some());
        let mut out = Vec::new();
        print_outcome(&mut out, "berlin.csv", &uploaded, AlertsSaid::Here, false).unwrap();
        let said = String::from_utf8(out).unwrap();
        assert!(said.contains("berlin.csv: loaded 6 rows"), "{said}");
        assert!(
            said.contains("the check stopped: the disk holding /data/stockwatch.db is full"),
            "{said}"
        );
        assert!(
            said.contains("1 raised before it stopped, 1 of them not sent yet"),
            "{said}"
        );
        assert!(said.contains("Echo Plus"), "{said}");
        assert!(said.contains("then run `stockwatch check`"), "{said}");
    }
}
