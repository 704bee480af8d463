//! The file pane's keys: moving, entering and leaving directories, hidden
//! files, marking, uploading and cancelling an upload.

use crate::app::App;
use crate::keymap::Action;
use crate::messages::Effect;
use crate::pane::Movement;
use std::path::PathBuf;

pub fn on_action(app: &mut App, action: Action) -> Vec<Effect> {
    let files = &mut app.files;
    match action {
        Action::Open => {
            if let Some((path, true)) = files.selected() {
                let (dir, ticket) = files.ask_listing(path);
                return vec![Effect::List { dir, ticket }];
            }
        }
        Action::Parent => {
            if let Some(parent) = files.parent() {
                let (dir, ticket) = files.ask_listing(parent);
                return vec![Effect::List { dir, ticket }];
            }
        }
        Action::ToggleHidden => files.show_hidden = !files.show_hidden,
        Action::Mark => files.toggle_mark(),
        Action::Upload => {
            let paths: Vec<PathBuf> = if files.marks.is_empty() {
                files
                    .selected()
                    .filter(|(_, dir)| !dir)
                    .map(|(p, _)| p)
                    .into_iter()
                    .collect()
            } else {
                std::mem::take(&mut files.marks).into_iter().collect()
            };
            if paths.is_empty() {
                app.message = Some(format!(
                    "nothing to upload: select or mark ({}) a file",
                    app.keymap.first_key(crate::keymap::Action::Mark)
                ));
            } else {
                let started = files.start(paths);
                let plural = if started.len() == 1 { "" } else { "s" };
                app.message = Some(format!("uploading {} file{plural}", started.len()));
                return vec![Effect::Upload(started)];
            }
        }
        Action::CancelTransfer => match files.newest_cancellable() {
            Some(id) => return vec![Effect::Cancel(id)],
            None if files.any_running() => {
                app.message = Some("the upload is done and its load is writing; a load is all or nothing".into())
            }
            None => app.message = Some("no upload is running".into()),
        },
        _ => {
            if let Some(movement) = Movement::of(action) {
                files.list.step(movement);
            }
        }
    }
    Vec::new()
}
