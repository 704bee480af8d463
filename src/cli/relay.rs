//! `stockwatch relay`: the one process of an AWS setup without a stack
//! that reads the table's stream and the ledger's, publishes every change
//! and alert to the fan-out topic (each console and `watch` has a queue on
//! it), raises the alerts, and removes the queues of followers that died.
//! Run it once per setup, e.g. under systemd; followers use it while its
//! heartbeat is fresh and read the streams themselves otherwise.

use super::error::CliError;
use super::{GlobalArgs, Session};
use crate::pipeline::Relay;
use crate::ports::fanout::BEAT;
use crate::ports::{Backoff, Failures, Idle};
use clap::Args;
use std::time::{Duration, Instant};

/// Between passes while nothing is new: a quarter second at first, then
/// longer (with jitter) up to a second, so an idle relay costs two stream
/// reads a second and a change still reaches followers within about one.
const IDLE: Backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(1));
/// How often queues of dead followers are looked for.
const REAP_EVERY: Duration = Duration::from_secs(5 * 60);
/// How often uploads whose loader stopped are loaded.
const RESUME_EVERY: Duration = Duration::from_secs(15);

#[derive(Debug, Default, Args)]
pub struct RelayArgs {
    /// Run one pass and stop (for tests and cron; the relay normally runs
    /// until stopped).
    #[arg(long)]
    pub once: bool,
}

pub async fn run(global: &GlobalArgs, args: &RelayArgs) -> Result<(), CliError> {
    let ctx = Session::open_publisher(global).await?;
    if ctx.local.is_some() {
        return Err(CliError::Usage(
            "the local backend needs no relay: every console and watch reads the database directly".into(),
        ));
    }
    // Beside a stack, its function raises the alerts: the relay publishes.
    let beside_stack = ctx.checked_elsewhere && !ctx.ports.relayed;
    // One pass sends what it raised: only a relay that keeps running
    // holds alerts for a grouping window.
    let checker = if args.once { ctx.checker() } else { ctx.relay_checker() };
    let relay = Relay::publishing(ctx.ports.clone(), (!beside_stack).then_some(checker));
    let fanout = ctx.ports.fanout.clone();
    let loader = ctx.loader();
    if args.once {
        fanout.beat().await?;
        let report = relay.run_once().await?;
        super::say(&format!(
            "published {} changes and {} alert states; {} alerts raised",
            report.changes,
            report.alerts,
            report.check.raised.len()
        ));
        return Ok(());
    }
    super::say(&format!("relaying {}; Ctrl-C to stop", ctx.ports.location));
    let mut stop = Box::pin(crate::shutdown::signal());
    let mut failures = Failures::new(Backoff::new(IDLE.base, Duration::from_secs(10)));
    let mut idle = Idle::new(IDLE);
    let (mut beat_at, mut reaped_at, mut resumed_at): (Option<Instant>, Option<Instant>, Option<Instant>) =
        (None, None, None);
    let due = |at: Option<Instant>, every: Duration| at.is_none_or(|at| at.elapsed() >= every);
    loop {
        let step = async {
            if due(beat_at, BEAT) {
                fanout.beat().await?;
                beat_at = Some(Instant::now());
            }
            if due(reaped_at, REAP_EVERY.min(crate::ports::fanout::abandoned())) {
                let reaped = fanout.reap(crate::ports::fanout::abandoned()).await?;
                if reaped > 0 {
                    tracing::info!(reaped, "removed the queues of followers that stopped");
                }
                reaped_at = Some(Instant::now());
            }
            if due(resumed_at, RESUME_EVERY) {
                for resumed in loader.resume_stalled().await? {
                    super::upload::say_resumed(&resumed);
                }
                resumed_at = Some(Instant::now());
            }
            relay.run_once().await
        };
        let result = tokio::select! {
            _ = &mut stop => return Ok(()),
            result = step => result,
        };
        let wait = match result {
            Ok(report) => {
                failures.succeeded();
                if !report.check.raised.is_empty() {
                    tracing::info!(raised = report.check.raised.len(), "alerts raised");
                }
                idle.after(!report.is_empty())
            }
            Err(e) => {
                let wait = failures.failed();
                super::say(&format!("{e}; retrying in {:.1} s", wait.as_secs_f32()));
                wait
            }
        };
        tokio::select! {
            _ = &mut stop => return Ok(()),
            _ = tokio::time::sleep(wait) => {}
        }
    }
}
