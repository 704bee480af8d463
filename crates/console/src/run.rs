//! The console's run loop: it takes the terminal (`terminal`), starts the
//! long-lived tasks (`tasks`: input, change feed, alert ledger, checker),
//! then, until the operator quits or the session ends, applies every
//! message already waiting with `update`, hands the effects to `effects`,
//! and draws only when something changed.

use super::app::{App, Settings};
use super::clock::Clock;
use super::effects::Effects;
use super::keymap::Keymap;
use super::messages::{Effect, Msg};
use super::tasks;
use super::terminal::{self, Term};
use super::theme::Theme;
use super::update::update;
use super::view::view;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stockwatch_core::app::{FollowEnd, Operations, checking_viewer};
use stockwatch_core::live::LiveStock;
use stockwatch_core::pipeline::{Checker, UploadFlow};
use stockwatch_core::ports::{Ports, RetryPolicy};
use stockwatch_core::settings::TestKnobs;
use stockwatch_domain::{Thresholds, Timestamp};
use tokio::sync::mpsc::unbounded_channel;

pub struct Options {
    pub keymap: Keymap,
    /// Read-only, bell, mouse, where the data is, where the log goes.
    pub settings: Settings,
    /// Times in UTC rather than the local zone.
    pub utc: bool,
    pub checker: Option<Checker>,
    pub thresholds: Thresholds,
    pub operator: String,
    /// Where the file pane starts (the last directory used, or the current one).
    pub start_dir: PathBuf,
    /// Where the file pane remembers its directory.
    pub last_dir_file: Option<PathBuf>,
    /// Uploads the file pane's files: loads them here (or waits for the
    /// deployed function), then raises their alerts with the console's checker.
    pub uploads: UploadFlow,
    /// What only tests turn (a follower's queue abandoned sooner).
    pub knobs: TestKnobs,
}

/// Runs until the operator quits or the session ends (SIGTERM, SIGHUP);
/// the terminal is given back however it ends, a panic included.
pub async fn run(ports: Ports, options: Options) -> std::io::Result<()> {
    let mut term = terminal::enter(options.settings.mouse)?;
    let subscription: Arc<Mutex<Option<FollowEnd>>> = Arc::default();
    let result = event_loop(&mut term, ports, options, subscription.clone()).await;
    terminal::restore();
    // The follower's queue goes with it (if this cannot, a relay reaps it).
    let held = subscription.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(held) = held {
        let ended = tokio::time::timeout(Duration::from_secs(5), held.end()).await;
        if !matches!(ended, Ok(Ok(()))) {
            tracing::warn!("could not remove the follower's queue; the relay reaps it");
        }
    }
    result
}

async fn event_loop(
    term: &mut Term,
    ports: Ports,
    options: Options,
    subscription: Arc<Mutex<Option<FollowEnd>>>,
) -> std::io::Result<()> {
    let (tx, mut rx) = unbounded_channel::<Msg>();
    let now = Timestamp::now();
    let clock = if options.utc {
        Clock::utc(now)
    } else {
        Clock::local(now)
    };
    let mouse = options.settings.mouse;
    let mut app = App::new(
        LiveStock::new(options.thresholds.clone()),
        options.keymap,
        options.settings,
        clock,
    );
    app.files.dir = options.start_dir;
    app.now = now;
    let size = term.size()?;
    app.size = (size.width, size.height);
    tasks::spawn_input(tx.clone(), mouse);
    tasks::spawn_ticks(tx.clone());
    // The long-lived tasks are watched: one that panics ends the console
    // (terminal given back, the reason said) instead of leaving it stale.
    let mut watched = tokio::task::JoinSet::new();
    let follower = format!("console {} (pid {})", options.operator, std::process::id());
    // A console that raises alerts itself reads the stream once: its relay
    // passes check what they read and publish it to its view.
    let view_ports = match options.checker {
        Some(checker) => {
            let loader = options.uploads.loader().clone();
            let (relay_ports, duties) = loop {
                match checking_viewer(&ports, checker.clone(), loader.clone(), &options.knobs).await {
                    Ok(started) => break started,
                    Err(e) => {
                        let _ = tx.send(Msg::FeedError(e.to_string()));
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            };
            watched.spawn(tasks::run_relay(duties, ports.idle_poll, tx.clone()));
            relay_ports
        }
        None => ports.clone(),
    };
    // Retries are silent here: a failure that outlasts them is said in the status bar.
    let retries = RetryPolicy::default();
    let following = Operations::new(view_ports, retries.clone());
    let keep_alive_every = options.knobs.keep_alive_every();
    watched.spawn(tasks::follow(
        following,
        follower,
        keep_alive_every,
        tx.clone(),
        subscription.clone(),
    ));
    let ops = Operations::new(ports, retries);
    let mut effects = Effects::new(
        ops,
        options.operator,
        options.thresholds,
        options.uploads,
        options.last_dir_file,
        tx,
    );
    let theme = Theme::from_env();
    let mut stop = Box::pin(stockwatch_core::shutdown::signal());
    loop {
        if app.dirty {
            term.draw(|frame| view(frame, &app, theme))?;
            app.dirty = false;
        }
        let first = tokio::select! {
            _ = &mut stop => return Ok(()),
            Some(Err(failure)) = watched.join_next(), if !watched.is_empty() => {
                return Err(std::io::Error::other(format!("a background task of the console failed: {failure}")));
            }
            msg = rx.recv() => match msg { Some(m) => m, None => return Ok(()) },
        };
        // Apply everything already waiting before drawing again.
        let waiting: Vec<Msg> = std::iter::once(first)
            .chain(std::iter::from_fn(|| rx.try_recv().ok()))
            .collect();
        for msg in waiting {
            let serial = app.message_serial;
            let mut effects_of_msg = update(&mut app, msg);
            if app.message_serial != serial {
                effects_of_msg.push(Effect::ExpireMessage(app.message_serial));
            }
            for effect in effects_of_msg {
                match effect {
                    Effect::Quit => return Ok(()),
                    Effect::Repaint => terminal::repaint(term)?,
                    Effect::Suspend => {
                        terminal::suspend(term, mouse)?;
                        app.dirty = true;
                    }
                    // BEL: the terminal beeps or flashes, tmux flags the
                    // window, and it travels over SSH like any byte.
                    Effect::Bell => {
                        let mut out = std::io::stdout();
                        out.write_all(b"\x07")?;
                        out.flush()?;
                    }
                    other => effects.perform(other),
                }
            }
        }
    }
}
