//! `stockwatch alerts`, `stockwatch ack` and `stockwatch unack`.

use super::error::CliError;
use super::output::{Cell, JsonArray, Table, Tone, json_line, use_colour};
use super::{Session, write_failed};
use clap::Args;
use std::io::Write;
use stockwatch_core::app::{AppError, Field, text};
use stockwatch_core::ports::{AlertFilter, PortError};
use stockwatch_domain::{Alert, AlertId, AlertKind, AlertState, Timestamp, escape_for_terminal};

#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// Include resolved alerts.
    #[arg(long)]
    pub all: bool,
    /// A JSON array of alerts.
    #[arg(long)]
    pub json: bool,
}

pub async fn list(ctx: &Session, args: &AlertsArgs) -> Result<(), CliError> {
    let filter = AlertFilter {
        include_resolved: args.all,
        ..AlertFilter::default()
    };
    // A page at a time, written as read: memory stays flat at any count.
    let mut pages = ctx.ops.alert_pages(filter);
    let now = Timestamp::now();
    let snoozes = ctx.ops.snoozes(now).await?;
    let snoozed = |alert: &Alert| stockwatch_domain::snoozed(&snoozes, &alert.store, &alert.item, now);
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let mut json = JsonArray::start(&mut stdout).map_err(write_failed)?;
        while let Some(page) = pages.next_page().await? {
            for alert in &page {
                let mut value = serde_json::to_value(alert).map_err(|e| CliError::Io(e.to_string()))?;
                if let Some(snooze) = snoozed(alert) {
                    value["snoozed"] = serde_json::json!({"by": snooze.by, "until": snooze.until});
                }
                json.push(&value).map_err(write_failed)?;
            }
        }
        return json.finish().map_err(write_failed);
    }
    let (mut open, mut acknowledged_count, mut listed) = (0u64, 0u64, 0u64);
    let mut widths = None;
    while let Some(page) = pages.next_page().await? {
        if page.is_empty() {
            continue;
        }
        listed += page.len() as u64;
        open += page.iter().filter(|a| a.state == AlertState::Open).count() as u64;
        acknowledged_count += page.iter().filter(|a| a.state == AlertState::Acknowledged).count() as u64;
        let mut table = Table::new(vec![
            "ID",
            "KIND",
            "STATE",
            "STORE",
            "ITEM",
            "COUNT",
            "RAISED",
            "ACKNOWLEDGED",
        ])
        .align_right(0)
        .align_right(5);
        for alert in &page {
            table.row(row_of(alert, snoozed(alert)), tone_of(alert));
        }
        // Each page in the columns of the pages before it (widening only
        // where a name needs it); the header once.
        widths = Some(
            table
                .write_continued(&mut stdout, use_colour(), widths.as_deref())
                .map_err(write_failed)?,
        );
    }
    if listed == 0 {
        let text = if args.all {
            "No alerts yet. They are raised when an upload takes an item to 0 or to its low threshold."
        } else {
            "No open alerts. `stockwatch alerts --all` shows resolved ones too."
        };
        return writeln!(stdout, "{text}").map_err(write_failed);
    }
    writeln!(stdout, "\n{open} open, {acknowledged_count} acknowledged").map_err(write_failed)
}

fn tone_of(alert: &Alert) -> Tone {
    match (alert.state, alert.kind) {
        (AlertState::Acknowledged | AlertState::Resolved, _) => Tone::Dim,
        (AlertState::Open, AlertKind::Out) => Tone::Red,
        (AlertState::Open, AlertKind::Low) => Tone::Yellow,
        (AlertState::Open, AlertKind::Soon) => Tone::Plain,
    }
}

