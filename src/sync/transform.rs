//! How a mapped value changes shape between the app and HubSpot.
//!
//! Every transform works in both directions, because a field that syncs
//! both ways has to come back in the app's shape. Values are compared in
//! HubSpot's shape: that is what the engine remembers having written, so an
//! echo of its own write is recognised whichever side it shows up on.

use crate::model::instant_ms;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transform {
    None,
    Lowercase,
    Trim,
    /// Trimmed and lowercased, as HubSpot stores emails; comparing the raw
    /// app value would see a change on every pass and write forever.
    LowercaseTrim,
    /// One app column ("Mary Jane Watson") ↔ two properties
    /// (firstname "Mary Jane", lastname "Watson").
    SplitName,
    /// Two app columns (first, last) ↔ one property ("Mary Jane Watson").
    JoinName,
    /// App values ↔ the internal values of a HubSpot dropdown.
    ValueMap(ValueMap),
}

/// App value → HubSpot option value. Looked up case-insensitively; a value
/// the map does not name passes through unchanged, so HubSpot's own check
/// of its options reports it (with the record) instead of hubsync guessing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValueMap {
    pub to_hubspot: BTreeMap<String, String>,
}

impl ValueMap {
    fn forward(&self, v: &str) -> String {
        let t = v.trim();
        self.to_hubspot
            .iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(t))
            .map_or_else(|| v.to_string(), |(_, h)| h.clone())
    }

    fn back(&self, v: &str) -> String {
        let t = v.trim();
        self.to_hubspot
            .iter()
            .find(|(_, h)| h.trim().eq_ignore_ascii_case(t))
            .map_or_else(|| v.to_string(), |(k, _)| k.clone())
    }
}

impl Transform {
    /// The config name of the transform.
    pub fn name(&self) -> &'static str {
        match self {
            Transform::None => "none",
            Transform::Lowercase => "lowercase",
            Transform::Trim => "trim",
            Transform::LowercaseTrim => "lowercase_trim",
            Transform::SplitName => "split_name",
            Transform::JoinName => "join_name",
            Transform::ValueMap(_) => "value_map",
        }
    }

    /// Transform names a config may use (value maps come from their own table).
    pub const NAMES: &'static [&'static str] = &[
        "none",
        "lowercase",
        "trim",
        "lowercase_trim",
        "split_name",
        "join_name",
    ];

    pub fn parse(name: &str) -> Option<Transform> {
        Some(match name {
            "none" => Transform::None,
            "lowercase" => Transform::Lowercase,
            "trim" => Transform::Trim,
            "lowercase_trim" => Transform::LowercaseTrim,
            "split_name" => Transform::SplitName,
            "join_name" => Transform::JoinName,
            _ => return None,
        })
    }

    /// How many app columns and HubSpot properties the transform joins.
    pub fn arity(&self) -> (usize, usize) {
        match self {
            Transform::SplitName => (1, 2),
            Transform::JoinName => (2, 1),
            _ => (1, 1),
        }
    }

    /// App values (one per app column) → HubSpot values (one per property).
    pub fn to_hubspot(&self, app: &[&str]) -> Vec<String> {
        let one = app.first().copied().unwrap_or("");
        match self {
            Transform::None => vec![one.to_string()],
            Transform::Lowercase => vec![one.to_lowercase()],
            Transform::Trim => vec![one.trim().to_string()],
            Transform::LowercaseTrim => vec![one.trim().to_lowercase()],
            Transform::SplitName => {
                let (first, last) = split_name(one);
                vec![first, last]
            }
            Transform::JoinName => {
                vec![join_name(one, app.get(1).copied().unwrap_or(""))]
            }
            Transform::ValueMap(m) => vec![if one.is_empty() {
                String::new()
            } else {
                m.forward(one)
            }],
        }
    }

    /// HubSpot values (one per property) → app values (one per app column).
    pub fn to_app(&self, hubspot: &[&str]) -> Vec<String> {
        let one = hubspot.first().copied().unwrap_or("");
        match self {
            // HubSpot already holds the normalised form; writing it back is
            // what keeps both sides equal.
            Transform::None | Transform::Lowercase | Transform::Trim | Transform::LowercaseTrim => {
                vec![one.to_string()]
            }
            Transform::SplitName => {
                vec![join_name(one, hubspot.get(1).copied().unwrap_or(""))]
            }
            Transform::JoinName => {
                let (first, last) = split_name(one);
                vec![first, last]
            }
            Transform::ValueMap(m) => vec![if one.is_empty() {
                String::new()
            } else {
                m.back(one)
            }],
        }
    }
}

/// "Mary Jane Watson" → ("Mary Jane", "Watson"); a single word is a first
/// name. The last word is the surname: it is wrong for some names, which is
/// why a split field syncing both ways only writes when a side changed.
pub fn split_name(full: &str) -> (String, String) {
    let words: Vec<&str> = full.split_whitespace().collect();
    match words.as_slice() {
        [] => (String::new(), String::new()),
        [one] => (one.to_string(), String::new()),
        [rest @ .., last] => (rest.join(" "), last.to_string()),
    }
}

