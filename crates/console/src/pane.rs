//! What the four panes share.
//!
//! Each pane has a type of its own (`StoresPane`, `StockPane`, `AlertsPane`,
//! `FilesPane`), as stu has one per page, rather than one struct indexed by
//! `Pane`: besides a list they hold different things (the stock pane's view
//! and sort, the file pane's directory, marks and uploads), and each pane's
//! rows have a key of their own type (a store, a store and item, an alert
//! id, a file name). What every list does the same way is written once,
//! here: `PaneState` (the filter, the cursor, and which row the cursor is on,
//! so it stays on that row when the rows move), cursor movement and text
//! filters.
//!
//! A pane's rows are derived: from the live data and the pane's inputs
//! (filter, sort, the store it follows). `update` recomputes them at its end,
//! and only when those inputs changed, so drawing a frame only reads them.

use super::finding::Needle;
use super::keymap::{Action, KeyContext};
use std::collections::HashMap;
use stockwatch_domain::Timestamp;

/// How long a list keeps its order after the operator last moved in it.
pub const ORDER_HELD_MS: i64 = 30_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Stores,
    Stock,
    Alerts,
    Files,
    /// The file pane's preview, focused to scroll it.
    Preview,
}

impl Pane {
    const MAIN: [Pane; 3] = [Pane::Stores, Pane::Stock, Pane::Alerts];
    /// With the file pane open, it takes the place of stores and stock.
    const WITH_FILES: [Pane; 3] = [Pane::Files, Pane::Preview, Pane::Alerts];

    /// The pane `by` steps along the ones on screen, wrapping around.
    pub fn step(self, by: isize, files_open: bool) -> Pane {
        let order: &[Pane] = if files_open { &Pane::WITH_FILES } else { &Pane::MAIN };
        let i = order.iter().position(|p| *p == self).unwrap_or(0) as isize;
        order[(i + by).rem_euclid(order.len() as isize) as usize]
    }

    /// Keymap tables a key is looked up in while this pane has the focus,
    /// most specific first.
    pub fn key_contexts(self) -> &'static [KeyContext] {
        let [list, stock, alerts, files] = KeyContext::CHAINS;
        match self {
            Pane::Stores | Pane::Preview => list,
            Pane::Stock => stock,
            Pane::Alerts => alerts,
            Pane::Files => files,
        }
    }
}

/// Rows a page key moves.
pub const PAGE: usize = 10;

/// A cursor movement in a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Movement {
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
}

impl Movement {
    pub fn of(action: Action) -> Option<Movement> {
        Some(match action {
            Action::Up => Movement::Up,
            Action::Down => Movement::Down,
            Action::Top => Movement::Top,
            Action::Bottom => Movement::Bottom,
            Action::PageUp => Movement::PageUp,
            Action::PageDown => Movement::PageDown,
            _ => return None,
        })
    }
}

/// A pane's list: the filter typed for it, the row the cursor is on, and
/// that row's key `K`, so the cursor can follow its row when rows move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaneState<K> {
    pub filter: String,
    /// May point past the end until the next `follow` brings it back.
    pub cursor: usize,
    selection: Option<K>,
    hold: Hold,
}

/// Whether a list keeps the order it had, rather than re-sorting live
/// under the operator's eyes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hold {
    Free,
    /// Moved in: held from the next refresh.
    Asked,
    Since(Timestamp),
}

impl<K> Default for PaneState<K> {
    fn default() -> Self {
        PaneState {
            filter: String::new(),
            cursor: 0,
            selection: None,
            hold: Hold::Free,
        }
    }
}

impl Movement {
    /// Where a position moves to; past the end it is for the caller (or
    /// `follow`, or the view) to stop at the last row.
    pub fn apply(self, at: usize) -> usize {
        match self {
            Movement::Up => at.saturating_sub(1),
            Movement::Down => at.saturating_add(1),
            Movement::Top => 0,
            Movement::Bottom => usize::MAX / 2,
            Movement::PageUp => at.saturating_sub(PAGE),
            Movement::PageDown => at.saturating_add(PAGE),
        }
    }
}

impl<K: PartialEq> PaneState<K> {
    /// Moves the cursor; moving holds the list's order (`g` frees it).
    pub fn step(&mut self, movement: Movement) {
        self.cursor = movement.apply(self.cursor);
        self.hold = if movement == Movement::Top {
            Hold::Free
        } else {
            Hold::Asked
        };
    }

    /// Whether the order is held now: from the move until `ORDER_HELD_MS`
    /// without another.
    pub fn order_held(&mut self, now: Timestamp) -> bool {
        self.hold = match self.hold {
            Hold::Asked => Hold::Since(now),
            // A clock that stepped back ends it too, rather than holding on.
            Hold::Since(at) if now.0 - at.0 >= ORDER_HELD_MS || now.0 < at.0 => Hold::Free,
            hold => hold,
        };
        self.is_held()
    }

