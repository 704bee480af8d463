//! Key bindings as data: TOML files under keymaps/, one table per context.
//! The defaults are embedded; a user file overrides them action by action
//! (an empty list unbinds). Unknown actions, unknown keys and two actions on
//! one key in one context are errors naming the file and line. A renamed
//! action keeps its old name as an alias, so users' files keep working. The
//! help overlay is generated from the live map.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use toml::Spanned;

pub const DEFAULT: &str = include_str!("../../keymaps/default.toml");
pub const ARROWS: &str = include_str!("../../keymaps/arrows.toml");

/// The built-in sets, by name.
pub fn builtin(name: &str) -> Option<&'static str> {
    match name {
        "default" => Some(DEFAULT),
        "arrows" => Some(ARROWS),
        _ => None,
    }
}

/// A table of a keymap file: where its bindings apply. A key is looked up
/// in the focused pane's contexts, most specific first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyContext {
    Global,
    List,
    Stock,
    Alerts,
    Files,
}

impl KeyContext {
    pub const ALL: [KeyContext; 5] = [
        KeyContext::Global,
        KeyContext::List,
        KeyContext::Stock,
        KeyContext::Alerts,
        KeyContext::Files,
    ];

    pub fn name(self) -> &'static str {
        match self {
            KeyContext::Global => "global",
            KeyContext::List => "list",
            KeyContext::Stock => "stock",
            KeyContext::Alerts => "alerts",
            KeyContext::Files => "files",
        }
    }

    fn parse(name: &str) -> Option<KeyContext> {
        KeyContext::ALL.into_iter().find(|c| c.name() == name)
    }
}

macro_rules! actions {
    ($($action:ident $name:literal $([$($old:literal),+])? $context:ident $writes:literal $help:literal,)+) => {
        /// Everything a key can do, by the name keymap files give it. Old
        /// names stay accepted as serde aliases, so users' keymap files keep
        /// working after a rename.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
        pub enum Action { $(#[serde(rename = $name $($(, alias = $old)+)?)] $action,)+ }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$action,)+];

            pub fn name(self) -> &'static str {
                match self { $(Action::$action => $name,)+ }
            }

            pub fn context(self) -> KeyContext {
                match self { $(Action::$action => KeyContext::$context,)+ }
            }

            /// Whether the action changes something (refused in --read-only).
            pub fn writes(self) -> bool {
                match self { $(Action::$action => $writes,)+ }
            }

            pub fn help(self) -> &'static str {
                match self { $(Action::$action => $help,)+ }
            }
        }
    };
}

impl Action {
    /// The action a keymap file names, by its name or an old one.
    pub fn from_name(name: &str) -> Option<Action> {
        use serde::de::value::{Error, StrDeserializer};
        Action::deserialize(StrDeserializer::<Error>::new(name)).ok()
    }
}

actions! {
    Help "help" Global false "show or hide this help",
    Command "command" Global false "command mode (:store NAME, :alerts, :q)",
    Filter "filter" Global false "filter the focused list (/!text inverts)",
    Quit "quit" Global false "quit",
    NextPane "next_pane" Global false "focus the next pane",
    PreviousPane "previous_pane" Global false "focus the previous pane",
    Back "back" Global false "close, cancel or clear the filter",
    Pause "pause" Global false "pause or resume the live view",
    Out "out" ["all_stores"] Global false "every out-of-stock item across stores (:out)",
    Redraw "redraw" ["refresh"] Global false "redraw the screen",
    Files "files" Global false "show or hide the file pane (preview and upload CSV files)",
    Up "up" List false "move up",
    Down "down" List false "move down",
    Top "top" List false "go to the first row",
    Bottom "bottom" List false "go to the last row",
    PageUp "page_up" List false "one page up",
    PageDown "page_down" List false "one page down",
    Open "open" List false "open the selected store",
    SortNext "sort_next" Stock false "sort by the next column",
    SortReverse "sort_reverse" Stock false "reverse the sort order",
    Acknowledge "acknowledge" Alerts true "acknowledge the selected alert",
    AcknowledgeAll "acknowledge_all" Alerts true "acknowledge every visible alert (asks first)",
    Parent "parent" Files false "go up to the parent directory",
    Mark "mark" Files false "mark or unmark the file for upload",
    Upload "upload" Files true "upload the marked files (or the selected one)",
    ToggleHidden "hidden" Files false "show or hide hidden files",
    CancelTransfer "cancel" Files true "cancel the newest running upload",
}

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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("keymap {file}, line {line}: {message}")]
pub struct KeymapError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// Where a binding came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    file: String,
    line: usize,
}

type RawFile = BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<Vec<Spanned<String>>>>>;

/// The live key map.
#[derive(Debug, Clone)]
pub struct Keymap {
    keys: BTreeMap<Action, Vec<Key>>,
    by_key: HashMap<(KeyContext, Key), Action>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|&b| b == b'\n').count() + 1
}

