//! What an operator who keeps the console open all day relies on, through
//! `update` and `view`: new alerts seen (followed, counted, rung), an
//! alert's item opened, acknowledging with a note, a whole pause, messages
//! that expire, prompts that edit and complete, the file pane kept current,
//! quitting that asks, the mouse.

use super::app::{App, Mode};
use super::messages::{Effect, Msg};
use super::pane::Pane;
use super::test_support::{
    alert, app, asked_listing, change, deliver_changes, deliver_listing, press, row, samples_dir, typed, with_files,
};
use super::update::update;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use stockwatch_domain::{AlertId, AlertKind, AlertState, Timestamp};

fn screen(app: &App, width: u16, height: u16) -> String {
    super::test_support::screen_lines(app, width, height).join("\n")
}

fn ctrl(app: &mut App, c: char) -> Vec<Effect> {
    update(app, Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)))
}

fn open_alert(id: &str, store: &str, item: &str) -> stockwatch_domain::Alert {
    alert(id, store, item, AlertState::Open)
}

/// `app(false)` with alerts #1..#n already in the ledger at start.
fn with_alerts(n: u64) -> App {
    let mut app = app(false);
    let alerts = (1..=n)
        .map(|i| open_alert(&i.to_string(), "Berlin", &format!("item {i}")))
        .collect();
    update(&mut app, Msg::AlertsLoaded(alerts));
    app
}

#[test]
fn new_alerts_ring_the_bell_and_count_as_new_until_seen() {
    let mut app = with_alerts(3);
    assert_eq!(app.new_alerts(), 0, "what was there at start is not new");
    let effects = update(&mut app, Msg::Alerts(vec![open_alert("4", "Pusan", "Echo Show")]));
    assert_eq!(effects, [Effect::Bell], "a new OUT alert rings the bell");
    assert_eq!(app.new_alerts(), 1);
    assert!(screen(&app, 80, 24).contains(" 1 new "), "the status bar says so");

    let mut low = open_alert("5", "Pusan", "Amazon Tap");
    low.kind = AlertKind::Low;
    assert_eq!(update(&mut app, Msg::Alerts(vec![low])), [], "LOW does not ring");
    let again = update(&mut app, Msg::Alerts(vec![open_alert("4", "Pusan", "Echo Show")]));
    assert_eq!(again, [], "an alert already known does not ring again");

    // The newest are in view (the list follows them): a key means seen.
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.new_alerts(), 0);
    assert!(!screen(&app, 80, 24).contains(" new "));

    app.settings.bell = false;
    assert_eq!(update(&mut app, Msg::Alerts(vec![open_alert("6", "Oslo", "Tap")])), []);
}

#[test]
fn a_scrolled_alerts_list_keeps_its_place_and_says_how_many_are_new() {
    let mut app = with_alerts(30);
    app.focus = Pane::Alerts;
    for _ in 0..12 {
        press(&mut app, KeyCode::Char('j'));
    }
    let kept = app.alerts.selected();
    for id in 31..=33 {
        update(&mut app, Msg::Alerts(vec![open_alert(&id.to_string(), "Oslo", "Tap")]));
    }
    assert_eq!(app.alerts.selected(), kept, "the operator's alert stays selected");
    assert_eq!(app.new_alerts(), 3, "not seen: they are above, out of view");
    let screen = screen(&app, 80, 24);
    assert!(screen.contains("3 new ↑ g"), "{screen}");
    press(&mut app, KeyCode::Char('g'));
    assert_eq!(app.alerts.selected(), Some(AlertId(33)), "g jumps to the newest");
    assert_eq!(app.new_alerts(), 0);
}

#[test]
fn every_open_alert_is_reachable_when_the_stock_pane_needs_few_rows() {
    let mut app = with_alerts(9);
    let screen = screen(&app, 80, 24);
    for id in 1..=9 {
        assert!(screen.contains(&format!("#{id} ")), "#{id} is on screen:\n{screen}");
    }
    app.focus = Pane::Alerts;
    press(&mut app, KeyCode::Char('G'));
    assert_eq!(app.alerts.selected(), Some(AlertId(1)));
}

