//! What a long-running process owes besides following, each on its own
//! schedule: the pass (a relay's, or a checker's), loading the uploads
//! whose loader stopped, the publisher's beat, and removing the queues of
//! followers that stopped. `stockwatch relay`, `watch`, the console and the
//! check function each pick theirs from one runner.

use super::{AppError, Operations};
use crate::pipeline::loader::LoadOutcome;
use crate::pipeline::{CheckReport, Checker, Loader, Relay, RelayReport};
use crate::ports::fanout::BEAT;
use crate::ports::{Backoff, Failures, Fanout, Idle, Ports};
use crate::settings::TestKnobs;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often uploads whose loader stopped are looked for and loaded.
pub const RESUME_EVERY: Duration = Duration::from_secs(15);
/// How often the queues of followers that stopped are looked for.
pub const REAP_EVERY: Duration = Duration::from_secs(5 * 60);

/// How often each duty is due; `None` is never.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Say the publisher is alive to its followers.
    pub beat: Option<Duration>,
    /// Remove the queues of followers not kept alive for `abandoned`.
    pub reap: Option<Duration>,
    /// Load uploads whose loader stopped.
    pub resume: Option<Duration>,
    /// A follower's queue not kept alive for this long is removed.
    pub abandoned: Duration,
}

impl Schedule {
    /// Nothing but the pass.
    pub fn pass_only(knobs: &TestKnobs) -> Schedule {
        Schedule {
            beat: None,
            reap: None,
            resume: None,
            abandoned: knobs.abandoned(),
        }
    }

    /// The relay publishes: it beats, reaps and resumes.
    pub fn relay(knobs: &TestKnobs) -> Schedule {
        Schedule {
            beat: Some(BEAT),
            reap: Some(REAP_EVERY.min(knobs.abandoned())),
            resume: Some(RESUME_EVERY),
            ..Schedule::pass_only(knobs)
        }
    }

    /// A console or `watch` that raises alerts itself: it resumes loads.
    pub fn checking_follower(knobs: &TestKnobs) -> Schedule {
        Schedule {
            resume: Some(RESUME_EVERY),
            ..Schedule::pass_only(knobs)
        }
    }

    /// One pass that says the publisher is alive (`relay --once`).
    pub fn beat_once(knobs: &TestKnobs) -> Schedule {
        Schedule {
            beat: Some(Duration::ZERO),
            ..Schedule::pass_only(knobs)
        }
    }
}

/// The pass a round ends with (boxed: both are large, and one is kept).
pub enum Pass {
    /// Publishes the feed's and the ledger's news to followers (and checks).
    Relay(Box<Relay>),
    /// Raises the alerts of the feed's changes.
    Check(Box<Checker>),
}

/// What one round did, and what stopped it.
#[derive(Debug, Default)]
pub struct Round {
    pub resumed: Vec<LoadOutcome>,
    pub reaped: usize,
    pub relayed: Option<RelayReport>,
    pub checked: Option<CheckReport>,
    /// Stalled uploads that could not be looked for: said, and the round
    /// went on (one upload that cannot be resumed must not stop the alerts).
    pub resume_failed: Option<AppError>,
    /// The duty that failed and ended the round early (due again next round).
    pub failed: Option<AppError>,
}

impl Round {
    /// Whether the pass found something to do (then the next comes at once).
    pub fn busy(&self) -> bool {
        self.relayed.as_ref().is_some_and(|r| !r.is_empty())
            || self.checked.as_ref().is_some_and(|c| c.raised_total() > 0)
            || !self.resumed.is_empty()
    }

    /// The alerts the pass raised.
    pub fn raised(&self) -> usize {
        let relayed = self.relayed.as_ref().map_or(0, |r| r.check.raised_total() as usize);
        relayed + self.checked.as_ref().map_or(0, |c| c.raised_total() as usize)
    }
}

pub struct Duties {
    schedule: Schedule,
    fanout: Arc<dyn Fanout>,
    loader: Option<Loader>,
    pass: Option<Pass>,
    beat_at: Option<Instant>,
    reaped_at: Option<Instant>,
    resumed_at: Option<Instant>,
}

impl Operations {
    /// A runner of the schedule's duties and `pass`; `loader` resumes the
    /// stalled uploads (none: nothing to resume here).
    pub fn duties(&self, schedule: Schedule, pass: Option<Pass>, loader: Option<Loader>) -> Duties {
        Duties {
            schedule,
            fanout: self.ports.fanout.clone(),
            loader,
            pass,
            beat_at: None,
            reaped_at: None,
            resumed_at: None,
        }
    }
}

