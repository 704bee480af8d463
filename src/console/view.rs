//! Drawing: `view(frame, app)` turns the state into widgets. No I/O, and
//! only the rows that fit on screen are built. Every string from a file or
//! the backend is escaped; states are words and glyphs as well as colours,
//! so NO_COLOR loses nothing.

use super::app::{App, Column, Feed, Mode, Pane, StockView};
use super::files;
use super::theme::{Theme, centered, level_label, pane_block, safe, window};
use crate::domain::{AlertKind, AlertState, Level};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};

pub fn view(frame: &mut Frame, app: &mut App, theme: Theme) {
    let area = frame.area();
    let [main, status] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
    let alerts_height = (main.height / 3).clamp(3, 12);
    let [top, alerts] = Layout::vertical([Constraint::Min(3), Constraint::Length(alerts_height)]).areas(main);
    let stores_width = (top.width / 3).clamp(28, 40).min(top.width);
    let [stores, stock] = Layout::horizontal([Constraint::Length(stores_width), Constraint::Min(10)]).areas(top);
    if app.files.open {
        let [listing, right] = Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(top);
        files::view::draw_listing(frame, app, theme, listing);
        if app.files.transfers.is_empty() {
            files::view::draw_preview(frame, app, theme, right);
        } else {
            let shown = (app.files.transfers.len() as u16 + 2).min(right.height / 2);
            let [preview, transfers] = Layout::vertical([Constraint::Min(3), Constraint::Length(shown)]).areas(right);
            files::view::draw_preview(frame, app, theme, preview);
            files::view::draw_transfers(frame, app, theme, transfers);
        }
    } else {
        draw_stores(frame, app, theme, stores);
        draw_stock(frame, app, theme, stock);
    }
    draw_alerts(frame, app, theme, alerts);
    draw_status(frame, app, theme, status);
    match app.mode.clone() {
        Mode::Help => draw_help(frame, app, theme, area),
        Mode::ConfirmAckAll { ids, yes } => draw_confirm(frame, theme, area, ids.len(), yes),
        _ => {}
    }
}

fn draw_stores(frame: &mut Frame, app: &mut App, theme: Theme, area: Rect) {
    let focused = app.focus == Pane::Stores;
    let stores = app.visible_stores();
    let filter = app.filter(Pane::Stores);
    let title = if filter.is_empty() {
        format!(" Stores ({}) ", stores.len())
    } else {
        format!(" Stores ({}) /{} ", stores.len(), safe(filter))
    };
    let block = pane_block(title, focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if stores.is_empty() {
        let hint = if app.live_stock.store_count() == 0 {
            "No stores yet."
        } else {
            "No store matches the filter (Esc clears it)."
        };
        frame.render_widget(
            Paragraph::new(hint).wrap(Wrap { trim: false }).style(theme.dim()),
            inner,
        );
        return;
    }
    let height = inner.height.saturating_sub(1) as usize;
    let cursor = app.cursor(Pane::Stores);
    let first = window(cursor, stores.len(), height);
    let rows: Vec<Row> = stores
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, store)| {
            let summary = app.live_stock.summary(store).cloned().unwrap_or_default();
            let level = if summary.out > 0 {
                Level::Out
            } else if summary.low > 0 {
                Level::Low
            } else {
                Level::Ok
            };
            let mut style = theme.level(level);
            if i == cursor && focused {
                style = style.patch(theme.selected());
            }
            Row::new(vec![
                Cell::from(safe(store)),
                Cell::from(summary.items.to_string()),
                Cell::from(if summary.out > 0 {
                    format!("✗{}", summary.out)
                } else {
                    String::new()
                }),
                Cell::from(if summary.low > 0 {
                    format!("▼{}", summary.low)
                } else {
                    String::new()
                }),
            ])
            .style(style)
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Min(8),
            Constraint::Length(5),
            Constraint::Length(5),
            Constraint::Length(5),
        ],
    )
    .header(Row::new(vec!["STORE", "ITEMS", "OUT", "LOW"]).style(Style::default().add_modifier(Modifier::BOLD)));
    frame.render_widget(table, inner);
}

