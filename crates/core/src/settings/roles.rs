//! Who does what in a deployment, decided in one place: who loads what is
//! uploaded, who raises the alerts, how followers follow, and whether this
//! process may write at all. Front ends ask `Roles`; none works it out
//! from flags of its own.

use super::LoaderKind;

/// Who loads uploaded files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loads {
    /// This process, after uploading.
    Here,
    /// The deployed load function (S3-triggered); uploads wait for its report.
    Function,
}

/// Who raises the alerts of what changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checks {
    /// A checker in this process (the CLI's commands, a console, `watch`).
    Here,
    /// A deployed stack's check function (triggered by the table's stream).
    Stack,
    /// A running `stockwatch relay` (it publishes its heartbeat).
    Relay,
}

/// How followers (consoles, `watch`) get what changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follows {
    /// Reading the change feed and the ledger themselves.
    Direct,
    /// Through the relay's fan-out topic, a queue each.
    Relay,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    pub loads: Loads,
    pub checks: Checks,
    pub follows: Follows,
    /// False where the local data dir can be read, not written: nothing
    /// that writes runs here (no checker, no acknowledging).
    pub writable: bool,
}

impl Roles {
    /// From the settings (`loader`, a stack named) and what the backend
    /// found (a relay beating, a read-only data dir). A stack deploys both
    /// functions: its uploads are its load function's to load (unless
    /// `loader = "console"` says otherwise), and its check function raises
    /// the alerts; a relay raises them where there is no stack.
    pub fn decide(loader: Option<LoaderKind>, stack: bool, relayed: bool, writable: bool) -> Roles {
        let default_loader = if stack {
            LoaderKind::Function
        } else {
            LoaderKind::Console
        };
        let loads = match loader.unwrap_or(default_loader) {
            LoaderKind::Function => Loads::Function,
            LoaderKind::Console => Loads::Here,
        };
        let checks = if relayed {
            Checks::Relay
        } else if stack {
            Checks::Stack
        } else {
            Checks::Here
        };
        Roles {
            loads,
            checks,
            follows: if relayed { Follows::Relay } else { Follows::Direct },
            writable,
        }
    }

    /// Whether a checker may run in this process: alerts are raised here,
    /// and the data can be written.
    pub fn checks_here(&self) -> bool {
        self.checks == Checks::Here && self.writable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_loads_and_checks_a_relay_checks_and_a_read_only_dir_only_reads() {
        let local = Roles::decide(None, false, false, true);
        assert_eq!(
            (local.loads, local.checks, local.follows),
            (Loads::Here, Checks::Here, Follows::Direct)
        );
        assert!(local.checks_here());

        let stack = Roles::decide(None, true, false, true);
        assert_eq!((stack.loads, stack.checks), (Loads::Function, Checks::Stack));
        assert!(!stack.checks_here(), "the check function raises them");
        let loading_here = Roles::decide(Some(LoaderKind::Console), true, false, true);
        assert_eq!(loading_here.loads, Loads::Here);

        let relayed = Roles::decide(None, false, true, true);
        assert_eq!((relayed.checks, relayed.follows), (Checks::Relay, Follows::Relay));
        assert!(!relayed.checks_here());

        let read_only = Roles::decide(None, false, false, false);
        assert!(!read_only.checks_here(), "no checker writes a read-only data dir");
    }
}
