//! `stockwatch stock`: the inventory table, by store and item.

use super::error::CliError;
use super::output::{Cell, JsonArray, Table, Tone, paint, use_colour};
use super::{Session, retries, write_failed};
use crate::domain::{Forecast, Level, Timestamp, level};
use crate::pipeline::forecasts;
use crate::ports::{StockFilter, StockRow};
use clap::Args;
use serde::Serialize;
use std::io::Write;

/// Rows fetched per page; tables are aligned per page.
const PAGE: usize = 5000;

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
    #[arg(long, value_name = "DAYS", num_args = 0..=1, default_missing_value = "3", conflicts_with = "no_forecast")]
    pub soon: Option<f64>,
    /// Read no history: no days left (on AWS the history costs a query per item).
    #[arg(long)]
    pub no_forecast: bool,
    /// A JSON array of rows.
    #[arg(long)]
    pub json: bool,
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
    let thresholds = &ctx.checker_config.thresholds;
    let count_at_most = match (args.out, args.low) {
        (true, false) => Some(0),
        (_, true) => Some(thresholds.highest()),
        (false, false) => None,
    };
    let wanted = |l: Level| match (args.out, args.low) {
        (false, false) => true,
        (out, low) => (out && l == Level::Out) || (low && l == Level::Low),
    };
    let filter = StockFilter {
        store: args.store.clone(),
        count_at_most,
    };
    let colour = use_colour() && !args.json;
    let mut json = if args.json {
        Some(JsonArray::start(std::io::stdout().lock()).map_err(write_failed)?)
    } else {
        None
    };
    let (mut rows_seen, mut outs, mut lows) = (0u64, 0u64, 0u64);
    let mut next = None;
    let retry = retries();
    // `--soon` sorts across pages: what it lists is gathered first.
    let mut soon: Vec<(StockRow, Forecast)> = Vec::new();
    let mut forecasting = !args.no_forecast;
    loop {
        let rows = retry
            .run("read stock", || ctx.ports.table.scan(&filter, next.as_ref(), PAGE))
            .await?;
        let next_page = rows.next;
        // Only the rows shown are forecast (on AWS each is a query).
        let shown: Vec<StockRow> = rows
            .items
            .into_iter()
            .filter(|row| wanted(level(row.count, thresholds.low_for(&row.store, &row.item))))
            .filter(|row| args.soon.is_none() || row.count > 0)
            .collect();
        // Without a history (a stack from before it, a table that refuses),
        // the stock is still listed, days left unknown: said once.
        let predicted = match (forecasting, args.soon) {
            (false, _) => vec![None; shown.len()],
            (true, soon) => match retry
                .run("read history", || forecasts::for_page(&*ctx.ports.history, &shown))
                .await
            {
                Ok(predicted) => predicted,
                Err(e) if soon.is_some() => return Err(e.into()),
                Err(e) => {
                    super::say(&format!("days left unknown: the history could not be read ({e})"));
                    forecasting = false;
                    vec![None; shown.len()]
                }
            },
        };
        let mut page = Vec::new();
        for (row, forecast) in shown.into_iter().zip(predicted) {
            match (args.soon, forecast) {
                (None, _) => page.push((row, forecast)),
                (Some(days), Some(f)) if f.days_left <= days => soon.push((row, f)),
                (Some(_), _) => {}
            }
        }
        if args.soon.is_none() {
            let seen = emit(&page, ctx, json.as_mut(), colour)?;
            rows_seen += seen.0;
            outs += seen.1;
            lows += seen.2;
        }
        match next_page {
            Some(token) => next = Some(token),
            None => break,
        }
    }
    if args.soon.is_some() {
        soon.sort_by(|a, b| a.1.days_left.total_cmp(&b.1.days_left));
        let page: Vec<(StockRow, Option<Forecast>)> = soon.into_iter().map(|(r, f)| (r, Some(f))).collect();
        let seen = emit(&page, ctx, json.as_mut(), colour)?;
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

/// Writes one page of rows (as JSON, or as an aligned table); the rows,
/// out-of-stock and low counts it wrote.
fn emit(
    page: &[(StockRow, Option<Forecast>)],
    ctx: &Session,
    json: Option<&mut JsonArray<std::io::StdoutLock<'static>>>,
    colour: bool,
) -> Result<(u64, u64, u64), CliError> {
    let thresholds = &ctx.checker_config.thresholds;
    let (mut outs, mut lows) = (0u64, 0u64);
    let mut table = Table::new(vec!["STORE", "ITEM", "COUNT", "STATE", "DAYS LEFT", "AS OF", "UPDATED"]).align_right(2);
    let mut json = json;
    for (row, forecast) in page {
        let low = thresholds.low_for(&row.store, &row.item);
        let state = level(row.count, low);
        match state {
            Level::Out => outs += 1,
            Level::Low => lows += 1,
            Level::Ok => {}
        }
        if let Some(json) = json.as_mut() {
            json.push(&StockJson {
                row,
                state,
                low_threshold: low,
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
                Cell::new(&crate::domain::forecast::days_text(forecast.map(|f| f.days_left))),
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
