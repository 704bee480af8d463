//! `stockwatch snooze` and `stockwatch unsnooze`: a store's or an item's
//! new alerts are raised and shown but not notified, until the snooze ends
//! by itself or is ended.

use super::alerts::operator;
use super::error::CliError;
use super::output::json_line;
use super::{Session, write_failed};
use clap::Args;
use std::io::Write;
use stockwatch_core::app::SnoozeTarget;
use stockwatch_domain::{AlertId, Timestamp, escape_for_terminal, parse_span};

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
    /// How long: 30m, 2h, 1d, 1h30m (at most a year).
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_span)]
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

impl Target {
    fn parsed(&self) -> Result<SnoozeTarget, CliError> {
        match &self.id {
            Some(id) => Ok(SnoozeTarget::Alert(AlertId::parse(id).map_err(CliError::Usage)?)),
            None => Ok(SnoozeTarget::Store {
                store: self.store.clone().unwrap_or_default(),
                item: self.item.clone(),
            }),
        }
    }
}

pub async fn snooze(ctx: &Session, args: &SnoozeArgs) -> Result<(), CliError> {
    let target = args.target.parsed()?;
    let snooze = ctx
        .ops
        .snooze(
            &target,
            args.duration,
            &operator()?,
            args.note.as_deref(),
            Timestamp::now(),
        )
        .await?;
    if matches!(target, SnoozeTarget::Store { .. }) && !ctx.ops.store_seen(&snooze.store).await? {
        super::say(&format!(
            "note: no file has named the store `{}` yet; the snooze is kept and applies once one does \
             (check the spelling: stockwatch stock lists the stores)",
            escape_for_terminal(&snooze.store)
        ));
    }
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
    let target = ctx.ops.unsnooze(&args.target.parsed()?).await?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{} is no longer snoozed", escape_for_terminal(&target)).map_err(write_failed)
}
