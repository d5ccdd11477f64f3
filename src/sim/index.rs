//! What the simulated search finds records by, so that a query costs the
//! records it can match rather than the whole portal: each object's live
//! records ordered by their last-modified instant, and the sorted hits of
//! recent queries, kept until the object is next written (paging through
//! one query's 10,000 results then evaluates it once, not 50 times).
//!
//! Both are only shortcuts: every candidate is still checked against every
//! filter, except where the candidates come from an index range that is
//! itself the whole condition.

use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::Arc;

/// Live records by (last-modified epoch ms, id).
#[derive(Debug, Default)]
pub struct ByModified {
    stamped: BTreeSet<(i64, u64)>,
    /// Live records whose stamp is not an integer: never written so by the
    /// simulator, but a search must not lose them if it ever is.
    odd: BTreeSet<u64>,
}

impl ByModified {
    pub fn insert(&mut self, id: u64, stamp: Option<&str>) {
        match stamp.and_then(|s| s.parse::<i64>().ok()) {
            Some(ms) => self.stamped.insert((ms, id)),
            None => self.odd.insert(id),
        };
    }

    pub fn remove(&mut self, id: u64, stamp: Option<&str>) {
        match stamp.and_then(|s| s.parse::<i64>().ok()) {
            Some(ms) => self.stamped.remove(&(ms, id)),
            None => self.odd.remove(&id),
        };
    }

    /// Ids stamped within `range`, in (stamp, id) order, then the odd ones
    /// (which only a check of the record can place).
    pub fn within(&self, range: &StampRange) -> impl Iterator<Item = u64> + '_ {
        let lo = match range.lo {
            Bound::Included(ms) => Bound::Included((ms, 0)),
            Bound::Excluded(ms) => Bound::Excluded((ms, u64::MAX)),
            Bound::Unbounded => Bound::Unbounded,
        };
        let hi = match range.hi {
            Bound::Included(ms) => Bound::Included((ms, u64::MAX)),
            Bound::Excluded(ms) => Bound::Excluded((ms, 0)),
            Bound::Unbounded => Bound::Unbounded,
        };
        let empty = match (lo, hi) {
            (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => {
                a > b
                    || (a == b
                        && !(matches!(lo, Bound::Included(_)) && matches!(hi, Bound::Included(_))))
            }
            _ => false,
        };
        let stamped = (!empty).then(|| self.stamped.range((lo, hi)).map(|(_, id)| *id));
        stamped
            .into_iter()
            .flatten()
            .chain(self.odd.iter().copied())
    }

    /// Whether every live record has an integer stamp (the range is then
    /// exact: no odd record needs checking).
    pub fn all_stamped(&self) -> bool {
        self.odd.is_empty()
    }
}

/// A range of last-modified instants, from a group's filters.
#[derive(Debug, Clone, Copy)]
pub struct StampRange {
    pub lo: Bound<i64>,
    pub hi: Bound<i64>,
}

impl Default for StampRange {
    fn default() -> Self {
        StampRange {
            lo: Bound::Unbounded,
            hi: Bound::Unbounded,
        }
    }
}

