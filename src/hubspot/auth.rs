//! Credentials for HubSpot and the access token they yield.
//!
//! A private-app token is used as it is. OAuth trades a refresh token for
//! access tokens that live about 30 minutes: the token is refreshed shortly
//! before it expires, and again if HubSpot says it expired anyway (clock
//! skew, revocation), so a sync never fails for a token's age. Only one
//! refresh runs at a time; callers waiting on it share its result.

use super::error::HubSpotError;
use super::wire::ErrorBody;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

#[derive(Debug, Clone)]
pub struct OAuthCredentials {
    pub client_id: String,
    pub client_secret: SecretString,
    pub refresh_token: SecretString,
    /// `https://api.hubapi.com/oauth/v1/token`, or the simulator's.
    pub token_url: String,
}

#[derive(Debug, Clone)]
pub enum Credentials {
    PrivateApp(SecretString),
    OAuth(OAuthCredentials),
}

#[derive(Debug)]
struct Cached {
    access: SecretString,
    /// When to stop using it: a little before HubSpot's expiry.
    renew_at: Instant,
}

#[derive(Debug)]
pub struct TokenSource {
    credentials: Credentials,
    cached: Mutex<Option<Cached>>,
    /// Refreshes performed, for the console and tests.
    refreshes: std::sync::atomic::AtomicU64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
    refresh_token: Option<String>,
}

impl TokenSource {
    pub fn new(credentials: Credentials) -> Self {
        TokenSource {
            credentials,
            cached: Mutex::new(None),
            refreshes: Default::default(),
        }
    }

    pub fn is_oauth(&self) -> bool {
        matches!(self.credentials, Credentials::OAuth(_))
    }

    pub fn refresh_count(&self) -> u64 {
        self.refreshes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The bearer token to send now, refreshing an OAuth token that is due.
    pub async fn bearer(&self, http: &reqwest::Client) -> Result<SecretString, HubSpotError> {
        let oauth = match &self.credentials {
            Credentials::PrivateApp(t) => return Ok(t.clone()),
            Credentials::OAuth(o) => o,
        };
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && Instant::now() < c.renew_at
        {
            return Ok(c.access.clone());
        }
        let fresh = self.refresh(http, oauth).await?;
        let access = fresh.access.clone();
        *cached = Some(fresh);
        Ok(access)
    }

    /// Forgets the access token HubSpot refused, so the next call refreshes.
    /// `refused` guards against discarding a token another caller already
    /// replaced.
    pub async fn invalidate(&self, refused: &SecretString) {
        let mut cached = self.cached.lock().await;
        if cached
            .as_ref()
            .is_some_and(|c| c.access.expose_secret() == refused.expose_secret())
        {
            *cached = None;
        }
    }

    async fn refresh(
        &self,
        http: &reqwest::Client,
        o: &OAuthCredentials,
    ) -> Result<Cached, HubSpotError> {
        let request = "POST /oauth/v1/token".to_string();
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", o.client_id.as_str()),
            ("client_secret", o.client_secret.expose_secret()),
            ("refresh_token", o.refresh_token.expose_secret()),
        ];
        let resp = http
            .post(&o.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| HubSpotError::Transport {
                request: request.clone(),
                message: e.to_string(),
            })?;
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        if !(200..300).contains(&status) {
            let mut body: ErrorBody = serde_json::from_str(&text).unwrap_or_default();
            // OAuth errors name the reason in `status` (BAD_REFRESH_TOKEN,
            // BAD_CLIENT_ID…), which says more than a generic category.
            if let Some(reason) = body.status.clone().filter(|s| s != "error") {
                body.category = Some(reason);
            }
            // The token endpoint answers 400 for bad credentials; to the
            // rest of hubsync that is an authentication failure.
            let status = if status == 400 { 401 } else { status };
            return Err(HubSpotError::Api {
                request,
                status,
                body,
            });
        }
        let t: TokenResponse = serde_json::from_str(&text).map_err(|e| HubSpotError::Decode {
            request: request.clone(),
            message: e.to_string(),
        })?;
        if let Some(r) = t.refresh_token
            && r != o.refresh_token.expose_secret()
        {
            // HubSpot has not been seen to rotate refresh tokens; if it
            // does, the stored one must be updated where it is configured.
            tracing::warn!("HubSpot returned a new refresh token; the configured one is kept");
        }
        self.refreshes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let life = Duration::from_secs(t.expires_in);
        // Renew a minute early, or a quarter of the life for short-lived tokens.
        let margin = Duration::from_secs(60).min(life / 4);
        tracing::info!(expires_in = t.expires_in, "OAuth access token refreshed");
        Ok(Cached {
            access: SecretString::from(t.access_token),
            renew_at: Instant::now() + life - margin,
        })
    }
}
