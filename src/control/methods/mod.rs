//! Request handlers of the control protocol, one file per area, so each
//! area's methods live apart from the session that dispatches them.

pub mod log;
pub mod metrics;
pub mod records;
pub mod triage;

/// A method's answer: its result, or an error code and a sentence.
pub type Reply = Result<serde_json::Value, (&'static str, String)>;

/// Reads a method's params, saying which method and what was wrong.
pub(crate) fn params<T: for<'de> serde::Deserialize<'de>>(
    method: &str,
    shape: &str,
    p: serde_json::Value,
) -> Result<T, (&'static str, String)> {
    let p = if p.is_null() {
        serde_json::Value::Object(Default::default())
    } else {
        p
    };
    serde_json::from_value(p).map_err(|e| {
        (
            super::protocol::code::INVALID_PARAMS,
            format!("{method} takes {shape}: {e}"),
        )
    })
}

pub(crate) fn to_value(v: impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}
