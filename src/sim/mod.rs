//! A HubSpot-compatible simulator: an HTTP server on loopback that speaks
//! the subset of HubSpot's CRM v3 API hubsync uses, with HubSpot's shapes,
//! limits and failure modes. Tests, benchmarks and `hubsync demo` run
//! against it because the real HubSpot cannot be reached from here; it is
//! written from HubSpot's documentation, not from hubsync's client, so the
//! two can disagree and tests will say so.
//!
//! Every `/crm/*` request passes `gate`: Bearer authentication, then the
//! rate limits (with HubSpot's `X-HubSpot-RateLimit-*` headers), then the
//! configured latency.

mod associations;
mod data;
mod errors;
mod faults;
mod gate;
mod index;
mod limits;
mod oauth;
mod objects;
mod properties;
mod property_routes;
mod query;
mod schemas;
mod search;
mod seed;
mod single;
mod webhooks;

pub use faults::{Fault, FaultShares};
pub use oauth::OAuthApp;
pub use seed::SeedData;
pub use webhooks::{DeliveryStats, WebhookTarget};

use crate::model::ObjectKind;
use anyhow::Context;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{get, post};
use data::Data;
use errors::ApiError;
use limits::Limiter;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::oneshot;

#[derive(Debug, Clone)]
pub struct SimSettings {
    /// Accepted `Authorization: Bearer` tokens (private-app tokens).
    pub tokens: Vec<String>,
    /// Requests per rolling window, per token (HubSpot Free/Starter: 100).
    pub ten_second_limit: u32,
    /// The rolling window: ten seconds at HubSpot; shorter in tests. The
    /// `X-HubSpot-RateLimit-Interval-Milliseconds` header reports it.
    pub rate_window: Duration,
    /// Requests per day, per token.
    pub daily_limit: u64,
    /// Search requests per second.
    pub search_per_second: u32,
    /// Added to every response.
    pub latency: Duration,
    pub portal_id: u64,
    /// Whether batch writes whose inputs all carry `objectWriteTraceId`
    /// answer a 207 with per-input errors (HubSpot's documented behaviour).
    /// Off, one bad input fails the whole batch with a 400, as many portals
    /// are reported to do: the client must cope with both.
    pub partial_batches: bool,
    /// Keep every request and answer for [`SimState::exchanges`] (contract
    /// tests validate them against HubSpot's specs).
    pub record_exchanges: bool,
    /// Apps that may trade their refresh token for access tokens at
    /// `POST /oauth/v1/token`.
    pub oauth_apps: Vec<OAuthApp>,
    /// How long a minted access token works (HubSpot: 30 minutes).
    pub token_lifetime: Duration,
    /// Shares of requests that fail on purpose.
    pub faults: FaultShares,
    /// Where record changes are delivered as signed webhook batches.
    pub webhook: Option<WebhookTarget>,
    /// Private-app tokens of another app in the portal: accepted like
    /// `tokens`, with a rate limit of their own, and their writes are
    /// reported as that app's ([`OTHER_APP_ID`]), so a subscriber sees
    /// them as someone else's change rather than its own echo.
    pub other_app_tokens: Vec<String>,
}

/// The app id webhook events name for writes made with `other_app_tokens`.
pub const OTHER_APP_ID: u64 = 2_000_001;

/// One request and its answer, bodies as sent.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub request_body: String,
    pub status: u16,
    pub response_body: String,
}

impl Default for SimSettings {
    fn default() -> Self {
        SimSettings {
            tokens: vec!["demo-token".into()],
            ten_second_limit: 100,
            rate_window: Duration::from_secs(10),
            daily_limit: 250_000,
            search_per_second: 5,
            latency: Duration::ZERO,
            portal_id: 62515,
            partial_batches: true,
            record_exchanges: false,
            oauth_apps: vec![],
            token_lifetime: Duration::from_secs(1800),
            faults: FaultShares::default(),
            webhook: None,
            other_app_tokens: vec![],
        }
    }
}

