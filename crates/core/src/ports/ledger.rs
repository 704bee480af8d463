//! The alert ledger: claims on transitions, alerts and their lifecycle,
//! snoozes; everything that must happen once is decided here by a
//! conditional write.

use super::*;
use async_trait::async_trait;

/// A checker's claim on one transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertClaim {
    pub change_id: String,
    pub kind: AlertKind,
    pub store: String,
    pub item: String,
    pub count: u32,
    pub threshold: u32,
    pub as_of: Timestamp,
    pub source: String,
    /// Whether anyone is told (LOW alerts only when configured).
    pub notify: bool,
}

impl AlertClaim {
    /// What is claimed: the transition's identity (`transition_key`).
    pub fn transition(&self) -> String {
        transition_key(&self.store, &self.item, self.as_of, self.kind, &self.change_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This caller won the claim: it must publish (when `notify`) and mark it.
    Won(Alert),
    /// Another checker claimed this transition first.
    Lost(Alert),
}

impl ClaimOutcome {
    pub fn alert(&self) -> &Alert {
        match self {
            ClaimOutcome::Won(a) | ClaimOutcome::Lost(a) => a,
        }
    }
}

/// A restock of an item: alerts raised by older snapshots resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restock {
    pub store: String,
    pub item: String,
    pub as_of: Timestamp,
    pub change_id: String,
    /// `None`: the stock came back; every alert of the item raised before
    /// `as_of` is resolved, and claims of older snapshots are born
    /// resolved. `Some(kind)`: only that kind's alerts are resolved (a
    /// SOON whose prediction moved out, or that a LOW or OUT took over).
    pub only: Option<AlertKind>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    /// Include resolved alerts.
    pub include_resolved: bool,
    pub source: Option<String>,
    pub state: Option<AlertState>,
}

/// Where a follower of the ledger is; opaque like `FeedCursor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerCursor(pub String);

/// Who holds a claim until its message is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// The claimer sends it itself, with the rest of its pass.
    Sender(String),
    /// Held for a grouping window: the window's sender takes it
    /// (`AlertClaims::take_held`) once no new alert came for a while.
    Window(String),
}

/// How a ledger stores a window's holder: its token after this prefix (the
/// form ledgers written before `Holder` hold too).
pub const WINDOW_PREFIX: &str = "held:";

impl Holder {
    /// The holder as a ledger stores it.
    pub fn stored(&self) -> String {
        match self {
            Holder::Sender(token) => token.clone(),
            Holder::Window(token) => format!("{WINDOW_PREFIX}{token}"),
        }
    }

    /// A stored holder read back.
    pub fn from_stored(stored: &str) -> Holder {
        match stored.strip_prefix(WINDOW_PREFIX) {
            Some(token) => Holder::Window(token.to_string()),
            None => Holder::Sender(stored.to_string()),
        }
    }

    pub fn is_window(&self) -> bool {
        matches!(self, Holder::Window(_))
    }
}

/// Claims: who raises each transition's alert and who sends it, once
/// however many checkers try (the checker's side of the ledger).
#[async_trait]
pub trait AlertClaims: Send + Sync {
    /// Claims each transition with a conditional insert keyed by its
    /// `transition`: however many checkers try, by whichever path, one wins.
    /// `holder` holds what is won until it is sent (the `Publisher` sends
    /// only what its token holds).
    async fn claim(&self, claims: &[AlertClaim], holder: &Holder, now: Timestamp) -> PortResult<Vec<ClaimOutcome>>;
    /// Takes over claims whose publisher died: unpublished, claimed before
    /// `claimed_before`. The caller publishes them under its `token`.
    async fn take_stale(&self, claimed_before: Timestamp, token: &str, now: Timestamp) -> PortResult<Vec<Alert>>;
    /// Resolves the item's alerts raised by snapshots older than the restock,
    /// including ones claimed later by a slower checker. Returns how many.
    async fn resolve(&self, restocks: &[Restock], now: Timestamp) -> PortResult<u64>;
    /// The claims held for a grouping window (`Holder::Window`): the
    /// window's sender waits until the newest is old enough (an index
    /// query, never a scan).
    async fn held(&self) -> PortResult<PendingClaims>;
    /// Takes every claim held for a grouping window, to send them together
    /// under `token`. Claims a sender holds are never taken here: only
    /// `take_stale`, after their lease, takes those.
    async fn take_held(&self, token: &str, now: Timestamp) -> PortResult<Vec<Alert>>;
    /// OUT alerts still open and notified whose last message went out at or
    /// before `notified_before`: due for a reminder (an index query).
    async fn due_reminders(&self, notified_before: Timestamp) -> PortResult<Vec<Alert>>;
    /// Claims the next reminder of each alert, conditional on its last
    /// message being the one the caller saw and its being open still, so
    /// however many checkers try, one wins each. The alerts won come back
    /// unpublished under `token` (sent and marked like any claim, taken
    /// over after the lease), `reminders` counted up. Acknowledging or
    /// resolving an alert cancels a reminder not sent yet.
    async fn claim_reminders(&self, due: &[Alert], token: &str, now: Timestamp) -> PortResult<Vec<Alert>>;
}

