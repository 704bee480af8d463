//! `stockwatch stock`: the inventory table, by store and item.

use super::error::CliError;
use super::output::{Cell, JsonArray, Table, Tone, paint, use_colour};
use super::{Session, retries, write_failed};
use crate::domain::{Level, level};
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
    loop {
        let rows = retry
            .run("read stock", || ctx.ports.table.scan(&filter, next.as_ref(), PAGE))
            .await?;
        let mut table = Table::new(vec!["STORE", "ITEM", "COUNT", "STATE", "AS OF", "UPDATED"]).align_right(2);
        for row in &rows.items {
            let low = thresholds.low_for(&row.store, &row.item);
            let state = level(row.count, low);
            if !wanted(state) {
                continue;
            }
            rows_seen += 1;
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
        match rows.next {
            Some(token) => next = Some(token),
            None => break,
        }
    }
    if let Some(json) = json {
        return json.finish().map_err(write_failed);
    }
    let mut stdout = std::io::stdout().lock();
    if rows_seen == 0 {
        let hint = if args.store.is_some() || args.out || args.low {
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
