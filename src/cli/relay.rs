//! `stockwatch relay`: the one process of an AWS setup without a stack
//! that reads the table's stream and the ledger's, publishes every change
//! and alert to the fan-out topic (each console and `watch` has a queue on
//! it), raises the alerts, and removes the queues of followers that died.
//! Run it once per setup, e.g. under systemd; followers use it while its
//! heartbeat is fresh and read the streams themselves otherwise.

use super::error::CliError;
use super::{GlobalArgs, Session};
use clap::Args;
use std::time::Duration;
use stockwatch_core::app::{Pass, Schedule};
use stockwatch_core::pipeline::Relay;
use stockwatch_core::ports::{Backoff, Failures, Idle};
use stockwatch_core::settings::Checks;

/// Between passes while nothing is new: a quarter second at first, then
/// longer (with jitter) up to a second, so an idle relay costs two stream
/// reads a second and a change still reaches followers within about one.
const IDLE: Backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(1));

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
    let beside_stack = ctx.roles.checks == Checks::Stack;
    // One pass sends what it raised: only a relay that keeps running
    // holds alerts for a grouping window.
    let checker = if args.once { ctx.checker() } else { ctx.relay_checker() };
    let relay = Relay::publishing(ctx.ports.clone(), (!beside_stack).then_some(checker));
    if args.once {
        let once = Schedule::beat_once(&ctx.knobs);
        let round = ctx
            .ops
            .duties(once, Some(Pass::Relay(Box::new(relay))), None)
            .run_due()
            .await;
        if let Some(e) = round.failed {
            return Err(e.into());
        }
        let report = round.relayed.unwrap_or_default();
        super::say(&format!(
            "published {} changes and {} alert states; {} alerts raised",
            report.changes,
            report.alerts,
            report.check.raised_total()
        ));
        return Ok(());
    }
    super::say(&format!("relaying {}; Ctrl-C to stop", ctx.ports.location));
    let mut duties = ctx.ops.duties(
        Schedule::relay(&ctx.knobs),
        Some(Pass::Relay(Box::new(relay))),
        Some(ctx.loader()),
    );
    let mut stop = Box::pin(stockwatch_core::shutdown::signal());
    let mut failures = Failures::new(Backoff::new(IDLE.base, Duration::from_secs(10)));
    let mut idle = Idle::new(IDLE);
    loop {
        let round = tokio::select! {
            _ = &mut stop => return Ok(()),
            round = duties.run_due() => round,
        };
        for resumed in &round.resumed {
            super::upload::say_resumed(resumed);
        }
        if let Some(e) = &round.resume_failed {
            super::say(&format!("could not look for uploads whose loader stopped: {e}"));
        }
        let wait = match &round.failed {
            None => {
                failures.succeeded();
                if round.raised() > 0 {
                    tracing::info!(raised = round.raised(), "alerts raised");
                }
                idle.after(round.busy())
            }
            Some(e) => {
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
