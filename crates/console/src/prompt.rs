//! A one-line text field, as readline has taught everyone: a cursor that
//! ←/→/Home/End (Ctrl-A, Ctrl-E) move, Ctrl-U and Ctrl-W to delete, Delete
//! and Backspace, and a history walked with ↑/↓. Used by the command line,
//! the filter line and the acknowledgement note.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What the field typed so far, with its cursor (a char index).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prompt {
    text: String,
    cursor: usize,
    /// Walking the history: the entry shown, and what was typed before.
    recalled: Option<(usize, String)>,
}

/// What a key did to the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// The text changed.
    Changed,
    /// Only the cursor moved.
    Moved,
    /// Not an editing key: the caller's (Enter, Esc, Tab).
    Ignored,
}

impl Prompt {
    pub fn new(text: &str) -> Prompt {
        Prompt {
            text: text.to_string(),
            cursor: text.chars().count(),
            recalled: None,
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The cursor's position in chars.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Replaces the text, cursor at its end.
    pub fn set(&mut self, text: &str) {
        *self = Prompt {
            recalled: self.recalled.take(),
            ..Prompt::new(text)
        };
    }

    fn byte(&self, char_index: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_index)
            .map_or(self.text.len(), |(b, _)| b)
    }

    /// Applies an editing key; `history` is oldest first.
    pub fn edit(&mut self, key: &KeyEvent, history: &[String]) -> Edit {
        let control = key.modifiers.contains(KeyModifiers::CONTROL);
        let len = self.text.chars().count();
        match key.code {
            KeyCode::Char('a') if control => self.cursor = 0,
            KeyCode::Char('e') if control => self.cursor = len,
            KeyCode::Char('b') if control => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Char('f') if control => self.cursor = (self.cursor + 1).min(len),
            KeyCode::Char('u') if control => {
                let at = self.byte(self.cursor);
                self.text.replace_range(..at, "");
                self.cursor = 0;
                return Edit::Changed;
            }
            KeyCode::Char('k') if control => {
                let at = self.byte(self.cursor);
                self.text.truncate(at);
                return Edit::Changed;
            }
            KeyCode::Char('w') if control => {
                let before: Vec<char> = self.text.chars().take(self.cursor).collect();
                let mut start = before.len();
                while start > 0 && before[start - 1] == ' ' {
                    start -= 1;
                }
                while start > 0 && before[start - 1] != ' ' {
                    start -= 1;
                }
                let (from, to) = (self.byte(start), self.byte(self.cursor));
                self.text.replace_range(from..to, "");
                self.cursor = start;
                return Edit::Changed;
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(len),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = len,
            KeyCode::Backspace => {
                if self.cursor == 0 {
                    return Edit::Moved;
                }
                let (from, to) = (self.byte(self.cursor - 1), self.byte(self.cursor));
                self.text.replace_range(from..to, "");
                self.cursor -= 1;
                return Edit::Changed;
            }
            KeyCode::Delete => {
                if self.cursor == len {
                    return Edit::Moved;
                }
                let (from, to) = (self.byte(self.cursor), self.byte(self.cursor + 1));
                self.text.replace_range(from..to, "");
                return Edit::Changed;
            }
            KeyCode::Up => return self.recall(history, -1),
            KeyCode::Down => return self.recall(history, 1),
            KeyCode::Char(c) if !control && !c.is_control() => {
                let at = self.byte(self.cursor);
                self.text.insert(at, c);
                self.cursor += 1;
                return Edit::Changed;
            }
            _ => return Edit::Ignored,
        }
        Edit::Moved
    }

    /// ↑ (`by` -1) shows the previous entry, ↓ the next, and past the
    /// newest what was being typed.
    fn recall(&mut self, history: &[String], by: isize) -> Edit {
        if history.is_empty() {
            return Edit::Moved;
        }
        let (index, typed) = match self.recalled.take() {
            Some(walk) => walk,
            None if by > 0 => return Edit::Moved,
            None => (history.len(), self.text.clone()),
        };
        let next = index as isize + by;
        if next < 0 {
            self.recalled = Some((index, typed));
            return Edit::Moved;
        }
        let next = next as usize;
        if next >= history.len() {
            self.set(&typed);
            self.recalled = None;
        } else {
            self.set(&history[next]);
            self.recalled = Some((next, typed));
        }
        Edit::Changed
    }
}

/// Adds a line to a history (oldest first), without repeating the last one
/// and keeping at most `keep`.
pub fn remember(history: &mut Vec<String>, line: &str, keep: usize) {
    if line.trim().is_empty() || history.last().is_some_and(|l| l == line) {
        return;
    }
    history.push(line.to_string());
    if history.len() > keep {
        history.remove(0);
    }
}

/// The longest text every candidate starts with.
pub fn common_prefix<'a>(candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut iter = candidates.into_iter();
    let mut prefix = iter.next()?.to_string();
    for candidate in iter {
        let shared = prefix
            .char_indices()
            .zip(candidate.chars())
            .take_while(|((_, a), b)| a.eq_ignore_ascii_case(b))
            .last()
            .map_or(0, |((at, c), _)| at + c.len_utf8());
        prefix.truncate(shared);
    }
    Some(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn typed(prompt: &mut Prompt, text: &str) {
        for c in text.chars() {
            prompt.edit(&key(KeyCode::Char(c)), &[]);
        }
    }

    #[test]
    fn editing_keys_work_like_readline() {
        let mut p = Prompt::default();
        typed(&mut p, "store Berlin");
        p.edit(&ctrl('w'), &[]);
        assert_eq!((p.text(), p.cursor()), ("store ", 6));
        typed(&mut p, "Pusan");
        p.edit(&ctrl('a'), &[]);
        typed(&mut p, ":");
        assert_eq!(p.text(), ":store Pusan");
        p.edit(&key(KeyCode::Backspace), &[]);
        p.edit(&key(KeyCode::Delete), &[]);
        p.edit(&ctrl('e'), &[]);
        p.edit(&key(KeyCode::Left), &[]);
        p.edit(&key(KeyCode::Backspace), &[]);
        assert_eq!(p.text(), "tore Pusn");
        p.edit(&key(KeyCode::End), &[]);
        typed(&mut p, "ü");
        p.edit(&key(KeyCode::Left), &[]);
        p.edit(&ctrl('u'), &[]);
        assert_eq!((p.text(), p.cursor()), ("ü", 0), "Ctrl-U deletes before the cursor");
        assert_eq!(p.edit(&key(KeyCode::Enter), &[]), Edit::Ignored);
    }

    #[test]
    fn up_and_down_walk_the_history_and_come_back_to_the_typing() {
        let history = vec!["store Berlin".to_string(), "out".to_string()];
        let mut p = Prompt::default();
        typed(&mut p, "al");
        p.edit(&key(KeyCode::Up), &history);
        assert_eq!(p.text(), "out");
        p.edit(&key(KeyCode::Up), &history);
        p.edit(&key(KeyCode::Up), &history);
        assert_eq!(p.text(), "store Berlin", "stops at the oldest");
        p.edit(&key(KeyCode::Down), &history);
        p.edit(&key(KeyCode::Down), &history);
        assert_eq!(p.text(), "al", "past the newest: what was typed");
        let mut kept = history.clone();
        remember(&mut kept, "out", 10);
        remember(&mut kept, "alerts", 2);
        assert_eq!(kept, ["out", "alerts"]);
    }

    #[test]
    fn the_common_prefix_of_candidates() {
        assert_eq!(common_prefix(["store", "stores"]).as_deref(), Some("store"));
        assert_eq!(common_prefix(["Berlin", "bern"]).as_deref(), Some("Ber"));
        assert_eq!(common_prefix(Vec::<&str>::new()), None);
    }
}
