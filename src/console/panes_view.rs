//! Drawing the stores, stock and alerts panes, from the rows `update`
//! computed; only the rows that fit are built.

use super::app::App;
use super::pane::Pane;
use super::stock_pane::{Column, Sort};
use super::theme::{Theme, level_label, pane_block, safe, window};
use crate::domain::{AlertKind, AlertState, Level};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};

pub fn draw_stores(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let focused = app.focus == Pane::Stores;
    let stores = app.stores.rows();
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

pub fn draw_stock(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let focused = app.focus == Pane::Stock;
    let out = app.stock.shows_out();
    let rows = app.stock.rows();
    let Sort { column, reversed } = app.stock.sort;
    let filter = app.filter(Pane::Stock);
    let mut title = match (app.stock.store(), out) {
        (_, true) => format!(" Out of stock in every store ({}) ", rows.len()),
        (Some(store), _) => format!(" {} ({} items) ", safe(store), rows.len()),
        (None, _) => " Stock ".to_string(),
    };
    title.push_str(&format!(
        "sorted by {}{} ",
        column.title().to_lowercase(),
        if reversed { " ↑" } else { "" }
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
    let header_cells: Vec<String> = Column::ORDER
        .iter()
        .map(|c| {
            if *c == column {
                format!("{}{}", c.title(), if reversed { "↑" } else { "↓" })
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
        .map(|(i, line)| {
            let mut cells = vec![
                Cell::from(safe(&line.item)),
                Cell::from(format!("{:>7}", line.count)),
                Cell::from(level_label(line.level)),
                Cell::from(line.as_of.to_display()),
            ];
            if out {
                cells.insert(0, Cell::from(safe(&line.store)));
            }
            let mut style = theme.level(line.level);
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

pub fn draw_alerts(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let focused = app.focus == Pane::Alerts;
    let alerts = app.alerts.rows();
    let open = app.alerts.open_count();
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
        .filter_map(|(i, id)| Some((i, app.live_alerts.get(*id)?)))
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
