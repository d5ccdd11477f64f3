//! The webhook receiver: an HTTP endpoint HubSpot delivers events to. It
//! checks each delivery's v3 signature and age before reading it, refuses
//! forgeries with 401, malformed bodies with 400 (saying where), oversized
//! ones with 413, and hands verified events to the engine through a channel.
//!
//! HubSpot signs the URL it called, so the receiver must know its public
//! URL (what HubSpot was told), not the address it happens to listen on
//! behind a proxy.

use super::event::WebhookEvent;
use super::signature::verify_v3;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

/// Deliveries larger than this are refused (HubSpot sends < 100 events).
pub const MAX_BODY: usize = 1024 * 1024;

/// A delivery's body must arrive within this of its head: one that
/// dribbles in is cut off (400) and its connection freed.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// A whole delivery, body and hand-over to the engine, is answered within
/// this (408 past it, which HubSpot retries).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct ReceiverConfig {
    /// The app's client secret, which signs deliveries.
    pub client_secret: SecretString,
    /// Scheme, host and port HubSpot calls, e.g. `https://sync.example.com`.
    pub public_base: String,
    /// The path HubSpot posts to, e.g. `/hubspot/webhook`.
    pub path: String,
}

struct Shared {
    config: ReceiverConfig,
    events: mpsc::Sender<WebhookEvent>,
    clock: fn() -> i64,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn refuse(status: StatusCode, message: String) -> Response {
    tracing::warn!(status = status.as_u16(), %message, "webhook delivery refused");
    (
        status,
        axum::Json(json!({ "status": "error", "message": message })),
    )
        .into_response()
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let path_and_query = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let full = format!(
        "{}{}",
        shared.config.public_base.trim_end_matches('/'),
        path_and_query
    );
    if let Err(e) = verify_v3(
        shared.config.client_secret.expose_secret(),
        "POST",
        &full,
        &body,
        header("x-hubspot-request-timestamp"),
        header("x-hubspot-signature-v3"),
        (shared.clock)(),
    ) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            format!("webhook signature refused: {e}"),
        );
    }
    let events: Vec<WebhookEvent> = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!(
                    "webhook body is not an array of HubSpot events: line {}, column {}: {e}",
                    e.line(),
                    e.column()
                ),
            );
        }
    };
    let n = events.len();
    for ev in events {
        // A full queue pushes back on HubSpot (it retries), rather than
        // dropping an event.
        if shared.events.send(ev).await.is_err() {
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the engine is not taking events".into(),
            );
        }
    }
    tracing::debug!(events = n, "webhook delivery accepted");
    StatusCode::NO_CONTENT.into_response()
}

/// The receiver's routes; verified events go to `events`.
pub fn router(config: ReceiverConfig, events: mpsc::Sender<WebhookEvent>) -> Router {
    router_with_clock(config, events, now_ms)
}

/// As [`router`], with the clock used for the five-minute window.
pub fn router_with_clock(
    config: ReceiverConfig,
    events: mpsc::Sender<WebhookEvent>,
    clock: fn() -> i64,
) -> Router {
    let path = config.path.clone();
    let shared = Arc::new(Shared {
        config,
        events,
        clock,
    });
    Router::new()
        .route(&path, post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(RequestBodyTimeoutLayer::new(BODY_TIMEOUT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(shared)
}