struct Inner {
    data: Mutex<Data>,
    limiter: Mutex<Limiter>,
    settings: SimSettings,
    requests: AtomicU64,
    rate_limited: AtomicU64,
    /// Records returned by searches, to tell a record read twice.
    searched: AtomicU64,
    exchanges: Mutex<Vec<Exchange>>,
    issued: Mutex<std::collections::HashMap<String, oauth::Issued>>,
    injected: Mutex<std::collections::VecDeque<Fault>>,
    targeted: Mutex<faults::Targeted>,
    webhook_stats: DeliveryStats,
    associations: Mutex<associations::Associations>,
}

/// A handle on the simulator's state, for tests and the demo.
#[derive(Clone)]
pub struct SimState(Arc<Inner>);

/// The router's state.
pub(crate) type Portal = SimState;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SimState {
    pub(crate) fn settings(&self) -> &SimSettings {
        &self.0.settings
    }

    pub(crate) fn associations(&self) -> MutexGuard<'_, associations::Associations> {
        lock(&self.0.associations)
    }

    /// The records of `to` associated with this one, with their type ids.
    pub fn associated(
        &self,
        from: ObjectKind,
        id: &str,
        to: ObjectKind,
    ) -> Vec<(String, Vec<u32>)> {
        let Ok(id) = id.parse() else { return vec![] };
        self.associations()
            .of(from, id, to)
            .into_iter()
            .map(|(i, t)| (i.to_string(), t))
            .collect()
    }

    pub(crate) fn data(&self) -> MutexGuard<'_, Data> {
        lock(&self.0.data)
    }

    /// Live (not archived) records of this object.
    pub fn count(&self, object: ObjectKind) -> usize {
        self.data().live(object).count()
    }

    pub fn find_by_email(&self, email: &str) -> Option<(String, BTreeMap<String, String>)> {
        self.data()
            .by_email(email)
            .map(|r| (r.id.to_string(), r.props.clone()))
    }

    /// The id of a live record whose `property` equals `value` (ignoring case).
    pub fn find_in(&self, object: ObjectKind, property: &str, value: &str) -> Option<String> {
        self.data()
            .live(object)
            .find(|r| {
                r.props
                    .get(property)
                    .is_some_and(|v| v.eq_ignore_ascii_case(value))
            })
            .map(|r| r.id.to_string())
    }

    pub fn get(&self, object: ObjectKind, id: &str) -> Option<BTreeMap<String, String>> {
        self.data().get(object, id).map(|r| r.props.clone())
    }

    /// Changes a property as a HubSpot user would in the UI.
    pub fn set_property(&self, object: ObjectKind, id: &str, name: &str, value: &str) {
        let mut d = self.data();
        if let Ok(id) = id.parse() {
            d.attribute(data::ChangeSource::CrmUi);
            d.update(
                object,
                id,
                BTreeMap::from([(name.to_string(), value.to_string())]),
                chrono::Utc::now(),
            );
            d.attribute(data::ChangeSource::Integration);
        }
    }

    /// Every HTTP request received, 429s included.
    pub fn request_count(&self) -> u64 {
        self.0.requests.load(Ordering::Relaxed)
    }

    /// Records returned by searches so far.
    pub fn searched_count(&self) -> u64 {
        self.0.searched.load(Ordering::Relaxed)
    }

    pub fn rate_limited_count(&self) -> u64 {
        self.0.rate_limited.load(Ordering::Relaxed)
    }

    pub(crate) fn issue(&self, token: &str, issued: oauth::Issued) {
        lock(&self.0.issued).insert(token.to_string(), issued);
    }

    /// Ends every access token's life now, as if the clock had run past
    /// them: the next call with one answers 401 EXPIRED_AUTHENTICATION.
    pub fn expire_access_tokens(&self) {
        let past = chrono::Utc::now() - chrono::Duration::seconds(1);
        for t in lock(&self.0.issued).values_mut() {
            t.expires_at = past;
        }
    }

    /// The next requests (after authentication and rate limits) fail with
    /// these faults, in order.
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.0.injected).extend(faults);
    }

    /// The next requests to `endpoint` (the end of a path, such as
    /// `companies/batch/create`) fail with these faults, in order, before
    /// any fault queued by [`SimState::inject`].
    pub fn inject_on(&self, endpoint: &str, faults: impl IntoIterator<Item = Fault>) {
        let mut t = lock(&self.0.targeted);
        for f in faults {
            t.push(endpoint, f);
        }
    }

    /// Webhook delivery counts.
    pub fn webhook_stats(&self) -> &DeliveryStats {
        &self.0.webhook_stats
    }

    /// How many access tokens the OAuth endpoint has minted.
    pub fn tokens_issued(&self) -> usize {
        lock(&self.0.issued).len()
    }

    fn bearer(&self, token: &str) -> oauth::Bearer {
        let s = &self.0.settings;
        if s.tokens
            .iter()
            .chain(&s.other_app_tokens)
            .any(|t| t == token)
        {
            return oauth::Bearer::Valid {
                limit_key: format!("pat:{token}"),
                oauth: false,
            };
        }
        match lock(&self.0.issued).get(token) {
            None => oauth::Bearer::Unknown,
            Some(i) => {
                let left = i.expires_at - chrono::Utc::now();
                if left <= chrono::Duration::zero() {
                    oauth::Bearer::Expired {
                        seconds_ago: -left.num_seconds(),
                    }
                } else {
                    oauth::Bearer::Valid {
                        limit_key: format!("oauth:{}", i.client_id),
                        oauth: true,
                    }
                }
            }
        }
    }

    /// Every request and answer so far, if `record_exchanges` is on.
    pub fn exchanges(&self) -> Vec<Exchange> {
        lock(&self.0.exchanges).clone()
    }
}

