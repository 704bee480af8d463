//! Drawing the file pane: the listing, the preview of the selected file,
//! and the uploads with their progress and outcome.

use super::listing::human_size;
use super::pane::TransferResult;
use crate::app::App;
use crate::columns::{ellipsize, pad, widest};
use crate::keymap::Action;
use crate::pane::Pane;
use crate::text::{count, thousands};
use crate::theme::{Theme, level_label, pane_block, safe, window};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};
use stockwatch_domain::preview::{PreviewRow, Verdict};
use unicode_width::UnicodeWidthStr;

pub fn draw_listing(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let focused = app.focus == Pane::Files;
    let filter = app.filter(Pane::Files).to_string();
    let marked = app.files.marks.len();
    let mut title = format!(" Files: {} ", safe(&app.files.dir.display().to_string()));
    if marked > 0 {
        title.push_str(&format!("({marked} marked) "));
    }
    if !filter.is_empty() {
        title.push_str(&format!("/{} ", safe(&filter)));
    }
    let block = pane_block(title, focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let shown = app.files.shown_count();
    let listing = app.files.listing();
    if listing.is_none() || shown == 0 {
        let text = match listing.map(|l| &l.error) {
            None => "Reading the directory…".to_string(),
            Some(Some(error)) => safe(error),
            _ if !filter.is_empty() => crate::panes_view::no_match("file", app),
            _ => format!(
                "This directory is empty. {} goes up.",
                app.keymap.describe_keys(Action::Parent)
            ),
        };
        frame.render_widget(
            Paragraph::new(text).wrap(Wrap { trim: false }).style(theme.dim()),
            inner,
        );
        return;
    }
    let cursor = app.cursor(Pane::Files);
    let height = inner.height as usize;
    let first = window(cursor, shown, height);
    // Mark, space, size (9) and the gaps: the name gets the rest.
    let name_width = inner.width.saturating_sub(1 + 1 + 9 + 1).max(4);
    let rows: Vec<Row> = (first..shown.min(first + height))
        .filter_map(|i| Some((i, app.files.entry(i)?)))
        .map(|(i, entry)| {
            let path = entry.path_in(&app.files.dir);
            let mark = if app.files.marks.contains(&path) { "●" } else { " " };
            let (name, style) = if entry.is_dir {
                (
                    ellipsize(&format!("{}/", safe(&entry.name)), name_width),
                    theme.fg(Color::Blue).add_modifier(Modifier::BOLD),
                )
            } else if entry.is_csv() {
                (
                    ellipsize(&safe(&entry.name), name_width),
                    theme.fg(Color::Cyan).add_modifier(Modifier::BOLD),
                )
            } else {
                (ellipsize(&safe(&entry.name), name_width), theme.dim())
            };
            let size = if entry.is_dir {
                String::new()
            } else {
                human_size(entry.size)
            };
            let style = if i == cursor {
                style.patch(theme.cursor_row(focused))
            } else {
                style
            };
            Row::new(vec![Cell::from(mark), Cell::from(name), Cell::from(size)]).style(style)
        })
        .collect();
    let drawn = rows.len();
    let table = Table::new(
        rows,
        [Constraint::Length(1), Constraint::Min(10), Constraint::Length(9)],
    );
    frame.render_widget(table, inner);
    crate::panes_view::more_marks(frame, area, first, drawn, shown, theme);
}

/// The preview: its verdict, then the problems (wrapped, whole) and the
/// first rows, scrolled when focused.
pub fn draw_preview(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let focused = app.focus == Pane::Preview;
    let Some((path, preview)) = &app.files.preview else {
        let block = pane_block(" Preview ".into(), focused, theme);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let hint = format!(
            "Select a CSV file to preview it. {} marks files, {} uploads them.",
            app.keymap.describe_keys(Action::Mark),
            app.keymap.describe_keys(Action::Upload)
        );
        frame.render_widget(
            Paragraph::new(hint).wrap(Wrap { trim: false }).style(theme.dim()),
            inner,
        );
        return;
    };
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut title = format!(" Preview: {} ", safe(&name));
    if focused {
        title.push_str(&format!(
            "{}/{} scroll ",
            app.keymap.first_key(Action::Down),
            app.keymap.first_key(Action::Up)
        ));
    }
    let block = pane_block(title, focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let s = &preview.summary;
    // The verdict in pieces that are never split: a number stays with its word.
    let pieces: Vec<Span> = match &preview.verdict {
        Verdict::Checking => vec![Span::styled(
            format!("checking… {} so far", count(s.rows as usize, "row")),
            theme.dim(),
        )],
        Verdict::WouldLoad => vec![
            Span::styled("✓ would load: ", theme.fg(Color::Green).add_modifier(Modifier::BOLD)),
            Span::raw(format!("{}, ", count(s.rows as usize, "row"))),
            Span::raw(format!("{}, ", count(s.stores, "store"))),
            Span::styled(
                format!("✗{} out, ", thousands(s.out as usize)),
                theme.level(stockwatch_domain::Level::Out),
            ),
            Span::styled(
                format!("▼{} low", thousands(s.low as usize)),
                theme.level(stockwatch_domain::Level::Low),
            ),
        ],
        Verdict::WouldBeRejected { problems } => vec![Span::styled(
            format!("✗ would be rejected: {}", count(*problems as usize, "error")),
            theme.fg(Color::Red).add_modifier(Modifier::BOLD),
        )],
    };
    let verdict = flow(pieces, inner.width as usize);
    let verdict_height = (verdict.len() as u16).min(inner.height);
    frame.render_widget(
        Paragraph::new(verdict),
        Rect {
            height: verdict_height,
            ..inner
        },
    );
    let body = Rect {
        y: inner.y + verdict_height,
        height: inner.height.saturating_sub(verdict_height),
        ..inner
    };
    let mut lines: Vec<Line> = preview
        .problems
        .iter()
        .map(|problem| {
            Line::from(Span::styled(
                format!("  {}", safe(&problem.to_string())),
                theme.fg(Color::Red),
            ))
        })
        .collect();
    if (s.problems as usize) > preview.problems.len() {
        lines.push(Line::from(Span::styled(
            format!(
                "  … and {} more",
                thousands(s.problems as usize - preview.problems.len())
            ),
            theme.dim(),
        )));
    }
    if !lines.is_empty() {
        lines.push(Line::from(""));
    }
    lines.extend(row_lines(preview, body.width, theme));
    let scroll = app
        .files
        .preview_scroll
        .min(lines.len().saturating_sub(1))
        .min(u16::MAX as usize) as u16;
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((scroll, 0)),
        body,
    );
}

/// The previewed rows as lines: names fitted, counts and states whole, a
/// bad line's reason in full (wrapped).
fn row_lines(preview: &stockwatch_domain::preview::Preview, width: u16, theme: Theme) -> Vec<Line<'static>> {
    let valid = || {
        preview.rows.iter().filter_map(|r| match r {
            PreviewRow::Valid { row, .. } => Some(row),
            PreviewRow::Invalid { .. } => None,
        })
    };
    let store_width = widest(valid().map(|r| &*r.store).chain(["STORE"])).min(16) as u16;
    let count_width = widest(
        valid()
            .map(|r| r.count.to_string())
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .chain(["COUNT"]),
    ) as u16;
    // LINE, STORE, ITEM, COUNT, STATE with a space between.
    let item_width = width
        .saturating_sub(6 + 1 + store_width + 1 + 1 + count_width + 1 + 5)
        .max(4);
    let header = format!(
        "{:>6} {} {} {:>cw$} STATE",
        "LINE",
        pad("STORE", store_width as usize),
        pad("ITEM", item_width as usize),
        "COUNT",
        cw = count_width as usize
    );
    let mut lines = vec![Line::from(Span::styled(
        header,
        Style::default().add_modifier(Modifier::BOLD),
    ))];
    for row in &preview.rows {
        lines.push(match row {
            PreviewRow::Valid { row, level } => Line::from(Span::styled(
                // Padded by cells, so a CJK name keeps the STATE column.
                format!(
                    "{:>6} {} {} {:>cw$} {}",
                    row.line,
                    pad(&ellipsize(&safe(&row.store), store_width), store_width as usize),
                    pad(&ellipsize(&safe(&row.item), item_width), item_width as usize),
                    row.count,
                    level_label(*level),
                    cw = count_width as usize
                ),
                theme.level(*level),
            )),
            PreviewRow::Invalid { line, problems } => {
                let reasons: Vec<String> = problems.iter().map(|p| safe(&p.message)).collect();
                Line::from(Span::styled(
                    format!("{line:>6} ✗ {}", reasons.join("; ")),
                    theme.fg(Color::Red).add_modifier(Modifier::BOLD),
                ))
            }
        });
    }
    lines
}

