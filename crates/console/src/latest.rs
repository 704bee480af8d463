//! "The newest request wins", written once for every background job that a
//! newer request supersedes (directory listings, previews).
//!
//! `update` asks for a job with a ticket from that kind of job's `Latest`;
//! asking again makes every older ticket stale. The job checks its ticket
//! before it delivers and, if it is long, before each step (the ticket is
//! its stop flag); `update` checks the ticket its result comes back with, so
//! a slow answer to an older request can never replace a newer one.
//!
//! Only `update` issues tickets; jobs only read them. The counter is shared
//! (an atomic) so that a job on another thread sees at once that it has been
//! superseded.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Hands out tickets for one kind of request; only the newest is current.
#[derive(Debug, Clone, Default)]
pub struct Latest {
    newest: Arc<AtomicU64>,
}

/// One request's claim to be the newest. Cheap to clone; compares equal to
/// itself only.
#[derive(Clone)]
pub struct Ticket {
    number: u64,
    newest: Arc<AtomicU64>,
}

impl Latest {
    pub fn new() -> Latest {
        Latest::default()
    }

    /// A ticket for a new request; every ticket handed out before is stale.
    pub fn issue(&self) -> Ticket {
        let number = self.newest.fetch_add(1, Ordering::SeqCst) + 1;
        Ticket {
            number,
            newest: self.newest.clone(),
        }
    }

    /// No request is wanted any more: jobs under way stop and their results
    /// are dropped.
    pub fn cancel(&self) {
        self.newest.fetch_add(1, Ordering::SeqCst);
    }
}

impl Ticket {
    /// Whether no newer request was made (nor the requests cancelled) since
    /// this one: a job delivers and carries on only while it is.
    pub fn is_current(&self) -> bool {
        self.newest.load(Ordering::SeqCst) == self.number
    }
}

impl PartialEq for Ticket {
    fn eq(&self, other: &Ticket) -> bool {
        self.number == other.number && Arc::ptr_eq(&self.newest, &other.newest)
    }
}

impl Eq for Ticket {}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ticket({})", self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn only_the_newest_ticket_is_current() {
        let listings = Latest::new();
        let first = listings.issue();
        assert!(first.is_current());
        let second = listings.issue();
        assert!(!first.is_current(), "an older ticket's result is dropped");
        assert!(second.is_current());
        assert_ne!(first, second);
        assert_eq!(second, second.clone());
        let previews = Latest::new();
        assert!(
            previews.issue().is_current(),
            "each kind of request has its own tickets"
        );
        assert!(second.is_current());
        assert_ne!(
            previews.issue(),
            listings.issue(),
            "tickets of two kinds never compare equal"
        );
    }

    #[test]
    fn cancelling_makes_every_ticket_stale() {
        let previews = Latest::new();
        let ticket = previews.issue();
        previews.cancel();
        assert!(!ticket.is_current());
        assert!(previews.issue().is_current(), "a request after the cancel is current");
    }

    #[test]
    fn a_long_job_stops_when_a_newer_request_is_made() {
        let previews = Latest::new();
        let ticket = previews.issue();
        let (started_tx, started) = std::sync::mpsc::channel();
        let job = std::thread::spawn(move || {
            let mut steps = 0u64;
            while ticket.is_current() {
                steps += 1;
                if steps == 1 {
                    started_tx.send(()).unwrap();
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            steps
        });
        started.recv_timeout(Duration::from_secs(5)).unwrap();
        let _newer = previews.issue();
        let (done_tx, done) = std::sync::mpsc::channel();
        std::thread::spawn(move || done_tx.send(job.join().unwrap()).unwrap());
        let steps = done.recv_timeout(Duration::from_secs(5)).expect("the job stopped");
        assert!(steps >= 1);
    }
}
