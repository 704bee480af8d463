//! Drawing the stores, stock and alerts panes, from the rows `update`
//! computed; only the rows that fit are built. Columns are fitted to the
//! pane (`columns`): counts, states and alert numbers whole, names in the
//! space left, the least needed columns (dates first) dropped when narrow.

use super::app::App;
use super::columns::{NEVER, Need, ellipsize, fit, kept, widest};
use super::keymap::Action;
use super::pane::Pane;
use super::stock_pane::Column;
use super::text::{count, thousands};
use super::theme::{Theme, level_label, pane_block, safe, window};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Text;
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};
use stockwatch_domain::{AlertKind, AlertState, Level};

/// The least a name column may take on a wide screen before it stops
/// growing (so it does not change width with every scroll).
const NAMES_AT_MOST: usize = 32;

/// A table of `cells` rows (already cut to the visible ones) whose columns
/// have the given needs; headers and cells of dropped columns go, names
/// (flexible columns) are cut with "…" to their width.
fn fitted_table(
    needs: &[Need],
    headers: Vec<String>,
    rows: Vec<(Vec<String>, Style)>,
    width: u16,
    right_aligned: &[bool],
) -> Table<'static> {
    let widths = fit(needs, width);
    let cell = |text: String, i: usize| {
        let w = widths[i];
        let text = if needs[i].flex { ellipsize(&text, w) } else { text };
        if right_aligned[i] {
            Cell::from(Text::from(text).alignment(ratatui::layout::Alignment::Right))
        } else {
            Cell::from(text)
        }
    };
    let header: Vec<Cell> = kept(
        headers.into_iter().enumerate().map(|(i, h)| cell(h, i)).collect(),
        &widths,
    );
    let body: Vec<Row> = rows
        .into_iter()
        .map(|(cells, style)| {
            let cells: Vec<Cell> = cells.into_iter().enumerate().map(|(i, c)| cell(c, i)).collect();
            Row::new(kept(cells, &widths)).style(style)
        })
        .collect();
    let constraints: Vec<Constraint> = widths
        .iter()
        .filter(|w| **w > 0)
        .map(|w| Constraint::Length(*w))
        .collect();
    Table::new(body, constraints).header(Row::new(header).style(Style::default().add_modifier(Modifier::BOLD)))
}

/// Says on a list's bottom border what its window hides, right-aligned:
/// "↑ 12 more · ↓ 580 more" (just "↑12 ↓580" where that does not fit).
/// `first` is the first row shown, `shown` how many are.
pub fn more_marks(frame: &mut Frame, area: Rect, first: usize, shown: usize, len: usize, theme: Theme) {
    let (above, below) = (first, len.saturating_sub(first + shown));
    let mut long = Vec::new();
    let mut short = Vec::new();
    if above > 0 {
        long.push(format!("↑ {} more", thousands(above)));
        short.push(format!("↑{}", thousands(above)));
    }
    if below > 0 {
        long.push(format!("↓ {} more", thousands(below)));
        short.push(format!("↓{}", thousands(below)));
    }
    if long.is_empty() || area.height < 2 {
        return;
    }
    let room = area.width.saturating_sub(2) as usize;
    let Some(text) = [format!(" {} ", long.join(" · ")), format!(" {} ", short.join(" "))]
        .into_iter()
        .find(|t| t.chars().count() <= room)
    else {
        return;
    };
    let width = text.chars().count() as u16;
    let at = Rect {
        x: area.x + area.width - 1 - width,
        y: area.y + area.height - 1,
        width,
        height: 1,
    };
    frame.render_widget(Paragraph::new(text).style(theme.dim()), at);
}

/// "No store matches the filter (esc clears it)." with the live key.
pub fn no_match(what: &str, app: &App) -> String {
    format!(
        "No {what} matches the filter ({} clears it).",
        app.keymap.first_key(Action::Back)
    )
}

/// Said while a list keeps the order the operator is reading it in.
fn held_suffix(app: &App, held: bool) -> String {
    if held {
        format!("· order held, {} re-sorts ", app.keymap.first_key(Action::Top))
    } else {
        String::new()
    }
}

