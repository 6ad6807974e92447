//! The decision log's queue: every decision that is not `allow`, and an exact share of
//! those that are, handed off the request path to the task that writes them to the ledger
//! as `decision_logged` events (`Service::write_decision_log`).
//!
//! What it must never do: make a decision wait (a full queue drops and counts), or log a
//! share of allows other than the configured one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use guardrail_adapter::{DecisionRecord, DecisionSink};
use guardrail_policy::{Action, Verdict};
use tokio::sync::mpsc;

use crate::service::lock;

/// The decision log: every decision that is not `allow`, and a share of those that are,
/// queued for the ledger off the request path. The ledger's copy is what the console's
/// backfill replays ([`Service::logged_decisions`]): every replica's, across restarts.
#[derive(Debug)]
pub(crate) struct DecisionLog {
    pub(crate) sender: Mutex<Option<mpsc::Sender<DecisionRecord>>>,
    pub(crate) receiver: Mutex<Option<mpsc::Receiver<DecisionRecord>>>,
    pub(crate) allow_every: u64,
    pub(crate) queued: Arc<AtomicU64>,
    pub(crate) dropped: Arc<AtomicU64>,
    pub(crate) written: AtomicU64,
}

const DECISION_LOG_QUEUE: usize = 65_536;

/// Logged decisions the console's backfill replays: the newest in the ledger.
pub const BACKFILL_DECISIONS: usize = 5_000;

impl DecisionLog {
    pub(crate) fn new(allow_share: f64) -> DecisionLog {
        let (sender, receiver) = mpsc::channel(DECISION_LOG_QUEUE);
        let allow_every = if allow_share <= 0.0 {
            0
        } else {
            (1.0 / allow_share.min(1.0)).round() as u64
        };
        DecisionLog {
            sender: Mutex::new(Some(sender)),
            receiver: Mutex::new(Some(receiver)),
            allow_every,
            queued: Arc::new(AtomicU64::new(0)),
            dropped: Arc::new(AtomicU64::new(0)),
            written: AtomicU64::new(0),
        }
    }

    pub(crate) fn sink(&self) -> LedgerSink {
        LedgerSink {
            sender: lock(&self.sender).clone(),
            allow_every: self.allow_every,
            allows: AtomicU64::new(0),
            queued: self.queued.clone(),
            dropped: self.dropped.clone(),
        }
    }

    pub(crate) fn close(&self) {
        lock(&self.sender).take();
    }
}

/// The guard's sink: hands decisions to the log's queue, never waiting.
#[derive(Debug)]
pub(crate) struct LedgerSink {
    sender: Option<mpsc::Sender<DecisionRecord>>,
    allow_every: u64,
    allows: AtomicU64,
    queued: Arc<AtomicU64>,
    dropped: Arc<AtomicU64>,
}

impl DecisionSink for LedgerSink {
    fn accepts(&self, verdict: &Verdict) -> bool {
        if verdict.action != Action::Allow {
            return true;
        }
        // A deterministic 1-in-N sample of allows: cheap, and the share is exact.
        self.allow_every != 0
            && self
                .allows
                .fetch_add(1, Ordering::Relaxed)
                .is_multiple_of(self.allow_every)
    }

    fn record(&self, record: DecisionRecord) {
        let Some(sender) = &self.sender else {
            return;
        };
        match sender.try_send(record) {
            Ok(()) => {
                self.queued.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use guardrail_policy::backfill::RecordedRequest;
    use guardrail_types::Surface;

    fn decision(action: Action) -> (Verdict, DecisionRecord) {
        let verdict = Verdict {
            surface: Surface::Feed,
            action,
            decided_by: None,
            conditions: Vec::new(),
            fail_closed: false,
            missing: Vec::new(),
            shadow: Vec::new(),
            help_resources: false,
        };
        let record = DecisionRecord {
            request: RecordedRequest {
                surface: Surface::Feed,
                viewer: None,
                query: None,
                account: None,
                text: None,
                variant_restricted: None,
                features_minors: None,
                relationship: None,
            },
            action,
            decided_by: None,
            snapshot: 1,
        };
        (verdict, record)
    }

    /// (allow share, allows, drops) → decisions sent to the ledger's decision log.
    #[test]
    fn the_decision_log_keeps_every_non_allow_and_an_exact_share_of_allows() {
        let cases = [
            (0.01, 1_000, 5, 10 + 5),
            (1.0, 50, 5, 55),
            (0.0, 100, 3, 3),
            (0.5, 100, 0, 50),
            (0.1, 99, 2, 10 + 2),
        ];
        for (share, allows, drops, expected) in cases {
            let log = DecisionLog::new(share);
            let sink = log.sink();
            let mut receiver = lock(&log.receiver).take().expect("a receiver");
            let actions = std::iter::repeat_n(Action::Allow, allows)
                .chain(std::iter::repeat_n(Action::Drop, drops));
            for action in actions {
                let (verdict, record) = decision(action);
                if sink.accepts(&verdict) {
                    sink.record(record);
                }
            }
            let mut sent = 0;
            while receiver.try_recv().is_ok() {
                sent += 1;
            }
            assert_eq!(
                sent, expected,
                "share {share}, {allows} allows, {drops} drops"
            );
        }
    }
}
