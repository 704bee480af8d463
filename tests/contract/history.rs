//! History: every change of an item's count with its as-of time, kept by
//! whoever reads the feed (locally the change log already is it).

use bytes::Bytes;
use stockwatch::domain::Timestamp;
use stockwatch::pipeline::{Checker, CheckerConfig, Loader};
use stockwatch::ports::*;

const DAY: i64 = 86_400_000;

async fn load(b: &Ports, name: &str, text: &str, as_of: i64) {
    Loader::new(b.clone())
        .upload(name, Bytes::from(text.to_string()), Some(Timestamp(as_of)), None)
        .await
        .unwrap();
}

fn counts(points: &[HistoryPoint]) -> Vec<(i64, u32)> {
    points.iter().map(|p| (p.as_of.0, p.count)).collect()
}

pub async fn history_keeps_each_count_of_an_item_in_as_of_order(b: &Ports) {
    let now = Timestamp::now().0 - 10 * DAY;
    let checker = Checker::new(b.clone(), CheckerConfig::default());
    for (day, dot, plus) in [(0, 20, 9), (1, 14, 9), (2, 9, 7), (3, 30, 7)] {
        let text = format!("store,item,count\nBerlin,Echo Dot,{dot}\nBerlin,Echo Plus,{plus}\n");
        load(b, &format!("berlin-day{day}.csv"), &text, now + day * DAY).await;
        // On AWS the history is written by whoever reads the stream.
        checker.run_once().await.unwrap();
    }
    let dot = b.history.points("Berlin", "Echo Dot", Timestamp(0)).await.unwrap();
    assert_eq!(
        counts(&dot),
        vec![(now, 20), (now + DAY, 14), (now + 2 * DAY, 9), (now + 3 * DAY, 30)]
    );
    assert!(dot[2].source.ends_with("berlin-day2.csv"), "{:?}", dot[2].source);

    // Since a time: the points as of it or later.
    let recent = b
        .history
        .points("Berlin", "Echo Dot", Timestamp(now + 2 * DAY))
        .await
        .unwrap();
    assert_eq!(counts(&recent), vec![(now + 2 * DAY, 9), (now + 3 * DAY, 30)]);

    // Many items at once, in the order asked; an unknown one has none.
    let many = b
        .history
        .points_of(
            &[
                ("Berlin".into(), "Echo Plus".into()),
                ("Nowhere".into(), "Echo Dot".into()),
                ("Berlin".into(), "Echo Dot".into()),
            ],
            Timestamp(now + DAY),
        )
        .await
        .unwrap();
    // Echo Plus's count changed only on day 2; loading day 1's 9 again moved its as-of.
    assert_eq!(
        counts(&many[0]),
        vec![(now + DAY, 9), (now + 2 * DAY, 7), (now + 3 * DAY, 7)]
    );
    assert!(many[1].is_empty());
    assert_eq!(many[2].len(), 3);
}

pub async fn recording_a_change_again_changes_nothing(b: &Ports) {
    let now = Timestamp::now().0 - DAY;
    load(b, "hamburg.csv", "store,item,count\nHamburg,Kindle,5\n", now).await;
    let changes = b.feed.read(None, 100).await.unwrap().changes;
    b.history.record(&changes).await.unwrap();
    b.history.record(&changes).await.unwrap();
    let points = b.history.points("Hamburg", "Kindle", Timestamp(0)).await.unwrap();
    assert_eq!(counts(&points), vec![(now, 5)]);
}