impl StampRange {
    /// Narrows the range by one filter; false if the filter is not a
    /// comparison with an integer that the range can express.
    pub fn narrow(&mut self, operator: &str, value: Option<&str>, high: Option<&str>) -> bool {
        let int = |v: Option<&str>| v.and_then(|v| v.trim().parse::<i64>().ok());
        let Some(v) = int(value) else { return false };
        let tighter_lo = |cur: Bound<i64>, new: Bound<i64>| match (cur, new) {
            (Bound::Unbounded, n) => n,
            (c, Bound::Unbounded) => c,
            (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => {
                if b > a || (b == a && matches!(new, Bound::Excluded(_))) {
                    new
                } else {
                    cur
                }
            }
        };
        let tighter_hi = |cur: Bound<i64>, new: Bound<i64>| match (cur, new) {
            (Bound::Unbounded, n) => n,
            (c, Bound::Unbounded) => c,
            (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => {
                if b < a || (b == a && matches!(new, Bound::Excluded(_))) {
                    new
                } else {
                    cur
                }
            }
        };
        match operator {
            "EQ" => {
                self.lo = tighter_lo(self.lo, Bound::Included(v));
                self.hi = tighter_hi(self.hi, Bound::Included(v));
            }
            "GT" => self.lo = tighter_lo(self.lo, Bound::Excluded(v)),
            "GTE" => self.lo = tighter_lo(self.lo, Bound::Included(v)),
            "LT" => self.hi = tighter_hi(self.hi, Bound::Excluded(v)),
            "LTE" => self.hi = tighter_hi(self.hi, Bound::Included(v)),
            "BETWEEN" => {
                let Some(h) = int(high) else { return false };
                self.lo = tighter_lo(self.lo, Bound::Included(v));
                self.hi = tighter_hi(self.hi, Bound::Included(h));
            }
            _ => return false,
        }
        true
    }
}

/// The sorted hits of recent queries of one object, by the query's text.
#[derive(Debug, Default)]
pub struct Searches {
    recent: Vec<(String, Arc<Vec<u64>>)>,
}

/// Enough for every object's feed and key lookups of one engine at once.
const KEPT: usize = 8;

impl Searches {
    pub fn get(&self, query: &str) -> Option<Arc<Vec<u64>>> {
        self.recent
            .iter()
            .find(|(q, _)| q == query)
            .map(|(_, hits)| hits.clone())
    }

    pub fn put(&mut self, query: String, hits: Arc<Vec<u64>>) {
        self.recent.retain(|(q, _)| *q != query);
        if self.recent.len() >= KEPT {
            self.recent.remove(0);
        }
        self.recent.push((query, hits));
    }

    /// A write changes what any query may find.
    pub fn forget(&mut self) {
        self.recent.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(index: &ByModified, filters: &[(&str, &str)]) -> Vec<u64> {
        let mut r = StampRange::default();
        for (op, v) in filters {
            assert!(r.narrow(op, Some(v), None));
        }
        index.within(&r).collect()
    }

    fn sample() -> ByModified {
        let mut index = ByModified::default();
        for (id, ms) in [(1, "10"), (2, "20"), (3, "20"), (4, "30")] {
            index.insert(id, Some(ms));
        }
        index
    }

    #[test]
    fn a_range_yields_its_records_by_stamp_then_id() {
        let index = sample();
        assert_eq!(ids(&index, &[("GTE", "20")]), vec![2, 3, 4]);
        assert_eq!(ids(&index, &[("GT", "20")]), vec![4]);
        assert_eq!(ids(&index, &[("EQ", "20")]), vec![2, 3]);
        assert_eq!(ids(&index, &[("LT", "20")]), vec![1]);
        assert_eq!(ids(&index, &[("GT", "10"), ("LTE", "20")]), vec![2, 3]);
        assert!(ids(&index, &[("GT", "20"), ("LT", "20")]).is_empty());
        assert!(ids(&index, &[("EQ", "20"), ("GT", "20")]).is_empty());
    }

    #[test]
    fn a_moved_record_is_found_at_its_new_stamp_only() {
        let mut index = sample();
        index.remove(2, Some("20"));
        index.insert(2, Some("40"));
        assert_eq!(ids(&index, &[("EQ", "20")]), vec![3]);
        assert_eq!(ids(&index, &[("GT", "30")]), vec![2]);
    }

    #[test]
    fn a_record_without_an_integer_stamp_is_always_a_candidate() {
        let mut index = sample();
        index.insert(9, Some("soon"));
        assert_eq!(ids(&index, &[("GT", "25")]), vec![4, 9]);
        assert!(!index.all_stamped());
    }

    #[test]
    fn a_comparison_with_text_is_not_a_range() {
        assert!(!StampRange::default().narrow("GT", Some("2026-01-05"), None));
        assert!(!StampRange::default().narrow("HAS_PROPERTY", None, None));
    }
}