    /// As `order_held` last found it (for drawing).
    pub fn is_held(&self) -> bool {
        self.hold != Hold::Free
    }

    /// Selects the row with this key once it is there (the next `follow`
    /// that is not a move puts the cursor on it).
    pub fn select(&mut self, key: K) {
        self.selection = Some(key);
    }

    /// Back to the top with nothing selected: the rows are another list.
    pub fn start_over(&mut self) {
        self.cursor = 0;
        self.selection = None;
        self.hold = Hold::Free;
    }

    /// Keeps the cursor on the selected row when the rows change under it
    /// (new alerts on top, stores re-sorted by urgency). In the pane the
    /// operator just moved in (`moved`), the selection follows the cursor
    /// instead. `key_at` gives a row's key, `find` where a key's row is now.
    pub fn follow(
        &mut self,
        moved: bool,
        len: usize,
        key_at: impl Fn(usize) -> Option<K>,
        find: impl Fn(&K) -> Option<usize>,
    ) {
        if !moved && let Some(key) = &self.selection {
            // Still under the cursor (the usual case), or moved: follow it.
            if key_at(self.cursor).as_ref() == Some(key) {
                return;
            }
            if let Some(row) = find(key) {
                self.cursor = row;
                return;
            }
        }
        self.cursor = self.cursor.min(len.saturating_sub(1));
        self.selection = key_at(self.cursor);
    }
}

/// Puts freshly sorted `rows` in the order they were shown before (`place`:
/// a row's place then); rows not there before come after, in their own
/// order.
pub fn keep_order<T>(rows: &mut Vec<T>, place: impl Fn(&T) -> Option<usize>) {
    let mut placed: Vec<(usize, T)> = std::mem::take(rows)
        .into_iter()
        .map(|row| (place(&row).unwrap_or(usize::MAX), row))
        .collect();
    placed.sort_by_key(|(at, _)| *at);
    *rows = placed.into_iter().map(|(_, row)| row).collect();
}

/// Where each of `keys` was: for `keep_order`.
pub fn places<'a>(keys: impl Iterator<Item = &'a str>) -> HashMap<&'a str, usize> {
    keys.enumerate().map(|(i, k)| (k, i)).collect()
}

/// `/text` keeps matches, `/!text` drops them; case and accents do not
/// matter, and the text may be anywhere in a column (`finding`).
#[derive(Debug)]
pub struct TextFilter {
    needle: Option<Needle>,
    invert: bool,
}

impl TextFilter {
    pub fn new(text: &str) -> TextFilter {
        let (text, invert) = match text.strip_prefix('!') {
            Some(rest) => (rest, true),
            None => (text, false),
        };
        TextFilter {
            needle: (!text.is_empty()).then(|| Needle::substring(text)),
            invert,
        }
    }

    pub fn matches(&self, text: &str) -> bool {
        self.matches_any(&[text])
    }

    /// A row matches when any of its texts holds the needle; inverted,
    /// when none of them does.
    pub fn matches_any(&self, texts: &[&str]) -> bool {
        match &self.needle {
            None => true,
            Some(needle) => texts.iter().any(|t| needle.is_in(t)) != self.invert,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn follow(state: &mut PaneState<&'static str>, moved: bool, rows: &[&'static str]) {
        state.follow(
            moved,
            rows.len(),
            |row| rows.get(row).copied(),
            |key| rows.iter().position(|r| r == key),
        );
    }

    #[test]
    fn the_cursor_follows_its_row_unless_the_operator_moved() {
        let mut state = PaneState::default();
        follow(&mut state, false, &["a", "b", "c"]);
        state.step(Movement::Down);
        follow(&mut state, true, &["a", "b", "c"]);
        assert_eq!(state.cursor, 1);
        follow(&mut state, false, &["new", "a", "b", "c"]);
        assert_eq!(state.cursor, 2, "still on b");
        follow(&mut state, false, &["a", "c"]);
        assert_eq!(state.cursor, 1, "b went: the cursor stays where it was, on c");
        state.step(Movement::Bottom);
        follow(&mut state, true, &["a", "c"]);
        assert_eq!(state.cursor, 1, "stopped at the last row");
        state.step(Movement::PageUp);
        follow(&mut state, true, &[]);
        assert_eq!(state.cursor, 0);
    }

    #[test]
    fn filters_match_any_column_and_invert_with_a_bang() {
        assert!(TextFilter::new("").matches("anything"));
        assert!(TextFilter::new("ECHO").matches_any(&["Berlin", "Echo Dot"]));
        assert!(!TextFilter::new("!echo").matches_any(&["Berlin", "Echo Dot"]));
        assert!(TextFilter::new("!echo").matches("Amazon Tap"));
        assert!(TextFilter::new("sao").matches("São Paulo"), "accents do not matter");
        assert!(TextFilter::new("paulista").matches("São Paulo Paulista"));
    }
}
