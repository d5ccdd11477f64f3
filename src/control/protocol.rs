//! The control protocol's messages (version 1), as `docs/control-protocol.md`
//! describes them: newline-delimited JSON over a Unix socket. A client sends
//! requests (`{"id", "method", "params"}`); the engine answers each with a
//! reply carrying the same id (`result` or `error`) and pushes events
//! (`{"event", "data"}`) to subscribers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The longest line either side accepts, in bytes: a snapshot with a full
/// FAILED page is well under it; anything longer is refused, not buffered.
pub const MAX_LINE: usize = 4 * 1024 * 1024;

/// One request as it arrives. `params` is checked per method.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Request {
    pub id: Value,
    pub method: String,
    #[serde(default)]
    pub params: Value,
}

/// An error in a reply: a stable code for programs, a sentence for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

/// Error codes (the protocol document lists them with their meaning).
pub mod code {
    pub const PARSE_ERROR: &str = "parse_error";
    pub const INVALID_REQUEST: &str = "invalid_request";
    pub const INVALID_PARAMS: &str = "invalid_params";
    pub const UNKNOWN_METHOD: &str = "unknown_method";
    pub const UNSUPPORTED_VERSION: &str = "unsupported_version";
    pub const HELLO_FIRST: &str = "hello_first";
    pub const FORBIDDEN: &str = "forbidden";
    pub const FAILED: &str = "failed";
    pub const LINE_TOO_LONG: &str = "line_too_long";
}

/// Everything the engine sends.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Outgoing {
    Reply { id: Value, result: Value },
    Error { id: Value, error: ErrorBody },
    Event { event: String, data: Value },
}

impl Outgoing {
    pub fn error(id: Value, code: &str, message: impl Into<String>) -> Outgoing {
        Outgoing::Error {
            id,
            error: ErrorBody {
                code: code.into(),
                message: message.into(),
            },
        }
    }

    pub fn event(event: &str, data: impl Serialize) -> Outgoing {
        Outgoing::Event {
            event: event.into(),
            data: serde_json::to_value(data).unwrap_or(Value::Null),
        }
    }
}

/// Which socket a client came in on, and so what it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Operator,
    Viewer,
}

/// The methods of version 1, and whether each writes (viewers may not).
pub const METHODS: &[(&str, bool)] = &[
    ("hello", false),
    ("subscribe", false),
    ("unsubscribe", false),
    ("failed_page", false),
    ("status", false),
    ("record_history", false),
    ("audit_page", false),
    ("records_search", false),
    ("record_view", false),
    ("set_app_field", true),
    ("retry", true),
    ("retry_category", true),
    ("dismiss", true),
    ("sync_now", true),
    ("reload", true),
    ("shutdown", true),
    ("failed_groups", false),
    ("failed_in_class", false),
    ("retry_class", true),
    ("retry_selection", true),
    ("log_tail", false),
    ("metrics", false),
];

/// Whether a method exists, and if so whether it writes.
pub fn writes(method: &str) -> Option<bool> {
    METHODS.iter().find(|(m, _)| *m == method).map(|&(_, w)| w)
}

/// `hello`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    pub protocol: u32,
    pub role: Role,
    /// The OS user the engine sees on the other end of the socket.
    pub user: String,
    pub engine: crate::status::EngineInfo,
}

/// A line for a console, pushed as the `notice` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub text: String,
    #[serde(default)]
    pub warning: bool,
    /// The job this notice reports the end of, when it is one the
    /// receiving console asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<i64>,
}