pub fn draw_transfers(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let block = pane_block(format!(" Uploads ({}) ", app.files.transfers.len()), false, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    // One line each, so every upload shows: the state and its numbers
    // whole, the name cut first, then the reason.
    let lines: Vec<Line> = app
        .files
        .transfers
        .iter()
        .rev()
        .take(inner.height as usize)
        .map(|t| {
            let name = t
                .path
                .file_name()
                .map_or_else(String::new, |n| safe(&n.to_string_lossy()));
            // Each state in words from the longest to the shortest: the
            // longest that fits beside the name's least is shown.
            let (statuses, rest, style): (Vec<String>, String, Style) = match &t.result {
                None if t.total > 0 && t.sent >= t.total => (
                    vec![
                        format!("uploaded {}, loading…", human_size(t.total)),
                        "loading…".to_string(),
                    ],
                    String::new(),
                    theme.fg(Color::Cyan),
                ),
                None => {
                    let percent = (t.sent * 100).checked_div(t.total).unwrap_or(0).min(100);
                    let numbers = format!("{percent:>3}%  {} / {}", human_size(t.sent), human_size(t.total));
                    let bar_width = 20usize;
                    let filled = (percent as usize * bar_width) / 100;
                    let bar = format!("[{}{}]", "█".repeat(filled), "·".repeat(bar_width - filled));
                    (
                        vec![format!("{bar} {numbers}"), numbers],
                        String::new(),
                        Style::default(),
                    )
                }
                Some(TransferResult::Loaded {
                    rows,
                    changed,
                    alerts,
                    source_changed,
                }) => (
                    vec![
                        format!(
                            "loaded {} ({} changed), {}",
                            count(*rows as usize, "row"),
                            thousands(*changed as usize),
                            count(*alerts, "alert"),
                        ),
                        format!("loaded {}, {}", count(*rows as usize, "row"), count(*alerts, "alert")),
                        format!("✓ {}, {}", count(*rows as usize, "row"), count(*alerts, "alert")),
                    ],
                    if *source_changed {
                        "the file changed while it uploaded: the copy kept was loaded".to_string()
                    } else {
                        String::new()
                    },
                    theme.fg(if *source_changed { Color::Yellow } else { Color::Green }),
                ),
                Some(TransferResult::Rejected { problems, first }) => (
                    vec![format!("REJECTED, {}", count(*problems, "problem"))],
                    first.first().map_or(String::new(), |f| safe(f)),
                    theme.fg(Color::Red).add_modifier(Modifier::BOLD),
                ),
                Some(TransferResult::Failed(reason)) => {
                    (vec!["FAILED".to_string()], safe(reason), theme.fg(Color::Red))
                }
                Some(TransferResult::Cancelled) => (vec!["cancelled".to_string()], String::new(), theme.dim()),
            };
            let status = statuses
                .iter()
                .find(|s| NAME_LEAST + 2 + s.width() <= width)
                .or(statuses.last())
                .cloned()
                .unwrap_or_default();
            Line::from(Span::styled(transfer_line(&name, &status, &rest, width), style))
        })
        .collect();
    let shown = lines.len();
    frame.render_widget(Paragraph::new(lines), inner);
    crate::panes_view::more_marks(frame, area, 0, shown, app.files.transfers.len(), theme);
}

/// Lays `pieces` out in lines of `width` cells, moving a piece that does
/// not fit whole onto the next line.
fn flow(pieces: Vec<Span<'static>>, width: usize) -> Vec<Line<'static>> {
    let mut lines: Vec<Vec<Span>> = vec![Vec::new()];
    let mut used = 0;
    for piece in pieces {
        let w = piece.width();
        if used > 0 && used + w > width {
            lines.push(Vec::new());
            used = 0;
        }
        used += w;
        lines.last_mut().expect("one line at least").push(piece);
    }
    lines.into_iter().map(Line::from).collect()
}

/// The least of a file's name an upload's line keeps.
const NAME_LEAST: usize = 8;

/// `name  status: rest` in `width` cells: the status whole, the name cut
/// with "…" to leave it room, the rest (a reason) in what is left.
fn transfer_line(name: &str, status: &str, rest: &str, width: usize) -> String {
    let name_room = width
        .saturating_sub(status.width() + 2)
        .max(NAME_LEAST.min(width))
        .min(name.width());
    let mut line = format!("{}  {status}", ellipsize(name, name_room as u16));
    let left = width.saturating_sub(line.width());
    if !rest.is_empty() && left > 3 {
        line.push_str(&ellipsize(&format!(": {rest}"), left as u16));
    }
    line
}
