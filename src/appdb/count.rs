//! How many app rows a change of filters admits: every row of the table is
//! read (the columns the filters name only, by one SELECT) and judged by
//! the same filter code the sync uses, before and after, so the preview's
//! numbers are what the next pass will do, not an approximation in SQL
//! (the filters compare numbers, dates and folded text as the sync does,
//! which SQL on two backends would only approximate). With no filter on
//! either side the database counts the rows itself.

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

/// `m` reading only what the filters test: the fields, keys, label and
/// company column that hold a filtered column, and nothing else.
pub(super) fn reading_filters(
    m: &crate::sync::mapping::ObjectMapping,
    before: &Filters,
    after: &Filters,
) -> crate::sync::mapping::ObjectMapping {
    let tested: Vec<&str> = before.fields().into_iter().chain(after.fields()).collect();
    crate::sync::mapping::ObjectMapping {
        fields: m
            .fields
            .iter()
            .filter(|f| f.app_columns.iter().any(|c| tested.contains(&c.as_str())))
            .cloned()
            .collect(),
        keys: m
            .keys
            .iter()
            .filter(|k| tested.contains(&k.app_column.as_str()))
            .cloned()
            .collect(),
        label_column: if tested.contains(&m.label_column.as_str()) {
            m.label_column.clone()
        } else {
            m.id_column.clone()
        },
        company_column: m
            .company_column
            .clone()
            .filter(|c| tested.contains(&c.as_str())),
        ..m.clone()
    }
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
