//! `stockwatch snooze` and `stockwatch unsnooze`: a store's or an item's
//! new alerts are raised and shown but not notified, until the snooze ends
//! by itself or is ended.

use super::alerts::{checked_line, operator};
use super::error::CliError;
use super::output::json_line;
use super::{Session, retries, write_failed};
use crate::domain::{AlertId, Snooze, Timestamp, escape_for_terminal, parse_duration};
use clap::Args;
use std::io::Write;

/// What to snooze: an alert's item, a store, or one item of a store.
#[derive(Debug, Args)]
pub struct Target {
    /// An alert (as `stockwatch alerts` lists it): its store's item.
    #[arg(value_name = "ID", required_unless_present = "store", conflicts_with = "store")]
    pub id: Option<String>,
    /// Every item of this store.
    #[arg(long, value_name = "STORE")]
    pub store: Option<String>,
    /// Only this item of --store.
    #[arg(long, value_name = "ITEM", requires = "store")]
    pub item: Option<String>,
}

#[derive(Debug, Args)]
pub struct SnoozeArgs {
    #[command(flatten)]
    pub target: Target,
    /// How long: 30m, 2h, 1d, 1h30m.
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
    pub duration: std::time::Duration,
    /// Why.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Print the snooze as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UnsnoozeArgs {
    #[command(flatten)]
    pub target: Target,
}

/// The store and item a target names (an alert's are looked up).
async fn resolve(ctx: &Session, target: &Target) -> Result<(String, Option<String>), CliError> {
    if let Some(id) = &target.id {
        let id = AlertId::parse(id).map_err(CliError::Usage)?;
        let alert = retries().run("find the alert", || ctx.ports.ledger.get(id)).await?;
        return Ok((alert.store, Some(alert.item)));
    }
    let store = target.store.clone().unwrap_or_default();
    Ok((store, target.item.clone()))
}

pub async fn snooze(ctx: &Session, args: &SnoozeArgs) -> Result<(), CliError> {
    let (store, item) = resolve(ctx, &args.target).await?;
    let note = match args.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(note) => Some(checked_line("the note (--note)", note, 2000)?),
        None => None,
    };
    let snooze = Snooze {
        store,
        item,
        until: Timestamp(Timestamp::now().0 + args.duration.as_millis() as i64),
        by: operator()?,
        note,
    };
    retries().run("snooze", || ctx.ports.ledger.snooze(&snooze)).await?;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        return json_line(&mut stdout, &snooze).map_err(write_failed);
    }
    writeln!(
        stdout,
        "snoozed {} until {}: its new alerts are raised and shown, not notified",
        escape_for_terminal(&snooze.target()),
        snooze.until.to_display()
    )
    .map_err(write_failed)
}

pub async fn unsnooze(ctx: &Session, args: &UnsnoozeArgs) -> Result<(), CliError> {
    let (store, item) = resolve(ctx, &args.target).await?;
    let ended = retries()
        .run("unsnooze", || ctx.ports.ledger.unsnooze(&store, item.as_deref()))
        .await?;
    let target = match &item {
        Some(item) => format!("{store} / {item}"),
        None => store.clone(),
    };
    if !ended {
        return Err(
            crate::ports::PortError::NotFound(format!("{} is not snoozed", escape_for_terminal(&target))).into(),
        );
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{} is no longer snoozed", escape_for_terminal(&target)).map_err(write_failed)
}
