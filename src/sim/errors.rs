//! HubSpot's error bodies, as HubSpot sends them (`status`, `message`,
//! `correlationId`, `category`, …), so clients under test parse the real
//! shapes. The correlation id is echoed in `x-hubspot-correlation-id`.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An error answer: status code plus HubSpot's JSON body.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Value,
}

pub fn correlation_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl ApiError {
    pub fn new(status: StatusCode, category: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: json!({
                "status": "error",
                "message": message.into(),
                "correlationId": correlation_id(),
                "category": category,
            }),
        }
    }

    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.body[key] = value;
        self
    }

    pub fn validation(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
    }

    /// HubSpot's 404 for a record id; note the two spaces, as HubSpot writes it.
    pub fn not_found(id: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            "Object not found.  objectId are usually numeric.",
        )
        .with("context", json!({ "id": [id] }))
    }

    pub fn unauthenticated() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
        )
    }

    /// A 429 naming the policy that was exceeded.
    pub fn rate_limited(policy: &str, message: &str, group: Option<String>) -> Self {
        let mut body = json!({
            "status": "error",
            "message": message,
            "errorType": "RATE_LIMIT",
            "correlationId": correlation_id(),
            "policyName": policy,
        });
        if let Some(g) = group {
            body["groupName"] = json!(g);
        }
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            body,
        }
    }
}

/// One invalid property value, in the form HubSpot embeds (as JSON text) in
/// a VALIDATION_ERROR message and also lists in `errors[]`.
#[derive(Debug, Clone)]
pub struct PropertyProblem {
    pub name: String,
    pub code: &'static str,
    pub message: String,
}

impl PropertyProblem {
    fn embedded(&self) -> Value {
        json!({ "isValid": false, "message": self.message, "error": self.code, "name": self.name })
    }
}

/// HubSpot's "Property values were not valid" error for these problems.
pub fn invalid_properties(problems: &[PropertyProblem]) -> ApiError {
    let embedded: Vec<Value> = problems.iter().map(PropertyProblem::embedded).collect();
    let message = format!(
        "Property values were not valid: {}",
        serde_json::to_string(&embedded).unwrap_or_default()
    );
    let errors: Vec<Value> = problems
        .iter()
        .map(|p| json!({ "message": p.message, "code": p.code, "context": { "propertyName": [p.name] } }))
        .collect();
    ApiError::validation(message).with("errors", json!(errors))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let cid = self
            .body
            .get("correlationId")
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut resp = (self.status, axum::Json(self.body)).into_response();
        if let Some(cid) = cid.and_then(|c| HeaderValue::from_str(&c).ok()) {
            resp.headers_mut().insert("x-hubspot-correlation-id", cid);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                "x-hubspot-auth-failure",
                HeaderValue::from_static("401 Unauthorized"),
            );
        }
        resp
    }
}
