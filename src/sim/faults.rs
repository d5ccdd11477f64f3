//! Failures on purpose, so tests and benchmarks can see the client and the
//! engine cope: server errors, surprise 429s, answers that never come, and
//! bodies that are not JSON. Faults come from a queue (deterministic: "the
//! next three requests fail with 502"), from a queue per endpoint ("the
//! next companies batch/create loses its answer") and from shares of all
//! requests.
//!
//! Most faults replace the request: nothing is written. The lost replies
//! apply the write and then spoil its answer, which is what a client
//! cannot tell apart from a write that never arrived.

use super::errors::ApiError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// A 5xx with HubSpot's error body.
    ServerError(u16),
    /// A ten-secondly 429 whatever the budget says.
    RateLimited,
    /// No answer for this long (longer than the client waits).
    Hang(Duration),
    /// A 200 whose body is cut off mid-JSON.
    Malformed,
    /// The request is applied, then the connection is closed before any
    /// of the answer is sent ("connection closed before message
    /// completed").
    LostReply,
    /// The request is applied, then its answer is sent cut off half-way
    /// (a 200 whose body is not JSON).
    CutReply,
}

impl Fault {
    /// Whether the request runs before the fault spoils its answer.
    pub fn applies_request(self) -> bool {
        matches!(self, Fault::LostReply | Fault::CutReply)
    }
}

/// Shares of requests (0.0 to 1.0) that fail each way.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FaultShares {
    pub server_error: f64,
    pub rate_limited: f64,
    pub hang: f64,
    pub malformed: f64,
    /// Share of writes (not reads or searches) applied and then answered
    /// with a lost or cut-off reply, half each.
    pub lost_reply: f64,
    /// How long a hanging request hangs.
    pub hang_for: Duration,
}

impl FaultShares {
    /// Draws the fault for one request, if any.
    pub fn draw(&self) -> Option<Fault> {
        let r: f64 = rand::random();
        let mut edge = self.server_error;
        if r < edge {
            return Some(Fault::ServerError(502));
        }
        edge += self.rate_limited;
        if r < edge {
            return Some(Fault::RateLimited);
        }
        edge += self.hang;
        if r < edge {
            return Some(Fault::Hang(self.hang_for));
        }
        edge += self.malformed;
        (r < edge).then_some(Fault::Malformed)
    }

    /// Draws the lost-reply fault for one write, if any.
    pub fn draw_for_write(&self) -> Option<Fault> {
        let r: f64 = rand::random();
        if r < self.lost_reply / 2.0 {
            Some(Fault::LostReply)
        } else if r < self.lost_reply {
            Some(Fault::CutReply)
        } else {
            None
        }
    }
}

/// Whether a request changes records: everything but gets, searches and
/// batch reads.
pub fn is_write(method: &axum::http::Method, path: &str) -> bool {
    method != axum::http::Method::GET
        && method != axum::http::Method::HEAD
        && !path.ends_with("/search")
        && !path.ends_with("/batch/read")
}

/// Faults waiting for the next request to one endpoint, in order. An
/// endpoint is the end of a path, such as `companies/batch/create`.
#[derive(Debug, Default)]
pub struct Targeted(Vec<(String, Fault)>);

impl Targeted {
    pub fn push(&mut self, endpoint: &str, fault: Fault) {
        self.0.push((endpoint.trim_matches('/').to_string(), fault));
    }

    /// The first fault waiting for this path, taken off the queue.
    pub fn take(&mut self, path: &str) -> Option<Fault> {
        let path = path.trim_end_matches('/');
        let i = self
            .0
            .iter()
            .position(|(e, _)| path.ends_with(e.as_str()))?;
        Some(self.0.remove(i).1)
    }
}

/// The body of an answer whose connection breaks: it fails when read, so
/// the server drops the connection instead of finishing the message.
#[derive(Debug, thiserror::Error)]
#[error("simulated fault: the connection was cut")]
struct Cut;

/// Spoils the real answer to a request that was applied.
pub async fn spoil(fault: Fault, real: Response) -> Response {
    match fault {
        Fault::CutReply => {
            let (mut parts, body) = real.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let half = bytes.slice(..bytes.len() / 2);
            parts.headers.remove(axum::http::header::CONTENT_LENGTH);
            Response::from_parts(parts, axum::body::Body::from(half))
        }
        _ => {
            // Hyper writes the head and the first body frame together: a
            // body that fails at once means not a byte of the answer leaves.
            let never = futures::stream::once(async { Err::<axum::body::Bytes, Cut>(Cut) });
            (StatusCode::OK, axum::body::Body::from_stream(never)).into_response()
        }
    }
}

/// The answer a fault gives instead of the real one.
pub async fn answer(fault: Fault, group: String) -> Response {
    match fault {
        Fault::ServerError(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
            ApiError::new(
                status,
                "INTERNAL_ERROR",
                "An internal error occurred (simulated fault)",
            )
            .into_response()
        }
        Fault::RateLimited => ApiError::rate_limited(
            "TEN_SECONDLY_ROLLING",
            "You have reached your ten_secondly_rolling limit.",
            Some(group),
        )
        .into_response(),
        Fault::Hang(d) => {
            tokio::time::sleep(d).await;
            ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "INTERNAL_ERROR",
                "The request timed out (simulated fault)",
            )
            .into_response()
        }
        Fault::Malformed => (
            StatusCode::OK,
            [("content-type", "application/json;charset=utf-8")],
            "{\"results\":[{\"id\":\"1\",\"properties\":{",
        )
            .into_response(),
        // Not reached: these run the request first, then `spoil` its answer.
        Fault::LostReply | Fault::CutReply => spoil(fault, StatusCode::OK.into_response()).await,
    }
}
