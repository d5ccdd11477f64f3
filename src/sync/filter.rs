//! Record filters: which records of an object are eligible to sync in one
//! direction (SPEC §2 "Filters").
//!
//! Pure: a filter is evaluated against a field accessor of the direction's
//! source record, so the same code serves app rows (column names) and HubSpot
//! records (property names). Groups are ORed, filters in a group ANDed.

mod explain;

use crate::hubspot::wire;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use std::cmp::Ordering;
use std::fmt;

/// HubSpot's documented search limits (the fact sheet's strictest reading:
/// the doc's 5 groups x 6 filters, 18 in total).
pub const SEARCH_MAX_GROUPS: usize = 5;
pub const SEARCH_MAX_FILTERS_PER_GROUP: usize = 6;
pub const SEARCH_MAX_FILTERS: usize = 18;

/// Record values shown in an explanation are data, possibly long or hostile.
const SHOWN_VALUE_CHARS: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Equals,
    NotEquals,
    Contains,
    NotContains,
    GreaterThan,
    GreaterOrEqual,
    LessThan,
    LessOrEqual,
    IsEmpty,
    IsNotEmpty,
    StartsWith,
    EndsWith,
    IsAnyOf,
    IsNoneOf,
}

impl Op {
    pub const ALL: [Op; 14] = [
        Op::Equals,
        Op::NotEquals,
        Op::Contains,
        Op::NotContains,
        Op::GreaterThan,
        Op::GreaterOrEqual,
        Op::LessThan,
        Op::LessOrEqual,
        Op::IsEmpty,
        Op::IsNotEmpty,
        Op::StartsWith,
        Op::EndsWith,
        Op::IsAnyOf,
        Op::IsNoneOf,
    ];