impl Keymap {
    /// A base set (embedded) with an optional user file over it.
    pub fn load(base: (&str, &str), user: Option<(&str, &str)>) -> Result<Keymap, KeymapError> {
        let mut bindings: BTreeMap<Action, (Vec<(Key, usize)>, String)> = BTreeMap::new();
        for (file, text) in std::iter::once(base).chain(user) {
            for (action, keys) in parse_file(file, text)? {
                bindings.insert(action, (keys, file.to_string()));
            }
        }
        let mut by_key: HashMap<(KeyContext, Key), (Action, Origin)> = HashMap::new();
        let mut keys = BTreeMap::new();
        for (action, (list, file)) in &bindings {
            for &(key, line) in list {
                let here = Origin {
                    file: file.clone(),
                    line,
                };
                if let Some((other, there)) = by_key.insert((action.context(), key), (*action, here.clone())) {
                    return Err(KeymapError {
                        file: here.file,
                        line,
                        message: format!(
                            "`{key}` is bound to both `{}` ({}, line {}) and `{}` in [{}]; give one of them another key",
                            other.name(),
                            there.file,
                            there.line,
                            action.name(),
                            action.context().name()
                        ),
                    });
                }
            }
            keys.insert(*action, list.iter().map(|(k, _)| *k).collect());
        }
        Ok(Keymap {
            keys,
            by_key: by_key.into_iter().map(|(k, (a, _))| (k, a)).collect(),
        })
    }

    /// The action of a key in the first of `contexts` that binds it.
    pub fn action(&self, contexts: &[KeyContext], event: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(event)?;
        contexts.iter().find_map(|c| self.by_key.get(&(*c, key)).copied())
    }

    pub fn keys_of(&self, action: Action) -> &[Key] {
        self.keys.get(&action).map_or(&[], Vec::as_slice)
    }

    /// "q, ctrl-c" for the help overlay and hints.
    pub fn describe_keys(&self, action: Action) -> String {
        let keys: Vec<String> = self.keys_of(action).iter().map(Key::to_string).collect();
        if keys.is_empty() {
            "(unbound)".into()
        } else {
            keys.join(", ")
        }
    }

    /// (context, keys, action, what it does), in the order of the action list.
    pub fn help(&self, read_only: bool) -> Vec<(KeyContext, String, Action, &'static str)> {
        Action::ALL
            .iter()
            .filter(|a| !(read_only && a.writes()))
            .map(|&a| (a.context(), self.describe_keys(a), a, a.help()))
            .collect()
    }
}

/// An action's keys, each with the line it is written on.
type Binding = (Action, Vec<(Key, usize)>);

fn parse_file(file: &str, text: &str) -> Result<Vec<Binding>, KeymapError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| KeymapError {
        file: file.into(),
        line: e.span().map_or(1, |s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    let mut out = Vec::new();
    let mut named: HashMap<Action, (String, usize)> = HashMap::new();
    for (context_name, actions) in raw {
        let line = line_of(text, context_name.span().start);
        let context = KeyContext::parse(context_name.get_ref()).ok_or_else(|| KeymapError {
            file: file.into(),
            line,
            message: format!(
                "unknown context [{}]; contexts are {}",
                crate::domain::escape_for_terminal(context_name.get_ref()),
                KeyContext::ALL.map(|c| format!("[{}]", c.name())).join(", ")
            ),
        })?;
        for (action_name, keys) in actions {
            let line = line_of(text, action_name.span().start);
            let action = Action::from_name(action_name.get_ref())
                .filter(|a| a.context() == context)
                .ok_or_else(|| {
                    let known: Vec<&str> = Action::ALL
                        .iter()
                        .filter(|a| a.context() == context)
                        .map(|a| a.name())
                        .collect();
                    KeymapError {
                        file: file.into(),
                        line,
                        message: format!(
                            "unknown action `{}` in [{}]; actions there are {}",
                            crate::domain::escape_for_terminal(action_name.get_ref()),
                            context.name(),
                            known.join(", ")
                        ),
                    }
                })?;
            // An old name beside the new one: which list is meant is anyone's guess.
            if let Some((other, other_line)) = named.insert(action, (action_name.get_ref().clone(), line)) {
                return Err(KeymapError {
                    file: file.into(),
                    line,
                    message: format!(
                        "`{}` and `{}` (line {other_line}) both name `{}`; keep one of them",
                        crate::domain::escape_for_terminal(action_name.get_ref()),
                        crate::domain::escape_for_terminal(&other),
                        action.name()
                    ),
                });
            }
            let mut parsed = Vec::new();
            for key in keys.into_inner() {
                let line = line_of(text, key.span().start);
                let parsed_key = Key::parse(key.get_ref()).ok_or_else(|| KeymapError {
                    file: file.into(),
                    line,
                    message: format!(
                        "`{}` is not a key; write keys like \"q\", \"G\", \"?\", \"enter\", \"f5\", \"pageup\", \"ctrl-c\"",
                        crate::domain::escape_for_terminal(key.get_ref())
                    ),
                })?;
                parsed.push((parsed_key, line));
            }
            out.push((action, parsed));
        }
    }
    Ok(out)
}

#[cfg(test)]
#[path = "keymap_tests.rs"]
mod tests;
