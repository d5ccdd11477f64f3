//! HubSpot's OAuth token endpoint (`POST /oauth/v1/token`, form-encoded) and
//! the access tokens it mints: they expire after the configured lifetime
//! (HubSpot: 30 minutes), after which API calls answer 401
//! `EXPIRED_AUTHENTICATION`, as HubSpot's do.

use super::Portal;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

/// An app installed in the simulated portal, with one refresh token.
#[derive(Debug, Clone)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
}

/// An access token the endpoint handed out.
#[derive(Debug, Clone)]
pub struct Issued {
    pub client_id: String,
    pub expires_at: DateTime<Utc>,
}

/// What the gate makes of a bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bearer {
    /// Accepted; rate limits are kept per this key (one per app).
    Valid {
        limit_key: String,
        oauth: bool,
    },
    Expired {
        seconds_ago: i64,
    },
    Unknown,
}

#[derive(Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    refresh_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, hub_status: &str, message: &str) -> Response {
    let body = json!({
        "status": hub_status,
        "message": message,
        "correlationId": super::errors::correlation_id(),
        "category": "VALIDATION_ERROR",
        "error": error,
        "error_description": message,
    });
    (status, axum::Json(body)).into_response()
}

pub async fn token(State(portal): State<Portal>, Form(form): Form<TokenForm>) -> Response {
    portal
        .0
        .requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    match form.grant_type.as_deref() {
        Some("refresh_token") => {}
        Some(other) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "BAD_GRANT_TYPE",
                &format!("grant_type {other} is not supported by this portal; use refresh_token"),
            );
        }
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "BAD_GRANT_TYPE",
                "missing grant_type",
            );
        }
    }
    let settings = portal.settings();
    let Some(app) = settings
        .oauth_apps
        .iter()
        .find(|a| Some(&a.client_id) == form.client_id.as_ref())
    else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "BAD_CLIENT_ID",
            "missing or unknown client_id",
        );
    };
    if Some(&app.client_secret) != form.client_secret.as_ref() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "BAD_CLIENT_SECRET",
            "client_secret does not match",
        );
    }
    if Some(&app.refresh_token) != form.refresh_token.as_ref() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "BAD_REFRESH_TOKEN",
            "refresh token is invalid, expired or revoked",
        );
    }
    let access = format!("CO{}", uuid::Uuid::new_v4().simple());
    let lifetime = settings.token_lifetime;
    portal.issue(
        &access,
        Issued {
            client_id: app.client_id.clone(),
            expires_at: Utc::now() + chrono::Duration::from_std(lifetime).unwrap_or_default(),
        },
    );
    let body = json!({
        "token_type": "bearer",
        "refresh_token": app.refresh_token,
        "access_token": access,
        "expires_in": lifetime.as_secs(),
        "token_use": "access_token",
        "hub_id": settings.portal_id,
        "scopes": ["crm.objects.contacts.read", "crm.objects.contacts.write"],
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}
