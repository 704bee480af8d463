//! The boxes drawn over the panes: the help (generated from the live
//! keymap and the command list, scrolled when the terminal is short), the
//! confirmations (with their keys), and an item's detail.

use super::app::App;
use super::keymap::Action;
use super::keys::COMMANDS;
use super::theme::{Theme, centered, level_label, safe};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use stockwatch_domain::{AlertId, AlertState};

/// `  keys             what it does`, the words wrapped to `width`.
fn help_entry(lines: &mut Vec<Line<'static>>, keys: &str, what: &str, width: u16) {
    let indent = 2 + 16 + 1;
    let room = (width as usize).saturating_sub(indent + 2).max(12);
    let mut current = String::new();
    let mut first = true;
    let flush = |text: &str, first: &mut bool, lines: &mut Vec<Line<'static>>| {
        let head = if *first {
            format!("  {keys:<16} ")
        } else {
            " ".repeat(indent)
        };
        lines.push(Line::from(format!("{head}{text}")));
        *first = false;
    };
    for word in what.split(' ') {
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > room {
            flush(&current, &mut first, lines);
            current.clear();
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    flush(&current, &mut first, lines);
}

/// The width of the help box on a terminal `width` wide.
fn help_width(width: u16) -> u16 {
    width.min(80)
}

/// The help's lines for a terminal `width` wide: every key by table, then
/// every command.
pub fn help_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let width = help_width(width);
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut lines = Vec::new();
    let mut context = None;
    for (ctx, keys, _, what) in app.keymap.help(app.read_only()) {
        if context != Some(ctx) {
            lines.push(Line::from(Span::styled(format!("[{}]", ctx.name()), bold)));
            context = Some(ctx);
        }
        help_entry(&mut lines, &keys, what, width);
    }
    lines.push(Line::from(Span::styled(
        format!("[commands] ({} then Enter)", app.keymap.describe_keys(Action::Command)),
        bold,
    )));
    for (name, arg, what) in COMMANDS {
        let usage = if arg.is_empty() {
            format!(":{name}")
        } else {
            format!(":{name} {arg}")
        };
        help_entry(&mut lines, &usage, what, width);
    }
    lines.push(Line::from(format!("Logs: {}", safe(&app.settings.log_path))));
    lines
}

/// How far the help can scroll on a terminal of `size`.
pub fn help_scroll_limit(app: &App, (width, height): (u16, u16)) -> u16 {
    scroll_limit(help_lines(app, width).len(), height)
}

/// How far `lines` can scroll in a bordered box on `height` rows.
fn scroll_limit(lines: usize, height: u16) -> u16 {
    let lines = lines.min(u16::MAX as usize - 2) as u16;
    lines.saturating_sub(height.min(lines + 2).saturating_sub(2))
}

pub fn draw_help(frame: &mut Frame, app: &App, theme: Theme, area: Rect, scroll: u16) {
    let lines = help_lines(app, area.width);
    let rect = centered(area, help_width(area.width), lines.len() as u16 + 2);
    // The lines are built once per frame: the limit comes from them.
    let limit = scroll_limit(lines.len(), area.height);
    let scroll = scroll.min(limit);
    let more = scroll < limit;
    let moving = format!(
        "{}/{} scroll",
        app.keymap.first_key(Action::Down),
        app.keymap.first_key(Action::Up)
    );
    let title = match (scroll > 0, more) {
        (false, false) => " Keys · any key closes ".to_string(),
        (_, true) => format!(" Keys · ↓ more, {moving} · any other key closes "),
        (true, false) => format!(" Keys · {moving} · any other key closes "),
    };
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(theme.border(true));
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), rect);
}

/// A yes/no box: the question, two buttons, and the keys that answer.
pub fn draw_confirm(
    frame: &mut Frame,
    theme: Theme,
    area: Rect,
    question: &str,
    (no, yes_label): (&str, &str),
    yes: bool,
) {
    let rect = centered(area, 56, 6);
    frame.render_widget(Clear, rect);
    let button = |label: &str, on: bool| {
        if on {
            Span::styled(format!("[ {label} ]"), theme.selected())
        } else {
            Span::raw(format!("  {label}  "))
        }
    };
    let lines = vec![
        Line::from(question.to_string()),
        Line::from(""),
        Line::from(vec![button(no, !yes), Span::raw("   "), button(yes_label, yes)]),
        Line::from(Span::styled("y yes · n/Esc no · ←/→ choose · Enter", theme.dim())),
    ];
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Confirm ")
        .border_style(theme.border(true));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), rect);
}