fn draw_stock(frame: &mut Frame, app: &mut App, theme: Theme, area: Rect) {
    let focused = app.focus == Pane::Stock;
    let out = matches!(app.stock_view, Some(StockView::Out));
    let store = app.selected_store();
    let rows = app.visible_stock();
    let (column, reverse) = app.sort;
    let filter = app.filter(Pane::Stock);
    let mut title = match (&store, out) {
        (_, true) => format!(" Out of stock in every store ({}) ", rows.len()),
        (Some(store), _) => format!(" {} ({} items) ", safe(store), rows.len()),
        (None, _) => " Stock ".to_string(),
    };
    title.push_str(&format!(
        "sorted by {}{} ",
        column.title().to_lowercase(),
        if reverse { " ↑" } else { "" }
    ));
    if !filter.is_empty() {
        title.push_str(&format!("/{} ", safe(filter)));
    }
    let block = pane_block(title, focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if rows.is_empty() {
        let hint = if app.live_stock.store_count() == 0 {
            "No stock yet. Upload the samples from another terminal:\n\n  stockwatch upload samples/*.csv"
        } else if !app.filter(Pane::Stock).is_empty() {
            "No row matches the filter (Esc clears it)."
        } else if out {
            "Nothing is out of stock."
        } else {
            "Select a store on the left (Enter opens it)."
        };
        frame.render_widget(Paragraph::new(hint).style(theme.dim()), inner);
        return;
    }
    let height = inner.height.saturating_sub(1) as usize;
    let cursor = app.cursor(Pane::Stock);
    let first = window(cursor, rows.len(), height);
    let header_cells: Vec<String> = [Column::Item, Column::Count, Column::State, Column::AsOf]
        .iter()
        .map(|c| {
            if *c == column {
                format!("{}{}", c.title(), if reverse { "↑" } else { "↓" })
            } else {
                c.title().to_string()
            }
        })
        .collect();
    let mut header = header_cells;
    if out {
        header.insert(0, "STORE".into());
    }
    let body: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, (store, item, count, level, as_of))| {
            let mut cells = vec![
                Cell::from(safe(item)),
                Cell::from(format!("{count:>7}")),
                Cell::from(level_label(*level)),
                Cell::from(as_of.to_display()),
            ];
            if out {
                cells.insert(0, Cell::from(safe(store)));
            }
            let mut style = theme.level(*level);
            if i == cursor && focused {
                style = style.patch(theme.selected());
            }
            Row::new(cells).style(style)
        })
        .collect();
    let mut widths = vec![
        Constraint::Min(12),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(21),
    ];
    if out {
        widths.insert(0, Constraint::Min(10));
    }
    let table = Table::new(body, widths).header(Row::new(header).style(Style::default().add_modifier(Modifier::BOLD)));
    frame.render_widget(table, inner);
}

