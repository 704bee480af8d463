//! What people are told, and how alerts raised together are grouped: one
//! message per store (the original system's text for a single item; a
//! list for several, OUT and LOW each on their own line), and one summary
//! instead when a pass would send more messages than people can read.
//! Every alert is carried by exactly one message. Each message has a short
//! form for SMS (SNS sends it to phones, the full text to email).

use super::alert::{ALERT_SUBJECT, Alert, AlertKind, Message, Notification};
use super::import::thousands;
use super::time::Timestamp;
use std::time::Duration;

/// Messages one pass sends at most; more become one summary.
pub const DEFAULT_MAX_MESSAGES: usize = 10;
/// An SMS of about two segments.
const SMS_CHARS: usize = 300;
/// The most a message's text holds, in bytes. SNS takes 256 KiB per
/// message and per batch of ten, and a message carries its text twice
/// (default and email) beside its SMS form and alert ids: a store's outage
/// of 50,000 items names the first ones and says how many more.
pub const TEXT_BYTES: usize = 24 * 1024;
/// What a cut list says about the rest.
const SEE_THE_REST: &str = "stockwatch alerts lists them";

/// The messages for alerts raised together (one pass), in the order their
/// stores first appear.
pub fn group(alerts: &[Alert], max_messages: usize) -> Vec<Message> {
    let stores = by_store(alerts);
    if stores.len() > max_messages.max(1) {
        return vec![summary(alerts, stores.len())];
    }
    stores
        .into_iter()
        .map(|(store, group)| for_store(store, &group))
        .collect()
}

/// The kinds in the order a message says them: the most urgent first.
const KINDS: [AlertKind; 3] = [AlertKind::Out, AlertKind::Low, AlertKind::Soon];

/// One store's alerts: an OUT line, a LOW line and a SOON line, each the original text
/// for one item or a list for several (the SMS form cuts long lists).
fn for_store(store: &str, alerts: &[&Alert]) -> Message {
    if let [one] = alerts {
        return Message::for_alert(one);
    }
    let kinds = KINDS.map(|kind| {
        alerts
            .iter()
            .filter(|a| a.kind == kind)
            .copied()
            .collect::<Vec<&Alert>>()
    });
    let present = kinds.iter().filter(|k| !k.is_empty()).count().max(1);
    let budget = SMS_CHARS / present - 1;
    let text_budget = TEXT_BYTES / present;
    let mut text = Vec::new();
    let mut short = Vec::new();
    for (kind, these) in KINDS.into_iter().zip(&kinds) {
        match these.as_slice() {
            [] => {}
            [one] => {
                text.push(one.notification().message);
                short.push(one.notification().message);
            }
            many => {
                let (head, short_head, names): (String, String, Vec<String>) = match kind {
                    AlertKind::Out => (
                        format!("{store} is out of stock of {} items: ", thousands(many.len() as u64)),
                        format!("{store} out: "),
                        many.iter().map(|a| a.item.clone()).collect(),
                    ),
                    AlertKind::Low => (
                        format!("{store} is low on {} items: ", thousands(many.len() as u64)),
                        format!("{store} low: "),
                        many.iter().map(|a| format!("{} ({} left)", a.item, a.count)).collect(),
                    ),
                    AlertKind::Soon => (
                        format!("{store} will soon run out of {} items: ", thousands(many.len() as u64)),
                        format!("{store} soon out: "),
                        many.iter().map(|a| format!("{} ({} left)", a.item, a.count)).collect(),
                    ),
                };
                text.push(listed(&head, &names, text_budget));
                short.push(cut(&short_head, &names, budget));
            }
        }
    }
    Message {
        alert_ids: alerts.iter().map(|a| a.id).collect(),
        subject: ALERT_SUBJECT.to_string(),
        text: text.join("\n"),
        sms: Some(short.join("\n")),
        reminder: false,
    }
}

