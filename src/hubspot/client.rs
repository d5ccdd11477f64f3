//! The HubSpot CRM client the engine uses: one method per endpoint, each
//! returning typed results or a [`HubSpotError`] that carries HubSpot's
//! category and message.
//!
//! Every request goes through [`HubSpotClient::send`], which waits for the
//! rate gate, retries transient failures (429, 5xx, 423, timeouts, broken
//! connections) with exponential backoff and jitter, and records latency and
//! connection state for the console. Validation errors and conflicts are
//! returned at once: asking again would fail the same way.

use super::auth::{Credentials, TokenSource};
use super::error::HubSpotError;
use super::ratelimit::{Bucket, RateGate};
use super::wire::*;
use crate::model::ObjectKind;
use crate::status::{ConnState, ConnectionStatus};
use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// HubSpot's documented ceiling for one batch request.
pub const MAX_BATCH: usize = 100;

#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// `https://api.hubapi.com`, or the simulator's loopback URL.
    pub base_url: String,
    pub credentials: Credentials,
    /// Per request, end to end.
    pub timeout: Duration,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// Assumed until HubSpot's headers tell the real ceiling.
    pub ten_second_limit: u32,
    pub search_per_second: u32,
    /// First backoff delay; doubles per attempt, with jitter.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

impl ClientSettings {
    /// Settings for a private-app token.
    pub fn new(base_url: impl Into<String>, token: SecretString) -> Self {
        Self::with_credentials(base_url, Credentials::PrivateApp(token))
    }

    pub fn with_credentials(base_url: impl Into<String>, credentials: Credentials) -> Self {
        ClientSettings {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            credentials,
            timeout: Duration::from_secs(30),
            max_attempts: 6,
            ten_second_limit: 100,
            search_per_second: 5,
            backoff_min: Duration::from_millis(250),
            backoff_max: Duration::from_secs(15),
        }
    }
}

#[derive(Debug, Clone)]
struct Health {
    state: ConnState,
    latency_ms: Option<u64>,
    last_error: Option<String>,
}

pub struct HubSpotClient {
    http: reqwest::Client,
    settings: ClientSettings,
    gate: RateGate,
    tokens: TokenSource,
    health: Mutex<Health>,
    requests: AtomicU64,
}

/// The query of a list page: `limit`, and what is asked for and where from.
fn list_query(
    limit: u32,
    properties: &[&str],
    with_history: &[&str],
    after: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut query = vec![("limit", limit.to_string())];
    if !properties.is_empty() {
        query.push(("properties", properties.join(",")));
    }
    if !with_history.is_empty() {
        query.push(("propertiesWithHistory", with_history.join(",")));
    }
    if let Some(a) = after {
        query.push(("after", a.to_string()));
    }
    query
}

/// The cursor filters alone, as one group: `modified_since` without pushdown.
pub fn cursor_only(filters: &[Filter]) -> Vec<FilterGroup> {
    vec![FilterGroup {
        filters: filters.to_vec(),
    }]
}

/// HubSpot refuses to page a search past this many results.
pub const SEARCH_CAP: u32 = 10_000;

/// How far an incremental read has got: the newest record seen, by its
/// last-modified time (epoch ms) and, among records sharing that time, id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModifiedCursor {
    pub modified_ms: i64,
    pub id: u64,
}

/// A 200 or 207 from a batch endpoint: what succeeded and the per-item errors.
pub type BatchOutcome = BatchResponse;

impl HubSpotClient {
    pub fn new(settings: ClientSettings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .user_agent(concat!("hubsync/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(HubSpotClient {
            http,
            gate: RateGate::new(settings.ten_second_limit, settings.search_per_second),
            tokens: TokenSource::new(settings.credentials.clone()),
            settings,
            health: Mutex::new(Health {
                state: ConnState::Connecting,
                latency_ms: None,
                last_error: None,
            }),
            requests: AtomicU64::new(0),
        })
    }

    /// OAuth access-token refreshes so far.
    pub fn token_refreshes(&self) -> u64 {
        self.tokens.refresh_count()
    }

    /// HTTP requests sent so far, retries included.
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The connection as the console shows it. Never contains the token.
    pub fn connection_status(&self) -> ConnectionStatus {
        let h = self
            .health
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        ConnectionStatus {
            name: "HubSpot".into(),
            target: self.settings.base_url.clone(),
            state: h.state,
            latency_ms: h.latency_ms,
            budget: self.gate.budget(),
            last_error: h.last_error,
        }
    }

    fn set_health(&self, state: ConnState, latency: Option<Duration>, error: Option<String>) {
        let mut h = self.health.lock().unwrap_or_else(|p| p.into_inner());
        h.state = state;
        if let Some(l) = latency {
            h.latency_ms = Some(l.as_millis() as u64);
        }
        if state == ConnState::Connected {
            h.last_error = None;
        } else if error.is_some() {
            h.last_error = error;
        }
    }

    fn path(object: ObjectKind, rest: &str) -> String {
        format!("/crm/v3/objects/{}{}", object.api_name(), rest)
    }