/// One item: its count and state, when and from which file, and its
/// alerts with who acknowledged them, when and why.
pub fn draw_detail(
    frame: &mut Frame,
    app: &App,
    theme: Theme,
    area: Rect,
    store: &str,
    item: &str,
    opened: Option<AlertId>,
) {
    let clock = &app.clock;
    let mut lines = Vec::new();
    let label = |name: &str| Span::styled(format!("{name:<9}"), Style::default().add_modifier(Modifier::BOLD));
    match app.live_stock.item(store, item) {
        Some(row) => {
            lines.push(Line::from(vec![
                label("Count"),
                Span::styled(
                    format!("{}  {}", row.count, level_label(row.level).trim()),
                    theme.level(row.level),
                ),
            ]));
            lines.push(Line::from(vec![label("As of"), Span::raw(clock.full(row.as_of))]));
            lines.push(Line::from(vec![label("File"), Span::raw(safe(&row.source))]));
            lines.push(Line::from(vec![
                label("Updated"),
                Span::raw(clock.full(row.updated_at)),
            ]));
            lines.push(Line::from(vec![
                label("Forecast"),
                Span::raw(super::item_chart::forecast_words(app, store, item)),
            ]));
        }
        None => lines.push(Line::from(Span::styled("Not in the table (any more).", theme.dim()))),
    }
    lines.push(Line::from(""));
    let alerts: Vec<_> = app.live_alerts.of_item(store, item).collect();
    lines.push(Line::from(Span::styled(
        if alerts.is_empty() { "No alerts" } else { "Alerts" },
        Style::default().add_modifier(Modifier::BOLD),
    )));
    for alert in alerts.iter().take(8) {
        let marker = if Some(alert.id) == opened { "▶" } else { " " };
        let style = match alert.state {
            AlertState::Open => theme.level(if alert.kind == stockwatch_domain::AlertKind::Out {
                stockwatch_domain::Level::Out
            } else {
                stockwatch_domain::Level::Low
            }),
            _ => theme.dim(),
        };
        lines.push(Line::from(Span::styled(
            format!(
                "{marker}#{} {} {}, count {}, raised {}",
                alert.id,
                alert.kind.as_str(),
                alert.state.as_str(),
                alert.count,
                clock.full(alert.raised_at)
            ),
            style,
        )));
        if let Some(ack) = &alert.acknowledged {
            let note = ack
                .note
                .as_deref()
                .map(|n| format!(": “{}”", safe(n)))
                .unwrap_or_default();
            lines.push(Line::from(format!(
                "   ✓ acknowledged by {} at {}{note}",
                safe(&ack.by),
                clock.full(ack.at)
            )));
        }
        if alert.reminders > 0 {
            let times = crate::text::count(alert.reminders as usize, "reminder");
            let last = alert.published_at.map_or_else(
                || "the last being sent".to_string(),
                |at| format!("the last at {}", clock.full(at)),
            );
            lines.push(Line::from(format!("   {times} sent, {last}")));
        }
        if let Some(at) = alert.resolved_at {
            lines.push(Line::from(format!("   resolved at {}", clock.full(at))));
        }
    }
    let open = opened
        .and_then(|id| app.live_alerts.get(id))
        .is_some_and(|a| a.state == AlertState::Open);
    lines.push(Line::from(""));
    let keys = |action| app.keymap.describe_keys(action);
    let hint = if open && !app.read_only() {
        format!(
            "{} acknowledge · {} with a note · any other key closes",
            keys(Action::Acknowledge),
            keys(Action::AcknowledgeWithNote)
        )
    } else {
        "any key closes".to_string()
    };
    lines.push(Line::from(Span::styled(hint, theme.dim())));
    // The history chart below, where the terminal has the rows for it.
    let text_rows = lines.len() as u16 + 2;
    let chart =
        app.item_history.points(store, item).is_some() && area.height >= text_rows + super::item_chart::CHART_HEIGHT;
    let height = text_rows + if chart { super::item_chart::CHART_HEIGHT } else { 0 };
    let rect = centered(area, 76, height);
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {} / {} ", safe(store), safe(item)))
        .border_style(theme.border(true));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let text_area = Rect {
        height: inner
            .height
            .saturating_sub(if chart { super::item_chart::CHART_HEIGHT } else { 0 }),
        ..inner
    };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), text_area);
    if chart {
        let chart_area = Rect {
            y: text_area.y + text_area.height,
            height: super::item_chart::CHART_HEIGHT,
            ..inner
        };
        super::item_chart::draw(frame, app, theme, chart_area, store, item);
    }
}