/// One message for a storm: how many stores and items, from which file.
fn summary(alerts: &[Alert], stores: usize) -> Message {
    let count = |kind: AlertKind| alerts.iter().filter(|a| a.kind == kind).count() as u64;
    let mut files: Vec<&str> = alerts.iter().map(|a| file_name(&a.source)).collect();
    files.sort_unstable();
    files.dedup();
    let text = summary_text(
        stores,
        [count(AlertKind::Out), count(AlertKind::Low), count(AlertKind::Soon)],
        &files,
    );
    Message {
        alert_ids: alerts.iter().map(|a| a.id).collect(),
        subject: ALERT_SUBJECT.to_string(),
        sms: Some(text.clone()),
        text,
        reminder: false,
    }
}

pub(crate) fn file_name(source: &str) -> &str {
    source.rsplit('/').next().unwrap_or(source)
}

/// `412 stores report 16,677 items out of stock (file inventory-all.csv); …`
pub(crate) fn summary_text(stores: usize, [out, low, soon]: [u64; 3], files: &[&str]) -> String {
    let from = match files {
        [one] => format!("file {one}"),
        many => format!("{} files", many.len()),
    };
    let mut what = Vec::new();
    if out > 0 {
        what.push(format!("{} items out of stock", thousands(out)));
    }
    if low > 0 {
        what.push(format!("{} low", thousands(low)));
    }
    if soon > 0 {
        what.push(format!("{} soon to run out", thousands(soon)));
    }
    format!(
        "{} stores report {} ({from}); see stockwatch alerts",
        thousands(stores as u64),
        what.join(" and ")
    )
}

/// The subject of a reminder: still `Inventory Alert!` first, for filters.
pub const REMINDER_SUBJECT: &str = "Inventory Alert! (reminder)";

/// Reminders of OUT alerts still open and unacknowledged, due together: one
/// message per store (`Berlin is still out of stock after 1 h,
/// unacknowledged: Echo Plus, Echo Dot`), or one summary for a storm. The
/// time said is the shortest any of them has been out.
pub fn reminders(alerts: &[Alert], max_messages: usize, now: Timestamp) -> Vec<Message> {
    let age = |group: &[&Alert]| {
        let raised = group.iter().map(|a| a.raised_at.0).max().unwrap_or(now.0);
        super::time::short_span(Duration::from_millis(now.0.saturating_sub(raised).max(0) as u64))
    };
    let stores = by_store(alerts);
    let message = |text: String, sms: String, group: &[&Alert]| Message {
        alert_ids: group.iter().map(|a| a.id).collect(),
        subject: REMINDER_SUBJECT.to_string(),
        sms: (sms != text).then_some(sms),
        text,
        reminder: true,
    };
    if stores.len() > max_messages.max(1) {
        let all: Vec<&Alert> = alerts.iter().collect();
        let text = format!(
            "{} stores still have {} items out of stock after {}, unacknowledged; see stockwatch alerts",
            thousands(stores.len() as u64),
            thousands(alerts.len() as u64),
            age(&all)
        );
        return vec![message(text.clone(), text, &all)];
    }
    stores
        .into_iter()
        .map(|(store, group)| {
            let names: Vec<String> = group.iter().map(|a| a.item.clone()).collect();
            let after = age(&group);
            let head = format!("{store} is still out of stock after {after}, unacknowledged: ");
            let text = listed(&head, &names, TEXT_BYTES);
            let sms = cut(&format!("{store} still out after {after}: "), &names, SMS_CHARS);
            message(text, sms, &group)
        })
        .collect()
}

/// Alerts by store, in the order their stores first appear.
fn by_store(alerts: &[Alert]) -> Vec<(&str, Vec<&Alert>)> {
    // A storm has thousands of stores: found by hashing, not by a search.
    let mut place: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut stores: Vec<(&str, Vec<&Alert>)> = Vec::new();
    for alert in alerts {
        let i = *place.entry(&alert.store).or_insert_with(|| {
            stores.push((&alert.store, Vec::new()));
            stores.len() - 1
        });
        stores[i].1.push(alert);
    }
    stores
}

/// As many names as fit in `budget` bytes after `head`, then how many more
/// and where to see them: every name while they fit (email keeps the whole
/// list).
fn listed(head: &str, names: &[String], budget: usize) -> String {
    let more = |rest: usize| format!(" and {} more ({SEE_THE_REST})", thousands(rest as u64));
    fitting(head, names, budget, str::len, more)
}