    /// The name used in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Equals => "equals",
            Op::NotEquals => "not_equals",
            Op::Contains => "contains",
            Op::NotContains => "not_contains",
            Op::GreaterThan => "greater_than",
            Op::GreaterOrEqual => "greater_or_equal",
            Op::LessThan => "less_than",
            Op::LessOrEqual => "less_or_equal",
            Op::IsEmpty => "is_empty",
            Op::IsNotEmpty => "is_not_empty",
            Op::StartsWith => "starts_with",
            Op::EndsWith => "ends_with",
            Op::IsAnyOf => "is_any_of",
            Op::IsNoneOf => "is_none_of",
        }
    }

    pub fn parse(name: &str) -> Result<Op, String> {
        let name = name.trim();
        Op::ALL
            .into_iter()
            .find(|op| op.as_str() == name)
            .ok_or_else(|| {
                let valid: Vec<&str> = Op::ALL.iter().map(|op| op.as_str()).collect();
                format!(
                    "unknown filter operator \"{name}\"; expected one of {}",
                    valid.join(", ")
                )
            })
    }

    pub fn is_ordering(self) -> bool {
        matches!(
            self,
            Op::GreaterThan | Op::GreaterOrEqual | Op::LessThan | Op::LessOrEqual
        )
    }

    /// The HubSpot search operator, or None where HubSpot's semantics differ
    /// from ours: CONTAINS_TOKEN matches whole tokens, not substrings.
    fn search_operator(self) -> Option<&'static str> {
        Some(match self {
            Op::Equals => "EQ",
            Op::NotEquals => "NEQ",
            Op::GreaterThan => "GT",
            Op::GreaterOrEqual => "GTE",
            Op::LessThan => "LT",
            Op::LessOrEqual => "LTE",
            Op::IsEmpty => "NOT_HAS_PROPERTY",
            Op::IsNotEmpty => "HAS_PROPERTY",
            Op::IsAnyOf => "IN",
            Op::IsNoneOf => "NOT_IN",
            Op::Contains | Op::NotContains | Op::StartsWith | Op::EndsWith => return None,
        })
    }

    /// Whether HubSpot's search can test this operator as hubsync does.
    pub fn pushable(self) -> bool {
        self.search_operator().is_some()
    }

    /// Which pushed filters to give up first when a search would exceed
    /// HubSpot's limits: the ones that narrow the search least.
    fn push_rank(self) -> u8 {
        match self {
            Op::Equals | Op::IsAnyOf => 0,
            Op::GreaterThan | Op::GreaterOrEqual | Op::LessThan | Op::LessOrEqual => 1,
            Op::IsEmpty => 2,
            Op::IsNotEmpty | Op::NotEquals | Op::IsNoneOf => 3,
            Op::Contains | Op::NotContains | Op::StartsWith | Op::EndsWith => 4,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    field: String,
    op: Op,
    values: Vec<String>,
}

impl Filter {
    pub fn new(field: impl Into<String>, op: &str, values: Vec<String>) -> Result<Filter, String> {
        let field = field.into();
        if field.trim().is_empty() {
            return Err(format!("a filter with operator \"{op}\" names no field"));
        }
        let op = Op::parse(op).map_err(|e| format!("filter on {field}: {e}"))?;
        let n = values.len();
        match op {
            Op::IsEmpty | Op::IsNotEmpty if n != 0 => {
                return Err(format!("filter on {field}: {op} takes no value, got {n}"));
            }
            Op::IsAnyOf | Op::IsNoneOf if n == 0 => {
                return Err(format!("filter on {field}: {op} needs one or more values"));
            }
            Op::IsEmpty | Op::IsNotEmpty | Op::IsAnyOf | Op::IsNoneOf => {}
            _ if n != 1 => {
                return Err(format!(
                    "filter on {field}: {op} needs exactly one value, got {n}"
                ));
            }
            _ => {}
        }
        // An empty filter value means nothing useful (equals "" never holds,
        // contains "" always does): the config meant is_empty/is_not_empty.
        if values.iter().any(|v| v.trim().is_empty()) {
            return Err(if op.is_ordering() {
                format!("filter on {field}: {op} needs a value to compare with, got an empty one")
            } else {
                format!(
                    "filter on {field}: {op} has an empty value; to test for empty fields use is_empty or is_not_empty"
                )
            });
        }
        Ok(Filter { field, op, values })
    }

    pub fn field(&self) -> &str {
        &self.field
    }

    pub fn op(&self) -> Op {
        self.op
    }

    pub fn values(&self) -> &[String] {
        &self.values
    }

    pub fn matches<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.test(get(&self.field).filter(|v| !v.is_empty()))
    }

    /// `value` is None when the record's field is empty.
    fn test(&self, value: Option<&str>) -> bool {
        let Some(v) = value else {
            // HubSpot-like: an empty field is "not equal" to anything.
            return matches!(
                self.op,
                Op::IsEmpty | Op::NotEquals | Op::NotContains | Op::IsNoneOf
            );
        };
        let want = || self.values[0].as_str();
        let text = |f: fn(&str, &str) -> bool| f(&fold(v), &fold(want()));
        match self.op {
            Op::IsEmpty => false,
            Op::IsNotEmpty => true,
            Op::Equals => typed_cmp(v, want()) == Ordering::Equal,
            Op::NotEquals => typed_cmp(v, want()) != Ordering::Equal,
            Op::GreaterThan => typed_cmp(v, want()) == Ordering::Greater,
            Op::GreaterOrEqual => typed_cmp(v, want()) != Ordering::Less,
            Op::LessThan => typed_cmp(v, want()) == Ordering::Less,
            Op::LessOrEqual => typed_cmp(v, want()) != Ordering::Greater,
            Op::IsAnyOf => self.any_equal(v),
            Op::IsNoneOf => !self.any_equal(v),
            Op::Contains => text(|a, b| a.contains(b)),
            Op::NotContains => !text(|a, b| a.contains(b)),
            Op::StartsWith => text(|a, b| a.starts_with(b)),
            Op::EndsWith => text(|a, b| a.ends_with(b)),
        }
    }

    fn any_equal(&self, v: &str) -> bool {
        self.values
            .iter()
            .any(|w| typed_cmp(v, w) == Ordering::Equal)
    }

    fn to_search(&self) -> Option<wire::Filter> {
        let operator = self.op.search_operator()?;
        let (value, values) = match self.op {
            Op::IsEmpty | Op::IsNotEmpty => (None, None),
            // HubSpot wants IN values of string properties in lowercase.
            Op::IsAnyOf | Op::IsNoneOf => (
                None,
                Some(self.values.iter().map(|v| search_value(v, true)).collect()),
            ),
            _ => (Some(search_value(&self.values[0], false)), None),
        };
        Some(wire::Filter {
            property_name: self.field.clone(),
            operator: operator.into(),
            value,
            high_value: None,
            values,
        })
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.op)?;
        match self.op {
            Op::IsEmpty | Op::IsNotEmpty => Ok(()),
            Op::IsAnyOf | Op::IsNoneOf => write!(f, " [{}]", self.values.join(", ")),
            _ => write!(f, " {}", self.values[0]),
        }
    }
}

