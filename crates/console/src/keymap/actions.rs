//! What keys can do: the contexts (tables of a keymap file) and the
//! actions, each with its name in keymap files, its context, whether it
//! writes (refused in --read-only) and its line of help.

use serde::Deserialize;

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

    /// The tables a key is looked up in, most specific first, for each kind
    /// of pane: the stores and preview use [list], the others their own.
    pub const CHAINS: [&'static [KeyContext]; 4] = [
        &[KeyContext::List, KeyContext::Global],
        &[KeyContext::Stock, KeyContext::List, KeyContext::Global],
        &[KeyContext::Alerts, KeyContext::List, KeyContext::Global],
        &[KeyContext::Files, KeyContext::List, KeyContext::Global],
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

    pub fn parse(name: &str) -> Option<KeyContext> {
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
    Command "command" Global false "type a command (:help lists them; Tab completes)",
    Filter "filter" Global false "filter the focused list (/!text inverts)",
    Quit "quit" Global false "quit",
    NextPane "next_pane" Global false "focus the next pane",
    PreviousPane "previous_pane" Global false "focus the previous pane",
    Back "back" Global false "close, cancel or clear the filter",
    Pause "pause" Global false "pause or resume the live view",
    Out "out" ["all_stores"] Global false "every out-of-stock item across stores (:out)",
    Soon "soon" Global false "every item predicted to run out soon across stores, soonest first (:soon)",
    Redraw "redraw" ["refresh"] Global false "redraw the screen (and list the file pane's folder again)",
    Suspend "suspend" Global false "suspend the console (fg brings it back)",
    Files "files" Global false "show or hide the file pane (preview and upload CSV files)",
    Up "up" List false "move up",
    Down "down" List false "move down",
    Top "top" List false "go to the first row",
    Bottom "bottom" List false "go to the last row",
    PageUp "page_up" List false "one page up",
    PageDown "page_down" List false "one page down",
    Open "open" List false "open the selected store, or the item of a row or alert",
    SortNext "sort_next" Stock false "sort by the next column",
    SortReverse "sort_reverse" Stock false "reverse the sort order",
    Acknowledge "acknowledge" Alerts true "acknowledge the selected alert",
    AcknowledgeAll "acknowledge_all" Alerts true "acknowledge every open alert shown (asks first)",
    AcknowledgeWithNote "note" Alerts true "acknowledge the selected alert with a note",
    Reopen "reopen" Alerts true "take back the selected alert's acknowledgement: open again",
    AlertView "alert_view" Alerts false "show unresolved, open, acknowledged, resolved or all alerts",
    SnoozeItem "snooze" Alerts true "snooze the selected alert's item: raised, shown, not notified (asks how long)",
    SnoozeStore "snooze_store" List true "snooze every item of the selected store, row's or alert's store (asks how long)",
    Parent "parent" Files false "go up to the parent directory",
    Mark "mark" Files false "mark or unmark the file for upload",
    Upload "upload" Files true "upload the marked files (or the selected one)",
    ToggleHidden "hidden" Files false "show or hide hidden files",
    CancelTransfer "cancel" Files true "cancel the newest running upload",
}