#[test]
fn enter_on_an_alert_opens_its_item_with_the_detail() {
    let mut app = app(false);
    let mut acked = alert("7", "Berlin", "Echo Plus", AlertState::Acknowledged);
    acked.acknowledged = Some(stockwatch_domain::Acknowledgement {
        by: "ana".into(),
        at: Timestamp(60_000),
        note: Some("truck at 4".into()),
    });
    acked.reminders = 2;
    acked.published_at = Some(Timestamp(50_000));
    update(
        &mut app,
        Msg::AlertsLoaded(vec![acked, open_alert("8", "Pusan", "Echo Show")]),
    );
    app.focus = Pane::Alerts;
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.stock.store(), Some("Berlin"), "the alert's store is shown");
    assert_eq!(
        app.stock.selected().map(|l| l.item.as_str()),
        Some("Echo Plus"),
        "with its item selected"
    );
    assert!(matches!(
        &app.mode,
        Mode::Detail {
            alert: Some(AlertId(7)),
            ..
        }
    ));
    let shown = screen(&app, 100, 30);
    for expected in [
        "Berlin / Echo Plus",
        "Count    0",
        "File     k",
        "#7 OUT acknowledged",
        "ana",
        "truck at 4",
        "2 reminders sent, the last at",
    ] {
        assert!(shown.contains(expected), "{expected:?} in\n{shown}");
    }
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Normal, "any other key closes the detail");

    // Enter on a stock row opens its detail too.
    app.focus = Pane::Stock;
    press(&mut app, KeyCode::Enter);
    assert!(matches!(&app.mode, Mode::Detail { alert: None, .. }));
}

#[test]
fn acknowledging_with_a_note_and_saying_how_many() {
    let mut app = with_alerts(2);
    app.focus = Pane::Alerts;
    press(&mut app, KeyCode::Char('N'));
    typed(&mut app, "truck at 4");
    assert!(screen(&app, 80, 24).contains("note for #2: truck at 4"));
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        [Effect::Acknowledge {
            ids: vec![AlertId(2)],
            note: Some("truck at 4".into())
        }]
    );
    let done: Vec<_> = ["1", "2"]
        .iter()
        .map(|id| alert(id, "Berlin", "x", AlertState::Acknowledged))
        .collect();
    update(&mut app, Msg::Acknowledged { done, failed: vec![] });
    assert_eq!(app.message.as_deref(), Some("acknowledged 2 alerts"));
    update(
        &mut app,
        Msg::Acknowledged {
            done: vec![],
            failed: vec!["#3: already acknowledged".into()],
        },
    );
    assert_eq!(app.message.as_deref(), Some("#3: already acknowledged"));
}

#[test]
fn u_takes_back_the_selected_alerts_acknowledgement() {
    let mut app = app(false);
    let mut acked = alert("7", "Berlin", "Echo Plus", AlertState::Acknowledged);
    acked.version = 2;
    update(
        &mut app,
        Msg::AlertsLoaded(vec![acked, open_alert("8", "Pusan", "Echo Show")]),
    );
    app.focus = Pane::Alerts;
    // Newest first: #8 (open) is selected; it has nothing to take back.
    assert_eq!(press(&mut app, KeyCode::Char('u')), []);
    assert_eq!(
        app.message.as_deref(),
        Some("#8 is open: there is no acknowledgement to take back")
    );
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(press(&mut app, KeyCode::Char('u')), [Effect::Unacknowledge(AlertId(7))]);
    let mut reopened = alert("7", "Berlin", "Echo Plus", AlertState::Open);
    reopened.version = 3;
    update(&mut app, Msg::Reopened(Ok(reopened)));
    assert_eq!(app.live_alerts.get(AlertId(7)).map(|a| a.state), Some(AlertState::Open));
    assert!(screen(&app, 100, 30).contains("#7 is open again"));
    update(&mut app, Msg::Reopened(Err("#7: alert #7 is already resolved".into())));
    assert_eq!(app.message.as_deref(), Some("#7: alert #7 is already resolved"));
}