fn row_of(alert: &Alert, snooze: Option<&stockwatch_domain::Snooze>) -> Vec<Cell> {
    let mut said = acknowledged(alert);
    if let Some(snooze) = snooze {
        said.push_str(&format!(
            " (snoozed by {} until {})",
            snooze.by,
            snooze.until.to_display()
        ));
    }
    if alert.reminders > 0 {
        said.push_str(&format!(" (reminded {}×)", alert.reminders));
    }
    vec![
        Cell::new(&alert.id.to_string()),
        Cell::new(alert.kind.as_str()),
        Cell::new(alert.state.as_str()),
        Cell::new(&alert.store),
        Cell::new(&alert.item),
        Cell::new(&alert.count.to_string()),
        Cell::new(&alert.raised_at.to_display()),
        Cell::new(said.trim()),
    ]
}

fn acknowledged(alert: &Alert) -> String {
    match &alert.acknowledged {
        Some(ack) => match &ack.note {
            Some(note) => format!("{} {} ({note})", ack.by, ack.at.to_display()),
            None => format!("{} {}", ack.by, ack.at.to_display()),
        },
        None => String::new(),
    }
}

#[derive(Debug, Args)]
pub struct AckArgs {
    /// The alert's id, as `stockwatch alerts` lists it.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Why, or what is being done about it.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Who acknowledges [default: $USER@host].
    #[arg(long, env = "STOCKWATCH_USER", value_name = "NAME")]
    pub by: Option<String>,
    /// Print the acknowledged alert as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn ack(ctx: &Session, args: &AckArgs) -> Result<(), CliError> {
    let id = AlertId::parse(&args.id).map_err(CliError::Usage)?;
    let by = match &args.by {
        // clap fills --by from STOCKWATCH_USER too.
        Some(by) => by.clone(),
        None => operator()?,
    };
    let alert = match ctx
        .ops
        .acknowledge(id, &by, args.note.as_deref(), Timestamp::now())
        .await
    {
        Err(AppError::Port(PortError::NotFound(m))) => {
            return Err(PortError::not_found(format!("{m}; `stockwatch alerts --all` lists them")).into());
        }
        other => other?,
    };
    let mut stdout = std::io::stdout().lock();
    if args.json {
        return json_line(&mut stdout, &alert).map_err(write_failed);
    }
    let by = alert.acknowledged.as_ref().map_or(by.as_str(), |ack| ack.by.as_str());
    writeln!(
        stdout,
        "acknowledged #{} {} ({}) as {}",
        alert.id,
        alert.kind.as_str(),
        escape_for_terminal(&alert.notification().message),
        escape_for_terminal(by)
    )
    .map_err(write_failed)
}

#[derive(Debug, Args)]
pub struct UnackArgs {
    /// The alert's id, as `stockwatch alerts` lists it.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Print the alert, open again, as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn unack(ctx: &Session, args: &UnackArgs) -> Result<(), CliError> {
    let id = AlertId::parse(&args.id).map_err(CliError::Usage)?;
    let alert = match ctx.ops.unacknowledge(id, Timestamp::now()).await {
        Err(AppError::Port(PortError::NotFound(m))) => {
            return Err(PortError::not_found(format!("{m}; `stockwatch alerts --all` lists them")).into());
        }
        other => other?,
    };
    let mut stdout = std::io::stdout().lock();
    if args.json {
        return json_line(&mut stdout, &alert).map_err(write_failed);
    }
    writeln!(
        stdout,
        "#{} {} ({}) is open again: its acknowledgement was taken back",
        alert.id,
        alert.kind.as_str(),
        escape_for_terminal(&alert.notification().message),
    )
    .map_err(write_failed)
}

/// Who is acting: STOCKWATCH_USER (checked), else `user@host` of whoever runs this.
pub fn operator() -> Result<String, CliError> {
    if let Ok(name) = std::env::var("STOCKWATCH_USER")
        && !name.trim().is_empty()
    {
        return text::checked(Field::Name, &name).map_err(|e| match e {
            AppError::Invalid { problem, .. } => CliError::Usage(format!("STOCKWATCH_USER {problem}")),
            other => other.into(),
        });
    }
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let name = if host.is_empty() {
        user
    } else {
        format!("{user}@{host}")
    };
    // Not chosen by anyone to say something: made safe, not refused.
    Ok(stockwatch_domain::escape_for_terminal(&name).into_owned())
}
