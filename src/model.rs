//! The vocabulary every layer shares: which CRM object, which side of the
//! sync, which way data flows. Kept free of I/O so the planner, the store and
//! the console can all name the same things.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A CRM object type that hubsync knows how to sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    Contacts,
    Companies,
    Deals,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 3] = [
        ObjectKind::Contacts,
        ObjectKind::Companies,
        ObjectKind::Deals,
    ];

    /// The path segment HubSpot uses in `/crm/v3/objects/{objectType}`.
    pub fn api_name(self) -> &'static str {
        match self {
            ObjectKind::Contacts => "contacts",
            ObjectKind::Companies => "companies",
            ObjectKind::Deals => "deals",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "contacts" => Some(ObjectKind::Contacts),
            "companies" => Some(ObjectKind::Companies),
            "deals" => Some(ObjectKind::Deals),
            _ => None,
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}

/// The two systems hubsync keeps in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    HubSpot,
    App,
}

/// Which way a sync job or a single write moves data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Spelt as in the config (`to_hubspot`), not as serde would split it.
    #[serde(rename = "to_hubspot")]
    ToHubSpot,
    ToApp,
    Both,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::ToHubSpot => "to_hubspot",
            Direction::ToApp => "to_app",
            Direction::Both => "both",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "to_hubspot" => Some(Direction::ToHubSpot),
            "to_app" => Some(Direction::ToApp),
            "both" => Some(Direction::Both),
            _ => None,
        }
    }

    /// The arrow the console shows for this direction.
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::ToHubSpot => "→",
            Direction::ToApp => "←",
            Direction::Both => "↔",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A record named by the side that has it. App ids are the app table's
/// keys; a HubSpot record with no app record yet is named `hs:<id>` in the
/// audit log and in retry jobs, so it can be audited and retried too.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecordRef {
    App(String),
    HubSpot(String),
}

impl RecordRef {
    const HUBSPOT_PREFIX: &'static str = "hs:";

    pub fn hubspot_key(id: &str) -> String {
        format!("{}{id}", Self::HUBSPOT_PREFIX)
    }

    /// The key stored in the audit log's and the job queue's `app_id`.
    pub fn key(&self) -> String {
        match self {
            RecordRef::App(id) => id.clone(),
            RecordRef::HubSpot(id) => Self::hubspot_key(id),
        }
    }

    pub fn parse(key: &str) -> RecordRef {
        match key.strip_prefix(Self::HUBSPOT_PREFIX) {
            Some(id) => RecordRef::HubSpot(id.to_string()),
            None => RecordRef::App(key.to_string()),
        }
    }
}

/// A date or date-time as milliseconds since the epoch, in UTC: RFC 3339
/// (`2026-01-05T10:00:00.123Z`, any offset), a plain date (midnight UTC, as
/// HubSpot stores dates), `YYYY-MM-DD HH:MM:SS` (UTC), or epoch
/// milliseconds as HubSpot's search filters take them.
pub fn instant_ms(v: &str) -> Option<i64> {
    let v = v.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Some(t.timestamp_millis());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis());
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S") {
        return Some(t.and_utc().timestamp_millis());
    }
    // Epoch milliseconds: 12 digits or more (from 1973 on), so that short
    // numbers stay numbers.
    if v.len() >= 12 && v.bytes().all(|b| b.is_ascii_digit()) {
        return v.parse().ok();
    }
    None
}

/// Normalises a contact email into the matching key SPEC §2 prescribes:
/// trimmed and case-insensitive.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_key_trims_and_lowercases() {
        assert_eq!(email_key("  Ada@Example.COM "), "ada@example.com");
    }

    #[test]
    fn a_record_ref_round_trips_through_its_key() {
        for r in [
            RecordRef::App("12".into()),
            RecordRef::HubSpot("501".into()),
        ] {
            assert_eq!(RecordRef::parse(&r.key()), r);
        }
    }

    #[test]
    fn direction_round_trips_through_its_name() {
        for d in [Direction::ToHubSpot, Direction::ToApp, Direction::Both] {
            assert_eq!(Direction::parse(d.as_str()), Some(d));
        }
    }
}