pub struct SimServer {
    addr: SocketAddr,
    state: SimState,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    /// The webhook deliverer, when a target is set.
    webhooks: Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>,
}

/// Maps the `{objectType}` path segment, names or type ids, to an object.
pub(crate) fn object_kind(s: &str) -> Result<ObjectKind, ApiError> {
    match s {
        "contacts" | "contact" | "0-1" => Ok(ObjectKind::Contacts),
        "companies" | "company" | "0-2" => Ok(ObjectKind::Companies),
        "deals" | "deal" | "0-3" => Ok(ObjectKind::Deals),
        other => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            format!("Unable to infer object type from: {other}"),
        )),
    }
}

/// Parses a JSON body, answering bad JSON with a HubSpot-shaped 400 that
/// says where it went wrong.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::validation(format!(
            "Invalid input JSON on line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
    })
}

async fn not_found(req: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
        format!("No route for {} {}", req.method(), req.uri().path()),
    )
}

impl SimServer {
    /// The simulator's routes and state without a listener, for callers
    /// that drive the router in-process (the fuzz tests).
    pub fn router(settings: SimSettings, seed: SeedData) -> anyhow::Result<(Router, SimState)> {
        let data = seed.into_data()?;
        let state = SimState(Arc::new(Inner {
            data: Mutex::new(data),
            limiter: Mutex::new(Limiter::new(
                settings.ten_second_limit,
                settings.rate_window,
                settings.daily_limit,
                settings.search_per_second,
            )),
            settings,
            requests: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            searched: AtomicU64::new(0),
            exchanges: Mutex::new(Vec::new()),
            issued: Mutex::new(std::collections::HashMap::new()),
            injected: Mutex::new(std::collections::VecDeque::new()),
            targeted: Mutex::new(faults::Targeted::default()),
            webhook_stats: DeliveryStats::default(),
            associations: Mutex::new(associations::Associations::default()),
        }));
        let crm = Router::new()
            .route(
                "/crm/v3/objects/{object}",
                get(objects::list).post(single::create),
            )
            .route(
                "/crm/v3/objects/{object}/{id}",
                get(objects::get_one)
                    .patch(single::update)
                    .delete(single::archive),
            )
            .route("/crm/v3/objects/{object}/merge", post(single::merge))
            .route(
                "/crm/v3/objects/{object}/batch/upsert",
                post(objects::batch_upsert),
            )
            .route(
                "/crm/v3/objects/{object}/batch/archive",
                post(objects::batch_archive),
            )
            .route(
                "/crm/v3/objects/{object}/batch/read",
                post(objects::batch_read),
            )
            .route(
                "/crm/v3/objects/{object}/batch/create",
                post(objects::batch_create),
            )
            .route(
                "/crm/v3/objects/{object}/batch/update",
                post(objects::batch_update),
            )
            .route("/crm/v3/objects/{object}/search", post(search::search))
            .route(
                "/crm/v4/objects/{from}/{id}/associations/default/{to}/{to_id}",
                axum::routing::put(associations::put_default),
            )
            .route(
                "/crm/v4/objects/{from}/{id}/associations/{to}/{to_id}",
                axum::routing::put(associations::put_labelled).delete(associations::remove),
            )
            .route(
                "/crm/v4/objects/{from}/{id}/associations/{to}",
                get(associations::list),
            )
            .route(
                "/crm/v4/associations/{from}/{to}/batch/read",
                post(associations::batch_read),
            )
            .route(
                "/crm/v4/associations/{from}/{to}/batch/associate/default",
                post(associations::batch_default),
            )
            .route("/crm/v3/properties/{object}", get(property_routes::list))
            .route(
                "/properties/v2/{object}/properties",
                get(schemas::properties_v2),
            )
            .route("/crm/v3/schemas", get(schemas::list))
            .route("/crm-object-schemas/v3/schemas", get(schemas::list))
            .route(
                "/crm/v3/properties/{object}/{name}",
                get(property_routes::get).delete(property_routes::archive),
            )
            .fallback(not_found)
            .layer(middleware::from_fn_with_state(state.clone(), gate::gate));
        // The token endpoint authenticates by form fields, not a bearer token.
        let crm = Router::new()
            .route("/oauth/v1/token", post(oauth::token))
            .merge(crm)
            .layer(middleware::from_fn(gate::hubspot_shaped))
            .layer(middleware::from_fn_with_state(state.clone(), gate::record))
            .layer(DefaultBodyLimit::max(10 * 1024 * 1024))
            .with_state(state.clone());
        Ok((crm, state))
    }

    /// Binds 127.0.0.1:`port` (0 picks a free port) and serves in a task.
    pub async fn start(
        port: u16,
        settings: SimSettings,
        seed: SeedData,
    ) -> anyhow::Result<SimServer> {
        let (crm, state) = Self::router(settings, seed)?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .with_context(|| format!("binding the simulator to 127.0.0.1:{port}"))?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve =
                axum::serve(listener, crm.into_make_service()).with_graceful_shutdown(async {
                    let _ = stopped.await;
                });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "simulator stopped");
            }
        });
        // Seed records are history, not news: collect changes from here on.
        let webhooks = state.settings().webhook.clone().map(|target| {
            state.data().collect_changes();
            let (tx, rx) = oneshot::channel();
            (tx, tokio::spawn(webhooks::run(state.clone(), target, rx)))
        });
        Ok(SimServer {
            addr,
            state,
            stop: Some(stop),
            task,
            webhooks,
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn state(&self) -> &SimState {
        &self.state
    }

    pub async fn shutdown(mut self) {
        if let Some((stop, task)) = self.webhooks.take() {
            let _ = stop.send(());
            let _ = task.await;
        }
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.task).await;
    }
}