impl Duties {
    /// Runs round after round until `stop` completes: busy, the next comes
    /// at once; idle, it waits longer each time up to `idle_poll`, with
    /// jitter, so viewers that went quiet together do not read together;
    /// failing, it waits 0.5 s, 1 s, 2 s … up to 10 s and says so in the
    /// log as `who`'s (never on a screen).
    pub async fn keep_running(
        mut self,
        idle_poll: Duration,
        who: &'static str,
        stop: impl std::future::Future<Output = ()>,
    ) {
        const SHORTEST: Duration = Duration::from_millis(250);
        let mut failures = Failures::new(Backoff::new(Duration::from_millis(500), Duration::from_secs(10)));
        let mut idle = Idle::new(Backoff::new(SHORTEST.min(idle_poll), idle_poll));
        let rounds = async {
            loop {
                let round = self.run_due().await;
                let wait = match &round.failed {
                    None => {
                        failures.succeeded();
                        idle.after(round.busy())
                    }
                    Some(e) => {
                        tracing::warn!(error = %e, "{who}");
                        failures.failed().max(SHORTEST)
                    }
                };
                tokio::time::sleep(wait).await;
            }
        };
        tokio::select! {
            () = rounds => {}
            () = stop => {}
        }
    }
}

/// A viewer that raises the alerts itself (the console, unless a relay or
/// a stack does): its duties run an in-process relay
/// that reads the stream once, checks what it read and publishes it to
/// the returned ports' fan-out, which the viewer follows; they also load
/// the uploads whose loader stopped.
pub async fn checking_viewer(
    ports: &Ports,
    checker: Checker,
    loader: Loader,
    knobs: &TestKnobs,
) -> Result<(Ports, Duties), crate::ports::PortError> {
    let fanout = Arc::new(crate::ports::fanout::InProcessFanout::default());
    let relay_ports = Ports {
        fanout: fanout.clone(),
        ..ports.clone()
    };
    let relay = Relay::in_process(relay_ports.clone(), checker).await?;
    let ops = Operations::new(relay_ports.clone(), crate::ports::RetryPolicy::default());
    let duties = ops.duties(
        Schedule::checking_follower(knobs),
        Some(Pass::Relay(Box::new(relay))),
        Some(loader),
    );
    Ok((relay_ports, duties))
}

fn due(at: Option<Instant>, every: Option<Duration>) -> bool {
    every.is_some_and(|every| at.is_none_or(|at| at.elapsed() >= every))
}

impl Duties {
    /// Runs the duties that are due, then the pass. A duty done moves its
    /// time on. A failed beat, reap or pass ends the round (due again in
    /// the next); a failed look for stalled uploads is said and the round
    /// goes on. What was done is in the round whatever failed after it.
    pub async fn run_due(&mut self) -> Round {
        let mut round = Round::default();
        if let Err(e) = self.run_into(&mut round).await {
            round.failed = Some(e);
        }
        round
    }

    async fn run_into(&mut self, round: &mut Round) -> Result<(), AppError> {
        if due(self.beat_at, self.schedule.beat) {
            self.fanout.beat().await?;
            self.beat_at = Some(Instant::now());
        }
        if due(self.reaped_at, self.schedule.reap) {
            round.reaped = self.fanout.reap(self.schedule.abandoned).await?;
            if round.reaped > 0 {
                tracing::info!(reaped = round.reaped, "removed the queues of followers that stopped");
            }
            self.reaped_at = Some(Instant::now());
        }
        if let Some(loader) = &self.loader
            && due(self.resumed_at, self.schedule.resume)
        {
            self.resumed_at = Some(Instant::now());
            match loader.resume_stalled().await {
                Ok(resumed) if !resumed.is_empty() => {
                    tracing::warn!(uploads = resumed.len(), "loaded uploads whose loader stopped");
                    round.resumed = resumed;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "could not look for uploads whose loader stopped");
                    round.resume_failed = Some(e.into());
                }
            }
        }
        match &self.pass {
            Some(Pass::Relay(relay)) => round.relayed = Some(relay.run_once().await?),
            Some(Pass::Check(checker)) => round.checked = Some(checker.run_once().await?),
            None => {}
        }
        Ok(())
    }
}
