//! The events this process stored itself, held in memory until its follower folds them,
//! so that the follower does not read them back out of the database and parse them
//! again. The ledger stays the only source of truth: the follower folds in sequence
//! order, takes an event from here only when every sequence number before it has been
//! folded and the event itself is here, and reads from the store otherwise (a replica's
//! write, a gap, a restart). That is sound because the store numbers records in commit
//! order without gaps (each append takes the head under the append lock and chains onto
//! it), so no record below one committed here can appear later.
//!
//! What it must never do: hand the follower anything but what was committed at that
//! sequence number (only `Stored` outcomes are kept, with the event exactly as the store
//! received it, whose canonical body is the stored body), grow without bound (past
//! [`MAX_HELD`] nothing more is kept and the follower reads those from the store), or
//! keep an event once the follower has passed its sequence number.

use std::collections::BTreeMap;
use std::sync::Mutex;

use guardrail_ledger::event::{Event, Payload};
use guardrail_store::AppendOutcome;

use crate::ledger_io::Stored;
use crate::service::lock;

/// Events held at most; a follower that stopped cannot make this process grow.
pub(crate) const MAX_HELD: usize = 100_000;

/// This process's committed events by sequence number, until folded.
#[derive(Debug, Default)]
pub(crate) struct OwnWrites {
    held: Mutex<BTreeMap<u64, Stored>>,
}

impl OwnWrites {
    /// Keeps the events the store has just committed (`outcomes[i]` is the outcome of
    /// the `i`th event, given in the form the follower folds: see [`as_stored`]);
    /// duplicates and conflicts are not new records and are not kept.
    pub(crate) fn remember(
        &self,
        events: impl IntoIterator<Item = Stored>,
        outcomes: &[AppendOutcome],
    ) {
        let mut held = lock(&self.held);
        for (event, outcome) in events.into_iter().zip(outcomes) {
            if held.len() >= MAX_HELD {
                return;
            }
            if let AppendOutcome::Stored { seq } = outcome {
                held.insert(*seq, event);
            }
        }
    }

    /// The held events that continue the ledger right after `after`, in order, up to
    /// `limit` and not past `head`; drops everything at or before `after` (already
    /// folded). Empty when the next record is not held: the caller reads the store.
    pub(crate) fn take_after(&self, after: u64, head: u64, limit: usize) -> Vec<(u64, Stored)> {
        let mut held = lock(&self.held);
        let mut kept = held.split_off(&(after + 1));
        std::mem::swap(&mut *held, &mut kept);
        let mut taken = Vec::new();
        let mut next = after + 1;
        while next <= head && taken.len() < limit {
            match held.remove(&next) {
                Some(stored) => taken.push((next, stored)),
                None => break,
            }
            next += 1;
        }
        taken
    }

    /// How many events are held.
    #[cfg(test)]
    fn len(&self) -> usize {
        lock(&self.held).len()
    }
}

/// An event in the form the follower folds, the form `read_stored` gives its stored body.
pub(crate) fn as_stored(event: Event) -> Stored {
    match event.payload {
        Payload::DecisionLogged(_) => Stored::LoggedDecision { at: event.at },
        _ => Stored::Event(Box::new(event)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use guardrail_ledger::event::AccountAction;

    fn event(n: u64) -> Event {
        Event::new(
            format!("e{n}"),
            n,
            Payload::View(AccountAction {
                account: format!("a{n}"),
                target: "b".into(),
            }),
        )
    }

    fn stored(seq: u64) -> AppendOutcome {
        AppendOutcome::Stored { seq }
    }

    #[test]
    fn only_a_run_that_continues_the_folded_ledger_is_taken() {
        let own = OwnWrites::default();
        own.remember(
            [event(1), event(2), event(3), event(4)].map(as_stored),
            &[
                stored(5),
                stored(6),
                AppendOutcome::Duplicate { seq: 2 },
                stored(8),
            ],
        );
        // 5 is not next after 3: the store has 4 first.
        assert!(own.take_after(3, 8, 100).is_empty());
        // After 4: 5 and 6, then 7 is not held (another replica's), so the run stops.
        let taken: Vec<u64> = own.take_after(4, 8, 100).iter().map(|(s, _)| *s).collect();
        assert_eq!(taken, vec![5, 6]);
        // The head bounds the run, and so does the limit.
        own.remember(
            [event(9), event(10)].map(as_stored),
            &[stored(9), stored(10)],
        );
        assert!(own.take_after(7, 7, 100).is_empty());
        let taken: Vec<u64> = own.take_after(7, 10, 2).iter().map(|(s, _)| *s).collect();
        assert_eq!(taken, vec![8, 9]);
        // Passed by the follower (it read 10 from the store): dropped, not kept forever.
        assert!(own.take_after(10, 10, 100).is_empty());
        assert_eq!(own.len(), 0);
    }

    #[test]
    fn holding_is_bounded() {
        let own = OwnWrites::default();
        let count = MAX_HELD as u64 + 10;
        let outcomes: Vec<AppendOutcome> = (1..=count).map(stored).collect();
        own.remember((1..=count).map(event).map(as_stored), &outcomes);
        assert_eq!(own.len(), MAX_HELD);
        let taken = own.take_after(0, count, usize::MAX);
        assert_eq!(taken.len(), MAX_HELD);
        assert!(matches!(&taken[0].1, Stored::Event(e) if e.id == "e1"));
    }
}
