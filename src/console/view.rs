//! Drawing: `view(frame, &app)` turns the state into widgets: the screen's
//! layout, the status bar and the overlays (help, confirmation) here, the
//! panes in `panes_view` and `files::view`. It only reads: no I/O, and no
//! pane's rows are computed (`update` left them ready); only the rows that
//! fit on screen are built. Every string from a file or the backend is
//! escaped; states are words and glyphs as well as colours, so NO_COLOR
//! loses nothing.

use super::app::{App, Feed, Mode};
use super::files;
use super::keymap::Action;
use super::panes_view;
use super::theme::{Theme, centered, safe};
use crate::domain::Level;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

pub fn view(frame: &mut Frame, app: &App, theme: Theme) {
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
        panes_view::draw_stores(frame, app, theme, stores);
        panes_view::draw_stock(frame, app, theme, stock);
    }
    panes_view::draw_alerts(frame, app, theme, alerts);
    draw_status(frame, app, theme, status);
    match &app.mode {
        Mode::Help => draw_help(frame, app, theme, area),
        Mode::ConfirmAckAll { ids, yes } => draw_confirm(frame, theme, area, ids.len(), *yes),
        _ => {}
    }
}

fn draw_status(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
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
                let quit = app.keymap.describe_keys(Action::Quit);
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