#[test]
fn the_history_view_reads_resolved_alerts_once_and_filters_by_state() {
    let mut app = with_alerts(1);
    app.focus = Pane::Alerts;
    let views: Vec<(String, Vec<Effect>)> = (0..5)
        .map(|_| {
            let effects = press(&mut app, KeyCode::Char('v'));
            (app.alerts.show.name().to_string(), effects)
        })
        .collect();
    assert_eq!(views[2], ("resolved".into(), vec![Effect::LoadAlerts]), "{views:?}");
    assert!(views.iter().filter(|(_, e)| !e.is_empty()).count() == 1, "read once");
    update(
        &mut app,
        Msg::AlertsLoaded(vec![alert("0", "Oslo", "Tap", AlertState::Resolved)]),
    );
    press(&mut app, KeyCode::Char('v'));
    press(&mut app, KeyCode::Char('v'));
    press(&mut app, KeyCode::Char('v'));
    assert_eq!(app.alerts.show.name(), "resolved");
    assert_eq!(app.alerts.rows(), [AlertId(0)]);
    assert!(screen(&app, 80, 24).contains("Alerts: resolved (1)"));
}

#[test]
fn pause_holds_alerts_too_and_says_what_waits() {
    let mut app = with_alerts(1);
    press(&mut app, KeyCode::Char('p'));
    deliver_changes(&mut app, vec![change("Berlin", "Echo Dot", Some(12), Some(0), 9)], 10);
    update(&mut app, Msg::Alerts(vec![open_alert("2", "Berlin", "Echo Dot")]));
    assert_eq!(app.alerts.rows().len(), 1, "the alert waits");
    assert_eq!(
        app.live_stock.item("Berlin", "Echo Dot").unwrap().count,
        12,
        "the change waits"
    );
    assert!(screen(&app, 80, 24).contains("PAUSED, 2 changes waiting"));
    press(&mut app, KeyCode::Char('p'));
    assert_eq!(app.alerts.rows().len(), 2);
    assert_eq!(app.live_stock.item("Berlin", "Echo Dot").unwrap().count, 0);
}

#[test]
fn an_unchanged_count_with_a_newer_as_of_moves_the_as_of_on_screen() {
    let mut app = app(false);
    let mut later = change("Berlin", "Echo Dot", Some(12), Some(12), 7_200_000);
    later.new.as_mut().unwrap().source = "k/later.csv".into();
    deliver_changes(&mut app, vec![later], 7_200_000);
    let row = app.live_stock.item("Berlin", "Echo Dot").unwrap();
    assert_eq!((row.as_of, &*row.source), (Timestamp(7_200_000), "k/later.csv"));
    press(&mut app, KeyCode::Char('j'));
    assert!(screen(&app, 80, 24).contains("02:00"), "{}", screen(&app, 80, 24));
}

#[test]
fn messages_expire_and_help_stays_in_the_status_bar() {
    let mut app = app(false);
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "nonsense");
    press(&mut app, KeyCode::Enter);
    let message = app.message.clone().unwrap();
    assert!(message.contains(":out") && message.contains(":stores"), "{message}");
    assert!(screen(&app, 100, 24).contains("? help"), "help stays beside a message");
    let serial = app.message_serial;
    update(&mut app, Msg::MessageExpired(serial - 1));
    assert!(app.message.is_some(), "an older timer leaves a newer message");
    update(&mut app, Msg::MessageExpired(serial));
    assert_eq!(app.message, None);
}

#[test]
fn the_command_line_completes_remembers_and_edits() {
    let mut app = app(false);
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "st");
    press(&mut app, KeyCode::Tab);
    let Mode::Command(prompt) = &app.mode else { panic!() };
    assert_eq!(prompt.text(), "store", "store and stores share `store`");
    typed(&mut app, " ka");
    press(&mut app, KeyCode::Tab);
    let Mode::Command(prompt) = &app.mode else { panic!() };
    assert_eq!(prompt.text(), "store Karachi");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.stock.store(), Some("Karachi"));

    press(&mut app, KeyCode::Char(':'));
    press(&mut app, KeyCode::Up);
    let Mode::Command(prompt) = &app.mode else { panic!() };
    assert_eq!(prompt.text(), "store Karachi", "↑ recalls the last command");
    ctrl(&mut app, 'w');
    typed(&mut app, "Ber");
    press(&mut app, KeyCode::Left);
    press(&mut app, KeyCode::Left);
    typed(&mut app, "x");
    let Mode::Command(prompt) = &app.mode else { panic!() };
    assert_eq!((prompt.text(), prompt.cursor()), ("store Bxer", 8));
    ctrl(&mut app, 'e');
    ctrl(&mut app, 'u');
    typed(&mut app, "help");
    press(&mut app, KeyCode::Enter);
    assert!(matches!(app.mode, Mode::Help { .. }), ":help opens the help");
    let help = screen(&app, 100, 60);
    for command in [
        ":store NAME",
        ":stores",
        ":out",
        ":alerts",
        ":history",
        ":cd PATH",
        ":quit",
    ] {
        assert!(help.contains(command), "{command} in the help:\n{help}");
    }
}

