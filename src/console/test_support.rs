//! What the console's unit tests share: rows and an app loaded with them.

use super::app::App;
use super::keymap::{DEFAULT, Keymap};
use super::live_stock::LiveStock;
use super::messages::Msg;
use super::update::update;
use crate::domain::{Thresholds, Timestamp};
use crate::ports::StockRow;

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
    let mut app = App::new(
        LiveStock::new(Thresholds::new(3)),
        keymap,
        read_only,
        "local: /data".into(),
        "/logs/stockwatch.log".into(),
    );
    update(&mut app, Msg::Rows(rows));
    update(&mut app, Msg::SnapshotDone);
    app
}
