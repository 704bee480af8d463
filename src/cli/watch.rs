//! `stockwatch watch`: follows the change feed and the alert ledger, and runs
//! the checker in-process unless told not to.

use super::error::CliError;
use super::output::{Tone, json_line, paint, use_colour};
use super::{Session, write_failed};
use crate::domain::{Alert, AlertId, AlertState, Timestamp, escape_for_terminal, level};
use crate::ports::{Backoff, Change, Failures, PortError};
use clap::Args;
use serde::Serialize;
use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

/// How often the feed is read (and the checker run): a change shows well
/// inside a second.
const POLL: Duration = Duration::from_millis(250);
/// How often the alert ledger is asked what changed when it is quiet; while
/// it has more than a page to tell, it is asked again at once (so a burst of
/// thousands of alerts a second is followed, not sampled).
const LEDGER_POLL: Duration = Duration::from_millis(500);
/// Changes and alerts asked for per read.
const PAGE: usize = 5000;
/// How often a watch that runs the checker loads uploads whose loader stopped.
const RESUME_EVERY: Duration = Duration::from_secs(15);
/// Waits while the backend is failing: watch never gives up on its own.
const FAILING: Backoff = Backoff::new(POLL, Duration::from_secs(10));

#[derive(Debug, Default, Args)]
pub struct WatchArgs {
    /// One JSON object per line: {"type":"change",…} or {"type":"alert",…}.
    #[arg(long)]
    pub json: bool,
    /// Do not run the checker here (another process raises the alerts; with
    /// --stack the deployed check-stock function always does).
    #[arg(long)]
    pub no_checker: bool,
    /// Start from the first change ever recorded instead of now.
    #[arg(long)]
    pub from_start: bool,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Event<'a> {
    Change(&'a Change),
    Alert { event: &'static str, alert: &'a Alert },
}

pub async fn run(ctx: &Session, args: &WatchArgs) -> Result<(), CliError> {
    let checker = (!args.no_checker && !ctx.checked_elsewhere && !ctx.data_read_only()).then(|| ctx.checker());
    let feed = &ctx.ports.feed;
    let ledger = &ctx.ports.ledger;
    let mut feed_cursor = if args.from_start { None } else { Some(feed.tip().await?) };
    let mut ledger_cursor = if args.from_start {
        None
    } else {
        Some(ledger.tip().await?)
    };
    let mut known: HashMap<AlertId, AlertState> = HashMap::new();
    let colour = use_colour() && !args.json;
    let thresholds = ctx.checker_config.thresholds.clone();
    if !args.json {
        let checking = if checker.is_some() {
            " (checker running here)"
        } else if ctx.data_read_only() {
            " (the data dir is read-only here: no checker)"
        } else {
            ""
        };
        super::say(&format!("following {}{checking}; Ctrl-C to stop", ctx.ports.location));
    }
    let mut stop = Box::pin(crate::shutdown::signal());
    let mut failures = Failures::new(FAILING);
    let mut last_ledger_poll: Option<std::time::Instant> = None;
    let mut ledger_behind = false;
    let loader = checker.as_ref().map(|_| ctx.loader());
    let mut resumed_at: Option<std::time::Instant> = None;
    loop {
        // Acknowledgements elsewhere show within a second; asking more often
        // would only cost a networked ledger more reads.
        let ask_ledger = ledger_behind || last_ledger_poll.is_none_or(|at| at.elapsed() >= LEDGER_POLL);
        let resume = loader.is_some() && resumed_at.is_none_or(|at: std::time::Instant| at.elapsed() >= RESUME_EVERY);
        let step = async {
            if let (true, Some(loader)) = (resume, &loader) {
                for resumed in loader.resume_stalled().await? {
                    super::upload::say_resumed(&resumed);
                }
            }
            if let Some(checker) = &checker {
                checker.run_once().await?;
            }
            let page = feed.read(feed_cursor.as_ref(), PAGE).await?;
            let ledger_news = if ask_ledger {
                Some(ledger.changes_since(ledger_cursor.as_ref(), PAGE).await?)
            } else {
                None
            };
            Ok::<_, PortError>((page, ledger_news))
        };
        let result = tokio::select! {
            _ = &mut stop => return Ok(()),
            result = step => result,
        };
        let busy = match result {
            Ok((page, ledger_news)) => {
                failures.succeeded();
                if resume {
                    resumed_at = Some(std::time::Instant::now());
                }
                if page.gap {
                    super::say(
                        "changes were lost from the feed (trimmed, or the stream was replaced); `stockwatch stock` shows the current counts",
                    );
                }
                let (mut alerts, next_ledger) = match ledger_news {
                    Some(news) => {
                        last_ledger_poll = Some(std::time::Instant::now());
                        if news.gap {
                            super::say(
                                "alert changes were lost from the ledger's stream (trimmed after 24 hours); `stockwatch alerts` shows the current alerts",
                            );
                        }
                        (news.alerts, news.cursor)
                    }
                    None => (
                        Vec::new(),
                        ledger_cursor
                            .clone()
                            .unwrap_or(crate::ports::LedgerCursor(String::new())),
                    ),
                };
                let ledger_asked = ask_ledger;
                // Ledger order is revision order (publishing bumps it): show
                // what one poll found in the order the alerts were raised.
                alerts.sort_by_key(|a| (a.raised_at, a.id));
                let mut out = std::io::stdout().lock();
                for change in &page.changes {
                    let only_as_of = matches!((&change.old, &change.new), (Some(o), Some(n)) if o.count == n.count);
                    if only_as_of && !args.json {
                        // A newer snapshot of the same count: no news in a line of text.
                        continue;
                    }
                    if args.json {
                        json_line(&mut out, &Event::Change(change)).map_err(write_failed)?;
                    } else {
                        let low = thresholds.low_for(&change.store, &change.item);
                        writeln!(out, "{}", describe_change(change, low, colour)).map_err(write_failed)?;
                    }
                }
                for alert in &alerts {
                    let event = match (known.insert(alert.id, alert.state), alert.state) {
                        (Some(before), now) if before == now => continue, // e.g. marked published
                        (_, AlertState::Open) => "raised",
                        (_, AlertState::Acknowledged) => "acknowledged",
                        (_, AlertState::Resolved) => "resolved",
                    };
                    if args.json {
                        json_line(&mut out, &Event::Alert { event, alert }).map_err(write_failed)?;
                    } else {
                        writeln!(out, "{}", describe_alert(event, alert, colour)).map_err(write_failed)?;
                    }
                }
                out.flush().map_err(write_failed)?;
                ledger_behind = ledger_asked && alerts.len() == PAGE;
                let busy = page.changes.len() == PAGE || ledger_behind;
                feed_cursor = Some(page.cursor);
                if ledger_asked {
                    ledger_cursor = Some(next_ledger);
                }
                busy
            }
            Err(e) => {
                // Shown and tried again after a jittered, growing wait.
                let wait = failures.failed();
                super::say(&format!("{e}; retrying in {:.1} s", wait.as_secs_f32()));
                tokio::select! {
                    _ = &mut stop => return Ok(()),
                    _ = tokio::time::sleep(wait) => {}
                }
                continue;
            }
        };
        if !busy {
            tokio::select! {
                _ = &mut stop => return Ok(()),
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }
}

fn time_of_day(t: Timestamp) -> String {
    let full = t.to_display();
    full.get(11..).unwrap_or(&full).to_string()
}

fn describe_change(change: &Change, low: u32, colour: bool) -> String {
    let name = format!(
        "{} / {}",
        escape_for_terminal(&change.store),
        escape_for_terminal(&change.item)
    );
    let (text, tone) = match (&change.old, &change.new) {
        (old, Some(new)) => {
            let state = level(new.count, low);
            let tone = match state {
                crate::domain::Level::Out => Tone::Red,
                crate::domain::Level::Low => Tone::Yellow,
                crate::domain::Level::Ok => Tone::Plain,
            };
            let from = old.as_ref().map_or("new".to_string(), |o| o.count.to_string());
            (format!("{name}  {from} → {}  {}", new.count, state.label()), tone)
        }
        (_, None) => (format!("{name}  removed"), Tone::Dim),
    };
    format!("{}  {}", time_of_day(change.at), paint(&text, tone, colour))
}

fn describe_alert(event: &str, alert: &Alert, colour: bool) -> String {
    let message = escape_for_terminal(&alert.notification().message).into_owned();
    let (text, tone, at) = match event {
        "raised" => (
            format!("ALERT #{} {} raised: {message}", alert.id, alert.kind.as_str()),
            Tone::Red,
            alert.raised_at,
        ),
        "acknowledged" => {
            let ack = alert.acknowledged.as_ref();
            let by = ack.map_or("someone".into(), |a| escape_for_terminal(&a.by).into_owned());
            let note = ack
                .and_then(|a| a.note.as_deref())
                .map(|n| format!(": {}", escape_for_terminal(n)))
                .unwrap_or_default();
            let at = ack.map_or(alert.raised_at, |a| a.at);
            (format!("ALERT #{} acknowledged by {by}{note}", alert.id), Tone::Dim, at)
        }
        _ => (
            format!(
                "ALERT #{} resolved: {} / {} is back in stock",
                alert.id,
                escape_for_terminal(&alert.store),
                escape_for_terminal(&alert.item)
            ),
            Tone::Green,
            alert.resolved_at.unwrap_or(alert.raised_at),
        ),
    };
    let tone = if event == "raised" && alert.kind == crate::domain::AlertKind::Low {
        Tone::Yellow
    } else {
        tone
    };
    format!("{}  {}", time_of_day(at), paint(&text, tone, colour))
}