/// Filters ANDed together.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterGroup {
    filters: Vec<Filter>,
}

impl FilterGroup {
    pub fn new(filters: Vec<Filter>) -> FilterGroup {
        FilterGroup { filters }
    }

    pub fn filters(&self) -> &[Filter] {
        &self.filters
    }
}

/// The filters of one object and direction: groups ORed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filters {
    groups: Vec<FilterGroup>,
}

impl Filters {
    /// Refuses an empty group: it would make every record eligible, which
    /// is surely not what a config that bothers to write one means.
    pub fn new(groups: Vec<FilterGroup>) -> Result<Filters, String> {
        if let Some(i) = groups.iter().position(|g| g.filters.is_empty()) {
            return Err(format!("filter group {} has no filters", i + 1));
        }
        Ok(Filters { groups })
    }

    pub fn groups(&self) -> &[FilterGroup] {
        &self.groups
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The fields the filters read, each once, so a reader can fetch them.
    pub fn fields(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for f in self.groups.iter().flat_map(|g| &g.filters) {
            if !out.contains(&f.field.as_str()) {
                out.push(&f.field);
            }
        }
        out
    }

    pub fn validate_fields(&self, mapped: &[&str]) -> Result<(), String> {
        for (i, g) in self.groups.iter().enumerate() {
            if let Some(f) = g
                .filters
                .iter()
                .find(|f| !mapped.contains(&f.field.as_str()))
            {
                return Err(format!(
                    "filter group {}: field \"{}\" is not mapped (filter: {f}); mapped fields: {}",
                    i + 1,
                    f.field,
                    if mapped.is_empty() {
                        "none".to_string()
                    } else {
                        mapped.join(", ")
                    }
                ));
            }
        }
        Ok(())
    }

    pub fn matches<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.check(get).is_ok()
    }

    /// Ok if the record is eligible; otherwise the first failing filter of
    /// every group, so the console can say why.
    pub fn check<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> Result<(), Exclusion> {
        if self.groups.is_empty() {
            return Ok(());
        }
        let mut failed = Vec::with_capacity(self.groups.len());
        for g in &self.groups {
            let first_failure = g.filters.iter().find_map(|f| {
                let value = get(&f.field).filter(|v| !v.is_empty());
                (!f.test(value)).then(|| FailedFilter {
                    filter: f.clone(),
                    value: value.map(shown),
                })
            });
            match first_failure {
                Some(x) => failed.push(x),
                None => return Ok(()),
            }
        }
        Err(Exclusion { failed })
    }

    /// The filter groups of a HubSpot search that returns every eligible
    /// record (and possibly more: the engine re-checks each record).
    pub fn to_search_groups(&self) -> Option<Vec<wire::FilterGroup>> {
        self.pushdown_with(&[])
    }

