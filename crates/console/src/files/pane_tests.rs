//! The file pane's behaviour through `update`, as keys and the jobs'
//! answers (listings, previews, upload reports) drive it.

use super::TransferResult;
use crate::files::listing::list_dir;
use crate::messages::{Effect, Msg};
use crate::test_support::{app, asked_listing, asked_preview, deliver_listing, press, samples_dir, with_files};
use crate::update::update;
use ratatui::crossterm::event::KeyCode;
use stockwatch_domain::preview::Preview;

#[test]
fn browsing_enters_directories_goes_up_and_previews_csv_files() {
    let mut app = with_files();
    // Directories first: invalid/ is on top; entering it asks for a listing.
    assert_eq!(
        asked_listing(&press(&mut app, KeyCode::Enter)).0,
        samples_dir().join("invalid")
    );
    // Moving onto a CSV file previews it.
    let effects = press(&mut app, KeyCode::Char('j'));
    assert_eq!(asked_preview(&effects).0, samples_dir().join("inventory-berlin.csv"));
    assert!(
        press(&mut app, KeyCode::Char('.')).is_empty(),
        "toggling hidden files needs no I/O"
    );
    assert_eq!(
        asked_listing(&press(&mut app, KeyCode::Char('h'))).0,
        samples_dir().parent().unwrap()
    );
}

#[test]
fn marks_upload_together_and_results_show_per_file() {
    let mut app = with_files();
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char(' '));
    assert_eq!(app.files.marks.len(), 2);
    let effects = press(&mut app, KeyCode::Char('u'));
    let [Effect::Upload(started)] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(started.len(), 2);
    assert!(app.files.marks.is_empty());
    let (id, _) = started[0];
    update(
        &mut app,
        Msg::TransferProgress {
            id,
            sent: 50,
            total: 100,
        },
    );
    assert_eq!(app.files.transfers[0].sent, 50);
    update(
        &mut app,
        Msg::TransferDone {
            id,
            result: TransferResult::Loaded {
                rows: 6,
                changed: 6,
                alerts: 1,
                source_changed: false,
            },
        },
    );
    assert!(app.files.transfers[0].result.is_some());
    assert_eq!(
        press(&mut app, KeyCode::Char('x')),
        [Effect::Cancel(started[1].0)],
        "x cancels the one still running"
    );
    let other = started[1].0;
    update(
        &mut app,
        Msg::TransferProgress {
            id: other,
            sent: 100,
            total: 100,
        },
    );
    assert!(
        press(&mut app, KeyCode::Char('x')).is_empty(),
        "a file already loading is not cancelled"
    );
    assert!(app.message.as_deref().unwrap().contains("all or nothing"));
}

#[test]
fn read_only_browses_and_previews_but_never_uploads() {
    let mut app = app(true);
    app.files.dir = samples_dir();
    let effects = press(&mut app, KeyCode::Char('f'));
    deliver_listing(&mut app, &effects);
    assert!(!press(&mut app, KeyCode::Char('j')).is_empty(), "previews still work");
    assert!(press(&mut app, KeyCode::Char('u')).is_empty());
    assert!(app.message.as_deref().unwrap().starts_with("read-only"));
}

#[test]
fn a_slow_listing_of_a_directory_left_behind_is_dropped() {
    let mut app = with_files();
    // Enter invalid/, then go back up before its listing arrives.
    let (invalid, older) = asked_listing(&press(&mut app, KeyCode::Enter));
    let (parent, newer) = asked_listing(&press(&mut app, KeyCode::Char('h')));
    assert!(!older.is_current(), "the listing job left behind sees it is superseded");
    update(
        &mut app,
        Msg::Listed {
            listing: list_dir(&parent),
            ticket: newer,
        },
    );
    update(
        &mut app,
        Msg::Listed {
            listing: list_dir(&invalid),
            ticket: older,
        },
    );
    assert_eq!(app.files.dir, parent, "the directory asked for last wins");
}

#[test]
fn a_late_preview_of_a_file_no_longer_selected_is_dropped() {
    let mut app = with_files();
    let (berlin, older) = asked_preview(&press(&mut app, KeyCode::Char('j')));
    let (next, newer) = asked_preview(&press(&mut app, KeyCode::Char('j')));
    assert!(!older.is_current(), "selecting another file stops the first preview");
    let late = Msg::Previewed {
        path: berlin,
        preview: Box::new(Preview::default()),
        ticket: older,
    };
    update(&mut app, late);
    assert_eq!(app.files.preview.as_ref().map(|(p, _)| p), Some(&next));
    let done = Msg::Previewed {
        path: next.clone(),
        preview: Box::new(Preview::default()),
        ticket: newer,
    };
    update(&mut app, done);
    assert_eq!(app.files.preview.as_ref().map(|(p, _)| p), Some(&next));
}

#[test]
fn a_finished_upload_keeps_its_result_and_a_directory_clears_the_preview() {
    let mut app = with_files();
    let (_, ticket) = asked_preview(&press(&mut app, KeyCode::Char('j')));
    assert!(app.files.preview.is_some(), "a CSV file is previewed");
    press(&mut app, KeyCode::Char('k'));
    assert!(app.files.preview.is_none(), "a directory has no preview");
    assert!(!ticket.is_current(), "and the preview under way stops");
    press(&mut app, KeyCode::Char('j'));
    let effects = press(&mut app, KeyCode::Char('u'));
    let [Effect::Upload(started)] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    let id = started[0].0;
    let loaded = TransferResult::Loaded {
        rows: 6,
        changed: 6,
        alerts: 0,
        source_changed: false,
    };
    update(&mut app, Msg::TransferDone { id, result: loaded });
    let late = TransferResult::Failed("cancelled".into());
    update(&mut app, Msg::TransferDone { id, result: late });
    assert!(matches!(
        app.files.transfers[0].result,
        Some(TransferResult::Loaded { .. })
    ));
}
