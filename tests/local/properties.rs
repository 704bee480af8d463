//! Property tests of the parsers that take what people and files give:
//! the CSV importer (through the real loader on a real data dir too), the
//! config file and the keymap file. Whatever the bytes: a verdict, never a
//! panic; what is accepted reads back the same; what is rejected writes
//! nothing.

use proptest::prelude::*;
use stockwatch_core::pipeline::Loader;
use stockwatch_core::ports::{ObjectStatus, StockFilter};
use stockwatch_domain::import::import;
use stockwatch_local::LocalBackend;

/// Bytes that look like inventory files often enough to reach deep paths:
/// a header, then lines of fields from a small alphabet of trouble.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let field = prop_oneof![
        "[A-Za-z ]{0,6}",
        "[0-9]{1,11}",
        Just("-1".to_string()),
        Just("\"a,\"\"b\"".to_string()),
        Just("\"unclosed".to_string()),
        Just("Cafe\u{301}".to_string()),
        Just("Ber\u{ad}lin".to_string()),
        Just("\u{1b}[2J".to_string()),
        Just(" 7 ".to_string()),
        Just(String::new()),
    ];
    let line = prop::collection::vec(field, 0..5).prop_map(|f| f.join(","));
    let ending = prop_oneof![Just("\n"), Just("\r\n"), Just("\r"), Just("")];
    (
        prop_oneof![
            Just("store,item,count".to_string()),
            Just("item,count,store".to_string()),
            "[a-z,]{0,12}"
        ],
        prop::collection::vec((line, ending), 0..12),
    )
        .prop_map(|(header, lines)| {
            let mut text = header + "\n";
            for (line, end) in lines {
                text.push_str(&line);
                text.push_str(end);
            }
            text.into_bytes()
        })
}

fn any_file() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..400), csvish()]
}

/// Rows written back as a CSV file, as a person's tool would.
fn written_back(rows: &[(String, String, u32)]) -> Vec<u8> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["store", "item", "count"]).unwrap();
    for (store, item, count) in rows {
        out.write_record([store.as_str(), item.as_str(), &count.to_string()])
            .unwrap();
    }
    out.into_inner().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_bytes_get_a_verdict_and_never_a_panic(bytes in any_file()) {
        match import(&bytes) {
            Ok(accepted) => prop_assert!(accepted.rows.iter().all(|r| !r.store.is_empty() && !r.item.is_empty())),
            Err(rejected) => prop_assert!(!rejected.problems.is_empty() && !rejected.problems.shown.is_empty()),
        }
    }

    #[test]
    fn accepted_rows_written_back_import_to_the_same_rows(bytes in any_file()) {
        if let Ok(accepted) = import(&bytes) {
            let rows: Vec<(String, String, u32)> = accepted
                .rows
                .iter()
                .map(|r| (r.store.to_string(), r.item.to_string(), r.count))
                .collect();
            let again = import(&written_back(&rows)).expect("rows it accepted, written back, are accepted");
            let again: Vec<(String, String, u32)> = again
                .rows
                .iter()
                .map(|r| (r.store.to_string(), r.item.to_string(), r.count))
                .collect();
            prop_assert_eq!(again, rows);
        }
    }

    #[test]
    fn config_text_gets_a_verdict_and_errors_name_a_line(text in "(\\PC|\n){0,200}") {
        if let Err(message) = stockwatch_core::settings::parse(&text) {
            prop_assert!(message.contains("line"), "{}", message);
        }
    }

    #[test]
    fn config_like_text_gets_a_verdict(
        lines in prop::collection::vec(
            prop_oneof![
                Just("[alerts]".to_string()),
                Just("[[alerts.item]]".to_string()),
                Just("[aws]".to_string()),
                "(backend|data_dir|keymap|item|store|low_threshold|notify_low|bucket) = (\"[a-z]{0,5}\"|[0-9]{1,3}|true)",
            ],
            0..12,
        )
    ) {
        let text = lines.join("\n");
        if let Err(message) = stockwatch_core::settings::parse(&text) {
            prop_assert!(message.contains("line"), "{}", message);
        }
    }

    #[test]
    fn keymap_text_gets_a_verdict_and_errors_name_a_line(
        lines in prop::collection::vec(
            prop_oneof![
                Just("[stock]".to_string()),
                Just("[global]".to_string()),
                Just("[alerts]".to_string()),
                "(quit|help|down|up|ack|upload|filter|nonsense) = \\[(\"(q|j|k|ctrl-c|F1|enter|shift-tab|x{1,3}|)\",? ?){0,3}\\]",
                "\\PC{0,20}",
            ],
            0..10,
        )
    ) {
        let text = lines.join("\n");
        let loaded = stockwatch_console::keymap::Keymap::load(
            ("default", stockwatch_console::keymap::DEFAULT),
            Some(("user.toml", &text)),
        );
        if let Err(e) = loaded {
            prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1) + 1, "{}", e);
        }
    }
}

