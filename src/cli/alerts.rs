//! `stockwatch alerts` and `stockwatch ack`.

use super::error::CliError;
use super::output::{Cell, JsonArray, Table, Tone, json_line, use_colour};
use super::{Session, retries, write_failed};
use crate::domain::{Acknowledgement, Alert, AlertId, AlertKind, AlertState, Timestamp, escape_for_terminal};
use crate::ports::{AlertFilter, PortError, all_pages};
use clap::Args;
use std::io::Write;

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
    let (ledger, filter) = (&ctx.ports.ledger, &filter);
    let retry = retries();
    let alerts = all_pages(|page| {
        let retry = &retry;
        async move {
            retry
                .run("list alerts", || ledger.list(filter, page.as_ref(), 1000))
                .await
        }
    })
    .await?;
    let now = Timestamp::now();
    let snoozes = retries().run("read the snoozes", || ledger.snoozes(now)).await?;
    let snoozed = |alert: &Alert| crate::domain::snoozed(&snoozes, &alert.store, &alert.item, now);
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let mut json = JsonArray::start(&mut stdout).map_err(write_failed)?;
        for alert in &alerts {
            let mut value = serde_json::to_value(alert).map_err(|e| CliError::Io(e.to_string()))?;
            if let Some(snooze) = snoozed(alert) {
                value["snoozed"] = serde_json::json!({"by": snooze.by, "until": snooze.until});
            }
            json.push(&value).map_err(write_failed)?;
        }
        return json.finish().map_err(write_failed);
    }
    if alerts.is_empty() {
        let text = if args.all {
            "No alerts yet. They are raised when an upload takes an item to 0 or to its low threshold."
        } else {
            "No open alerts. `stockwatch alerts --all` shows resolved ones too."
        };
        return writeln!(stdout, "{text}").map_err(write_failed);
    }
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
    for alert in &alerts {
        let tone = match (alert.state, alert.kind) {
            (AlertState::Acknowledged | AlertState::Resolved, _) => Tone::Dim,
            (AlertState::Open, AlertKind::Out) => Tone::Red,
            (AlertState::Open, AlertKind::Low) => Tone::Yellow,
            (AlertState::Open, AlertKind::Soon) => Tone::Plain,
        };
        table.row(
            vec![
                Cell::new(&alert.id.to_string()),
                Cell::new(alert.kind.as_str()),
                Cell::new(alert.state.as_str()),
                Cell::new(&alert.store),
                Cell::new(&alert.item),
                Cell::new(&alert.count.to_string()),
                Cell::new(&alert.raised_at.to_display()),
                Cell::new(&{
                    let mut said = acknowledged(alert);
                    if let Some(snooze) = snoozed(alert) {
                        said.push_str(&format!(
                            " (snoozed by {} until {})",
                            snooze.by,
                            snooze.until.to_display()
                        ));
                    }
                    if alert.reminders > 0 {
                        said.push_str(&format!(" (reminded {}×)", alert.reminders));
                    }
                    said.trim().to_string()
                }),
            ],
            tone,
        );
    }
    table.write(&mut stdout, use_colour()).map_err(write_failed)?;
    let open = alerts.iter().filter(|a| a.state == AlertState::Open).count();
    writeln!(
        stdout,
        "\n{open} open, {} acknowledged",
        alerts.iter().filter(|a| a.state == AlertState::Acknowledged).count()
    )
    .map_err(write_failed)
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
    let note = args.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if let Some(note) = note {
        checked_line("the note (--note)", note, MAX_NOTE_BYTES)?;
    }
    let by = match &args.by {
        // clap fills --by from STOCKWATCH_USER too.
        Some(by) => checked_line("the name (--by or STOCKWATCH_USER)", by.trim(), MAX_NAME_BYTES)?,
        None => operator()?,
    };
    let ack = Acknowledgement {
        by,
        at: Timestamp::now(),
        note: note.map(String::from),
    };
    let id = AlertId::parse(&args.id).map_err(CliError::Usage)?;
    let ledger = &ctx.ports.ledger;
    let acknowledged = retries()
        .run("acknowledge", || async {
            match ledger.acknowledge(id, &ack).await {
                // A retry after an answer that was lost: the first try went through.
                Err(PortError::Conflict(reason)) => match ledger.get(id).await {
                    Ok(alert) if alert.acknowledged.as_ref() == Some(&ack) => Ok(alert),
                    _ => Err(PortError::Conflict(reason)),
                },
                other => other,
            }
        })
        .await;
    let alert = match acknowledged {
        Err(PortError::NotFound(m)) => {
            return Err(PortError::NotFound(format!("{m}; `stockwatch alerts --all` lists them")).into());
        }
        other => other?,
    };
    let mut stdout = std::io::stdout().lock();
    if args.json {
        return json_line(&mut stdout, &alert).map_err(write_failed);
    }
    writeln!(
        stdout,
        "acknowledged #{} {} ({}) as {}",
        alert.id,
        alert.kind.as_str(),
        escape_for_terminal(&alert.notification().message),
        escape_for_terminal(&ack.by)
    )
    .map_err(write_failed)
}

/// Longest `--by` name and `--note` kept: a line in a listing, not a file.
const MAX_NAME_BYTES: usize = 256;
const MAX_NOTE_BYTES: usize = 2000;

/// Text typed by people and shown on every later terminal: one visible
/// line, of a sane length, or a usage error naming what is wrong.
pub fn checked_line(what: &str, text: &str, max_bytes: usize) -> Result<String, CliError> {
    if text.is_empty() {
        return Err(CliError::Usage(format!("{what} is empty")));
    }
    if text.len() > max_bytes {
        return Err(CliError::Usage(format!(
            "{what} is {} bytes; the most is {max_bytes}",
            text.len()
        )));
    }
    crate::domain::names::check_line(text).map_err(|ch| {
        CliError::Usage(format!(
            "{what} contains {ch}, which would be shown raw on every terminal that lists it; write plain text on \
             one line"
        ))
    })?;
    Ok(text.to_string())
}

/// Who is acting: STOCKWATCH_USER (checked), else `user@host` of whoever runs this.
pub fn operator() -> Result<String, CliError> {
    if let Ok(name) = std::env::var("STOCKWATCH_USER")
        && !name.trim().is_empty()
    {
        return checked_line("STOCKWATCH_USER", name.trim(), MAX_NAME_BYTES);
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
    Ok(crate::domain::escape_for_terminal(&name).into_owned())
}
