//! What one pass is to tell, gathered batch by batch in memory that does
//! not grow with a storm: whole alerts while they are few stores' (their
//! messages name the items), and past the message limit only what the one
//! summary says and the ids it carries (800,000 alerts are a few bytes
//! each, not whole alerts).

use crate::alert::{ALERT_SUBJECT, Alert, AlertId, AlertKind, Message};
use crate::notify::{group, summary_text};
use crate::time::Timestamp;
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

/// An alert of a storm: what its summary counts, and what a restock later
/// in the pass checks.
struct Brief {
    id: AlertId,
    store: u64,
    item: u64,
    as_of: Timestamp,
    kind: AlertKind,
    file: u32,
}

/// An end of an outage seen later in the pass: the item's alerts raised by
/// older snapshots (of `only` kind, if given) are no longer to be told.
#[derive(Debug, Clone, Copy)]
pub struct Ended<'a> {
    pub store: &'a str,
    pub item: &'a str,
    pub as_of: Timestamp,
    pub only: Option<AlertKind>,
}

impl Ended<'_> {
    fn ends(&self, kind: AlertKind, as_of: Timestamp) -> bool {
        as_of < self.as_of && self.only.is_none_or(|k| k == kind)
    }
}

pub struct Gathered {
    max_messages: usize,
    whole: Vec<Alert>,
    stores: HashSet<u64>,
    /// Once more stores than messages: the storm, and its files' names.
    storm: Option<(Vec<Brief>, Vec<String>)>,
}

fn hash(parts: &[&str]) -> u64 {
    let mut hasher = DefaultHasher::new();
    parts.hash(&mut hasher);
    hasher.finish()
}

impl Gathered {
    pub fn new(max_messages: usize) -> Gathered {
        Gathered {
            max_messages: max_messages.max(1),
            whole: Vec::new(),
            stores: HashSet::new(),
            storm: None,
        }
    }

    pub fn len(&self) -> usize {
        match &self.storm {
            Some((briefs, _)) => briefs.len(),
            None => self.whole.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn add(&mut self, alerts: impl IntoIterator<Item = Alert>) {
        for alert in alerts {
            if self.storm.is_none() {
                self.stores.insert(hash(&[&alert.store]));
                self.whole.push(alert);
                if self.stores.len() > self.max_messages {
                    let whole = std::mem::take(&mut self.whole);
                    // Counted again from the storm's briefs at its end.
                    self.stores = HashSet::new();
                    self.storm = Some((Vec::new(), Vec::new()));
                    whole.into_iter().for_each(|a| self.brief(a));
                }
            } else {
                self.brief(alert);
            }
        }
    }

    fn brief(&mut self, alert: Alert) {
        let Some((briefs, files)) = &mut self.storm else { return };
        let name = crate::notify::file_name(&alert.source);
        let file = match files.iter().position(|f| f == name) {
            Some(i) => i,
            None => {
                files.push(name.to_string());
                files.len() - 1
            }
        };
        briefs.push(Brief {
            id: alert.id,
            store: hash(&[&alert.store]),
            item: hash(&[&alert.store, &alert.item]),
            as_of: alert.as_of,
            kind: alert.kind,
            file: file as u32,
        });
    }

    /// Leaves out what `ended` ends: an outage over before it was told.
    pub fn drop_ended(&mut self, ended: &[Ended<'_>]) {
        if ended.is_empty() {
            return;
        }
        match &mut self.storm {
            None => self.whole.retain(|a| {
                !ended
                    .iter()
                    .any(|e| e.store == a.store && e.item == a.item && e.ends(a.kind, a.as_of))
            }),
            Some((briefs, _)) => {
                let by_item: std::collections::HashMap<u64, Vec<&Ended<'_>>> =
                    ended.iter().fold(Default::default(), |mut map, e| {
                        map.entry(hash(&[e.store, e.item])).or_default().push(e);
                        map
                    });
                briefs.retain(|b| {
                    !by_item
                        .get(&b.item)
                        .is_some_and(|es| es.iter().any(|e| e.ends(b.kind, b.as_of)))
                });
            }
        }
    }

    /// The pass's messages: one per store, or one summary for a storm.
    pub fn messages(self) -> Vec<Message> {
        let Some((mut briefs, files)) = self.storm else {
            let mut whole = self.whole;
            whole.sort_by_key(|a| a.id);
            return group(&whole, self.max_messages);
        };
        if briefs.is_empty() {
            return Vec::new();
        }
        briefs.sort_by_key(|b| b.id);
        let count = |kind: AlertKind| briefs.iter().filter(|b| b.kind == kind).count() as u64;
        let stores: HashSet<u64> = briefs.iter().map(|b| b.store).collect();
        let mut in_use = vec![false; files.len()];
        briefs.iter().for_each(|b| in_use[b.file as usize] = true);
        let mut used: Vec<&str> = files
            .iter()
            .zip(&in_use)
            .filter(|(_, used)| **used)
            .map(|(f, _)| f.as_str())
            .collect();
        used.sort_unstable();
        let text = summary_text(
            stores.len(),
            [count(AlertKind::Out), count(AlertKind::Low), count(AlertKind::Soon)],
            &used,
        );
        // A storm that restocks later in the pass left few stores of is
        // still one summary: its alerts themselves are no longer at hand.
        vec![Message {
            alert_ids: briefs.iter().map(|b| b.id).collect(),
            subject: ALERT_SUBJECT.to_string(),
            sms: Some(text.clone()),
            text,
            reminder: false,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(id: u64, store: &str, item: &str, as_of: i64) -> Alert {
        Alert {
            as_of: Timestamp(as_of),
            ..crate::notify::tests::alert(id, store, item, AlertKind::Out, 0)
        }
    }

    #[test]
    fn few_stores_are_a_message_each_and_a_storm_one_summary_as_group_says() {
        let few: Vec<Alert> = (1..=4).map(|i| alert(i, &format!("S{}", i % 2), "Dot", 5)).collect();
        let mut gathered = Gathered::new(10);
        gathered.add(few.clone());
        assert_eq!(gathered.messages(), group(&few, 10));

        let storm: Vec<Alert> = (1..=50).map(|i| alert(i, &format!("S{i}"), "Dot", 5)).collect();
        let mut gathered = Gathered::new(10);
        gathered.add(storm[..5].to_vec());
        gathered.add(storm[5..].to_vec());
        assert_eq!(gathered.messages(), group(&storm, 10));
    }

    #[test]
    fn an_outage_ended_later_in_the_pass_is_left_out_either_way() {
        let ended = [Ended {
            store: "S3",
            item: "Dot",
            as_of: Timestamp(9),
            only: None,
        }];
        for stores in [4, 40] {
            let alerts: Vec<Alert> = (1..=stores).map(|i| alert(i, &format!("S{i}"), "Dot", 5)).collect();
            let mut gathered = Gathered::new(10);
            gathered.add(alerts);
            gathered.drop_ended(&ended);
            let ids: Vec<AlertId> = gathered.messages().into_iter().flat_map(|m| m.alert_ids).collect();
            assert_eq!(ids.len() as u64, stores - 1, "{stores} stores");
            assert!(!ids.contains(&AlertId(3)));
        }
    }
}
