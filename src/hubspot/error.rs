//! What can go wrong talking to HubSpot, typed so callers can decide: retry
//! (429, 5xx, timeouts), resolve (409 names the existing record), or record a
//! FAILED entry with HubSpot's own category and message (validation).

use super::wire::ErrorBody;
use std::borrow::Cow;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum HubSpotError {
    /// HubSpot answered with an error status and (usually) its error body.
    #[error("{request}: HTTP {status} {}: {}", body.category.as_deref().unwrap_or("-"), body.message.as_deref().unwrap_or("(no message)"))]
    Api {
        /// Method and path, e.g. `POST /crm/v3/objects/contacts/batch/create`.
        request: String,
        status: u16,
        body: ErrorBody,
    },
    /// Still rate-limited after every retry.
    #[error("{request}: rate limited ({policy}) after {attempts} attempts")]
    RateLimited {
        request: String,
        policy: String,
        attempts: u32,
    },
    /// The request did not complete in time.
    #[error("{request}: timed out after {0:?}", timeout)]
    Timeout { request: String, timeout: Duration },
    /// Connection refused, reset, DNS …
    #[error("{request}: {message}")]
    Transport { request: String, message: String },
    /// HubSpot answered 2xx with a body we could not read.
    #[error("{request}: unreadable response body: {message}")]
    Decode { request: String, message: String },
    /// A write that may have landed: it was sent, and its answer was lost
    /// (the connection closed or timed out after sending) or could not be
    /// read. Sending it again could write it twice, so it is not resent:
    /// the caller looks up what landed first.
    #[error("{request}: the write may have landed; its answer was lost: {message}")]
    MayHaveLanded { request: String, message: String },
    /// Refused before sending: HubSpot would refuse it the same way, and
    /// this says which input is wrong without spending an API call.
    #[error("{request}: not sent: {message}")]
    Invalid { request: String, message: String },
}

impl HubSpotError {
    /// The HTTP status, when HubSpot answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            HubSpotError::Api { status, .. } => Some(*status),
            HubSpotError::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// HubSpot's error category (`VALIDATION_ERROR`, `CONFLICT`, …), or a
    /// category of our own for failures that never reached HubSpot.
    pub fn category(&self) -> String {
        match self {
            HubSpotError::Api { body, status, .. } => body
                .category
                .clone()
                .unwrap_or_else(|| format!("HTTP_{status}")),
            HubSpotError::RateLimited { .. } => "RATE_LIMIT".into(),
            HubSpotError::Timeout { .. } => "TIMEOUT".into(),
            HubSpotError::Transport { .. } => "TRANSPORT".into(),
            HubSpotError::Decode { .. } => "BAD_RESPONSE".into(),
            HubSpotError::MayHaveLanded { .. } => "MAY_HAVE_LANDED".into(),
            HubSpotError::Invalid { .. } => "VALIDATION_ERROR".into(),
        }
    }

    /// HubSpot's message verbatim, or our description of the failure.
    pub fn message(&self) -> String {
        match self {
            HubSpotError::Api { body, status, .. } => body
                .message
                .clone()
                .unwrap_or_else(|| format!("HTTP {status} without a message")),
            other => other.to_string(),
        }
    }

    /// Transient failures worth another attempt later; validation and
    /// conflicts would fail the same way again. An unreadable answer is
    /// HubSpot's fault, not the records': another attempt reads it whole.
    pub fn is_transient(&self) -> bool {
        match self {
            HubSpotError::Api { status, .. } => *status == 429 || *status == 423 || *status >= 500,
            HubSpotError::RateLimited { .. }
            | HubSpotError::Timeout { .. }
            | HubSpotError::Transport { .. }
            | HubSpotError::Decode { .. }
            | HubSpotError::MayHaveLanded { .. } => true,
            HubSpotError::Invalid { .. } => false,
        }
    }

    /// Whether a write was sent and its outcome is unknown: look it up
    /// before sending it again.
    pub fn may_have_landed(&self) -> bool {
        matches!(self, HubSpotError::MayHaveLanded { .. })
    }

    pub fn is_auth(&self) -> bool {
        matches!(self.status(), Some(401) | Some(403))
    }

    /// For a 409 on an existing contact: the id HubSpot says already has the
    /// email (`Contact already exists. Existing ID: 123`).
    pub fn existing_id(&self) -> Option<String> {
        let HubSpotError::Api {
            status: 409, body, ..
        } = self
        else {
            return None;
        };
        let msg = body.message.as_deref()?;
        let rest = &msg[msg.find("Existing ID:")? + "Existing ID:".len()..];
        let id: String = rest
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        (!id.is_empty()).then_some(id)
    }
}