#[test]
fn the_help_scrolls_on_a_short_terminal() {
    let mut app = app(false);
    update(&mut app, Msg::Resize(60, 15));
    press(&mut app, KeyCode::Char('?'));
    let top = screen(&app, 60, 15);
    assert!(top.contains("↓ more"), "{top}");
    press(&mut app, KeyCode::Char('G'));
    let bottom = screen(&app, 60, 15);
    assert!(bottom.contains("Logs: /logs/stockwatch.log"), "{bottom}");
    press(&mut app, KeyCode::Char('k'));
    assert!(
        matches!(app.mode, Mode::Help { .. }),
        "moving keys scroll, they do not close"
    );
    press(&mut app, KeyCode::Char('x'));
    assert_eq!(app.mode, Mode::Normal);
}

#[test]
fn quitting_while_uploads_run_asks_first_and_esc_closes_the_file_pane() {
    let mut app = with_files();
    press(&mut app, KeyCode::Char('j'));
    let effects = press(&mut app, KeyCode::Char('u'));
    assert!(matches!(effects.as_slice(), [Effect::Upload(_)]));
    assert_eq!(press(&mut app, KeyCode::Char('q')), [], "not at once");
    assert_eq!(app.mode, Mode::ConfirmQuit { yes: false });
    let asked = screen(&app, 80, 24);
    assert!(
        asked.contains("1 upload still running") && asked.contains("y yes"),
        "{asked}"
    );
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Normal, "Enter on the default keeps running");
    press(&mut app, KeyCode::Char('q'));
    assert_eq!(press(&mut app, KeyCode::Char('y')), [Effect::Quit]);

    let mut app = with_files();
    press(&mut app, KeyCode::Esc);
    assert!(!app.files.open, "Esc closes the file pane");
    assert_eq!(app.focus, Pane::Stores);
    assert_eq!(
        press(&mut app, KeyCode::Char('q')),
        [Effect::Quit],
        "nothing running: quits"
    );
}

#[test]
fn the_file_pane_lists_again_keeps_its_place_and_goes_up_to_where_it_came_from() {
    let mut app = with_files();
    // Into invalid/, then back up: the cursor is on invalid/.
    let entered = press(&mut app, KeyCode::Enter);
    deliver_listing(&mut app, &entered);
    assert!(app.files.dir.ends_with("invalid"));
    let up = press(&mut app, KeyCode::Char('h'));
    deliver_listing(&mut app, &up);
    assert_eq!(app.files.selected().unwrap().0, samples_dir().join("invalid"));

    // The tick lists the folder again; the same listing draws nothing and
    // keeps the cursor where it is.
    press(&mut app, KeyCode::Char('j'));
    let on = app.files.selected();
    app.dirty = false;
    let tick = update(&mut app, Msg::Tick(Timestamp(1)));
    assert_eq!(asked_listing(&tick).0, samples_dir());
    deliver_listing(&mut app, &tick);
    assert!(!app.dirty, "nothing new: nothing drawn");
    assert_eq!(app.files.selected(), on);

    // Ctrl-L repaints and lists again.
    let effects = ctrl(&mut app, 'l');
    assert!(effects.contains(&Effect::Repaint));
    assert!(effects.iter().any(|e| matches!(e, Effect::List { .. })));

    // :cd ~ goes home.
    app.settings.home = Some("/home/ops".into());
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "cd ~/incoming");
    assert_eq!(
        asked_listing(&press(&mut app, KeyCode::Enter)).0,
        std::path::PathBuf::from("/home/ops/incoming")
    );
}

#[test]
fn a_tick_that_changes_nothing_draws_nothing() {
    let mut app = app(false);
    app.dirty = false;
    assert_eq!(update(&mut app, Msg::Tick(Timestamp(2))), []);
    assert!(!app.dirty, "an idle console writes nothing");
    update(&mut app, Msg::Tick(Timestamp(90_000_000)));
    assert!(app.dirty, "a new day redraws (dates move from times to days)");
}