    /// As [`Filters::to_search_groups`], with `extra` ANDed into every group.
    /// None when the filters can't narrow the search or the request would
    /// exceed HubSpot's limits even with the least selective filters left
    /// out; the caller then searches with `extra` alone.
    pub fn pushdown_with(&self, extra: &[wire::Filter]) -> Option<Vec<wire::FilterGroup>> {
        if self.groups.is_empty() || self.groups.len() > SEARCH_MAX_GROUPS {
            return None;
        }
        let per_group = SEARCH_MAX_FILTERS_PER_GROUP.checked_sub(extra.len())?;
        let budget = SEARCH_MAX_FILTERS.checked_sub(extra.len() * self.groups.len())?;
        if per_group == 0 || budget < self.groups.len() {
            return None;
        }
        let mut groups: Vec<Vec<&Filter>> = Vec::with_capacity(self.groups.len());
        for g in &self.groups {
            let pushable: Vec<&Filter> = g
                .filters
                .iter()
                .filter(|f| f.op.search_operator().is_some())
                .collect();
            // A group with nothing pushable matches anything, and so does
            // the OR of all groups.
            if pushable.is_empty() {
                return None;
            }
            groups.push(pushable);
        }
        // Leaving a filter out of a group only widens the search, so trim
        // to the limits rather than give up the pushdown.
        for g in &mut groups {
            while g.len() > per_group {
                drop_least_selective(g);
            }
        }
        while groups.iter().map(Vec::len).sum::<usize>() > budget {
            let longest = (0..groups.len()).max_by_key(|&i| groups[i].len())?;
            drop_least_selective(&mut groups[longest]);
        }
        Some(
            groups
                .into_iter()
                .map(|g| wire::FilterGroup {
                    filters: extra
                        .iter()
                        .cloned()
                        .chain(g.into_iter().filter_map(Filter::to_search))
                        .collect(),
                })
                .collect(),
        )
    }
}

fn drop_least_selective(g: &mut Vec<&Filter>) {
    if let Some(i) = (0..g.len()).rev().max_by_key(|&i| g[i].op.push_rank()) {
        g.remove(i);
    }
}

/// The first failing filter of one group and the record's value it saw.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedFilter {
    pub filter: Filter,
    /// Truncated for display; None when the field was empty.
    pub value: Option<String>,
}

/// Why a record is not eligible: one entry per filter group, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Exclusion {
    pub failed: Vec<FailedFilter>,
}

impl fmt::Display for FailedFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            // Debug quotes and escapes, so a value can't forge console text.
            Some(v) => write!(f, "{} (value {v:?})", self.filter),
            None => write!(f, "{} (value empty)", self.filter),
        }
    }
}

impl fmt::Display for Exclusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.failed.as_slice() {
            [one] => write!(f, "excluded by filter: {one}"),
            all => {
                f.write_str("excluded by every filter group: ")?;
                for (i, x) in all.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "group {}: {x}", i + 1)?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Exclusion {}

fn shown(v: &str) -> String {
    let mut chars = v.chars();
    let mut out: String = chars.by_ref().take(SHOWN_VALUE_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Finite numbers only: Rust also parses "NaN" and "inf", which are names.
pub(crate) fn number(s: &str) -> Option<f64> {
    let s = s.trim();
    if !s.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// A date or date-time as written by people and databases: RFC 3339, a
/// plain date (midnight UTC, as HubSpot stores dates), or a date-time
/// without offset (UTC, as SQLite's CURRENT_TIMESTAMP writes it).
pub(crate) fn date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|fmt| NaiveDateTime::parse_from_str(s, fmt).ok())
        .map(|d| d.and_utc())
}

/// HubSpot's epoch-millisecond date strings.
fn epoch_ms(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    DateTime::from_timestamp_millis(s.parse().ok()?)
}

/// Numbers as numbers, dates as instants, anything else as folded text.
fn typed_cmp(record: &str, want: &str) -> Ordering {
    if let (Some(a), Some(b)) = (number(record), number(want)) {
        return a.partial_cmp(&b).unwrap_or(Ordering::Equal);
    }
    // A bare number is only a date when the filter says it wants one.
    if let Some(b) = date(want)
        && let Some(a) = date(record).or_else(|| epoch_ms(record))
    {
        return a.cmp(&b);
    }
    fold(record).cmp(&fold(want))
}

/// A filter value as HubSpot search wants it: dates as epoch ms, which is
/// how HubSpot stores and compares date and date-time properties.
fn search_value(v: &str, lowercase: bool) -> String {
    let v = v.trim();
    if number(v).is_some() {
        v.to_string()
    } else if let Some(d) = date(v) {
        d.timestamp_millis().to_string()
    } else if lowercase {
        v.to_lowercase()
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests;