/// HubSpot's validation messages wrap the useful part in JSON
/// (`Property values were not valid: [{"message":"Email address x is
/// invalid",…}]`): this pulls the inner messages out for one-line views.
/// Anything else comes back as it was.
pub fn message_summary(message: &str) -> Cow<'_, str> {
    let Some(start) = message.find("[{") else {
        return Cow::Borrowed(message);
    };
    let Ok(items) = serde_json::from_str::<Vec<serde_json::Value>>(&message[start..]) else {
        return Cow::Borrowed(message);
    };
    let inner: Vec<&str> = items
        .iter()
        .filter_map(|i| i.get("message")?.as_str())
        .collect();
    if inner.is_empty() {
        Cow::Borrowed(message)
    } else {
        Cow::Owned(inner.join("; "))
    }
}

/// What a validation message names beyond its category: HubSpot's inner
/// error code (`INVALID_EMAIL`, `PROPERTY_DOESNT_EXIST`, `READ_ONLY_VALUE`)
/// and the property it is about, from the first problem the message lists
/// (`Property values were not valid: [{"error":"INVALID_EMAIL","name":"email",…}]`).
/// FAILED entries are triaged by these; a message without them gives `None`s.
pub fn error_detail(message: &str) -> (Option<String>, Option<String>) {
    let Some(start) = message.find("[{") else {
        return (None, None);
    };
    let Ok(items) = serde_json::from_str::<Vec<serde_json::Value>>(&message[start..]) else {
        return (None, None);
    };
    let Some(first) = items.first() else {
        return (None, None);
    };
    let text = |k: &str| first.get(k).and_then(|v| v.as_str()).map(str::to_string);
    (text("error").or_else(|| text("code")), text("name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, category: &str, message: &str) -> HubSpotError {
        HubSpotError::Api {
            request: "POST /x".into(),
            status,
            body: ErrorBody {
                category: Some(category.into()),
                message: Some(message.into()),
                ..Default::default()
            },
        }
    }

    #[test]
    fn conflict_names_the_existing_contact_id() {
        let e = api(
            409,
            "CONFLICT",
            "Contact already exists. Existing ID: 37765128953",
        );
        assert_eq!(e.existing_id().as_deref(), Some("37765128953"));
    }

    #[test]
    fn validation_errors_are_not_transient_but_5xx_and_429_are() {
        assert!(!api(400, "VALIDATION_ERROR", "bad").is_transient());
        assert!(api(502, "INTERNAL_ERROR", "bad gateway").is_transient());
        assert!(api(429, "RATE_LIMITS", "slow down").is_transient());
    }

    #[test]
    fn a_write_that_may_have_landed_says_so_and_is_not_a_validation_failure() {
        let e = HubSpotError::MayHaveLanded {
            request: "POST /crm/v3/objects/companies/batch/create".into(),
            message: "connection closed before message completed".into(),
        };
        assert!(e.to_string().contains("may have landed"), "{e}");
        assert!(e.to_string().contains("batch/create"), "{e}");
        assert!(e.may_have_landed() && e.is_transient());
        assert_eq!(e.category(), "MAY_HAVE_LANDED");
    }

    #[test]
    fn category_and_message_come_from_hubspot_body() {
        let e = api(400, "VALIDATION_ERROR", "Email address x is invalid");
        assert_eq!(e.category(), "VALIDATION_ERROR");
        assert_eq!(e.message(), "Email address x is invalid");
    }

    #[test]
    fn error_detail_names_the_inner_code_and_property() {
        let m = r#"Property values were not valid: [{"isValid":false,"message":"Email address x@y is invalid","error":"INVALID_EMAIL","name":"email"}]"#;
        assert_eq!(
            error_detail(m),
            (Some("INVALID_EMAIL".into()), Some("email".into()))
        );
        assert_eq!(
            error_detail("Contact already exists. Existing ID: 5"),
            (None, None)
        );
        assert_eq!(error_detail("broken [{ not json"), (None, None));
    }

    #[test]
    fn message_summary_pulls_the_inner_message_out() {
        let m = r#"Property values were not valid: [{"isValid":false,"message":"Email address x@y is invalid","error":"INVALID_EMAIL","name":"email"}]"#;
        assert_eq!(message_summary(m), "Email address x@y is invalid");
        assert_eq!(
            message_summary("Contact already exists. Existing ID: 5"),
            "Contact already exists. Existing ID: 5"
        );
    }
}