proptest! {
    // Each case opens a real data dir: fewer cases, the same property.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_rejected_file_writes_nothing(bytes in any_file()) {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let backend = LocalBackend::open(dir.path()).unwrap();
            let ports = backend.ports.clone();
            let outcome = Loader::new(ports.clone()).upload("any.csv", bytes::Bytes::from(bytes.clone()), None, None).await.unwrap();
            let rows = ports.table.scan(&StockFilter::default(), None, 10_000).await.unwrap().items;
            let changes = ports.feed.read(None, 10_000).await.unwrap();
            match outcome.report.status {
                ObjectStatus::Rejected => {
                    prop_assert!(rows.is_empty(), "a rejected file wrote {:?}", rows);
                    prop_assert!(changes.changes.is_empty());
                    prop_assert!(!outcome.report.problems.is_empty());
                }
                ObjectStatus::Loaded => {
                    let accepted = import(&bytes).expect("the loader and the importer agree");
                    prop_assert_eq!(rows.len(), accepted.rows.len());
                }
                other => prop_assert!(false, "a load ended {:?}", other),
            }
            Ok(())
        })?;
    }
}

mod forecasts {
    use proptest::prelude::*;
    use stockwatch_domain::Timestamp;
    use stockwatch_domain::forecast::{DAY_MS, DEFAULT_WINDOW_MS, Point, forecast};

    fn points() -> impl Strategy<Value = Vec<Point>> {
        prop::collection::vec((0i64..40 * DAY_MS, 0u32..5_000), 0..40).prop_map(|v| {
            v.into_iter()
                .map(|(at, count)| Point {
                    as_of: Timestamp(at),
                    count,
                })
                .collect()
        })
    }

    proptest! {
        /// Whatever the history: no forecast, or a finite positive rate,
        /// days left that agree with it, and a run-out time not before now.
        #[test]
        fn any_history_gives_none_or_a_sane_forecast(history in points(), count in 0u32..5_000, at in 0i64..40 * DAY_MS) {
            let latest = Point { as_of: Timestamp(at), count };
            if let Some(f) = forecast(&history, latest, DEFAULT_WINDOW_MS) {
                prop_assert!(f.rate_per_day.is_finite() && f.rate_per_day > 0.0);
                prop_assert!(f.days_left >= 0.0 && f.days_left.is_finite());
                prop_assert!((f.days_left * f.rate_per_day - f64::from(count)).abs() < 1e-6 * f64::from(count.max(1)));
                prop_assert!(f.runs_out_at >= latest.as_of);
            }
        }

        /// Steady sales uploaded at random times (missed days, several a
        /// day) are measured at their rate.
        #[test]
        fn steady_sales_at_random_upload_times_give_their_rate(
            rate in 1u32..200,
            gaps in prop::collection::vec(DAY_MS / 24..3 * DAY_MS, 3..30),
        ) {
            let start = 1_000_000u32;
            let mut at = 0i64;
            let mut history = vec![Point { as_of: Timestamp(0), count: start }];
            for gap in gaps {
                at += gap;
                // Whole units sold by then: counts are integers.
                let sold = (f64::from(rate) * at as f64 / DAY_MS as f64) as u32;
                history.push(Point { as_of: Timestamp(at), count: start - sold });
            }
            let latest = *history.last().unwrap();
            let observed = (latest.as_of.0.min(DEFAULT_WINDOW_MS)) as f64 / DAY_MS as f64;
            prop_assume!(observed >= 1.0);
            let f = forecast(&history, latest, DEFAULT_WINDOW_MS).unwrap();
            // Truncating to whole units misses at most one unit at each end.
            prop_assert!((f.rate_per_day - f64::from(rate)).abs() <= 2.0 / observed + 1e-9, "{f:?}");
        }
    }
}
