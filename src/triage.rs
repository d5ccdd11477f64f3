//! Triage by cause: open FAILED entries grouped by error class, each group
//! with what an operator does about it. The grouping is the state
//! database's (`store::triage`); this module holds the types the protocol
//! carries and the fix hints, which are pure.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a FAILED entry failed of: HubSpot's category, its sub-category
/// (the inner error code of a validation message) and the property named.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ErrorClass {
    pub category: String,
    #[serde(default)]
    pub sub_category: Option<String>,
    #[serde(default)]
    pub property: Option<String>,
}

impl ErrorClass {
    /// `VALIDATION_ERROR / INVALID_EMAIL / email`, for lines and logs.
    pub fn label(&self) -> String {
        let mut s = self.category.clone();
        for part in [&self.sub_category, &self.property].into_iter().flatten() {
            s.push_str(" / ");
            s.push_str(part);
        }
        s
    }
}

/// One group of open FAILED entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedGroup {
    pub class: ErrorClass,
    pub count: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// What to do about it, for the classes whose cure is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// What the engine knows that a hint may need.
#[derive(Debug, Clone, Copy, Default)]
pub struct HintContext {
    /// When the 10-second budget is back, if it is spent now.
    pub budget_returns_at: Option<DateTime<Utc>>,
    /// The portal's daily budget is spent (it returns at its midnight).
    pub daily_spent: bool,
}

/// The fix for a class, when it is one of the known ones.
pub fn hint(class: &ErrorClass, cx: HintContext) -> Option<String> {
    let sub = class.sub_category.as_deref().unwrap_or("");
    let prop = class.property.as_deref().unwrap_or("the property");
    let category = class.category.as_str();
    if sub == "INVALID_EMAIL" {
        return Some(format!(
            "fix the value: HubSpot refuses these addresses; correct {prop} in the app database, then retry"
        ));
    }
    if matches!(sub, "PROPERTY_DOESNT_EXIST" | "READ_ONLY_VALUE") {
        let what = if sub == "READ_ONLY_VALUE" {
            "is read-only in HubSpot"
        } else {
            "does not exist in HubSpot"
        };
        return Some(format!(
            "fix the mapping: {prop} {what}; map another property or refresh the properties (hubsync check), then retry"
        ));
    }
    if matches!(
        category,
        "EXPIRED_AUTHENTICATION" | "INVALID_AUTHENTICATION" | "HTTP_401" | "HTTP_403"
    ) {
        return Some(
            "re-authenticate: HubSpot refused the token; put a valid one where [hubspot] token_env points, reload, then retry"
                .into(),
        );
    }
    if matches!(category, "RATE_LIMIT" | "RATE_LIMITS" | "HTTP_429") {
        if cx.daily_spent {
            return Some(
                "wait: the portal's daily API budget is spent; it returns at midnight in the portal's time zone, then retry"
                    .into(),
            );
        }
        return Some(match cx.budget_returns_at {
            Some(at) => format!(
                "wait: the rate budget is back at {} UTC; retry then",
                at.format("%Y-%m-%d %H:%M:%S")
            ),
            None => "wait: the rate budget is back now; retry".into(),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(category: &str, sub: Option<&str>, prop: Option<&str>) -> ErrorClass {
        ErrorClass {
            category: category.into(),
            sub_category: sub.map(str::to_string),
            property: prop.map(str::to_string),
        }
    }

    #[test]
    fn an_invalid_email_is_fixed_in_the_value() {
        let h = hint(
            &class("VALIDATION_ERROR", Some("INVALID_EMAIL"), Some("email")),
            HintContext::default(),
        )
        .unwrap();
        assert!(h.starts_with("fix the value"), "{h}");
        assert!(h.contains("email"), "{h}");
    }

    #[test]
    fn an_unknown_or_read_only_property_is_fixed_in_the_mapping() {
        for sub in ["PROPERTY_DOESNT_EXIST", "READ_ONLY_VALUE"] {
            let h = hint(
                &class("VALIDATION_ERROR", Some(sub), Some("hs_score")),
                HintContext::default(),
            )
            .unwrap();
            assert!(h.starts_with("fix the mapping"), "{h}");
            assert!(h.contains("hs_score") && h.contains("refresh"), "{h}");
        }
    }

    #[test]
    fn a_refused_token_means_re_authenticating() {
        for c in ["EXPIRED_AUTHENTICATION", "INVALID_AUTHENTICATION"] {
            let h = hint(&class(c, None, None), HintContext::default()).unwrap();
            assert!(h.starts_with("re-authenticate"), "{h}");
        }
    }

    #[test]
    fn a_spent_budget_says_when_it_returns() {
        let at = "2026-12-01T13:05:10Z".parse().unwrap();
        let h = hint(
            &class("RATE_LIMIT", None, None),
            HintContext {
                budget_returns_at: Some(at),
                daily_spent: false,
            },
        )
        .unwrap();
        assert!(h.starts_with("wait"), "{h}");
        assert!(h.contains("2026-12-01 13:05:10"), "{h}");
    }

    #[test]
    fn an_unknown_class_has_no_hint() {
        assert_eq!(
            hint(&class("CONFLICT", None, None), HintContext::default()),
            None
        );
    }

    #[test]
    fn a_class_label_names_its_parts() {
        assert_eq!(
            class("VALIDATION_ERROR", Some("INVALID_EMAIL"), Some("email")).label(),
            "VALIDATION_ERROR / INVALID_EMAIL / email"
        );
        assert_eq!(class("APP_DB", None, None).label(), "APP_DB");
    }
}