/// Alerts as people see them: acknowledged, read, listed and followed.
#[async_trait]
pub trait Alerts: Send + Sync {
    /// Conditional: only an open alert can be acknowledged.
    async fn acknowledge(&self, id: AlertId, ack: &Acknowledgement) -> PortResult<Alert>;
    /// Takes an acknowledgement back (one made by mistake): the alert is
    /// open again, its reminders due again, and followers see it so.
    /// Conditional: only an acknowledged alert (not a resolved one).
    async fn unacknowledge(&self, id: AlertId, at: Timestamp) -> PortResult<Alert>;
    async fn get(&self, id: AlertId) -> PortResult<Alert>;
    /// Newest first.
    async fn list(&self, filter: &AlertFilter, page: Option<&PageToken>, limit: usize) -> PortResult<Page<Alert>>;
    /// A cursor at the newest revision: followers that start from it see only
    /// what happens next.
    async fn tip(&self) -> PortResult<LedgerCursor>;
    /// Alerts raised or changed (acknowledged, resolved) after `cursor`, in
    /// the ledger's own order (a revision, or the ledger stream's sequence;
    /// never a writer's clock). An alert may come more than once (each
    /// write); its newest state is the last.
    async fn changes_since(&self, cursor: Option<&LedgerCursor>, limit: usize) -> PortResult<LedgerPage>;
}

/// Snoozes: stores and items whose new alerts are raised, not notified.
#[async_trait]
pub trait Snoozes: Send + Sync {
    /// Snoozes a store or an item (replacing its snooze, if any).
    async fn snooze(&self, snooze: &Snooze) -> PortResult<()>;
    /// Ends a store's or an item's snooze; whether there was one.
    async fn unsnooze(&self, store: &str, item: Option<&str>) -> PortResult<bool>;
    /// The snoozes still active at `now` (a key lookup, never a scan).
    async fn snoozes(&self, now: Timestamp) -> PortResult<Vec<Snooze>>;
}

/// The alert ledger: one table (SQLite's, DynamoDB's) doing the three jobs.
pub trait AlertLedger: AlertClaims + Alerts + Snoozes {}

impl<T: AlertClaims + Alerts + Snoozes> AlertLedger for T {}

/// The longest a grouping window stays open: held claims older than this
/// are abandoned (their window's sender stopped) and any checker's
/// `take_stale` takes them.
pub const WINDOW_LONGEST: Duration = Duration::from_secs(600);

/// Claims held for a grouping window (`AlertLedger::held`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PendingClaims {
    pub count: u64,
    pub oldest: Option<Timestamp>,
    pub newest: Option<Timestamp>,
}

/// What a follower of the ledger reads at once.
#[derive(Debug, Clone)]
pub struct LedgerPage {
    pub alerts: Vec<Alert>,
    pub cursor: LedgerCursor,
    /// Changes were lost (the ledger stream trimmed them, or was replaced):
    /// what the follower holds may be stale; list the alerts again.
    pub gap: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_is_stored_as_ledgers_always_stored_it_and_read_back() {
        let window = Holder::Window("check-stock-1a2b".into());
        assert_eq!(window.stored(), "held:check-stock-1a2b");
        assert_eq!(Holder::from_stored(&window.stored()), window);
        let sender = Holder::Sender("relay-9".into());
        assert_eq!(sender.stored(), "relay-9");
        assert_eq!(Holder::from_stored("relay-9"), sender);
        assert!(window.is_window() && !sender.is_window());
    }
}