#[test]
fn clicks_focus_and_select_and_the_wheel_scrolls() {
    let mut app = app(false);
    update(&mut app, Msg::Resize(80, 24));
    let click = |column, row, kind| MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    };
    // The stores pane: border, header, then Pusan, Berlin, Karachi.
    update(
        &mut app,
        Msg::Mouse(click(3, 3, MouseEventKind::Down(MouseButton::Left))),
    );
    assert_eq!(
        (app.focus, app.stores.selected().map(String::as_str)),
        (Pane::Stores, Some("Berlin"))
    );
    update(
        &mut app,
        Msg::Mouse(click(40, 3, MouseEventKind::Down(MouseButton::Left))),
    );
    assert_eq!(app.focus, Pane::Stock);
    assert_eq!(app.cursor(Pane::Stock), 1);
    update(&mut app, Msg::Mouse(click(3, 3, MouseEventKind::ScrollDown)));
    assert_eq!(
        app.stores.selected().map(String::as_str),
        Some("Karachi"),
        "stops at the last"
    );
}

#[test]
fn a_list_key_that_hides_a_global_one_is_a_keymap_error() {
    use super::keymap::{DEFAULT, Keymap};
    let user = "[list]\ndown = [\"j\", \"p\"]\n";
    let error = Keymap::load(("default", DEFAULT), Some(("keymap.toml", user))).unwrap_err();
    assert_eq!((error.file.as_str(), error.line), ("keymap.toml", 2));
    assert!(
        error.message.contains("`p`") && error.message.contains("pause"),
        "{error}"
    );
    // The user's global key hidden by a built-in list key: said at the
    // user's line, each action with its own table.
    let user = "[global]\nfilter = [\"j\"]\n";
    let error = Keymap::load(("default", DEFAULT), Some(("keymap.toml", user))).unwrap_err();
    assert_eq!((error.file.as_str(), error.line), ("keymap.toml", 2), "{error}");
    assert!(
        error
            .message
            .starts_with("`j` is bound to `filter` in [global] and to `down` in [list] (default, line"),
        "{error}"
    );
    let arrows = Keymap::load(("arrows", super::keymap::ARROWS), None);
    assert!(arrows.is_ok(), "the built-in sets have no such conflict: {arrows:?}");
}

#[test]
fn hints_follow_the_live_keymap() {
    let keymap = super::keymap::Keymap::load(("arrows", super::keymap::ARROWS), None).unwrap();
    let mut app = app(false);
    app.keymap = keymap;
    app.files.open = true;
    app.focus = Pane::Files;
    let shown = screen(&app, 160, 24);
    assert!(shown.contains("insert, space marks files, f12 uploads them"), "{shown}");
    assert!(shown.contains("f1, ? help  f10, ctrl-q, ctrl-c quit"), "{shown}");
}

#[test]
fn counts_are_whole_and_plural_at_every_size() {
    let rows = vec![row("Bigstore", "Echo Dot", 1_000_000), row("Bigstore", "Echo Plus", 0)];
    let mut app = super::test_support::app_with(rows, false);
    update(
        &mut app,
        Msg::Rows((0..99_998).map(|i| row("Bigstore", &format!("i{i}"), 5)).collect()),
    );
    app.stock.sort = super::stock_pane::Sort {
        column: super::stock_pane::Column::Count,
        reversed: true,
    };
    app.focus = Pane::Stock;
    press(&mut app, KeyCode::Char('g'));
    for (width, height) in [(80, 24), (60, 15), (160, 48)] {
        let shown = screen(&app, width, height);
        assert!(
            shown.contains(" 100000 "),
            "the stores pane's ITEMS is whole at {width}x{height}:\n{shown}"
        );
        assert!(shown.contains("100,000 items"), "{shown}");
        assert!(shown.contains(" 1000000 "), "the count of Echo Dot is whole:\n{shown}");
    }
    let one = super::test_support::app_with(vec![row("Solo", "Dot", 1)], false);
    assert!(screen(&one, 80, 24).contains("Solo (1 item)"));
}