pub fn join_name(first: &str, last: &str) -> String {
    format!("{} {}", first.trim(), last.trim())
        .trim()
        .to_string()
}

/// Whether two values are the same value: equal text, or the same number
/// ("10" and "10.0"), or the same instant in UTC ("2026-01-05" and
/// "2026-01-05T00:00:00Z", or epoch milliseconds as HubSpot writes
/// date-times). Without this, a value HubSpot reformats would look changed
/// on every pass and be written back forever.
pub fn same_value(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (a, b) = (a.trim(), b.trim());
    if a == b {
        return true;
    }
    if a.is_empty() || b.is_empty() {
        return false;
    }
    // Numbers and dates start with a digit, a sign or a point: anything
    // else is text, and unequal text is unequal (the common case, cheaply).
    let numeric_start = |s: &str| matches!(s.as_bytes()[0], b'0'..=b'9' | b'-' | b'+' | b'.');
    if !numeric_start(a) || !numeric_start(b) {
        return false;
    }
    // A leading zero makes it an identifier (a phone number, a postcode),
    // not a number: "0049…" is not "49…".
    let leading_zero = |s: &str| {
        let t = s.trim_start_matches(['+', '-']);
        t.len() > 1 && t.starts_with('0') && !t.starts_with("0.")
    };
    if leading_zero(a) || leading_zero(b) {
        return false;
    }
    // Integers compare exactly: through f64, ids past 2^53 would collide.
    if let (Ok(x), Ok(y)) = (a.parse::<i128>(), b.parse::<i128>()) {
        return x == y;
    }
    if let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) {
        return x == y;
    }
    match (instant_ms(a), instant_ms(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_name_keeps_middle_names_with_the_first_name() {
        assert_eq!(
            Transform::SplitName.to_hubspot(&["Mary Jane Watson"]),
            vec!["Mary Jane", "Watson"]
        );
    }

    #[test]
    fn split_name_of_one_word_is_a_first_name() {
        assert_eq!(Transform::SplitName.to_hubspot(&["Cher"]), vec!["Cher", ""]);
    }

    #[test]
    fn split_name_joins_on_the_way_back() {
        assert_eq!(
            Transform::SplitName.to_app(&["Mary Jane", "Watson"]),
            vec!["Mary Jane Watson"]
        );
        assert_eq!(Transform::SplitName.to_app(&["", "Watson"]), vec!["Watson"]);
    }

    #[test]
    fn join_name_joins_two_columns_and_splits_on_the_way_back() {
        let t = Transform::JoinName;
        assert_eq!(t.to_hubspot(&["Ada", "Lovelace"]), vec!["Ada Lovelace"]);
        assert_eq!(
            t.to_app(&["Ada King Lovelace"]),
            vec!["Ada King", "Lovelace"]
        );
    }

    #[test]
    fn lowercase_and_trim_normalise_towards_hubspot() {
        assert_eq!(
            Transform::LowercaseTrim.to_hubspot(&[" Ada@X.COM "]),
            vec!["ada@x.com"]
        );
        assert_eq!(Transform::Lowercase.to_hubspot(&[" A "]), vec![" a "]);
        assert_eq!(Transform::Trim.to_hubspot(&[" A "]), vec!["A"]);
    }

    #[test]
    fn a_value_map_translates_both_ways_ignoring_case() {
        let t = Transform::ValueMap(ValueMap {
            to_hubspot: BTreeMap::from([
                ("Customer".into(), "customer".into()),
                ("Prospect".into(), "lead".into()),
            ]),
        });
        assert_eq!(t.to_hubspot(&["prospect"]), vec!["lead"]);
        assert_eq!(t.to_app(&["lead"]), vec!["Prospect"]);
        assert_eq!(t.to_hubspot(&["Other"]), vec!["Other"]);
        assert_eq!(t.to_hubspot(&[""]), vec![""]);
    }

    #[test]
    fn numbers_and_instants_compare_by_value() {
        assert!(same_value("10", "10.0"));
        assert!(same_value("2026-01-05", "2026-01-05T00:00:00Z"));
        assert!(same_value(
            "2026-01-05T10:00:00+02:00",
            "2026-01-05T08:00:00.000Z"
        ));
        assert!(same_value("1767571200000", "2026-01-05T00:00:00Z"));
        assert!(!same_value("2026-01-05", "2026-01-06"));
        assert!(!same_value("", "0"));
        assert!(!same_value("Ada", "ada"));
    }

    #[test]
    fn identifiers_that_look_like_numbers_compare_exactly() {
        assert!(!same_value("12345678901234567", "12345678901234568"));
        assert!(!same_value("0049301234", "49301234"));
        assert!(same_value("0.5", ".5"));
    }
}
