//! The fan-out feed's numbering: every message a publisher puts on the
//! topic carries the feed's epoch and the next number of one contiguous
//! sequence (a counter in the ledger, so the relay and every function
//! instance share it). A follower drops a message it has seen, waits a
//! moment for what SNS delivers out of order, and calls a hole that stays
//! open, or a new epoch, a gap: it then reads a fresh snapshot. The relay's
//! beat is numbered too, so messages lost to a queue's retention show as a
//! hole within a beat.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// How long a hole may stay open before it is a gap: SNS to SQS delivers
/// out of order by far less.
pub const HOLE_WAIT: Duration = Duration::from_secs(5);
/// Numbers remembered for telling duplicates.
const REMEMBERED: usize = 4096;

/// One follower's view of the numbering.
#[derive(Debug, Default)]
pub struct Tracker {
    epoch: Option<String>,
    /// The lowest number not yet seen since the first one seen.
    next: u64,
    seen: BTreeSet<u64>,
    hole_since: Option<Instant>,
}

/// What a numbered message is to its follower.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// Its events are new.
    New,
    /// Seen already: dropped.
    Again,
    /// The first of a new epoch (the feed started over): a gap, then new.
    NewEpoch,
}

impl Tracker {
    /// Takes message `seq` of `epoch`.
    pub fn take(&mut self, epoch: &str, seq: u64) -> Taken {
        if self.epoch.as_deref() != Some(epoch) {
            let first = self.epoch.is_none();
            self.epoch = Some(epoch.to_string());
            self.seen = BTreeSet::from([seq]);
            (self.next, self.hole_since) = (seq + 1, None);
            return if first { Taken::New } else { Taken::NewEpoch };
        }
        if !self.seen.insert(seq) {
            return Taken::Again;
        }
        while self.seen.len() > REMEMBERED {
            self.seen.pop_first();
        }
        while self.seen.contains(&self.next) {
            self.next += 1;
        }
        // A number above the lowest unseen one: a hole, for now.
        if self.seen.last().is_some_and(|&last| last > self.next) {
            self.hole_since.get_or_insert_with(Instant::now);
        } else {
            self.hole_since = None;
        }
        Taken::New
    }

    /// Whether a hole has stayed open for `wait`: said once, then the
    /// numbering goes on from the newest seen.
    pub fn hole_stayed(&mut self, wait: Duration) -> bool {
        if self.hole_since.is_none_or(|since| since.elapsed() < wait) {
            return false;
        }
        self.next = self.seen.last().map_or(self.next, |last| last + 1);
        self.hole_since = None;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_drop_reordering_waits_and_a_hole_that_stays_is_a_gap() {
        let mut t = Tracker::default();
        assert_eq!(t.take("e1", 10), Taken::New, "the first number seen starts it");
        assert_eq!(t.take("e1", 10), Taken::Again);
        assert_eq!(t.take("e1", 12), Taken::New);
        let mut t = Tracker::default();
        t.take("e1", 1);
        t.take("e1", 3);
        assert!(!t.hole_stayed(Duration::from_secs(60)), "2 may come late");
        assert_eq!(t.take("e1", 2), Taken::New, "it came late");
        assert!(!t.hole_stayed(Duration::ZERO), "no hole now");
        t.take("e1", 5);
        assert!(t.hole_stayed(Duration::ZERO), "4 never came");
        assert!(!t.hole_stayed(Duration::ZERO), "said once");
        assert_eq!(t.take("e1", 6), Taken::New);
        assert!(!t.hole_stayed(Duration::ZERO));
        assert_eq!(t.take("e2", 1), Taken::NewEpoch);
        assert_eq!(t.take("e2", 1), Taken::Again);
    }
}