#[test]
fn at_40_by_10_the_store_names_are_left() {
    let app = app(false);
    let shown = screen(&app, 40, 10);
    for store in ["Pusan", "Berlin", "Karachi"] {
        assert!(shown.contains(store), "{store} at 40x10:\n{shown}");
    }
    assert!(!shown.contains("ITEMS"), "the counts gave way:\n{shown}");
}

#[test]
fn z_snoozes_the_selected_alerts_item_and_the_row_says_so() {
    let mut app = with_alerts(2);
    app.focus = Pane::Alerts;
    press(&mut app, KeyCode::Char('z'));
    assert!(screen(&app, 100, 24).contains("snooze Berlin / item 2 for: 2h"));
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Backspace);
    typed(&mut app, "30m");
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(
        effects,
        [Effect::Snooze {
            store: "Berlin".into(),
            item: Some("item 2".into()),
            duration: std::time::Duration::from_secs(1800)
        }]
    );
    let snooze = stockwatch_domain::Snooze {
        store: "Berlin".into(),
        item: Some("item 2".into()),
        until: Timestamp(1_800_000),
        by: "ana".into(),
        note: None,
    };
    app.dirty = false;
    update(&mut app, Msg::Snoozes(vec![snooze.clone()]));
    assert!(app.dirty);
    let shown = screen(&app, 100, 24);
    assert!(shown.contains("snoozed by ana"), "{shown}");
    assert!(
        shown.contains("until 00:30"),
        "the hour a snooze ends is never cut: {shown}"
    );
    app.dirty = false;
    update(&mut app, Msg::Snoozes(vec![snooze]));
    assert!(!app.dirty, "the same snoozes again draw nothing");
    update(&mut app, Msg::Tick(Timestamp(1_900_000)));
    assert!(app.dirty, "a snooze that ended is drawn away");
    assert!(!screen(&app, 100, 24).contains("snoozed by"));
    // A bad duration is said, and the prompt stays.
    press(&mut app, KeyCode::Char('z'));
    typed(&mut app, "x");
    press(&mut app, KeyCode::Enter);
    assert!(matches!(app.mode, Mode::Snooze { .. }));
    assert!(app.message.as_deref().unwrap().contains("not a duration"));
}

#[test]
fn an_upload_whose_file_changed_while_it_uploaded_says_so() {
    let mut app = with_files();
    press(&mut app, KeyCode::Char('j'));
    let effects = press(&mut app, KeyCode::Char('u'));
    let [Effect::Upload(started)] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    let result = crate::files::pane::TransferResult::Loaded {
        rows: 6,
        changed: 6,
        alerts: 1,
        source_changed: true,
    };
    update(
        &mut app,
        Msg::TransferDone {
            id: started[0].0,
            result,
        },
    );
    let shown = screen(&app, 160, 30);
    assert!(shown.contains("the file changed while it uploaded"), "{shown}");
}

#[test]
fn a_key_that_does_nothing_here_says_why() {
    let mut app = with_alerts(3);
    app.focus = Pane::Stores;
    // z snoozes an alert's item: in the alerts pane, not the stores pane.
    assert!(press(&mut app, KeyCode::Char('z')).is_empty());
    let said = app.message.clone().unwrap_or_default();
    assert!(said.contains("z") && said.contains("alerts pane"), "{said:?}");
    assert!(said.contains("tab"), "says how to get there: {said:?}");
    // A key bound nowhere says so, and where the keys are listed.
    press(&mut app, KeyCode::Char('ä'));
    let said = app.message.clone().unwrap_or_default();
    assert!(said.contains("does nothing") && said.contains('?'), "{said:?}");
}

#[test]
fn focus_shows_without_colour() {
    let mut app = with_alerts(3);
    app.focus = Pane::Alerts;
    let shown = screen(&app, 80, 24);
    let corners: Vec<char> = shown
        .lines()
        .filter_map(|l| l.chars().next())
        .filter(|c| matches!(c, '┌' | '┏'))
        .collect();
    assert_eq!(
        corners.iter().filter(|&&c| c == '┏').count(),
        1,
        "one pane drawn heavy: {shown}"
    );
    let alerts_line = shown.lines().find(|l| l.contains("Alerts")).unwrap();
    assert!(alerts_line.starts_with('┏'), "the focused one: {shown}");
}
