//! What a fetch means for the stays a feed listed before: Rental Control's lesson that an
//! empty or failing feed must not wipe codes (RC #245, PR #316; anchors.md §E2), as a pure
//! decision over the feed's state.

use latchkey_engine::Timestamp;
use latchkey_store::feeds::Known;

use super::parse::{FeedStay, Fetched};

/// What to do after a fetch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    /// The feed's consecutive empty or failed fetches, after this one.
    pub feed_misses: u32,
    /// Stays to hand to the inbox (new, changed, or unchanged: the inbox tells).
    pub listed: Vec<FeedStay>,
    /// Known stays not listed this time, with their new `missing` count.
    pub missing: Vec<(String, u32)>,
    /// Known stays to cancel now.
    pub cancel: Vec<String>,
    /// Stays to stop tracking: they left the feed after their check-out.
    pub forget: Vec<String>,
}

/// Decides what `fetched` means, given the stays `known` from earlier fetches, the feed's
/// consecutive misses before it (`feed_misses`), the number of misses that cancel
/// (`threshold`, at least 1) and the instant `now`.
pub fn decide(
    fetched: Fetched,
    known: &[Known],
    feed_misses: u32,
    threshold: u32,
    now: Timestamp,
) -> Decision {
    let threshold = threshold.max(1);
    let live = known.iter().filter(|k| !k.cancelled);
    match fetched {
        Fetched::Stays(listed) => {
            let mut decision = Decision::default();
            for k in live.filter(|k| !listed.iter().any(|s| s.uid == k.uid)) {
                if k.check_out <= now {
                    decision.forget.push(k.uid.clone());
                } else if k.missing + 1 >= threshold {
                    decision.cancel.push(k.uid.clone());
                } else {
                    decision.missing.push((k.uid.clone(), k.missing + 1));
                }
            }
            decision.listed = listed;
            decision
        }
        Fetched::Empty | Fetched::Failed(_) => {
            let feed_misses = feed_misses.saturating_add(1);
            let mut decision = Decision {
                feed_misses,
                ..Decision::default()
            };
            if feed_misses >= threshold {
                for k in live {
                    if k.check_out <= now {
                        decision.forget.push(k.uid.clone());
                    } else {
                        decision.cancel.push(k.uid.clone());
                    }
                }
            }
            decision
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_engine::{Reservation, ReservationId, ReservationStatus, ResourceId};

    const NOW: Timestamp = Timestamp(1_000_000);

    fn known(uid: &str, missing: u32) -> Known {
        Known {
            uid: uid.into(),
            check_out: NOW.plus(86_400),
            missing,
            cancelled: false,
        }
    }

    fn listed(uid: &str) -> FeedStay {
        FeedStay {
            uid: uid.into(),
            summary: "Reserved".into(),
            state: Reservation {
                id: ReservationId::parse(format!("feed:{uid}")).expect("id"),
                status: ReservationStatus::Paid,
                resources: vec![ResourceId::parse("101").expect("id")],
                check_in: NOW,
                check_out: NOW.plus(86_400),
                checked_out_at: None,
                guest: Default::default(),
                version: 0,
            },
        }
    }

    #[test]
    fn one_empty_or_failed_fetch_changes_nothing_two_cancel() {
        let k = [known("a", 0), known("b", 0)];
        let first = decide(Fetched::Empty, &k, 0, 2, NOW);
        assert_eq!(first.feed_misses, 1);
        assert!(first.cancel.is_empty() && first.listed.is_empty());
        let second = decide(Fetched::Failed("HTTP 500".into()), &k, 1, 2, NOW);
        assert_eq!(second.cancel, vec!["a".to_owned(), "b".to_owned()]);
        let recovered = decide(
            Fetched::Stays(vec![listed("a"), listed("b")]),
            &k,
            1,
            2,
            NOW,
        );
        assert_eq!(recovered.feed_misses, 0, "a good fetch resets the count");
        assert!(recovered.cancel.is_empty());
    }

    #[test]
    fn a_uid_missing_from_two_good_fetches_is_cancelled() {
        let k = [known("a", 0), known("b", 0)];
        let first = decide(Fetched::Stays(vec![listed("a")]), &k, 0, 2, NOW);
        assert_eq!(first.missing, vec![("b".to_owned(), 1)]);
        assert!(first.cancel.is_empty());
        let k = [known("a", 0), known("b", 1)];
        let second = decide(Fetched::Stays(vec![listed("a")]), &k, 0, 2, NOW);
        assert_eq!(second.cancel, vec!["b".to_owned()]);
        let strict = decide(
            Fetched::Stays(vec![listed("a")]),
            &[known("b", 0)],
            0,
            1,
            NOW,
        );
        assert_eq!(
            strict.cancel,
            vec!["b".to_owned()],
            "misses = 1 cancels at once"
        );
    }

    #[test]
    fn past_stays_are_forgotten_and_cancelled_ones_left_alone() {
        let mut ended = known("old", 0);
        ended.check_out = NOW.plus(-3_600);
        let mut gone = known("gone", 5);
        gone.cancelled = true;
        let d = decide(
            Fetched::Stays(vec![listed("a")]),
            &[ended.clone(), gone.clone()],
            0,
            2,
            NOW,
        );
        assert_eq!(d.forget, vec!["old".to_owned()]);
        assert!(d.cancel.is_empty() && d.missing.is_empty());
        let d = decide(Fetched::Empty, &[ended, gone], 1, 2, NOW);
        assert_eq!((d.forget.len(), d.cancel.len()), (1, 0));
    }
}
