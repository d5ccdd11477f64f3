//! How many app rows a change of filters admits: every row of the table is
//! read (the mapped columns only, by one SELECT) and judged by the same
//! filter code the sync uses, before and after, so the preview's numbers
//! are what the next pass will do, not an approximation in SQL.

use super::AppRecord;
use crate::sync::filter::Filters;
use serde::Serialize;

/// Rows of one table under two sets of to-HubSpot filters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FilterCounts {
    pub total: u64,
    /// Eligible under the running filters…
    pub before: u64,
    /// …and under the new ones.
    pub after: u64,
    /// Eligible before, not after.
    pub newly_excluded: u64,
    /// Not eligible before, eligible after.
    pub newly_eligible: u64,
}

/// Counts one row into `c`.
pub(super) fn tally(c: &mut FilterCounts, r: &AppRecord, before: &Filters, after: &Filters) {
    let get = |col: &str| r.field(col);
    let (b, a) = (before.matches(get), after.matches(get));
    c.total += 1;
    c.before += u64::from(b);
    c.after += u64::from(a);
    c.newly_excluded += u64::from(b && !a);
    c.newly_eligible += u64::from(a && !b);
}