    /// One page of `GET /crm/v3/objects/{type}`.
    pub async fn list_page(
        &self,
        object: ObjectKind,
        properties: &[&str],
        after: Option<&str>,
        limit: u32,
    ) -> Result<ListPage, HubSpotError> {
        let query = list_query(limit.min(100), properties, &[], after);
        let (_, page) = self
            .send::<(), ListPage>(
                Method::GET,
                &Self::path(object, ""),
                &query,
                None,
                Bucket::Standard,
            )
            .await?;
        Ok(page)
    }

    /// `POST .../batch/read`, by record id or by a unique property such as
    /// `email` (`id_property`). Ids that do not exist come back as per-item
    /// errors of a 207, not as a failure.
    pub async fn batch_read(
        &self,
        object: ObjectKind,
        id_property: Option<&str>,
        ids: &[String],
        properties: &[&str],
    ) -> Result<BatchOutcome, HubSpotError> {
        let body = BatchReadRequest {
            properties: properties.iter().map(|p| p.to_string()).collect(),
            properties_with_history: vec![],
            id_property: id_property.map(str::to_string),
            inputs: ids
                .iter()
                .map(|id| BatchReadInput { id: id.clone() })
                .collect(),
        };
        let (_, r) = self
            .send(
                Method::POST,
                &Self::path(object, "/batch/read"),
                &[],
                Some(&body),
                Bucket::Standard,
            )
            .await?;
        Ok(r)
    }

    /// `POST .../batch/create` (201, or 207 with per-item errors).
    pub async fn batch_create(
        &self,
        object: ObjectKind,
        inputs: Vec<CreateInput>,
    ) -> Result<BatchOutcome, HubSpotError> {
        let body = BatchInputs { inputs };
        let (_, r) = self
            .send(
                Method::POST,
                &Self::path(object, "/batch/create"),
                &[],
                Some(&body),
                Bucket::Standard,
            )
            .await?;
        Ok(r)
    }

    /// `POST .../batch/update` (200, or 207 with per-item errors).
    pub async fn batch_update(
        &self,
        object: ObjectKind,
        inputs: Vec<UpdateInput>,
    ) -> Result<BatchOutcome, HubSpotError> {
        let body = BatchInputs { inputs };
        let (_, r) = self
            .send(
                Method::POST,
                &Self::path(object, "/batch/update"),
                &[],
                Some(&body),
                Bucket::Standard,
            )
            .await?;
        Ok(r)
    }

    /// `POST .../search`: one page.
    pub async fn search(
        &self,
        object: ObjectKind,
        request: &SearchRequest,
    ) -> Result<SearchPage, HubSpotError> {
        let (_, r) = self
            .send(
                Method::POST,
                &Self::path(object, "/search"),
                &[],
                Some(request),
                Bucket::Search,
            )
            .await?;
        Ok(r)
    }

    /// How many live records HubSpot holds: a one-record search, whose
    /// answer carries the total (the list endpoint has none).
    pub async fn count(&self, object: ObjectKind) -> Result<u64, HubSpotError> {
        let req = SearchRequest {
            limit: 1,
            properties: vec!["hs_object_id".into()],
            ..Default::default()
        };
        Ok(self.search(object, &req).await?.total)
    }

    /// Associates two records with HubSpot's default (unlabeled) type, in
    /// both directions: `PUT /crm/v4/objects/{from}/{id}/associations/default/{to}/{toId}`.
    pub async fn associate_default(
        &self,
        from: ObjectKind,
        from_id: &str,
        to: ObjectKind,
        to_id: &str,
    ) -> Result<(), HubSpotError> {
        let path = format!(
            "/crm/v4/objects/{}/{from_id}/associations/default/{}/{to_id}",
            from.api_name(),
            to.api_name()
        );
        self.send::<(), serde_json::Value>(Method::PUT, &path, &[], None, Bucket::Standard)
            .await?;
        Ok(())
    }

    /// Removes every association between two records:
    /// `DELETE /crm/v4/objects/{from}/{id}/associations/{to}/{toId}` (204).
    pub async fn remove_associations(
        &self,
        from: ObjectKind,
        from_id: &str,
        to: ObjectKind,
        to_id: &str,
    ) -> Result<(), HubSpotError> {
        let path = format!(
            "/crm/v4/objects/{}/{from_id}/associations/{}/{to_id}",
            from.api_name(),
            to.api_name()
        );
        self.send::<(), serde_json::Value>(Method::DELETE, &path, &[], None, Bucket::Standard)
            .await?;
        Ok(())
    }

    /// The `to` records associated with each of `ids` (at most 1,000), with
    /// their association types: `POST /crm/v4/associations/{from}/{to}/batch/read`.
    pub async fn associations(
        &self,
        from: ObjectKind,
        to: ObjectKind,
        ids: &[String],
    ) -> Result<AssociationBatch, HubSpotError> {
        let path = format!(
            "/crm/v4/associations/{}/{}/batch/read",
            from.api_name(),
            to.api_name()
        );
        let body = serde_json::json!({ "inputs": ids.iter().map(|id| serde_json::json!({"id": id})).collect::<Vec<_>>() });
        let (_, r) = self
            .send(Method::POST, &path, &[], Some(&body), Bucket::Standard)
            .await?;
        Ok(r)
    }

