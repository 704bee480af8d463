//! Key bindings as data: TOML files under keymaps/, one table per context.
//! The defaults are embedded; a user file overrides them action by action
//! (an empty list unbinds). Unknown actions, unknown keys and two actions on
//! one key in one context are errors naming the file and line. A renamed
//! action keeps its old name as an alias, so users' files keep working. The
//! help overlay is generated from the live map.

mod actions;
mod key;

pub use actions::{Action, KeyContext};
pub use key::Key;
use ratatui::crossterm::event::KeyEvent;
use std::collections::{BTreeMap, HashMap};
use toml::Spanned;

pub const DEFAULT: &str = include_str!("../../../../keymaps/default.toml");
pub const ARROWS: &str = include_str!("../../../../keymaps/arrows.toml");

/// The built-in sets, by name.
pub fn builtin(name: &str) -> Option<&'static str> {
    match name {
        "default" => Some(DEFAULT),
        "arrows" => Some(ARROWS),
        _ => None,
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
        let mut named_at: BTreeMap<Action, (String, usize)> = BTreeMap::new();
        for (file, text) in std::iter::once(base).chain(user) {
            for (action, keys, line) in parse_file(file, text)? {
                bindings.insert(action, (keys, file.to_string()));
                named_at.insert(action, (file.to_string(), line));
            }
        }
        // Unbinding `quit` leaves the console no way out but a kill.
        if bindings.get(&Action::Quit).is_none_or(|(keys, _)| keys.is_empty()) {
            let (file, line) = named_at
                .remove(&Action::Quit)
                .unwrap_or_else(|| (base.0.to_string(), 1));
            return Err(KeymapError {
                file,
                line,
                message: "`quit` has no key: the console could not be left but by killing it; give it one (the \
                          built-in key is \"q\")"
                    .into(),
            });
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
                    // Said where the user can change it: their file's line
                    // rather than the built-in set's.
                    let (here, there, action, other) = if here.file == base.0 && there.file != base.0 {
                        (there, here, other, *action)
                    } else {
                        (here, there, *action, other)
                    };
                    let line = here.line;
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
        check_shadows(&by_key, base.0)?;
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

    /// The first key of an action, for short hints ("j/k scroll").
    pub fn first_key(&self, action: Action) -> String {
        self.keys_of(action)
            .first()
            .map_or_else(|| "(unbound)".into(), Key::to_string)
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

/// A key bound in a pane's table and in a table looked at after it (the
/// [list] or [global] one) would never reach the second action there.
fn check_shadows(by_key: &HashMap<(KeyContext, Key), (Action, Origin)>, base: &str) -> Result<(), KeymapError> {
    let mut found: Vec<KeymapError> = Vec::new();
    for chain in KeyContext::CHAINS {
        for (i, near) in chain.iter().enumerate() {
            for far in &chain[i + 1..] {
                for ((context, key), (action, origin)) in by_key {
                    if context != near {
                        continue;
                    }
                    if let Some((shadowed, there)) = by_key.get(&(*far, *key)) {
                        // Said at the user's binding when one of the two
                        // is theirs: the built-in set is not theirs to edit.
                        // Each action is named with its table; the other
                        // binding with where it is written.
                        let near_binding = (action.name(), near.name());
                        let far_binding = (shadowed.name(), far.name());
                        let (at, (mine, my_table), other, (theirs, their_table)) =
                            if origin.file == base && there.file != base {
                                (there, far_binding, origin, near_binding)
                            } else {
                                (origin, near_binding, there, far_binding)
                            };
                        found.push(KeymapError {
                            file: at.file.clone(),
                            line: at.line,
                            message: format!(
                                "`{key}` is bound to `{mine}` in [{my_table}] and to `{theirs}` in [{their_table}] ({}, line {}); where both apply the [{}] one never runs; give one of them another key",
                                other.file,
                                other.line,
                                far.name()
                            ),
                        });
                    }
                }
            }
        }
    }
    // The user's file first (theirs to change), then in the files' order,
    // so the report does not change from run to run.
    found.sort_by(|a, b| {
        (a.file == base, &a.file, a.line, &a.message).cmp(&(b.file == base, &b.file, b.line, &b.message))
    });
    found.into_iter().next().map_or(Ok(()), Err)
}

/// An action's keys, each with the line it is written on.
/// An action, its keys (each with its line) and the line naming it.
type Binding = (Action, Vec<(Key, usize)>, usize);

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
                stockwatch_domain::escape_for_terminal(context_name.get_ref()),
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
                            stockwatch_domain::escape_for_terminal(action_name.get_ref()),
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
                        stockwatch_domain::escape_for_terminal(action_name.get_ref()),
                        stockwatch_domain::escape_for_terminal(&other),
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
                        stockwatch_domain::escape_for_terminal(key.get_ref())
                    ),
                })?;
                parsed.push((parsed_key, line));
            }
            out.push((action, parsed, line));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
