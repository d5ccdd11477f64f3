//! The middleware every simulated request passes: authentication, rate
//! limits (with HubSpot's headers), latency and faults for `/crm/*`; the
//! exchange recorder; and axum's own rejections in HubSpot's shape.

use super::errors::ApiError;
use super::faults::{self, Fault};
use super::limits::Verdict;
use super::{Exchange, Portal, data, lock, oauth};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Authentication, rate limits and latency for every request.
pub(super) async fn gate(State(portal): State<Portal>, req: Request, next: Next) -> Response {
    let s = &portal.0;
    s.requests.fetch_add(1, Ordering::Relaxed);
    if !s.settings.latency.is_zero() {
        tokio::time::sleep(s.settings.latency).await;
    }
    let presented = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    let other_app = s.settings.other_app_tokens.iter().any(|t| t == presented);
    let (token, oauth) = match portal.bearer(presented) {
        oauth::Bearer::Valid { limit_key, oauth } => (limit_key, oauth),
        oauth::Bearer::Expired { seconds_ago } => {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "EXPIRED_AUTHENTICATION",
                format!(
                    "The OAuth token used to make this call expired {seconds_ago} second(s) ago."
                ),
            )
            .into_response();
        }
        oauth::Bearer::Unknown => return ApiError::unauthenticated().into_response(),
    };
    let search = req.method() == "POST" && req.uri().path().ends_with("/search");
    let verdict = lock(&s.limiter).check(&token, search, Instant::now());
    let group = format!(
        "publicapi:private-app-api-calls-ten-secondly:{}",
        s.settings.portal_id
    );
    let group_for_faults = group.clone();
    let refused = match verdict {
        Verdict::Allowed { .. } => None,
        Verdict::TenSecondly => Some(ApiError::rate_limited(
            "TEN_SECONDLY_ROLLING",
            "You have reached your ten_secondly_rolling limit.",
            Some(group),
        )),
        Verdict::Daily => Some(ApiError::rate_limited(
            "DAILY",
            "You have reached your daily limit.",
            None,
        )),
        Verdict::Secondly => Some(ApiError::rate_limited(
            "SECONDLY",
            "You have reached your secondly limit.",
            None,
        )),
    };
    let mut resp = match refused {
        Some(e) => {
            s.rate_limited.fetch_add(1, Ordering::Relaxed);
            e.into_response()
        }
        None => {
            let path = req.uri().path().to_string();
            let write = faults::is_write(req.method(), &path);
            let fault = lock(&s.targeted)
                .take(&path)
                .or_else(|| lock(&s.injected).pop_front())
                .or_else(|| s.settings.faults.draw())
                .or_else(|| write.then(|| s.settings.faults.draw_for_write()).flatten());
            let writer = if other_app {
                data::ChangeSource::OtherIntegration
            } else {
                data::ChangeSource::Integration
            };
            data::WRITER
                .scope(writer, async move {
                    match fault {
                        Some(f) if f.applies_request() => {
                            faults::spoil(f, next.run(req).await).await
                        }
                        Some(f) => faults::answer(f, group_for_faults).await,
                        None => next.run(req).await,
                    }
                })
                .await
        }
    };
    // Search answers carry no rate-limit headers, as HubSpot's don't.
    if !search {
        let (remaining, daily_remaining) = match verdict {
            Verdict::Allowed {
                remaining,
                daily_remaining,
            } => (remaining, daily_remaining),
            Verdict::Daily => (0, 0),
            _ => (0, s.settings.daily_limit),
        };
        let h = resp.headers_mut();
        let mut set = |name: &'static str, v: u64| {
            if let Ok(v) = HeaderValue::from_str(&v.to_string()) {
                h.insert(name, v);
            }
        };
        set(
            "x-hubspot-ratelimit-max",
            s.settings.ten_second_limit as u64,
        );
        set("x-hubspot-ratelimit-remaining", remaining);
        set(
            "x-hubspot-ratelimit-interval-milliseconds",
            s.settings.rate_window.as_millis() as u64,
        );
        // HubSpot leaves the daily headers off OAuth-authorised answers.
        if !oauth {
            set("x-hubspot-ratelimit-daily", s.settings.daily_limit);
            set("x-hubspot-ratelimit-daily-remaining", daily_remaining);
        }
    }
    resp
}

/// Keeps a copy of each request and answer when `record_exchanges` is on.
pub(super) async fn record(State(portal): State<Portal>, req: Request, next: Next) -> Response {
    if !portal.0.settings.record_exchanges {
        return next.run(req).await;
    }
    const LIMIT: usize = 16 * 1024 * 1024;
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, LIMIT).await.unwrap_or_default();
    let method = parts.method.to_string();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let request_body = String::from_utf8_lossy(&bytes).into_owned();
    let resp = next
        .run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await;
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, LIMIT).await else {
        // A connection cut on purpose stays cut for the client.
        return faults::spoil(Fault::LostReply, StatusCode::OK.into_response()).await;
    };
    lock(&portal.0.exchanges).push(Exchange {
        method,
        path,
        query,
        request_body,
        status: parts.status.as_u16(),
        response_body: String::from_utf8_lossy(&bytes).into_owned(),
    });
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Axum's own rejections (oversized body, wrong method) in HubSpot's shape.
pub(super) async fn hubspot_shaped(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if resp.status().is_success() || ct.starts_with("application/json") {
        return resp;
    }
    let status = resp.status();
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "Request body is too large".to_string(),
        StatusCode::METHOD_NOT_ALLOWED => "Method not allowed on this path".to_string(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "Content-Type must be application/json".to_string(),
        other => format!("Request refused ({other})"),
    };
    ApiError::new(
        status,
        if status.is_client_error() {
            "VALIDATION_ERROR"
        } else {
            "INTERNAL_ERROR"
        },
        message,
    )
    .into_response()
}