/// `head` and as many names as fit in `budget` characters, then "+12 more".
fn cut(head: &str, names: &[String], budget: usize) -> String {
    fitting(
        head,
        names,
        budget,
        |s| s.chars().count(),
        |rest| format!(" +{rest} more"),
    )
}

/// `head` and as many names as fit in `budget` (as `size` measures), then
/// `tail` of how many are left out: room is kept for the tail unless the
/// name is the last; the first name always goes in.
fn fitting(
    head: &str,
    names: &[String],
    budget: usize,
    size: fn(&str) -> usize,
    tail: impl Fn(usize) -> String,
) -> String {
    let mut line = head.to_string();
    for (i, name) in names.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        let rest = tail(names.len() - i);
        let after = size(&line) + sep.len() + size(name);
        let room = if i + 1 == names.len() {
            after
        } else {
            after + rest.len()
        };
        if room > budget && i > 0 {
            line.push_str(&rest);
            return line;
        }
        line.push_str(sep);
        line.push_str(name);
    }
    line
}

impl Notification {
    /// The SNS message structure of a message with a short form: the full
    /// text by default and to email, the short one to phones.
    pub fn structured(text: &str, sms: &str) -> String {
        serde_json::json!({"default": text, "email": text, "sms": sms}).to_string()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{AlertId, AlertState, Timestamp};

    /// An alert for tests of what is told.
    pub(crate) fn alert(id: u64, store: &str, item: &str, kind: AlertKind, count: u32) -> Alert {
        Alert {
            id: AlertId(id),
            transition: String::new(),
            change_id: format!("c{id}"),
            kind,
            store: store.into(),
            item: item.into(),
            count,
            threshold: 3,
            as_of: Timestamp(0),
            source: "uploads/20261130-000000.000-1/inventory-all.csv".into(),
            raised_at: Timestamp(0),
            state: AlertState::Open,
            acknowledged: None,
            resolved_at: None,
            published_at: None,
            version: 1,
            reminders: 0,
        }
    }

    #[test]
    fn one_item_keeps_the_original_text_and_a_store_is_one_message() {
        let alerts = [
            alert(1, "Berlin", "Echo Plus", AlertKind::Out, 0),
            alert(2, "Pusan", "Echo Show", AlertKind::Out, 0),
            alert(3, "Berlin", "Echo Dot", AlertKind::Out, 0),
            alert(4, "Berlin", "Echo Show", AlertKind::Out, 0),
            alert(5, "Berlin", "Amazon Tap", AlertKind::Low, 2),
        ];
        let messages = group(&alerts, 10);
        assert_eq!(messages.len(), 2);
        assert_eq!(
            messages[0].text,
            "Berlin is out of stock of 3 items: Echo Plus, Echo Dot, Echo Show\nBerlin is low on Amazon Tap: 2 left"
        );
        assert_eq!(messages[0].alert_ids, [1, 3, 4, 5].map(AlertId));
        assert_eq!(messages[1].text, "Pusan is out of stock of Echo Show");
        assert_eq!(messages[1].alert_ids, [AlertId(2)]);
        assert_eq!(
            messages[1].sms, None,
            "a single alert is sent as the original system sent it"
        );
        assert!(messages.iter().all(|m| m.subject == "Inventory Alert!"));
        let sms = messages[0].sms.as_deref().unwrap();
        assert!(sms.starts_with("Berlin out: Echo Plus, Echo Dot, Echo Show"), "{sms}");
        assert!(sms.contains("Berlin is low on Amazon Tap: 2 left"), "{sms}");
    }

    #[test]
    fn a_storm_is_one_summary_carrying_every_alert() {
        let alerts: Vec<Alert> = (0..16_677)
            .map(|i| {
                alert(
                    i,
                    &format!("Store {}", i % 412),
                    &format!("Item {i}"),
                    AlertKind::Out,
                    0,
                )
            })
            .collect();
        let messages = group(&alerts, 10);
        assert_eq!(messages.len(), 1);
        assert_eq!(
            messages[0].text,
            "412 stores report 16,677 items out of stock (file inventory-all.csv); see stockwatch alerts"
        );
        assert_eq!(messages[0].alert_ids.len(), 16_677, "each alert carried exactly once");
    }

    #[test]
    fn a_long_list_is_cut_for_sms_and_says_how_many_more() {
        let alerts: Vec<Alert> = (0..60)
            .map(|i| alert(i, "Berlin", &format!("Item number {i}"), AlertKind::Out, 0))
            .collect();
        let message = &group(&alerts, 10)[0];
        let sms = message.sms.as_deref().unwrap();
        assert!(sms.chars().count() <= SMS_CHARS, "{} chars", sms.chars().count());
        assert!(sms.ends_with("more"), "{sms}");
        assert!(message.text.contains("Item number 59"), "email keeps the whole list");
    }

    #[test]
    fn a_store_out_of_50_000_items_is_one_message_under_sns_s_limits() {
        let alerts: Vec<Alert> = (0..50_000)
            .map(|i| {
                alert(
                    i,
                    "Berlin",
                    &format!("Item with a long name, number {i:05}"),
                    AlertKind::Out,
                    0,
                )
            })
            .collect();
        let messages = group(&alerts, 10);
        assert_eq!(messages.len(), 1, "one store, one message");
        let m = &messages[0];
        assert_eq!(m.alert_ids.len(), 50_000, "carrying every alert");
        assert!(m.text.len() <= TEXT_BYTES, "{} bytes", m.text.len());
        assert!(
            m.text
                .starts_with("Berlin is out of stock of 50,000 items: Item with a long name, number 00000, "),
            "{}",
            &m.text[..120]
        );
        assert!(
            m.text.ends_with("more (stockwatch alerts lists them)"),
            "{}",
            &m.text[m.text.len() - 80..]
        );
        let reminded = reminders(&alerts, 10, Timestamp(3_600_000));
        assert_eq!(reminded.len(), 1);
        assert!(reminded[0].text.len() <= TEXT_BYTES, "{} bytes", reminded[0].text.len());
        assert!(reminded[0].text.contains("more (stockwatch alerts lists them)"));
    }

    #[test]
    fn reminders_say_how_long_and_group_per_store() {
        let hour = 3_600_000;
        let mut alerts: Vec<Alert> = [
            (1, "Berlin", "Echo Plus"),
            (2, "Pusan", "Echo Show"),
            (3, "Berlin", "Echo Dot"),
        ]
        .map(|(id, store, item)| alert(id, store, item, AlertKind::Out, 0))
        .to_vec();
        alerts[0].raised_at = Timestamp(0);
        alerts[1].raised_at = Timestamp(0);
        alerts[2].raised_at = Timestamp(hour / 2);
        let messages = reminders(&alerts, 10, Timestamp(2 * hour));
        assert_eq!(messages.len(), 2);
        assert_eq!(
            messages[0].text,
            "Berlin is still out of stock after 1 h 30 min, unacknowledged: Echo Plus, Echo Dot"
        );
        assert_eq!(messages[0].alert_ids, [AlertId(1), AlertId(3)]);
        assert_eq!(
            messages[0].sms.as_deref(),
            Some("Berlin still out after 1 h 30 min: Echo Plus, Echo Dot")
        );
        assert_eq!(
            messages[1].text,
            "Pusan is still out of stock after 2 h, unacknowledged: Echo Show"
        );
        assert!(
            messages
                .iter()
                .all(|m| m.reminder && m.subject == "Inventory Alert! (reminder)")
        );
        assert!(messages.iter().all(|m| m.subject.len() <= 100 && m.subject.is_ascii()));

        let storm: Vec<Alert> = (0..500)
            .map(|i| alert(i, &format!("Store {}", i % 50), &format!("Item {i}"), AlertKind::Out, 0))
            .collect();
        let summary = reminders(&storm, 10, Timestamp(hour));
        assert_eq!(summary.len(), 1);
        assert_eq!(
            summary[0].text,
            "50 stores still have 500 items out of stock after 1 h, unacknowledged; see stockwatch alerts"
        );
        assert_eq!(summary[0].alert_ids.len(), 500);
    }
}
