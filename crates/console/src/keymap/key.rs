//! A key as keymap files write it ("q", "G", "ctrl-c", "f5", "pageup") and
//! as the terminal reports it.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::fmt;

/// A key with its modifiers, as written in keymap files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    code: KeyCodeOrd,
    modifiers: u8,
}

/// KeyCode without the variants keymaps cannot name, ordered for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KeyCodeOrd {
    Char(char),
    F(u8),
    Named(&'static str),
}

const CTRL: u8 = 1;
const ALT: u8 = 2;
const SHIFT: u8 = 4;

const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("space", KeyCode::Char(' ')),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
];

impl Key {
    pub fn parse(text: &str) -> Option<Key> {
        let mut modifiers = 0;
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (bit, len) = if lower.starts_with("ctrl-") {
                (CTRL, 5)
            } else if lower.starts_with("alt-") {
                (ALT, 4)
            } else if lower.starts_with("shift-") {
                (SHIFT, 6)
            } else {
                break;
            };
            if rest.len() == len {
                break; // "ctrl-" alone is not a key; a bare "-" after it is
            }
            modifiers |= bit;
            rest = &rest[len..];
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(' '), None) => return None,
            (Some(c), None) if !c.is_control() => KeyCodeOrd::Char(c),
            _ => {
                let lower = rest.to_ascii_lowercase();
                if let Some(n) = lower
                    .strip_prefix('f')
                    .and_then(|n| n.parse::<u8>().ok())
                    .filter(|n| (1..=12).contains(n))
                {
                    KeyCodeOrd::F(n)
                } else {
                    let (name, _) = NAMED.iter().find(|(name, _)| *name == lower)?;
                    if *name == "space" {
                        KeyCodeOrd::Char(' ')
                    } else {
                        KeyCodeOrd::Named(name)
                    }
                }
            }
        };
        match code {
            // A shifted character is the character itself ("A", not "shift-a").
            KeyCodeOrd::Char(_) if modifiers & SHIFT != 0 => None,
            // Terminals report ctrl with the lower-case letter.
            KeyCodeOrd::Char(c) if modifiers & CTRL != 0 => Some(Key {
                code: KeyCodeOrd::Char(c.to_ascii_lowercase()),
                modifiers,
            }),
            _ => Some(Key { code, modifiers }),
        }
    }

    /// The key of a terminal event. Shift is part of a character ('G'), so
    /// it only counts for keys without one.
    pub fn from_event(event: &KeyEvent) -> Option<Key> {
        let mut modifiers = 0;
        if event.modifiers.contains(KeyModifiers::CONTROL) {
            modifiers |= CTRL;
        }
        if event.modifiers.contains(KeyModifiers::ALT) {
            modifiers |= ALT;
        }
        let code = match event.code {
            KeyCode::Char(c) => KeyCodeOrd::Char(if modifiers & CTRL != 0 {
                c.to_ascii_lowercase()
            } else {
                c
            }),
            KeyCode::F(n) => KeyCodeOrd::F(n),
            other => KeyCodeOrd::Named(NAMED.iter().find(|(_, code)| *code == other)?.0),
        };
        if event.modifiers.contains(KeyModifiers::SHIFT)
            && !matches!(code, KeyCodeOrd::Char(_))
            && event.code != KeyCode::BackTab
        {
            modifiers |= SHIFT;
        }
        Some(Key { code, modifiers })
    }
}

#[cfg(test)]
impl Key {
    /// A terminal event of this key, as `from_event` reads it.
    pub fn to_event(self) -> KeyEvent {
        let mut modifiers = KeyModifiers::NONE;
        for (bit, modifier) in [
            (CTRL, KeyModifiers::CONTROL),
            (ALT, KeyModifiers::ALT),
            (SHIFT, KeyModifiers::SHIFT),
        ] {
            if self.modifiers & bit != 0 {
                modifiers |= modifier;
            }
        }
        let code = match self.code {
            KeyCodeOrd::Char(c) => {
                if c.is_uppercase() {
                    modifiers |= KeyModifiers::SHIFT;
                }
                KeyCode::Char(c)
            }
            KeyCodeOrd::F(n) => KeyCode::F(n),
            KeyCodeOrd::Named(name) => NAMED
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(KeyCode::Null, |(_, c)| *c),
        };
        KeyEvent::new(code, modifiers)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (bit, name) in [(CTRL, "ctrl-"), (ALT, "alt-"), (SHIFT, "shift-")] {
            if self.modifiers & bit != 0 {
                f.write_str(name)?;
            }
        }
        match self.code {
            KeyCodeOrd::Char(' ') => f.write_str("space"),
            KeyCodeOrd::Char(c) => write!(f, "{c}"),
            KeyCodeOrd::F(n) => write!(f, "f{n}"),
            KeyCodeOrd::Named(name) => f.write_str(name),
        }
    }
}
