//! Drawing the file pane: the listing, the preview of the selected file,
//! and the uploads with their progress and outcome.

use super::listing::human_size;
use super::pane::TransferResult;
use crate::console::app::App;
use crate::console::pane::Pane;
use crate::console::theme::{Theme, level_label, pane_block, safe, window};
use crate::domain::preview::{PreviewRow, Verdict};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};

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
            _ if !filter.is_empty() => "No file matches the filter (Esc clears it).".into(),
            _ => "This directory is empty. h or backspace goes up.".into(),
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
    let rows: Vec<Row> = (first..shown.min(first + height))
        .filter_map(|i| Some((i, app.files.entry(i)?)))
        .map(|(i, entry)| {
            let path = entry.path_in(&app.files.dir);
            let mark = if app.files.marks.contains(&path) { "●" } else { " " };
            let (name, style) = if entry.is_dir {
                (
                    format!("{}/", safe(&entry.name)),
                    theme.fg(Color::Blue).add_modifier(Modifier::BOLD),
                )
            } else if entry.is_csv() {
                (safe(&entry.name), theme.fg(Color::Cyan).add_modifier(Modifier::BOLD))
            } else {
                (safe(&entry.name), theme.dim())
            };
            let size = if entry.is_dir {
                String::new()
            } else {
                human_size(entry.size)
            };
            let style = if i == cursor && focused {
                style.patch(theme.selected())
            } else {
                style
            };
            Row::new(vec![Cell::from(mark), Cell::from(name), Cell::from(size)]).style(style)
        })
        .collect();
    let table = Table::new(
        rows,
        [Constraint::Length(1), Constraint::Min(10), Constraint::Length(9)],
    );
    frame.render_widget(table, inner);
}

pub fn draw_preview(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let Some((path, preview)) = &app.files.preview else {
        let block = pane_block(" Preview ".into(), false, theme);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let hint = "Select a CSV file to preview it. space marks files, u uploads them.";
        frame.render_widget(
            Paragraph::new(hint).wrap(Wrap { trim: false }).style(theme.dim()),
            inner,
        );
        return;
    };
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let block = pane_block(format!(" Preview: {} ", safe(&name)), false, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let s = &preview.summary;
    let verdict = match &preview.verdict {
        Verdict::Checking => Line::from(Span::styled(format!("checking… {} rows so far", s.rows), theme.dim())),
        Verdict::WouldLoad => Line::from(vec![
            Span::styled("✓ would load: ", theme.fg(Color::Green).add_modifier(Modifier::BOLD)),
            Span::raw(format!("{} rows, {} stores, ", s.rows, s.stores)),
            Span::styled(format!("✗{} out", s.out), theme.level(crate::domain::Level::Out)),
            Span::raw(", "),
            Span::styled(format!("▼{} low", s.low), theme.level(crate::domain::Level::Low)),
        ]),
        Verdict::WouldBeRejected { problems } => Line::from(Span::styled(
            format!(
                "✗ would be rejected: {problems} error{}",
                if *problems == 1 { "" } else { "s" }
            ),
            theme.fg(Color::Red).add_modifier(Modifier::BOLD),
        )),
    };
    let mut lines = vec![verdict];
    let listed = (inner.height as usize / 3).max(1);
    for problem in preview.problems.iter().take(listed) {
        lines.push(Line::from(Span::styled(
            format!("  {}", safe(&problem.to_string())),
            theme.fg(Color::Red),
        )));
    }
    if preview.problems.len() > listed {
        lines.push(Line::from(Span::styled(
            format!("  … and {} more", s.problems as usize - listed),
            theme.dim(),
        )));
    }
    let head = lines.len() as u16 + 1;
    frame.render_widget(
        Paragraph::new(lines),
        Rect {
            height: head.min(inner.height),
            ..inner
        },
    );
    let table_area = Rect {
        y: inner.y + head.min(inner.height),
        height: inner.height.saturating_sub(head),
        ..inner
    };
    let rows: Vec<Row> = preview
        .rows
        .iter()
        .take(table_area.height.saturating_sub(1) as usize)
        .map(|row| match row {
            PreviewRow::Valid { row, level } => Row::new(vec![
                Cell::from(row.line.to_string()),
                Cell::from(safe(&row.store)),
                Cell::from(safe(&row.item)),
                Cell::from(row.count.to_string()),
                Cell::from(level_label(*level)),
            ])
            .style(theme.level(*level)),
            PreviewRow::Invalid { line, problems } => {
                let message = problems.first().map_or(String::new(), |p| safe(&p.message));
                Row::new(vec![
                    Cell::from(line.to_string()),
                    Cell::from("✗ error"),
                    Cell::from(message),
                ])
                .style(theme.fg(Color::Red).add_modifier(Modifier::BOLD))
            }
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(6),
            Constraint::Length(14),
            Constraint::Min(12),
            Constraint::Length(7),
            Constraint::Length(6),
        ],
    )
    .header(
        Row::new(vec!["LINE", "STORE", "ITEM", "COUNT", "STATE"]).style(Style::default().add_modifier(Modifier::BOLD)),
    );
    frame.render_widget(table, table_area);
}

pub fn draw_transfers(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let block = pane_block(format!(" Uploads ({}) ", app.files.transfers.len()), false, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
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
                Some(TransferResult::Loaded { rows, changed, alerts }) => (
                    format!(
                        "{name}  loaded {rows} rows ({changed} changed), {alerts} alert{}",
                        if *alerts == 1 { "" } else { "s" }
                    ),
                    theme.fg(Color::Green),
                ),
                Some(TransferResult::Rejected { problems, first }) => (
                    format!(
                        "{name}  REJECTED, {problems} problem{}: {}",
                        if *problems == 1 { "" } else { "s" },
                        first.first().map_or(String::new(), |f| safe(f))
                    ),
                    theme.fg(Color::Red).add_modifier(Modifier::BOLD),
                ),
                Some(TransferResult::Failed(reason)) => {
                    (format!("{name}  FAILED: {}", safe(reason)), theme.fg(Color::Red))
                }
                Some(TransferResult::Cancelled) => (format!("{name}  cancelled"), theme.dim()),
            };
            let text: String = text.chars().take(width).collect();
            Line::from(Span::styled(text, style))
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
