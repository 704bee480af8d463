//! Drawing the file pane: the listing, the preview of the selected file,
//! and the uploads with their progress and outcome.

use super::listing::human_size;
use super::pane::TransferResult;
use crate::app::App;
use crate::columns::{ellipsize, widest};
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
    let verdict = match &preview.verdict {
        Verdict::Checking => Line::from(Span::styled(
            format!("checking… {} so far", count(s.rows as usize, "row")),
            theme.dim(),
        )),
        Verdict::WouldLoad => Line::from(vec![
            Span::styled("✓ would load: ", theme.fg(Color::Green).add_modifier(Modifier::BOLD)),
            Span::raw(format!(
                "{}, {}, ",
                count(s.rows as usize, "row"),
                count(s.stores, "store")
            )),
            Span::styled(format!("✗{} out", s.out), theme.level(stockwatch_domain::Level::Out)),
            Span::raw(", "),
            Span::styled(format!("▼{} low", s.low), theme.level(stockwatch_domain::Level::Low)),
        ]),
        Verdict::WouldBeRejected { problems } => Line::from(Span::styled(
            format!("✗ would be rejected: {}", count(*problems as usize, "error")),
            theme.fg(Color::Red).add_modifier(Modifier::BOLD),
        )),
    };
    frame.render_widget(
        Paragraph::new(verdict),
        Rect {
            height: 1.min(inner.height),
            ..inner
        },
    );
    let body = Rect {
        y: inner.y + 1.min(inner.height),
        height: inner.height.saturating_sub(1),
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
        "{:>6} {:<sw$} {:<iw$} {:>cw$} STATE",
        "LINE",
        "STORE",
        "ITEM",
        "COUNT",
        sw = store_width as usize,
        iw = item_width as usize,
        cw = count_width as usize
    );
    let mut lines = vec![Line::from(Span::styled(
        header,
        Style::default().add_modifier(Modifier::BOLD),
    ))];
    for row in &preview.rows {
        lines.push(match row {
            PreviewRow::Valid { row, level } => Line::from(Span::styled(
                format!(
                    "{:>6} {:<sw$} {:<iw$} {:>cw$} {}",
                    row.line,
                    ellipsize(&safe(&row.store), store_width),
                    ellipsize(&safe(&row.item), item_width),
                    row.count,
                    level_label(*level),
                    sw = store_width as usize,
                    iw = item_width as usize,
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
            let (text, style) = match &t.result {
                None if t.total > 0 && t.sent >= t.total => (
                    format!("{name}  uploaded {}, loading…", human_size(t.total)),
                    theme.fg(Color::Cyan),
                ),
                None => {
                    let percent = (t.sent * 100).checked_div(t.total).unwrap_or(0).min(100);
                    let bar_width = 20usize;
                    let filled = (percent as usize * bar_width) / 100;
                    let bar = format!("[{}{}]", "█".repeat(filled), "·".repeat(bar_width - filled));
                    (
                        format!(
                            "{name}  {bar} {percent:>3}%  {} / {}",
                            human_size(t.sent),
                            human_size(t.total)
                        ),
                        Style::default(),
                    )
                }
                Some(TransferResult::Loaded {
                    rows,
                    changed,
                    alerts,
                    source_changed,
                }) => (
                    format!(
                        "{name}  loaded {} ({} changed), {}{}",
                        count(*rows as usize, "row"),
                        thousands(*changed as usize),
                        count(*alerts, "alert"),
                        if *source_changed {
                            "; the file changed while it uploaded: the copy kept was loaded"
                        } else {
                            ""
                        }
                    ),
                    theme.fg(if *source_changed { Color::Yellow } else { Color::Green }),
                ),
                Some(TransferResult::Rejected { problems, first }) => (
                    format!(
                        "{name}  REJECTED, {}: {}",
                        count(*problems, "problem"),
                        first.first().map_or(String::new(), |f| safe(f))
                    ),
                    theme.fg(Color::Red).add_modifier(Modifier::BOLD),
                ),
                Some(TransferResult::Failed(reason)) => {
                    (format!("{name}  FAILED: {}", safe(reason)), theme.fg(Color::Red))
                }
                Some(TransferResult::Cancelled) => (format!("{name}  cancelled"), theme.dim()),
            };
            Line::from(Span::styled(text, style))
        })
        .collect();
    // Wrapped, so a rejection's reason is read whole.
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
