//! Alerts and their lifecycle: open → acknowledged → resolved (an open alert
//! may also resolve directly when stock comes back).

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AlertKind {
    Out,
    Low,
    /// Predicted to run out within the item's horizon (`alerts.soon_within`).
    Soon,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Out => "OUT",
            AlertKind::Low => "LOW",
            AlertKind::Soon => "SOON",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "OUT" => Some(AlertKind::Out),
            "LOW" => Some(AlertKind::Low),
            "SOON" => Some(AlertKind::Soon),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Open,
    Acknowledged,
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Open => "open",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(AlertState::Open),
            "acknowledged" => Some(AlertState::Acknowledged),
            "resolved" => Some(AlertState::Resolved),
            _ => None,
        }
    }
}

/// The short number people type (`stockwatch ack 12`, `#12` on screen).
/// Ordered numerically, so #9 comes before #10 everywhere. In JSON it is a
/// string of digits, as it always was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AlertId(pub u64);

impl AlertId {
    /// Accepts `12`, `#12` and surrounding spaces.
    pub fn parse(text: &str) -> Result<AlertId, String> {
        let digits = text.trim();
        let digits = digits.strip_prefix('#').unwrap_or(digits);
        match digits.parse::<u64>() {
            Ok(n) if digits.bytes().all(|b| b.is_ascii_digit()) => Ok(AlertId(n)),
            _ => Err(format!(
                "`{}` is not an alert id; ids are numbers such as 12",
                crate::escape_for_terminal(text)
            )),
        }
    }
}

impl fmt::Display for AlertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Width and alignment apply: `{:<5}` lines ids up in a column.
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::str::FromStr for AlertId {
    type Err = String;
    fn from_str(text: &str) -> Result<AlertId, String> {
        AlertId::parse(text)
    }
}

impl Serialize for AlertId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AlertId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<AlertId, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Text(String),
            Number(u64),
        }
        match Either::deserialize(deserializer)? {
            Either::Number(n) => Ok(AlertId(n)),
            Either::Text(text) => AlertId::parse(&text).map_err(serde::de::Error::custom),
        }
    }
}

/// The identity of a transition, the same whichever path finds it: the
/// feed's record of the change, or a reconcile that reads the table after
/// the feed lost changes. It is one item reaching one kind at one snapshot:
/// at a given as-of a count can only fall (a tie keeps the lower count), so
/// an item reaches 0, or its threshold, at most once per as-of. Rows without
/// an as-of (written by the original system) have none to go by: their
/// change's own id stands in.
pub fn transition_key(store: &str, item: &str, as_of: Timestamp, kind: AlertKind, change_id: &str) -> String {
    if as_of.0 > 0 {
        format!("{}#{}", serde_json::json!([store, item, as_of.0]), kind.as_str())
    } else {
        format!("change:{change_id}#{}", kind.as_str())
    }
}

/// Who acknowledged an alert, when, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    pub by: String,
    pub at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub id: AlertId,
    /// The transition it was raised for, the same whichever path found it
    /// (`transition_key`): the claim key in the ledger.
    #[serde(default)]
    pub transition: String,
    /// The change that raised it (a stream record's event id, a local change
    /// id, or `resync:…` when a reconcile after a gap found it).
    pub change_id: String,
    pub kind: AlertKind,
    pub store: String,
    pub item: String,
    pub count: u32,
    pub threshold: u32,
    /// The snapshot time of the row that raised it.
    pub as_of: Timestamp,
    /// The object (uploaded file) the row came from.
    pub source: String,
    pub raised_at: Timestamp,
    pub state: AlertState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<Acknowledgement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
    /// When the notification went out; `None` for alerts nobody is told of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_at: Option<Timestamp>,
    /// The ledger's order of this alert's states (a revision the ledger
    /// gives each write): of two copies, the higher is the newer, whatever
    /// order they arrived in.
    #[serde(default)]
    pub version: u64,
    /// Reminders claimed for it so far (`alerts.renotify_after`): while the
    /// last one is being sent, `published_at` is unset again.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reminders: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("alert {id} was already acknowledged by {by} at {at}")]
    AlreadyAcknowledged { id: AlertId, by: String, at: String },
    #[error("alert {id} is already resolved: the stock came back at {at}")]
    AlreadyResolved { id: AlertId, at: String },
    #[error("alert {id} is open: there is no acknowledgement to take back")]
    NotAcknowledged { id: AlertId },
}

impl Alert {
    /// Checks that this alert's acknowledgement can be taken back now: it
    /// has one, and the stock has not come back since.
    pub fn can_unacknowledge(&self) -> Result<(), LifecycleError> {
        match self.state {
            AlertState::Acknowledged => Ok(()),
            AlertState::Open => Err(LifecycleError::NotAcknowledged { id: self.id }),
            AlertState::Resolved => Err(LifecycleError::AlreadyResolved {
                id: self.id,
                at: self.resolved_at.map_or_else(String::new, |t| t.to_display()),
            }),
        }
    }

    /// Checks that this alert can be acknowledged now.
    pub fn can_acknowledge(&self) -> Result<(), LifecycleError> {
        match self.state {
            AlertState::Open => Ok(()),
            AlertState::Acknowledged => {
                let ack = self.acknowledged.as_ref();
                Err(LifecycleError::AlreadyAcknowledged {
                    id: self.id,
                    by: ack.map_or_else(|| "someone".into(), |a| a.by.clone()),
                    at: ack.map_or_else(String::new, |a| a.at.to_display()),
                })
            }
            AlertState::Resolved => Err(LifecycleError::AlreadyResolved {
                id: self.id,
                at: self.resolved_at.map_or_else(String::new, |t| t.to_display()),
            }),
        }
    }

