//! `stockwatch stock`: the inventory table, by store and item.

use super::error::CliError;
use super::output::{Cell, JsonArray, Table, Tone, paint, use_colour};
use super::{Session, write_failed};
use clap::Args;
use serde::Serialize;
use std::io::Write;
use stockwatch_core::app::{StockLine, StockQuery};
use stockwatch_core::ports::StockRow;
use stockwatch_domain::{Level, Timestamp};

#[derive(Debug, Args)]
pub struct StockArgs {
    /// Only this store.
    #[arg(long, value_name = "STORE")]
    pub store: Option<String>,
    /// Only out-of-stock items (count 0).
    #[arg(long)]
    pub out: bool,
    /// Only low items (at or below their threshold, above 0).
    #[arg(long)]
    pub low: bool,
    /// Only items predicted to run out within DAYS (3 if not given), most
    /// urgent first.
    #[arg(long, value_name = "DAYS", num_args = 0..=1, default_missing_value = "3", conflicts_with = "no_forecast",
          value_parser = days)]
    pub soon: Option<f64>,
    /// Read no history: no days left (on AWS the history costs a query per item).
    #[arg(long)]
    pub no_forecast: bool,
    /// A JSON array of rows.
    #[arg(long)]
    pub json: bool,
}

/// A number of days ahead: 0 or more, and a number (not NaN, not infinite).
fn days(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        // `+ 0.0` makes -0 plain 0.
        Ok(days) if days.is_finite() && days >= 0.0 => Ok(days + 0.0),
        _ => Err(format!(
            "`{}` is not a number of days; write 0 or more, e.g. 3 or 1.5",
            stockwatch_domain::escape_for_terminal(text)
        )),
    }
}

#[derive(Serialize)]
struct StockJson<'a> {
    #[serde(flatten)]
    row: &'a StockRow,
    state: Level,
    low_threshold: u32,
    /// Units sold a day lately; null where unknown (no sales, too little history).
    rate_per_day: Option<f64>,
    days_left: Option<f64>,
    runs_out_at: Option<Timestamp>,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub async fn run(ctx: &Session, args: &StockArgs) -> Result<(), CliError> {
    let query = StockQuery {
        store: args.store.clone(),
        out: args.out,
        low: args.low,
        soon_days: args.soon,
        forecast: !args.no_forecast,
    };
    let mut reader = ctx.ops.stock(query, ctx.checker_config.thresholds.clone())?;
    let colour = use_colour() && !args.json;
    let mut json = if args.json {
        Some(JsonArray::start(std::io::stdout().lock()).map_err(write_failed)?)
    } else {
        None
    };
    let (mut rows_seen, mut outs, mut lows) = (0u64, 0u64, 0u64);
    while let Some(page) = reader.next_page().await? {
        if let Some(note) = &page.note {
            super::say(note);
        }
        let seen = emit(&page.lines, json.as_mut(), colour)?;
        rows_seen += seen.0;
        outs += seen.1;
        lows += seen.2;
    }
    if let Some(json) = json {
        return json.finish().map_err(write_failed);
    }
    let mut stdout = std::io::stdout().lock();
    if rows_seen == 0 {
        let hint = if let Some(days) = args.soon {
            &format!(
                "Nothing is predicted to run out within {days} days (items need a day or more of history with sales)."
            )
        } else if args.store.is_some() || args.out || args.low {
            "No stock matches. `stockwatch stock` lists everything."
        } else {
            "No stock yet. Load the samples with: stockwatch upload samples/*.csv"
        };
        writeln!(stdout, "{hint}").map_err(write_failed)?;
    } else {
        writeln!(
            stdout,
            "\n{rows_seen} items: {}, {}",
            paint(
                &format!("{outs} out of stock"),
                if outs > 0 { Tone::Red } else { Tone::Plain },
                colour
            ),
            paint(
                &format!("{lows} low"),
                if lows > 0 { Tone::Yellow } else { Tone::Plain },
                colour
            )
        )
        .map_err(write_failed)?;
    }
    Ok(())
}

/// Writes one page of lines (as JSON, or as an aligned table); the rows,
/// out-of-stock and low counts it wrote.
fn emit(
    page: &[StockLine],
    json: Option<&mut JsonArray<std::io::StdoutLock<'static>>>,
    colour: bool,
) -> Result<(u64, u64, u64), CliError> {
    let (mut outs, mut lows) = (0u64, 0u64);
    let mut table = Table::new(vec!["STORE", "ITEM", "COUNT", "STATE", "DAYS LEFT", "AS OF", "UPDATED"]).align_right(2);
    let mut json = json;
    for line in page {
        let (row, forecast, state) = (&line.row, line.forecast, line.level);
        match state {
            Level::Out => outs += 1,
            Level::Low => lows += 1,
            Level::Ok => {}
        }
        if let Some(json) = json.as_mut() {
            json.push(&StockJson {
                row,
                state,
                low_threshold: line.low_threshold,
                rate_per_day: forecast.map(|f| round2(f.rate_per_day)),
                days_left: forecast.map(|f| round2(f.days_left)),
                runs_out_at: forecast.map(|f| f.runs_out_at),
            })
            .map_err(write_failed)?;
            continue;
        }
        let tone = match state {
            Level::Out => Tone::Red,
            Level::Low => Tone::Yellow,
            Level::Ok => Tone::Plain,
        };
        table.row(
            vec![
                Cell::new(&row.store),
                Cell::new(&row.item),
                Cell::new(&row.count.to_string()),
                Cell::new(state.label()),
                Cell::new(&stockwatch_domain::forecast::days_text(forecast.map(|f| f.days_left))),
                Cell::new(&row.as_of.to_display()),
                Cell::new(&row.updated_at.to_display()),
            ],
            tone,
        );
    }
    if !table.is_empty() {
        table
            .write(&mut std::io::stdout().lock(), colour)
            .map_err(write_failed)?;
    }
    Ok((page.len() as u64, outs, lows))
}
