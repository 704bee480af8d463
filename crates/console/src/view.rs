//! Drawing: `view(frame, &app)` turns the state into widgets: the screen's
//! layout (`layout`), the status bar and the prompts here, the panes in
//! `panes_view` and `files::view`, the overlays (help, confirmations, an
//! item's detail) in `overlays`. It only reads: no I/O, and no pane's rows
//! are computed (`update` left them ready); only the rows that fit on
//! screen are built. Every string from a file or the backend is escaped;
//! states are words and glyphs as well as colours, so NO_COLOR loses
//! nothing.

use super::app::{App, Feed, Mode};
use super::files;
use super::keymap::Action;
use super::layout::layout;
use super::overlays;
use super::panes_view;
use super::prompt::Prompt;
use super::text::{count, thousands};
use super::theme::{Theme, safe};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use stockwatch_domain::Level;
use unicode_width::UnicodeWidthStr;

pub fn view(frame: &mut Frame, app: &App, theme: Theme) {
    let area = frame.area();
    let areas = layout(app, area);
    if app.files.open {
        files::view::draw_listing(frame, app, theme, areas.listing);
        files::view::draw_preview(frame, app, theme, areas.preview);
        if let Some(transfers) = areas.transfers {
            files::view::draw_transfers(frame, app, theme, transfers);
        }
    } else {
        panes_view::draw_stores(frame, app, theme, areas.stores);
        panes_view::draw_stock(frame, app, theme, areas.stock);
    }
    panes_view::draw_alerts(frame, app, theme, areas.alerts);
    draw_status(frame, app, theme, areas.status);
    match &app.mode {
        Mode::Help { scroll } => overlays::draw_help(frame, app, theme, area, *scroll),
        Mode::ConfirmAckAll { ids, yes } => overlays::draw_confirm(
            frame,
            theme,
            area,
            &format!("Acknowledge {}?", count(ids.len(), "open alert")),
            ("Cancel", "Acknowledge"),
            *yes,
        ),
        Mode::ConfirmQuit { yes } => {
            let running = app.files.transfers.iter().filter(|t| t.result.is_none()).count();
            overlays::draw_confirm(
                frame,
                theme,
                area,
                &format!("{} still running. Quit and stop them?", count(running, "upload")),
                ("Keep running", "Quit"),
                *yes,
            )
        }
        Mode::Detail { store, item, alert } => overlays::draw_detail(frame, app, theme, area, store, item, *alert),
        _ => {}
    }
}

/// A prompt's text with the cursor placed on screen; scrolled so the
/// cursor stays visible.
fn draw_prompt(frame: &mut Frame, area: Rect, label: &str, prompt: &Prompt, hint: &str, theme: Theme) {
    let [left, right] = Layout::horizontal([
        Constraint::Min(10),
        Constraint::Length((hint.width() as u16 + 2).min(area.width / 2)),
    ])
    .areas(area);
    let text = safe(prompt.text());
    let before: String = safe(&prompt.text().chars().take(prompt.cursor()).collect::<String>());
    let room = left.width.saturating_sub(label.width() as u16 + 1) as usize;
    let skip = before.width().saturating_sub(room);
    let shown: String = text.chars().skip(skip).collect();
    frame.render_widget(Paragraph::new(format!("{label}{shown}")), left);
    frame.render_widget(
        Paragraph::new(Span::styled(hint.to_string(), theme.dim())).alignment(ratatui::layout::Alignment::Right),
        right,
    );
    let x = left.x + (label.width() + before.width() - skip) as u16;
    frame.set_cursor_position(Position::new(x.min(left.right().saturating_sub(1)), left.y));
}

