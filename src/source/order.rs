//! The order rule of the vendor contract: deliveries can arrive out of
//! order, and an older state of a record must never overwrite a newer one.
//! Pure; the store applies it inside the write transaction, so that two
//! ingests of one tenant at the same time keep it too.

/// What is stored of a source record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredState {
    /// When the stored state changed at the source (ms since the epoch).
    pub changed_at: i64,
    /// When the delivery it came in was made (ms since the epoch).
    pub delivered_at: i64,
    pub condition: Condition,
    /// SHA-256 of what it mapped to; `None` for a tombstone or a skip.
    pub content_hash: Option<String>,
}

/// The condition a source record is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Written,
    /// Deleted by a tombstone (its own or its client's): remembered, so
    /// that an older version arriving late does not bring it back.
    Deleted,
    /// Not for the portal (or a concept): nothing stored.
    Skipped,
}

impl Condition {
    pub fn code(self) -> &'static str {
        match self {
            Condition::Written => "written",
            Condition::Deleted => "deleted",
            Condition::Skipped => "skipped",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "written" => Some(Condition::Written),
            "deleted" => Some(Condition::Deleted),
            "skipped" => Some(Condition::Skipped),
            _ => None,
        }
    }
}

/// The state a delivery brings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingState<'a> {
    pub changed_at: i64,
    pub delivered_at: i64,
    pub condition: Condition,
    pub content_hash: Option<&'a str>,
}

/// Whether a delivered state replaces the stored one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Newer (or first): write it.
    Apply,
    /// The same state again: nothing to write.
    Same,
    /// Older than what is stored: ignored.
    Older,
    /// Changed at the same time as the stored state, but with other content
    /// and in a delivery made earlier than the stored one's: ignored.
    EarlierDelivery,
}

/// Applies the rule: a later change time wins; at an equal change time the
/// same content is nothing new, and other content wins only from a delivery
/// made at the same time or later (a replay of the same delivery after a
/// mapping fix applies).
pub fn decide(stored: Option<&StoredState>, incoming: &IncomingState<'_>) -> Decision {
    let Some(stored) = stored else { return Decision::Apply };
    match incoming.changed_at.cmp(&stored.changed_at) {
        std::cmp::Ordering::Greater => Decision::Apply,
        std::cmp::Ordering::Less => Decision::Older,
        std::cmp::Ordering::Equal => {
            if incoming.condition == stored.condition && incoming.content_hash == stored.content_hash.as_deref() {
                Decision::Same
            } else if incoming.delivered_at >= stored.delivered_at {
                Decision::Apply
            } else {
                Decision::EarlierDelivery
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(changed_at: i64, delivered_at: i64, condition: Condition, hash: Option<&str>) -> StoredState {
        StoredState { changed_at, delivered_at, condition, content_hash: hash.map(str::to_owned) }
    }

    fn incoming(changed_at: i64, delivered_at: i64, condition: Condition, hash: Option<&str>) -> IncomingState<'_> {
        IncomingState { changed_at, delivered_at, condition, content_hash: hash }
    }

    use Condition::{Deleted, Skipped, Written};

    #[test]
    fn a_first_delivery_applies() {
        assert_eq!(decide(None, &incoming(1, 1, Written, Some("a"))), Decision::Apply);
        assert_eq!(decide(None, &incoming(1, 1, Deleted, None)), Decision::Apply);
    }

    #[test]
    fn a_later_change_wins_and_an_earlier_one_is_ignored() {
        let s = stored(100, 500, Written, Some("a"));
        assert_eq!(decide(Some(&s), &incoming(101, 400, Written, Some("b"))), Decision::Apply);
        assert_eq!(decide(Some(&s), &incoming(99, 900, Written, Some("b"))), Decision::Older);
        // Even the same content: an older state is not news.
        assert_eq!(decide(Some(&s), &incoming(99, 900, Written, Some("a"))), Decision::Older);
    }

    #[test]
    fn at_an_equal_change_time_the_later_delivery_wins() {
        let s = stored(100, 500, Written, Some("a"));
        assert_eq!(decide(Some(&s), &incoming(100, 500, Written, Some("a"))), Decision::Same);
        assert_eq!(decide(Some(&s), &incoming(100, 400, Written, Some("a"))), Decision::Same);
        assert_eq!(decide(Some(&s), &incoming(100, 501, Written, Some("b"))), Decision::Apply);
        assert_eq!(decide(Some(&s), &incoming(100, 500, Written, Some("b"))), Decision::Apply);
        assert_eq!(decide(Some(&s), &incoming(100, 499, Written, Some("b"))), Decision::EarlierDelivery);
    }

    #[test]
    fn a_tombstone_is_remembered() {
        let s = stored(200, 500, Deleted, None);
        assert_eq!(decide(Some(&s), &incoming(150, 900, Written, Some("a"))), Decision::Older);
        assert_eq!(decide(Some(&s), &incoming(200, 400, Written, Some("a"))), Decision::EarlierDelivery);
        assert_eq!(decide(Some(&s), &incoming(200, 500, Deleted, None)), Decision::Same);
        assert_eq!(decide(Some(&s), &incoming(201, 400, Written, Some("a"))), Decision::Apply);
    }

    #[test]
    fn a_skip_is_a_state_like_any_other() {
        let s = stored(100, 500, Skipped, None);
        assert_eq!(decide(Some(&s), &incoming(100, 500, Skipped, None)), Decision::Same);
        assert_eq!(decide(Some(&s), &incoming(90, 600, Written, Some("a"))), Decision::Older);
        assert_eq!(decide(Some(&s), &incoming(110, 400, Written, Some("a"))), Decision::Apply);
    }

    #[test]
    fn conditions_round_trip_through_their_codes() {
        for c in [Written, Deleted, Skipped] {
            assert_eq!(Condition::from_code(c.code()), Some(c));
        }
        assert_eq!(Condition::from_code("gone"), None);
    }
}
