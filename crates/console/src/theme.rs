//! What every drawing module shares: the colours (or none, with NO_COLOR),
//! the words and glyphs of stock levels, escaping text for the terminal, a
//! pane's frame, which rows of a long list fit on screen, and centring an
//! overlay.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Block, Borders};
use stockwatch_domain::{Level, escape_for_terminal};

/// Colours, or none of them (NO_COLOR): modifiers still mark selection.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub colour: bool,
}

impl Theme {
    pub fn from_env() -> Theme {
        Theme {
            colour: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    pub fn fg(self, colour: Color) -> Style {
        if self.colour {
            Style::default().fg(colour)
        } else {
            Style::default()
        }
    }

    pub fn level(self, level: Level) -> Style {
        match level {
            Level::Out => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Level::Low => self.fg(Color::Yellow),
            Level::Ok => Style::default(),
        }
    }

    pub fn dim(self) -> Style {
        Style::default().add_modifier(Modifier::DIM)
    }

    pub fn selected(self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    /// The cursor's row: reversed in the focused pane, underlined in the
    /// others (so the store shown is marked in the stores pane too).
    pub fn cursor_row(self, focused: bool) -> Style {
        if focused {
            self.selected()
        } else {
            Style::default().add_modifier(Modifier::UNDERLINED)
        }
    }

    pub fn border(self, focused: bool) -> Style {
        if focused {
            self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        }
    }
}

/// The word and glyph of a level: readable without colour.
pub fn level_label(level: Level) -> &'static str {
    match level {
        Level::Out => "✗ OUT",
        Level::Low => "▼ LOW",
        Level::Ok => "  ok",
    }
}

pub fn safe(text: &str) -> String {
    escape_for_terminal(text).into_owned()
}

/// The first row to show: the cursor stays visible, near the middle once
/// the list is longer than the pane.
pub fn window(cursor: usize, len: usize, height: usize) -> usize {
    if height == 0 || len <= height {
        return 0;
    }
    cursor.saturating_sub(height / 2).min(len - height)
}

/// A pane's frame: the focused one drawn heavy (┏━┓), so focus shows
/// without colour too (NO_COLOR, a monochrome terminal, a screenshot).
pub fn pane_block(title: String, focused: bool, theme: Theme) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            ratatui::widgets::BorderType::Thick
        } else {
            ratatui::widgets::BorderType::Plain
        })
        .border_style(theme.border(focused))
        .title(title)
}

/// A `width` × `height` box in the middle of `area` (smaller if it must be).
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}
