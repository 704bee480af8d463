//! `stockwatch watch`: follows changes and alerts through the fan-out feed
//! (a relay's topic and a queue of its own, or the feed and the ledger read
//! directly), and runs the checker in-process unless a relay or stack does
//! or it is told not to.

use super::error::CliError;
use super::output::{Tone, json_line, paint, use_colour};
use super::{Session, write_failed};
use clap::Args;
use serde::Serialize;
use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;
use stockwatch_core::app::AppError;
use stockwatch_core::app::{FollowOptions, Followed, Follower, PUBLISHER_SILENT, Pass, Schedule};
use stockwatch_core::ports::{Backoff, Change, Failures, PortError};
use stockwatch_core::settings::Follows;
use stockwatch_domain::{Alert, AlertId, AlertState, Timestamp, escape_for_terminal, level};

/// How often the feed is read (and the checker run): a change shows well
/// inside a second.
const POLL: Duration = Duration::from_millis(250);
/// How long a receive waits for news when no checker runs here (a queue's
/// long poll answers as soon as something comes).
const RECEIVE_WAIT: Duration = Duration::from_secs(10);
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
    let checker = (!args.no_checker && ctx.roles.checks_here()).then(|| ctx.checker());
    // Through the fan-out feed (a relay's topic and a queue of our own, or
    // the feed and ledger read directly); from the start only directly.
    let name = format!("watch {} (pid {})", super::alerts::operator()?, std::process::id());
    let options = FollowOptions {
        snapshot: false,
        snoozes: false,
        from_start: args.from_start,
        // With a checker here it runs between receives: wait little.
        wait: if checker.is_some() { POLL } else { RECEIVE_WAIT },
        keep_alive_every: ctx.knobs.keep_alive_every(),
        silent_after: PUBLISHER_SILENT,
    };
    let mut follower = ctx.ops.follow(&name, options).await?;
    let ender = follower.ender();
    let result = follow(ctx, args, checker, &mut follower).await;
    // Whatever ended it, the queue goes (a relay reaps it if this cannot).
    if let Err(e) = ender.end().await {
        tracing::warn!(error = %e, "could not remove the follower's queue");
    }
    result
}

async fn follow(
    ctx: &Session,
    args: &WatchArgs,
    checker: Option<stockwatch_core::pipeline::Checker>,
    follower: &mut Follower,
) -> Result<(), CliError> {
    let mut known: HashMap<AlertId, (AlertState, u64)> = HashMap::new();
    let colour = use_colour() && !args.json;
    let thresholds = ctx.checker_config.thresholds.clone();
    if !args.json {
        let checking = if checker.is_some() {
            " (checker running here)"
        } else if ctx.roles.follows == Follows::Relay {
            " (through the relay)"
        } else if ctx.data_read_only() {
            " (the data dir is read-only here: no checker)"
        } else {
            ""
        };
        super::say(&format!("following {}{checking}; Ctrl-C to stop", ctx.ports.location));
    }
    let mut stop = Box::pin(stockwatch_core::shutdown::signal());
    let mut failures = Failures::new(FAILING);
    // A checker here: its pass, and the uploads whose loader stopped, between receives.
    let mut duties = checker.map(|checker| {
        ctx.ops.duties(
            Schedule::checking_follower(&ctx.knobs),
            Some(Pass::Check(Box::new(checker))),
            Some(ctx.loader()),
        )
    });
    loop {
        let step = async {
            if let Some(duties) = &mut duties {
                let round = duties.run_due().await;
                for resumed in &round.resumed {
                    super::upload::say_resumed(resumed);
                }
                if let Some(e) = round.resume_failed {
                    super::say(&format!("could not look for uploads whose loader stopped: {e}"));
                }
                if let Some(e) = round.failed {
                    return Err(e);
                }
            }
            follower.next().await.map_err(|failed| failed.error)
        };
        let result = tokio::select! {
            _ = &mut stop => return Ok(()),
            result = step => result,
        };
        let followed = match result {
            Ok(followed) => followed,
            // What no retry mends (a damaged database, a refusal) ends it.
            Err(AppError::Port(e @ (PortError::Permanent(_) | PortError::Invalid(_) | PortError::Setup { .. }))) => {
                return Err(e.into());
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
        failures.succeeded();
        let mut out = std::io::stdout().lock();
        let mut alerts: Vec<&Alert> = Vec::new();
        for what in &followed {
            match what {
                Followed::Gap => {
                    if args.json {
                        json_line(&mut out, &serde_json::json!({"type": "gap"})).map_err(write_failed)?;
                    }
                    super::say(
                        "changes may have been lost on the way (a stream trimmed or replaced, a hole in the relay's numbering); `stockwatch stock` and `stockwatch alerts` show what is now",
                    )
                }
                Followed::PublisherSilent(silent) => {
                    if args.json {
                        let line = serde_json::json!({"type": "relay_silent", "silent": silent});
                        json_line(&mut out, &line).map_err(write_failed)?;
                    }
                    super::say(&if *silent {
                        format!(
                            "the relay has not been heard for {}: changes may be late",
                            stockwatch_domain::time::short_span(PUBLISHER_SILENT)
                        )
                    } else {
                        "the relay is heard again".to_string()
                    });
                }
                Followed::Reconnected { away } => {
                    let said = stockwatch_core::app::reconnected_said(*away);
                    if args.json {
                        let line = serde_json::json!({"type": "reconnected", "away_ms": away.as_millis() as u64});
                        json_line(&mut out, &line).map_err(write_failed)?;
                    }
                    super::say(&said);
                }
                Followed::Alerts(raised) => alerts.extend(raised),
                Followed::Changes(changes) => {
                    for change in changes {
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
                }
                // No snapshot nor snoozes asked for (a refresh comes with a snapshot only).
                Followed::Rows { .. } | Followed::Unresolved { .. } | Followed::Snoozes(_) | Followed::Refresh => {}
            }
        }
        // What one receive brought, in the order the alerts were raised;
        // a copy older than one already shown (by the ledger's version)
        // or with the same state says nothing new.
        alerts.sort_by_key(|a| (a.raised_at, a.id, a.version));
        for alert in alerts {
            let before = known.get(&alert.id).copied();
            if before.is_some_and(|(_, version)| version > alert.version) {
                continue;
            }
            known.insert(alert.id, (alert.state, alert.version));
            let event = match (before.map(|(state, _)| state), alert.state) {
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
                stockwatch_domain::Level::Out => Tone::Red,
                stockwatch_domain::Level::Low => Tone::Yellow,
                stockwatch_domain::Level::Ok => Tone::Plain,
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
    let tone = if event == "raised" && alert.kind == stockwatch_domain::AlertKind::Low {
        Tone::Yellow
    } else {
        tone
    };
    format!("{}  {}", time_of_day(at), paint(&text, tone, colour))
}
