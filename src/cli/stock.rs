//! `stockwatch stock` and `stockwatch uploads`.

use super::error::CliError;
use super::output::{Cell, JsonArray, Table, Tone, paint, use_colour};
use super::{Context, write_failed};
use crate::domain::{Level, level};
use crate::ports::{ObjectKey, ObjectStatus, PortError, StockFilter, StockRow};
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

pub async fn run(ctx: &Context, args: &StockArgs) -> Result<(), CliError> {
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
    let mut page = None;
    loop {
        let batch = ctx.ports.table.scan(&filter, page.as_ref(), PAGE).await?;
        let mut table = Table::new(vec!["STORE", "ITEM", "COUNT", "STATE", "AS OF", "UPDATED"]).align_right(2);
        for row in &batch.items {
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
        match batch.next {
            Some(next) => page = Some(next),
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

#[derive(Debug, Args)]
pub struct UploadsArgs {
    /// Show the full report of this upload (its key, as listed).
    #[arg(value_name = "KEY")]
    pub key: Option<String>,
    /// At most this many uploads, newest first.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub limit: usize,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub async fn uploads(ctx: &Context, args: &UploadsArgs) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    let colour = use_colour() && !args.json;
    if let Some(key) = &args.key {
        let key = ObjectKey::parse(key).map_err(|e| CliError::Port(PortError::Invalid(e)))?;
        let info = ctx.ports.objects.head(&key).await?;
        if args.json {
            serde_json::to_writer_pretty(&mut stdout, &info).map_err(|e| write_failed(e.into()))?;
            return writeln!(stdout).map_err(write_failed);
        }
        let mut text = format!(
            "key:       {}\nsize:      {} bytes\nuploaded:  {}\nstatus:    {}\n",
            info.key,
            info.size,
            info.uploaded_at.to_display(),
            info.status.as_str()
        );
        if let Some(r) = &info.report {
            text.push_str(&format!(
                "as of:     {}\nrows:      {} ({} stores)\nwritten:   {} changed, {} unchanged, {} older\n",
                r.as_of.to_display(),
                r.rows,
                r.stores,
                r.write.changed,
                r.write.unchanged,
                r.write.older
            ));
            if let Some(failure) = &r.failure {
                text.push_str(&format!("failure:   {}\n", crate::domain::escape_for_terminal(failure)));
            }
            for p in &r.problems {
                text.push_str(&format!("problem:   {p}\n"));
            }
            for w in &r.warnings {
                text.push_str(&format!("warning:   {w}\n"));
            }
        }
        return stdout.write_all(text.as_bytes()).map_err(write_failed);
    }
    let page = ctx.ports.objects.list(None, args.limit).await?;
    if args.json {
        let mut json = JsonArray::start(&mut stdout).map_err(write_failed)?;
        for info in &page.items {
            json.push(info).map_err(write_failed)?;
        }
        return json.finish().map_err(write_failed);
    }
    if page.items.is_empty() {
        return writeln!(stdout, "Nothing uploaded yet. Try: stockwatch upload samples/*.csv").map_err(write_failed);
    }
    let mut table = Table::new(vec!["UPLOADED", "STATUS", "ROWS", "PROBLEMS", "KEY"])
        .align_right(2)
        .align_right(3);
    for info in &page.items {
        let (rows, problems) = info.report.as_ref().map_or((0, 0), |r| (r.rows, r.problems.len()));
        let tone = match info.status {
            ObjectStatus::Rejected | ObjectStatus::Failed => Tone::Red,
            ObjectStatus::Received => Tone::Yellow,
            ObjectStatus::Loaded => Tone::Plain,
        };
        table.row(
            vec![
                Cell::new(&info.uploaded_at.to_display()),
                Cell::toned(info.status.as_str(), tone),
                Cell::new(&rows.to_string()),
                Cell::new(&problems.to_string()),
                Cell::new(info.key.as_str()),
            ],
            Tone::Plain,
        );
    }
    table.write(&mut stdout, colour).map_err(write_failed)
}
