//! Failures on purpose, so tests and benchmarks can see the client and the
//! engine cope: server errors, surprise 429s, answers that never come, and
//! bodies that are not JSON. Faults come from a queue (deterministic: "the
//! next three requests fail with 502") and from shares of all requests.

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
}

/// Shares of requests (0.0 to 1.0) that fail each way.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FaultShares {
    pub server_error: f64,
    pub rate_limited: f64,
    pub hang: f64,
    pub malformed: f64,
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
    }
}