fn filter_suffix(app: &App, pane: Pane) -> String {
    let filter = app.filter(pane);
    if filter.is_empty() {
        String::new()
    } else {
        format!("/{} ", safe(filter))
    }
}

pub fn draw_stores(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let focused = app.focus == Pane::Stores;
    let stores = app.stores.rows();
    let title = format!(
        " Stores ({}) {}{}",
        thousands(stores.len()),
        filter_suffix(app, Pane::Stores),
        held_suffix(app, app.stores.list.is_held())
    );
    let block = pane_block(title, focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if stores.is_empty() {
        let hint = if app.live_stock.store_count() == 0 {
            "No stores yet.".to_string()
        } else {
            no_match("store", app)
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
    let rows: Vec<(Vec<String>, Style)> = stores
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
            if i == cursor {
                style = style.patch(theme.cursor_row(focused));
            }
            let mark = |glyph: &str, n: u32| if n > 0 { format!("{glyph}{n}") } else { String::new() };
            let cells = vec![
                safe(store),
                summary.items.to_string(),
                mark("✗", summary.out),
                mark("▼", summary.low),
            ];
            (cells, style)
        })
        .collect();
    // Numbers as wide as the widest shown, so none is cut.
    let width_of = |i: usize, header: &str| widest(rows.iter().map(|(c, _)| c[i].as_str()).chain([header]));
    // Names first: the counts give way before a name is cut.
    let needs = [
        Need::flex(width_of(0, "STORE").clamp(6, 16) as u16, NEVER).at_most(width_of(0, "STORE").max(NAMES_AT_MOST)),
        Need::fixed(width_of(1, "ITEMS"), 2),
        Need::fixed(width_of(2, "OUT"), 4),
        Need::fixed(width_of(3, "LOW"), 3),
    ];
    let headers = ["STORE", "ITEMS", "OUT", "LOW"].map(String::from).to_vec();
    let shown = rows.len();
    let table = fitted_table(&needs, headers, rows, inner.width, &[false, true, false, false]);
    frame.render_widget(table, inner);
    more_marks(frame, area, first, shown, stores.len(), theme);
}

pub fn draw_stock(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let focused = app.focus == Pane::Stock;
    let out = app.stock.shows_out();
    let across = app.stock.across_stores();
    let rows = app.stock.rows();
    let sort = app.stock.sort;
    let mut title = match (app.stock.store(), out, app.stock.shows_soon()) {
        (_, true, _) => format!(" Out of stock in every store ({}) ", thousands(rows.len())),
        (_, _, true) => format!(" Runs out soon, every store ({}) ", thousands(rows.len())),
        (Some(store), _, _) => format!(" {} ({}) ", safe(store), count(rows.len(), "item")),
        (None, _, _) => " Stock ".to_string(),
    };
    let by = format!(
        "by {}, {} ",
        sort.column.title().to_lowercase(),
        sort.column.order_words(sort.reversed)
    );
    let filter = filter_suffix(app, Pane::Stock);
    // The sort in words when there is room, else the column alone.
    let room = area.width.saturating_sub(2) as usize;
    if title.chars().count() + by.chars().count() + filter.chars().count() <= room {
        title.push_str(&by);
    } else {
        title.push_str(&format!("by {} ", sort.column.title().to_lowercase()));
    }
    title.push_str(&filter);
    title.push_str(&held_suffix(app, app.stock.list.is_held()));
    let block = pane_block(title, focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if rows.is_empty() {
        let hint = if app.live_stock.store_count() == 0 {
            // The whole command is in the alerts pane, where there is room.
            if app.settings.read_only {
                "No stock yet (how to load some: below).".to_string()
            } else {
                format!(
                    "No stock yet. {} previews and uploads files (more below).",
                    app.keymap.first_key(Action::Files)
                )
            }
        } else if !app.filter(Pane::Stock).is_empty() {
            no_match("row", app)
        } else if out {
            "Nothing is out of stock.".to_string()
        } else if app.stock.shows_soon() {
            "Nothing is predicted to run out soon (no open SOON alert).".to_string()
        } else {
            format!(
                "Select a store on the left ({} opens it).",
                app.keymap.first_key(Action::Open)
            )
        };
        // Wrapped, never cut: the command must be read whole.
        let hint = Paragraph::new(hint)
            .style(theme.dim())
            .wrap(ratatui::widgets::Wrap { trim: false });
        frame.render_widget(hint, inner);
        return;
    }
    let height = inner.height.saturating_sub(1) as usize;
    let cursor = app.cursor(Pane::Stock);
    let first = window(cursor, rows.len(), height);
    let mut headers: Vec<String> = Column::ORDER
        .iter()
        .map(|c| {
            if *c == sort.column {
                let arrow = if c.ascending(sort.reversed) { "↑" } else { "↓" };
                format!("{}{arrow}", c.title())
            } else {
                c.title().to_string()
            }
        })
        .collect();
    let body: Vec<(Vec<String>, Style)> = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, line)| {
            let mut cells = vec![
                safe(&line.item),
                line.count.to_string(),
                line.trend.clone(),
                level_label(line.level).to_string(),
                stockwatch_domain::forecast::days_text(line.days_left),
                app.clock.short(line.as_of),
            ];
            if across {
                cells.insert(0, safe(&line.store));
            }
            let mut style = theme.level(line.level);
            if i == cursor {
                style = style.patch(theme.cursor_row(focused));
            }
            (cells, style)
        })
        .collect();
    // The trend has no sort of its own: it goes beside the count.
    headers.insert(2, "TREND".into());
    let shift = usize::from(across);
    let width_of = |i: usize, header: &str| widest(body.iter().map(|(c, _)| c[i + shift].as_str()).chain([header]));
    // (`i` counts the item columns; a view across stores has STORE first.)
    // At 80×24 the trend gives way first, then the as-of, then days left:
    // names and counts stay.
    let mut needs = vec![
        Need::flex(width_of(0, "ITEM").clamp(8, 24) as u16, NEVER).at_most(width_of(0, "ITEM").max(NAMES_AT_MOST)),
        Need::fixed(width_of(1, &headers[1]), NEVER),
        Need::fixed(stockwatch_core::live::TREND_DAYS, 0),
        Need::fixed(width_of(3, &headers[3]), NEVER),
        // Nothing is left of what is out: there the as-of matters more.
        Need::fixed(width_of(4, &headers[4]), if out { 0 } else { 2 }),
        Need::fixed(width_of(5, &headers[5]), 1),
    ];
    let mut right = vec![false, true, false, false, true, false];
    if across {
        let stores = widest(body.iter().map(|(c, _)| c[0].as_str()).chain(["STORE"]));
        headers.insert(0, "STORE".into());
        needs.insert(
            0,
            Need::flex(stores.clamp(6, 16) as u16, NEVER).at_most(stores.max(NAMES_AT_MOST)),
        );
        right.insert(0, false);
    }
    let shown = body.len();
    frame.render_widget(fitted_table(&needs, headers, body, inner.width, &right), inner);
    more_marks(frame, area, first, shown, rows.len(), theme);
}

