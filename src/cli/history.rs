//! `stockwatch history`: one item's counts over time, and its forecast.

use super::error::CliError;
use super::output::{Cell, JsonArray, Table, Tone, use_colour};
use super::{Session, write_failed};
use clap::Args;
use std::io::Write;
use stockwatch_core::ports::PortError;
use stockwatch_domain::forecast::DEFAULT_WINDOW_MS;
use stockwatch_domain::{Timestamp, escape_for_terminal, parse_duration};

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The item's store.
    #[arg(long, value_name = "STORE")]
    pub store: String,
    /// The item.
    #[arg(long, value_name = "ITEM")]
    pub item: String,
    /// How far back: 30d, 36h… (history is kept 90 days unless history_keep
    /// says; at most 100 years).
    #[arg(long, value_name = "SPAN", default_value = "30d", value_parser = parse_duration)]
    pub since: std::time::Duration,
    /// A JSON array of points (as_of, count, source), oldest first.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ctx: &Session, args: &HistoryArgs) -> Result<(), CliError> {
    let since = Timestamp(Timestamp::now().0.saturating_sub(args.since.as_millis() as i64));
    let history = ctx.ops.item_history(&args.store, &args.item, since).await?;
    let points = &history.points;
    if args.json {
        let mut json = JsonArray::start(std::io::stdout().lock()).map_err(write_failed)?;
        for point in points {
            json.push(point).map_err(write_failed)?;
        }
        return json.finish().map_err(write_failed);
    }
    let mut stdout = std::io::stdout().lock();
    let name = format!(
        "{} at {}",
        escape_for_terminal(&args.item),
        escape_for_terminal(&args.store)
    );
    if points.is_empty() {
        writeln!(
            stdout,
            "No history of {name} in that span. History starts with the first load after this version; \
             `stockwatch stock --store …` lists a store's items."
        )
        .map_err(write_failed)?;
        return Ok(());
    }
    let mut table = Table::new(vec!["AS OF", "COUNT", "CHANGE", "FILE"])
        .align_right(1)
        .align_right(2);
    let mut before: Option<u32> = None;
    for point in points {
        let change = match before {
            Some(b) if point.count > b => format!("+{}", point.count - b),
            Some(b) if point.count < b => format!("-{}", b - point.count),
            Some(_) => "0".to_string(),
            None => String::new(),
        };
        let tone = if point.count == 0 { Tone::Red } else { Tone::Plain };
        table.row(
            vec![
                Cell::new(&point.as_of.to_display()),
                Cell::new(&point.count.to_string()),
                Cell::new(&change),
                Cell::new(point.source.rsplit('/').next().unwrap_or(&point.source)),
            ],
            tone,
        );
        before = Some(point.count);
    }
    table.write(&mut stdout, use_colour()).map_err(write_failed)?;
    let row = history
        .row
        .ok_or_else(|| PortError::not_found(format!("{name} is not in the inventory table")))?;
    let days = DEFAULT_WINDOW_MS / 86_400_000;
    let said = match history.forecast {
        Some(f) if row.count == 0 => format!(
            "\nOut of stock; it sold {:.1} a day over the last {days} days.",
            f.rate_per_day
        ),
        Some(f) => format!(
            "\nSells {:.1} a day (last {days} days): {:.1} days left, runs out around {}.",
            f.rate_per_day,
            f.days_left,
            f.runs_out_at.to_display()
        ),
        None => "\nNo forecast: no sales seen in the last two weeks, or less than a day of history.".to_string(),
    };
    writeln!(stdout, "{said}").map_err(write_failed)?;
    Ok(())
}