fn draw_alerts(frame: &mut Frame, app: &mut App, theme: Theme, area: Rect) {
    let focused = app.focus == Pane::Alerts;
    let alerts = app.visible_alerts();
    let open = alerts.iter().filter(|a| a.state == AlertState::Open).count();
    let block = pane_block(
        format!(" Alerts ({open} open, {} acknowledged) ", alerts.len() - open),
        focused,
        theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if alerts.is_empty() {
        let hint = if app.filter(Pane::Alerts).is_empty() {
            "No open alerts."
        } else {
            "No alert matches the filter (Esc clears it)."
        };
        frame.render_widget(Paragraph::new(hint).style(theme.dim()), inner);
        return;
    }
    let height = inner.height as usize;
    let cursor = app.cursor(Pane::Alerts);
    let first = window(cursor, alerts.len(), height);
    let lines: Vec<Line> = alerts
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, alert)| {
            let level = if alert.kind == AlertKind::Out {
                Level::Out
            } else {
                Level::Low
            };
            let mut style = match alert.state {
                AlertState::Open => theme.level(level),
                _ => theme.dim(),
            };
            if i == cursor && focused {
                style = style.patch(theme.selected());
            }
            let ack = alert.acknowledged.as_ref().map_or(String::new(), |a| {
                let note = a.note.as_deref().map(|n| format!(": {}", safe(n))).unwrap_or_default();
                format!("  ✓ {} {}{note}", safe(&a.by), a.at.to_display())
            });
            let text = format!(
                "#{:<5} {} {}  {} / {}  count {}{ack}",
                alert.id,
                alert.kind.as_str(),
                alert.raised_at.to_display(),
                safe(&alert.store),
                safe(&alert.item),
                alert.count
            );
            Line::from(Span::styled(text, style))
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_status(frame: &mut Frame, app: &mut App, theme: Theme, area: Rect) {
    let line = match &app.mode {
        Mode::Command(text) => Line::from(format!(":{}", safe(text))),
        Mode::Filter(text) => Line::from(format!("/{}", safe(text))),
        _ => {
            let feed = match (&app.feed, app.paused) {
                (_, true) => Span::styled("PAUSED", theme.fg(Color::Yellow).add_modifier(Modifier::BOLD)),
                (Feed::Loading, _) => Span::raw("loading"),
                (Feed::Live, _) => Span::styled("live", theme.fg(Color::Green)),
                (Feed::Error(e), _) => Span::styled(format!("feed error: {}", safe(e)), theme.fg(Color::Red)),
            };
            // Absolute times, so nothing on screen changes by itself: an idle
            // console writes nothing to the terminal.
            let last = app.last_change.map_or(String::new(), |at| {
                let lag = app
                    .lag_ms
                    .map_or(String::new(), |ms| format!(" (lag {:.1} s)", ms as f64 / 1000.0));
                let time = at.to_display();
                format!("  last change {}{lag}", time.get(11..).unwrap_or(&time))
            });
            let totals = app.live_stock.totals();
            // What just happened comes first: on a narrow terminal the end
            // of the line is what gets cut.
            let mut spans = vec![feed];
            if let Some(error) = &app.ledger_error {
                spans.push(Span::styled(format!("  alerts: {}", safe(error)), theme.fg(Color::Red)));
            }
            if let Some(message) = &app.message {
                spans.push(Span::styled(format!("  {}", safe(message)), theme.fg(Color::Cyan)));
            }
            spans.extend([
                Span::raw(format!("  {} items  ", totals.items)),
                Span::styled(format!("✗{} out", totals.out), theme.level(Level::Out)),
                Span::raw("  "),
                Span::styled(format!("▼{} low", totals.low), theme.level(Level::Low)),
                Span::raw(last),
            ]);
            if app.read_only {
                spans.push(Span::raw("  [read-only]"));
            }
            spans.push(Span::raw(format!("  {}", safe(&app.location))));
            if app.message.is_none() {
                let quit = app.keymap.describe_keys(super::keymap::Action::Quit);
                spans.push(Span::styled(format!("  ? help  {quit} quit"), theme.dim()));
            }
            Line::from(spans)
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn draw_help(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let mut lines = Vec::new();
    let mut context = None;
    for (ctx, keys, _, what) in app.keymap.help(app.read_only) {
        if context != Some(ctx) {
            lines.push(Line::from(Span::styled(
                format!("[{}]", ctx.name()),
                Style::default().add_modifier(Modifier::BOLD),
            )));
            context = Some(ctx);
        }
        lines.push(Line::from(format!("  {keys:<16} {what}")));
    }
    let footer = vec![
        Line::from(format!("Logs: {}", safe(&app.log_path))),
        Line::from(Span::styled("Any key closes this help.", theme.dim())),
    ];
    // One column when it fits, two side by side when the terminal is short.
    let one_column = lines.len() + footer.len() + 3 <= area.height as usize;
    let columns = if one_column { 1 } else { 2 };
    let per_column = lines.len().div_ceil(columns);
    let height = (per_column + footer.len() + 3) as u16;
    let width = if one_column { 72 } else { 150 };
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Keys ")
        .border_style(theme.border(true));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [body, _, foot] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(footer.len() as u16),
    ])
    .areas(inner);
    let halves = Layout::horizontal(vec![Constraint::Ratio(1, columns as u32); columns]).split(body);
    for (half, chunk) in halves.iter().zip(lines.chunks(per_column.max(1))) {
        frame.render_widget(Paragraph::new(chunk.to_vec()), *half);
    }
    frame.render_widget(Paragraph::new(footer), foot);
}

fn draw_confirm(frame: &mut Frame, theme: Theme, area: Rect, count: usize, yes: bool) {
    let rect = centered(area, 50, 5);
    frame.render_widget(Clear, rect);
    let button = |label: &str, on: bool| {
        if on {
            Span::styled(format!("[ {label} ]"), theme.selected())
        } else {
            Span::raw(format!("  {label}  "))
        }
    };
    let lines = vec![
        Line::from(format!("Acknowledge {count} open alerts?")),
        Line::from(""),
        Line::from(vec![
            button("Cancel", !yes),
            Span::raw("   "),
            button("Acknowledge", yes),
        ]),
    ];
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Confirm ")
        .border_style(theme.border(true));
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