pub fn draw_alerts(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let focused = app.focus == Pane::Alerts;
    let alerts = app.alerts.rows();
    let show = app.alerts.show;
    let mut title = match show {
        super::alerts_pane::AlertShow::Unresolved => format!(
            " Alerts ({} open, {} acknowledged) ",
            thousands(app.alerts.open_count()),
            thousands(app.alerts.acknowledged_count())
        ),
        other => format!(" Alerts: {} ({}) ", other.name(), thousands(alerts.len())),
    };
    title.push_str(&filter_suffix(app, Pane::Alerts));
    let new = app.alerts.new_above();
    if new > 0 {
        title.push_str(&format!(
            "{} new ↑ {} ",
            thousands(new),
            app.keymap.first_key(Action::Top)
        ));
    }
    let block = pane_block(title, focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if alerts.is_empty() {
        let hint = if !app.filter(Pane::Alerts).is_empty() {
            no_match("alert", app)
        } else if app.live_stock.store_count() == 0 {
            format!("No {} alerts.\n\n{}", show.name(), first_start_hint(app))
        } else {
            format!("No {} alerts.", show.name())
        };
        // Wrapped, never cut: a command must be read whole.
        let hint = Paragraph::new(hint)
            .style(theme.dim())
            .wrap(ratatui::widgets::Wrap { trim: false });
        frame.render_widget(hint, inner);
        return;
    }
    let height = inner.height.saturating_sub(1) as usize;
    let cursor = app.cursor(Pane::Alerts);
    let first = window(cursor, alerts.len(), height);
    let body: Vec<(Vec<String>, Style)> = alerts
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
            let snooze = stockwatch_domain::snoozed(&app.snoozes, &alert.store, &alert.item, app.clock_now());
            let mut style = match alert.state {
                AlertState::Open if snooze.is_none() => theme.level(level),
                _ => theme.dim(),
            };
            if i == cursor {
                style = style.patch(theme.cursor_row(focused));
            }
            let state = match alert.state {
                AlertState::Acknowledged => "✓ acked",
                other => other.as_str(),
            };
            let by = match (alert.acknowledged.as_ref(), snooze) {
                (Some(ack), _) => {
                    let note = ack
                        .note
                        .as_deref()
                        .map(|n| format!(": {}", safe(n)))
                        .unwrap_or_default();
                    // The time first: a cut takes the name or the note, never digits.
                    format!("{} {}{note}", app.clock.short(ack.at), safe(&ack.by))
                }
                (None, Some(snooze)) => {
                    format!(
                        "until {}, snoozed by {}",
                        app.clock.day_and_hour(snooze.until),
                        safe(&snooze.by)
                    )
                }
                (None, None) => String::new(),
            };
            let cells = vec![
                format!("#{}", alert.id),
                alert.kind.as_str().to_string(),
                format!("{} / {}", safe(&alert.store), safe(&alert.item)),
                alert.count.to_string(),
                app.clock.short(alert.raised_at),
                state.to_string(),
                by,
            ];
            (cells, style)
        })
        .collect();
    let headers = ["#", "KIND", "STORE / ITEM", "COUNT", "RAISED", "STATE", "BY"]
        .map(String::from)
        .to_vec();
    let width_of = |i: usize| widest(body.iter().map(|(c, _)| c[i].as_str()).chain([headers[i].as_str()]));
    // Names ask for their width (up to a point) before the time and who
    // acknowledged are given room. The state and who columns ask the same
    // whatever is shown, so acknowledging a row does not reflow the list.
    let needs = [
        Need::fixed(width_of(0), NEVER),
        Need::fixed(width_of(1), NEVER),
        Need::flex(width_of(2).min(28) as u16, NEVER).at_most(width_of(2).max(NAMES_AT_MOST)),
        Need::fixed(width_of(3), NEVER),
        Need::fixed(width_of(4), 2),
        Need::fixed(widest(["resolved", "✓ acked"]), NEVER),
        Need::flex(12, 1).at_most(width_of(6).max(NAMES_AT_MOST)),
    ];
    let right = [true, false, false, true, false, false, false];
    let shown = body.len();
    frame.render_widget(fitted_table(&needs, headers, body, inner.width, &right), inner);
    more_marks(frame, area, first, shown, alerts.len(), theme);
}

/// What to do with an empty console: the file pane's key (unless read-only),
/// and the command for another terminal naming this console's data dir, so
/// the upload lands where this console looks.
fn first_start_hint(app: &App) -> String {
    let mut hint = String::from("No stock yet. ");
    if !app.settings.read_only {
        hint.push_str(&format!(
            "Press {} to preview and upload CSV files from here, or upload",
            app.keymap.first_key(Action::Files)
        ));
    } else {
        hint.push_str("Upload");
    }
    hint.push_str(" from another terminal:\n\n  stockwatch upload ");
    match app.settings.location.strip_prefix("local: ") {
        Some(dir) => hint.push_str(&format!("--data-dir {} ", safe(&shell_quoted(dir)))),
        None => hint.push_str("(with this console's --stack or settings) "),
    }
    hint.push_str("samples/*.csv");
    hint
}

/// `text` as one shell word: quoted when it holds anything but plain characters.
fn shell_quoted(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-~".contains(c)) {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}
