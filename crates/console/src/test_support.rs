//! What the console's unit tests share: rows, alerts, apps loaded with
//! them, key presses, and the runtime's part in listing directories.

use super::app::{App, Settings};
use super::clock::Clock;
use super::files::listing::list_dir;
use super::keymap::{DEFAULT, Keymap};
use super::latest::Ticket;
use super::messages::{Effect, Msg};
use super::update::update;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::PathBuf;
use stockwatch_core::live::LiveStock;
use stockwatch_core::ports::{Change, ChangeKind, Image, StockRow};
use stockwatch_domain::{Alert, AlertKind, AlertState, Thresholds, Timestamp};

pub fn row(store: &str, item: &str, count: u32) -> StockRow {
    StockRow {
        store: store.into(),
        item: item.into(),
        count,
        as_of: Timestamp(1),
        updated_at: Timestamp(1),
        source: "k".into(),
    }
}

/// An app on the default keymap (LOW at 3) with `rows` loaded.
pub fn app_with(rows: Vec<StockRow>, read_only: bool) -> App {
    let keymap = Keymap::load(("default", DEFAULT), None).unwrap();
    let settings = Settings {
        read_only,
        ..Settings::new("local: /data", "/logs/stockwatch.log")
    };
    // UTC, on the day of the rows' as-of: times show as 00:00.
    let clock = Clock::utc(Timestamp(1));
    let mut app = App::new(LiveStock::new(Thresholds::new(3)), keymap, settings, clock);
    update(&mut app, Msg::Rows(rows));
    update(&mut app, Msg::SnapshotDone);
    app
}

/// Three stores: Pusan (one out, one low), Berlin (one out), Karachi.
pub fn app(read_only: bool) -> App {
    let rows = vec![
        row("Berlin", "Echo Dot", 12),
        row("Berlin", "Echo Plus", 0),
        row("Pusan", "Echo Show", 0),
        row("Pusan", "Amazon Tap", 3),
        row("Pusan", "Echo Dot", 20),
        row("Karachi", "Echo Dot", 19),
    ];
    app_with(rows, read_only)
}

pub fn alert(id: &str, store: &str, item: &str, state: AlertState) -> Alert {
    Alert {
        id: id.parse().unwrap(),
        transition: String::new(),
        change_id: format!("c{id}"),
        kind: AlertKind::Out,
        store: store.into(),
        item: item.into(),
        count: 0,
        threshold: 3,
        as_of: Timestamp(1),
        source: "k".into(),
        raised_at: Timestamp(1),
        state,
        acknowledged: None,
        resolved_at: None,
        published_at: None,
        version: 1,
        reminders: 0,
    }
}

/// A change from the feed: `old` → `new` counts (`None`: no row), the new
/// one as of `as_of`, from file `k`.
pub fn change(store: &str, item: &str, old: Option<u32>, new: Option<u32>, as_of: i64) -> Change {
    let image = |count| Image {
        count,
        as_of: Timestamp(as_of),
        source: "k".into(),
    };
    Change {
        id: format!("{store}/{item}/{as_of}"),
        kind: if old.is_some() {
            ChangeKind::Modify
        } else {
            ChangeKind::Insert
        },
        store: store.into(),
        item: item.into(),
        old: old.map(|count| Image {
            as_of: Timestamp(1),
            ..image(count)
        }),
        new: new.map(image),
        at: Timestamp(as_of),
    }
}

/// Hands changes to the console as the feed task does, received at `seen_at`.
pub fn deliver_changes(app: &mut App, changes: Vec<Change>, seen_at: i64) -> Vec<Effect> {
    update(
        app,
        Msg::Changes {
            changes,
            seen_at: Timestamp(seen_at),
        },
    )
}

pub fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    let modifiers = if matches!(code, KeyCode::Char(c) if c.is_ascii_uppercase()) {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    update(app, Msg::Key(KeyEvent::new(code, modifiers)))
}

pub fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

/// A copy of samples/ as the file-pane tests know it: the sample files and
/// invalid/, so a folder added to samples/ (history/) moves no test's rows.
pub fn samples_dir() -> PathBuf {
    static COPY: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let copy = COPY.get_or_init(|| {
        let original = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples");
        let copy = tempfile::tempdir().unwrap();
        for folder in ["", "invalid"] {
            let to = copy.path().join("samples").join(folder);
            std::fs::create_dir_all(&to).unwrap();
            for entry in std::fs::read_dir(original.join(folder)).unwrap() {
                let entry = entry.unwrap();
                if entry.file_type().unwrap().is_file() {
                    std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
                }
            }
        }
        copy
    });
    copy.path().join("samples")
}

/// The one directory `effects` ask to list, with its ticket.
pub fn asked_listing(effects: &[Effect]) -> (PathBuf, Ticket) {
    match effects {
        [Effect::List { dir, ticket }] => (dir.clone(), ticket.clone()),
        _ => panic!("one listing asked for: {effects:?}"),
    }
}

/// The one file `effects` ask to preview, with its ticket.
pub fn asked_preview(effects: &[Effect]) -> (PathBuf, Ticket) {
    match effects {
        [Effect::Preview { path, ticket }] => (path.clone(), ticket.clone()),
        _ => panic!("one preview asked for: {effects:?}"),
    }
}

/// Lists the directory `effects` ask for and hands it back, as the runtime does.
pub fn deliver_listing(app: &mut App, effects: &[Effect]) {
    let (dir, ticket) = asked_listing(effects);
    update(
        app,
        Msg::Listed {
            listing: list_dir(&dir),
            ticket,
        },
    );
}

/// `app(false)` with the file pane open on samples/ and focused.
pub fn with_files() -> App {
    let mut app = app(false);
    app.files.dir = samples_dir();
    let effects = press(&mut app, KeyCode::Char('f'));
    assert_eq!(
        asked_listing(&effects).0,
        samples_dir(),
        "opening the pane lists its directory"
    );
    assert_eq!(app.focus, super::pane::Pane::Files);
    deliver_listing(&mut app, &effects);
    app
}

/// The screen `view` draws at `width` × `height`, without colour, line by line.
pub fn screen_lines(app: &App, width: u16, height: u16) -> Vec<String> {
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| crate::view::view(frame, app, crate::theme::Theme { colour: false }))
        .unwrap();
    let buffer = terminal.backend().buffer().clone();
    (0..height)
        .map(|y| (0..width).map(|x| buffer[(x, y)].symbol()).collect::<String>())
        .collect()
}
