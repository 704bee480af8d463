use super::*;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, modifiers)
}

fn defaults() -> Keymap {
    Keymap::load(("keymaps/default.toml", DEFAULT), None).unwrap()
}

#[test]
fn every_action_is_bound_in_both_builtin_sets() {
    for (name, text) in [("default", DEFAULT), ("arrows", ARROWS)] {
        let map = Keymap::load((name, text), None).unwrap();
        for action in Action::ALL {
            assert!(
                !map.keys_of(*action).is_empty(),
                "{name} leaves `{}` unbound",
                action.name()
            );
        }
    }
}

#[test]
fn keys_resolve_in_the_most_specific_context_first() {
    let map = defaults();
    let contexts = [KeyContext::Alerts, KeyContext::List, KeyContext::Global];
    assert_eq!(
        map.action(&contexts, &key(KeyCode::Char('a'), KeyModifiers::NONE)),
        Some(Action::Acknowledge)
    );
    assert_eq!(
        map.action(&contexts, &key(KeyCode::Char('A'), KeyModifiers::SHIFT)),
        Some(Action::AcknowledgeAll)
    );
    assert_eq!(
        map.action(&contexts, &key(KeyCode::Char('j'), KeyModifiers::NONE)),
        Some(Action::Down)
    );
    assert_eq!(
        map.action(&contexts, &key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        Some(Action::Quit)
    );
    assert_eq!(
        map.action(&contexts, &key(KeyCode::Char('G'), KeyModifiers::SHIFT)),
        Some(Action::Bottom)
    );
    assert_eq!(
        map.action(&contexts, &key(KeyCode::BackTab, KeyModifiers::SHIFT)),
        Some(Action::PreviousPane)
    );
    assert_eq!(
        map.action(
            &[KeyContext::Stock, KeyContext::List, KeyContext::Global],
            &key(KeyCode::Char('a'), KeyModifiers::NONE)
        ),
        None
    );
}

#[test]
fn a_user_file_overrides_action_by_action_and_can_unbind() {
    let user = "[global]\nquit = [\"ctrl-q\"]\n\n[alerts]\nacknowledge_all = []\n";
    let map = Keymap::load(("default", DEFAULT), Some(("~/.config/stockwatch/keymap.toml", user))).unwrap();
    assert_eq!(map.describe_keys(Action::Quit), "ctrl-q");
    assert_eq!(map.describe_keys(Action::AcknowledgeAll), "(unbound)");
    assert_eq!(
        map.describe_keys(Action::Help),
        "?",
        "untouched actions keep their defaults"
    );
    assert_eq!(
        map.action(&[KeyContext::Global], &key(KeyCode::Char('q'), KeyModifiers::NONE)),
        None
    );
}

#[test]
fn errors_name_the_file_and_line() {
    let load = |user: &str| {
        Keymap::load(("default", DEFAULT), Some(("keymap.toml", user)))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        load("[stock]\nsort_next = [\"s\"]\nsort_sideways = [\"x\"]\n"),
        "keymap keymap.toml, line 3: unknown action `sort_sideways` in [stock]; actions there are sort_next, sort_reverse"
    );
    assert!(
        load("[global]\n\nhelp = [\"ctrl-shift-\"]\n")
            .starts_with("keymap keymap.toml, line 3: `ctrl-shift-` is not a key")
    );
    assert!(load("[panes]\nx = []\n").starts_with("keymap keymap.toml, line 1: unknown context [panes]"));
    let clash = load("[alerts]\nacknowledge = [\"x\"]\nacknowledge_all = [\"x\"]\n");
    assert!(
        clash.contains("line 3") && clash.contains("`x` is bound to both `acknowledge` (keymap.toml, line 2)"),
        "{clash}"
    );
    let with_default = load("[list]\nopen = [\"j\"]\n");
    assert!(
        with_default.contains("`j` is bound to both") && with_default.contains("default, line"),
        "{with_default}"
    );
    assert!(load("[global\n").starts_with("keymap keymap.toml, line 1:"));
}

#[test]
fn keys_round_trip_through_their_names() {
    for text in [
        "q", "G", "?", ":", "enter", "esc", "backtab", "space", "pageup", "f5", "ctrl-c", "alt-x", "shift-f9",
    ] {
        assert_eq!(Key::parse(text).unwrap().to_string(), text);
    }
    assert!(Key::parse("ctrl-").is_none());
    assert!(
        Key::parse("shift-a").is_none(),
        "write \"A\" for shift-a: it could never match a key press"
    );
    assert_eq!(Key::parse("ctrl-C"), Key::parse("ctrl-c"));
    assert!(Key::parse("f13").is_none());
    assert!(Key::parse("\u{1b}").is_none());
}

#[test]
fn every_bound_key_reads_back_as_itself() {
    for (name, text) in [("default", DEFAULT), ("arrows", ARROWS)] {
        let map = Keymap::load((name, text), None).unwrap();
        for action in Action::ALL {
            for key in map.keys_of(*action) {
                assert_eq!(Key::from_event(&key.to_event()), Some(*key), "{name}: {key}");
            }
        }
    }
}

#[test]
fn help_comes_from_the_live_map_and_hides_writes_when_read_only() {
    let map = defaults();
    let help = map.help(false);
    assert!(
        help.iter()
            .any(|(_, keys, action, _)| *action == Action::Acknowledge && keys == "a")
    );
    assert!(map.help(true).iter().all(|(_, _, action, _)| !action.writes()));
}

#[test]
fn old_action_names_still_bind_and_the_help_uses_the_new_ones() {
    let user = "[global]\nall_stores = [\"O\"]\nrefresh = [\"f5\"]\n";
    let map = Keymap::load(("default", DEFAULT), Some(("keymap.toml", user))).unwrap();
    assert_eq!(map.describe_keys(Action::Out), "O");
    assert_eq!(map.describe_keys(Action::Redraw), "f5");
    assert_eq!(Action::from_name("out"), Some(Action::Out));
    assert_eq!(Action::from_name("redraw"), Some(Action::Redraw));
    assert_eq!(Action::from_name("hidden"), Some(Action::ToggleHidden));
    assert_eq!(Action::from_name("cancel"), Some(Action::CancelTransfer));
    assert_eq!(
        Action::ALL
            .iter()
            .map(|a| Action::from_name(a.name()))
            .collect::<Vec<_>>(),
        Action::ALL.iter().copied().map(Some).collect::<Vec<_>>(),
        "every action is found by the name the help and errors give it"
    );
    let both = Keymap::load(
        ("default", DEFAULT),
        Some(("keymap.toml", "[global]\nout = [\"o\"]\nall_stores = [\"O\"]\n")),
    )
    .unwrap_err()
    .to_string();
    assert!(both.contains("both name `out`"), "{both}");
}

#[test]
fn a_keymap_that_leaves_no_way_out_is_refused() {
    let user = "[global]\nhelp = []\ncommand = []\nsuspend = []\n\nquit = []\n";
    let error = Keymap::load(("default", DEFAULT), Some(("keymap.toml", user))).unwrap_err();
    assert_eq!((error.file.as_str(), error.line), ("keymap.toml", 6), "{error}");
    assert!(error.message.contains("`quit` has no key"), "{error}");
    // Any one key for it is enough.
    let user = "[global]\nquit = [\"ctrl-q\"]\nhelp = []\n";
    assert!(Keymap::load(("default", DEFAULT), Some(("keymap.toml", user))).is_ok());
}