    /// `GET /crm/v3/properties/{type}`.
    pub async fn properties(&self, object: ObjectKind) -> Result<Vec<Property>, HubSpotError> {
        let path = format!("/crm/v3/properties/{}", object.api_name());
        let (_, r) = self
            .send::<(), PropertyList>(Method::GET, &path, &[], None, Bucket::Standard)
            .await?;
        Ok(r.results)
    }

    /// `POST .../batch/upsert`: updates the records whose unique property
    /// (`id_property`, such as `email` for contacts) has each input's `id`,
    /// and creates those no record has; each result says which (`new`).
    /// HubSpot takes no partial upsert by email: one bad input fails all.
    pub async fn batch_upsert(
        &self,
        object: ObjectKind,
        inputs: Vec<UpsertInput>,
    ) -> Result<UpsertOutcome, HubSpotError> {
        let path = Self::path(object, "/batch/upsert");
        check_batch(inputs.iter().map(|i| i.id.as_str())).map_err(|m| invalid(&path, m))?;
        if let Some(n) = inputs.iter().position(|i| i.id_property.trim().is_empty()) {
            return Err(invalid(
                &path,
                format!("inputs[{n}].idProperty is empty: name the unique property to match on"),
            ));
        }
        let body = BatchInputs { inputs };
        let (_, r) = self
            .send(Method::POST, &path, &[], Some(&body), Bucket::Standard)
            .await?;
        Ok(r)
    }

    /// `POST .../batch/archive`: moves the records to the recycle bin.
    /// HubSpot answers 204 whether or not each id existed.
    pub async fn batch_archive(
        &self,
        object: ObjectKind,
        ids: &[String],
    ) -> Result<(), HubSpotError> {
        let path = Self::path(object, "/batch/archive");
        check_batch(ids.iter().map(String::as_str)).map_err(|m| invalid(&path, m))?;
        let body = BatchInputs {
            inputs: ids
                .iter()
                .map(|id| BatchReadInput { id: id.clone() })
                .collect(),
        };
        self.send::<_, serde_json::Value>(Method::POST, &path, &[], Some(&body), Bucket::Standard)
            .await?;
        Ok(())
    }

    /// `POST .../batch/read` asking also for the history of `with_history`
    /// (each value, newest first, with when and who set it).
    pub async fn batch_read_with_history(
        &self,
        object: ObjectKind,
        id_property: Option<&str>,
        ids: &[String],
        properties: &[&str],
        with_history: &[&str],
    ) -> Result<HistoryBatch, HubSpotError> {
        let path = Self::path(object, "/batch/read");
        check_batch(ids.iter().map(String::as_str)).map_err(|m| invalid(&path, m))?;
        let body = BatchReadRequest {
            properties: properties.iter().map(|p| p.to_string()).collect(),
            properties_with_history: with_history.iter().map(|p| p.to_string()).collect(),
            id_property: id_property.map(str::to_string),
            inputs: ids
                .iter()
                .map(|id| BatchReadInput { id: id.clone() })
                .collect(),
        };
        let (_, r) = self
            .send(Method::POST, &path, &[], Some(&body), Bucket::Standard)
            .await?;
        Ok(r)
    }

    /// One page of `GET /crm/v3/objects/{type}` with the history of
    /// `with_history`. HubSpot reads fewer records per page this way: at
    /// most 50.
    pub async fn list_page_with_history(
        &self,
        object: ObjectKind,
        properties: &[&str],
        with_history: &[&str],
        after: Option<&str>,
        limit: u32,
    ) -> Result<HistoryPage, HubSpotError> {
        let query = list_query(limit.clamp(1, 50), properties, with_history, after);
        let (_, page) = self
            .send::<(), HistoryPage>(
                Method::GET,
                &Self::path(object, ""),
                &query,
                None,
                Bucket::Standard,
            )
            .await?;
        Ok(page)
    }
}

fn invalid(path: &str, message: String) -> HubSpotError {
    HubSpotError::Invalid {
        request: format!("POST {path}"),
        message,
    }
}

/// What HubSpot refuses in any batch: none or too many inputs, an empty id,
/// or one id twice. `Err` says which input.
fn check_batch<'a>(ids: impl ExactSizeIterator<Item = &'a str>) -> Result<(), String> {
    let n = ids.len();
    if n == 0 {
        return Err("no inputs".into());
    }
    if n > MAX_BATCH {
        return Err(format!(
            "{n} inputs; HubSpot takes at most {MAX_BATCH} per request"
        ));
    }
    let mut seen = std::collections::HashMap::new();
    for (i, id) in ids.enumerate() {
        if id.trim().is_empty() {
            return Err(format!("inputs[{i}].id is empty"));
        }
        if let Some(first) = seen.insert(id.to_lowercase(), i) {
            return Err(format!(
                "inputs[{i}].id {id:?} repeats inputs[{first}].id; HubSpot refuses duplicate ids"
            ));
        }
    }
    Ok(())
}

mod transport;