fn draw_status(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    match &app.mode {
        Mode::Command(prompt) => {
            return draw_prompt(frame, area, ":", prompt, "Tab completes · ↑ history · Esc", theme);
        }
        Mode::Filter(prompt) => return draw_prompt(frame, area, "/", prompt, "/!text inverts · Esc clears", theme),
        Mode::Note { ids, prompt } => {
            let label = match ids.as_slice() {
                [one] => format!("note for #{one}: "),
                many => format!("note for {}: ", count(many.len(), "alert")),
            };
            return draw_prompt(frame, area, &label, prompt, "Enter acknowledges · Esc", theme);
        }
        Mode::Snooze { store, item, prompt } => {
            let label = match item {
                Some(item) => format!("snooze {} / {} for: ", safe(store), safe(item)),
                None => format!("snooze every item of {} for: ", safe(store)),
            };
            return draw_prompt(frame, area, &label, prompt, "30m, 2h, 1d · Enter · Esc", theme);
        }
        _ => {}
    }
    // The mode and the way to help are always there, on the right.
    let mode = match (&app.feed, app.paused) {
        (_, true) => Span::styled(
            format!("PAUSED, {} waiting", count(app.waiting(), "change")),
            theme.fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ),
        (Feed::Loading, _) => Span::raw("LOADING"),
        (Feed::Live, _) => Span::styled("LIVE", theme.fg(Color::Green).add_modifier(Modifier::BOLD)),
        (Feed::Error(e), _) => Span::styled(format!("FEED ERROR: {}", safe(e)), theme.fg(Color::Red)),
    };
    // Numbers are never cut: the mode, what is new, the totals and the
    // time of the last change come whole; what was said (and where) gets
    // the room left, cut with "…", and the lag goes before the time does.
    let mut head = vec![mode];
    let new = app.new_alerts();
    if new > 0 {
        head.push(Span::raw(" "));
        head.push(Span::styled(
            format!(" {} new ", thousands(new)),
            theme
                .fg(Color::Red)
                .add_modifier(Modifier::BOLD)
                .add_modifier(Modifier::REVERSED),
        ));
    }
    let mut said: Vec<(String, ratatui::style::Style)> = Vec::new();
    if app.relay_silent {
        said.push(("relay silent: changes may be late".into(), theme.fg(Color::Red)));
    }
    if let Some(error) = &app.ledger_error {
        said.push((format!("alerts: {}", safe(error)), theme.fg(Color::Red)));
    }
    if let Some(message) = &app.message {
        said.push((safe(message), theme.fg(Color::Cyan)));
    }
    let totals = app.live_stock.totals();
    let mut numbers = vec![
        Span::raw(format!("  {}  ", count(totals.items as usize, "item"))),
        Span::styled(
            format!("✗{} out", thousands(totals.out as usize)),
            theme.level(Level::Out),
        ),
        Span::raw("  "),
        Span::styled(
            format!("▼{} low", thousands(totals.low as usize)),
            theme.level(Level::Low),
        ),
    ];
    // Absolute times, so nothing on screen changes by itself: an idle
    // console writes nothing to the terminal.
    let width_of = |spans: &[Span]| spans.iter().map(|s| s.content.width()).sum::<usize>();
    let time = app
        .last_change
        .map(|at| format!("  last change {}", app.clock.precise(at)));
    // The whole help while it leaves the numbers their room, else its key.
    let full_help = format!(
        "{} help  {} quit",
        app.keymap.describe_keys(Action::Help),
        app.keymap.describe_keys(Action::Quit)
    );
    let numbers_need = width_of(&head) + width_of(&numbers) + time.as_deref().map_or(0, str::width);
    let help = if numbers_need + full_help.width() + 2 <= area.width as usize {
        full_help
    } else {
        format!("{} help", app.keymap.first_key(Action::Help))
    };
    let [left, right] =
        Layout::horizontal([Constraint::Min(1), Constraint::Length(help.width() as u16 + 2)]).areas(area);
    let room = left.width as usize;
    if let Some(time) = time {
        let lag = app
            .lag_ms
            .map_or(String::new(), |ms| format!(" (lag {:.1} s)", ms as f64 / 1000.0));
        let whole = width_of(&head) + width_of(&numbers);
        if whole + time.width() + lag.width() <= room {
            numbers.push(Span::raw(format!("{time}{lag}")));
        } else if whole + time.width() <= room {
            numbers.push(Span::raw(time));
        }
    }
    if app.read_only() {
        numbers.push(Span::raw("  [read-only]"));
    }
    let mut left_over = room.saturating_sub(width_of(&head) + width_of(&numbers));
    let mut spans = head;
    // What was said and does not fit beside the numbers is shown whole on
    // the row above (over a pane's bottom border, until it clears).
    let said_width: usize = said.iter().map(|(t, _)| t.width() + 2).sum();
    if said_width > left_over && area.y > 0 {
        let above = Rect {
            y: area.y - 1,
            height: 1,
            ..area
        };
        let line: Vec<Span> = said
            .iter()
            .enumerate()
            .map(|(i, (text, style))| Span::styled(format!("{}{text}", if i == 0 { " " } else { "  " }), *style))
            .collect();
        frame.render_widget(ratatui::widgets::Clear, above);
        // Longer than the screen is wide: cut with "…" at its end.
        let line = Line::from(line);
        let line = if line.width() > above.width as usize {
            let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
            let style = line.spans.first().map(|s| s.style).unwrap_or_default();
            Line::from(Span::styled(super::columns::ellipsize(&text, above.width), style))
        } else {
            line
        };
        frame.render_widget(Paragraph::new(line), above);
        said.clear();
    }
    for (text, style) in said {
        let text = super::columns::ellipsize(&format!("  {text}"), left_over.min(u16::MAX as usize) as u16);
        left_over = left_over.saturating_sub(text.width());
        spans.push(Span::styled(text, style));
    }
    spans.extend(numbers);
    let location = super::columns::ellipsize(
        &format!("  {}", safe(&app.settings.location)),
        left_over.min(u16::MAX as usize) as u16,
    );
    spans.push(Span::raw(location));
    frame.render_widget(Paragraph::new(Line::from(spans)), left);
    frame.render_widget(
        Paragraph::new(Span::styled(help, theme.dim())).alignment(ratatui::layout::Alignment::Right),
        right,
    );
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