    pub fn notification(&self) -> Notification {
        Notification::for_alert(self.kind, &self.store, &self.item, self.count)
    }
}

/// What is sent to people: the original system's subject and message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub subject: String,
    pub message: String,
}

/// ASCII and under 100 characters, as SNS requires of email subjects.
pub const ALERT_SUBJECT: &str = "Inventory Alert!";

impl Notification {
    pub fn for_alert(kind: AlertKind, store: &str, item: &str, count: u32) -> Self {
        let message = match kind {
            AlertKind::Out => format!("{store} is out of stock of {item}"),
            AlertKind::Low => format!("{store} is low on {item}: {count} left"),
            AlertKind::Soon => format!("{store} will soon run out of {item}: {count} left"),
        };
        Notification {
            subject: ALERT_SUBJECT.to_string(),
            message,
        }
    }
}

/// One message to people, carrying one or more alerts (grouped by the
/// checker). Sending it and marking its alerts published go together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub alert_ids: Vec<AlertId>,
    pub subject: String,
    pub text: String,
    /// A shorter form for phones (SMS), when the text is long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<String>,
    /// A reminder of alerts still open (sent to the escalation topic, when
    /// there is one).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reminder: bool,
}

impl Message {
    /// The original system's message for one alert.
    pub fn for_alert(alert: &Alert) -> Message {
        let notification = alert.notification();
        Message {
            alert_ids: vec![alert.id],
            subject: notification.subject,
            text: notification.message,
            sms: None,
            reminder: false,
        }
    }
}

impl fmt::Display for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {} {}", self.id, self.kind.as_str(), self.notification().message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(state: AlertState) -> Alert {
        Alert {
            id: AlertId(7),
            transition: String::new(),
            change_id: "c1".into(),
            kind: AlertKind::Out,
            store: "Berlin".into(),
            item: "Echo Plus".into(),
            count: 0,
            threshold: 3,
            as_of: Timestamp(0),
            source: "k".into(),
            raised_at: Timestamp(0),
            state,
            acknowledged: None,
            resolved_at: None,
            published_at: None,
            version: 0,
            reminders: 0,
        }
    }

    #[test]
    fn the_message_matches_the_original_system() {
        let n = alert(AlertState::Open).notification();
        assert_eq!(n.subject, "Inventory Alert!");
        assert_eq!(n.message, "Berlin is out of stock of Echo Plus");
        assert_eq!(
            Notification::for_alert(AlertKind::Low, "Pusan", "Echo Dot", 2).message,
            "Pusan is low on Echo Dot: 2 left"
        );
    }

    #[test]
    fn alert_ids_parse_with_or_without_the_hash_and_order_numerically() {
        assert_eq!(AlertId::parse(" #12 "), Ok(AlertId(12)));
        assert_eq!("9".parse::<AlertId>(), Ok(AlertId(9)));
        for bad in ["", "#", "twelve", "-1", "+3", "1.5", "# 4"] {
            assert!(AlertId::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(AlertId(9) < AlertId(10), "numeric, not text, order");
        assert_eq!(serde_json::to_string(&AlertId(12)).unwrap(), r#""12""#);
        assert_eq!(serde_json::from_str::<AlertId>(r#""12""#).unwrap(), AlertId(12));
        assert_eq!(serde_json::from_str::<AlertId>("12").unwrap(), AlertId(12));
    }

    #[test]
    fn only_open_alerts_can_be_acknowledged() {
        assert!(alert(AlertState::Open).can_acknowledge().is_ok());
        let mut acked = alert(AlertState::Acknowledged);
        acked.acknowledged = Some(Acknowledgement {
            by: "ana".into(),
            at: Timestamp(0),
            note: None,
        });
        let err = acked.can_acknowledge().unwrap_err().to_string();
        assert!(err.contains("already acknowledged by ana"), "{err}");
        let err = alert(AlertState::Resolved).can_acknowledge().unwrap_err().to_string();
        assert!(err.contains("already resolved"), "{err}");
        assert!(acked.can_unacknowledge().is_ok());
        let err = alert(AlertState::Open).can_unacknowledge().unwrap_err().to_string();
        assert!(err.contains("no acknowledgement to take back"), "{err}");
        let err = alert(AlertState::Resolved).can_unacknowledge().unwrap_err().to_string();
        assert!(err.contains("already resolved"), "{err}");
    }

    #[test]
    fn a_transition_has_one_identity_whichever_path_finds_it() {
        let at = Timestamp(1_764_460_800_000);
        let from_feed = transition_key("Berlin", "Echo Dot", at, AlertKind::Out, "shardA-000123");
        let from_reconcile = transition_key("Berlin", "Echo Dot", at, AlertKind::Out, "resync:x");
        assert_eq!(from_feed, from_reconcile);
        assert_ne!(
            from_feed,
            transition_key("Berlin", "Echo Dot", at, AlertKind::Low, "shardA-000123")
        );
        assert_ne!(
            from_feed,
            transition_key("Berlin", "Echo Dot", Timestamp(at.0 + 1), AlertKind::Out, "e")
        );
        assert_ne!(
            from_feed,
            transition_key("Berlin#", "Echo Dot", at, AlertKind::Out, "e"),
            "no ambiguity"
        );
        // Rows of the original system carry no as-of: their change stands in.
        assert_ne!(
            transition_key("Berlin", "Echo Dot", Timestamp(0), AlertKind::Out, "e1"),
            transition_key("Berlin", "Echo Dot", Timestamp(0), AlertKind::Out, "e2")
        );
    }
}
