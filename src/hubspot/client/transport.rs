//! Sending one logical request: the rate gate, retries of what is worth
//! retrying (never a create that may have landed), 429 pauses, and errors
//! that say which request failed and why.

use super::*;

impl HubSpotClient {
    /// Sends one logical request, retrying what is worth retrying.
    pub(super) async fn send<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
        bucket: Bucket,
    ) -> Result<(StatusCode, T), HubSpotError> {
        let request = format!("{method} {path}");
        let settle = creates_records(&method, path);
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(self.settings.backoff_min)
            .with_max_delay(self.settings.backoff_max)
            .with_max_times(self.settings.max_attempts.saturating_sub(1) as usize)
            .with_jitter()
            .build();
        let mut attempt = 0u32;
        let mut refreshed_after_401 = false;
        loop {
            attempt += 1;
            let token = match self.tokens.bearer(&self.http).await {
                Ok(t) => t,
                Err(e) => {
                    self.set_health(ConnState::AuthError, None, Some(e.to_string()));
                    return Err(e);
                }
            };
            let slot = self.gate.acquire(bucket).await;
            let url = format!("{}{}", self.settings.base_url, path);
            let mut rb = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(token.expose_secret())
                .query(query);
            if let Some(b) = body {
                rb = rb.json(b);
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            let result = rb.send().await;
            let latency = started.elapsed();
            self.gate.settle(slot);

            let failure = match result {
                Err(e) => {
                    // Refused at connect, it never left; after that, the
                    // request may have reached HubSpot.
                    let sent = !e.is_connect();
                    let err = if sent && settle {
                        HubSpotError::MayHaveLanded {
                            request: request.clone(),
                            message: describe(&e),
                        }
                    } else if e.is_timeout() {
                        HubSpotError::Timeout {
                            request: request.clone(),
                            timeout: self.settings.timeout,
                        }
                    } else {
                        HubSpotError::Transport {
                            request: request.clone(),
                            message: describe(&e),
                        }
                    };
                    self.set_health(ConnState::Down, None, Some(err.to_string()));
                    if err.may_have_landed() {
                        return Err(err);
                    }
                    err
                }
                Ok(resp) => {
                    let status = resp.status();
                    tracing::debug!(%request, status = status.as_u16(), ?latency, attempt, "HubSpot answered");
                    self.gate.observe(resp.headers());
                    let read = match resp.text().await {
                        Ok(text) if status.is_success() => {
                            // 204 answers carry no body; read them as JSON null.
                            let text = if text.trim().is_empty() {
                                "null"
                            } else {
                                text.as_str()
                            };
                            match serde_json::from_str(text) {
                                Ok(v) => {
                                    self.set_health(ConnState::Connected, Some(latency), None);
                                    return Ok((status, v));
                                }
                                Err(e) => Err(e.to_string()),
                            }
                        }
                        Ok(text) => Ok(text),
                        Err(e) => Err(describe(&e)),
                    };
                    match read {
                        // An answer that cannot be read: a success whose
                        // body is cut off or not JSON, or a body that broke
                        // off mid-way.
                        Err(message) => {
                            let err = if settle && status.is_success() {
                                HubSpotError::MayHaveLanded {
                                    request: request.clone(),
                                    message: format!(
                                        "HTTP {} with an unreadable body: {message}",
                                        status.as_u16()
                                    ),
                                }
                            } else if settle && !status.is_success() {
                                // HubSpot refused it; only the reason is lost.
                                HubSpotError::Api {
                                    request: request.clone(),
                                    status: status.as_u16(),
                                    body: ErrorBody {
                                        message: Some(format!("unreadable error body: {message}")),
                                        ..Default::default()
                                    },
                                }
                            } else {
                                HubSpotError::Decode {
                                    request: request.clone(),
                                    message,
                                }
                            };
                            self.set_health(ConnState::Down, Some(latency), Some(err.to_string()));
                            if err.may_have_landed() || !err.is_transient() {
                                return Err(err);
                            }
                            err
                        }
                        Ok(text) => {
                            let body: ErrorBody =
                                serde_json::from_str(&text).unwrap_or_else(|_| ErrorBody {
                                    message: Some(snippet(&text)),
                                    ..Default::default()
                                });
                            let err = HubSpotError::Api {
                                request: request.clone(),
                                status: status.as_u16(),
                                body,
                            };
                            let state = match status.as_u16() {
                                401 | 403 => ConnState::AuthError,
                                429 => ConnState::RateLimited,
                                s if s >= 500 => ConnState::Down,
                                // HubSpot is up; the request itself was refused.
                                _ => ConnState::Connected,
                            };
                            self.set_health(state, Some(latency), Some(err.to_string()));
                            // An OAuth token can expire before we expected (clock
                            // skew, revocation): refresh once and resend the same
                            // request, so the batch in flight is not lost.
                            if status.as_u16() == 401
                                && self.tokens.is_oauth()
                                && !refreshed_after_401
                            {
                                refreshed_after_401 = true;
                                tracing::warn!(%request, "HubSpot refused the access token; refreshing it");
                                self.tokens.invalidate(&token).await;
                                attempt -= 1;
                                continue;
                            }
                            if status.as_u16() == 429 {
                                let pause = self.pause_for_429(&err, bucket);
                                self.gate.block(bucket, pause);
                            }
                            if !err.is_transient() {
                                return Err(err);
                            }
                            err
                        }
                    }
                }
            };

            let Some(delay) = delays.next() else {
                return Err(match failure {
                    HubSpotError::Api {
                        status: 429,
                        ref body,
                        ..
                    } => HubSpotError::RateLimited {
                        request,
                        policy: body.policy_name.clone().unwrap_or_else(|| "unknown".into()),
                        attempts: attempt,
                    },
                    other => other,
                });
            };
            tracing::warn!(%request, attempt, ?delay, error = %failure, "transient HubSpot failure; retrying");
            tokio::time::sleep(delay).await;
        }
    }

    /// How long a 429 holds the bucket: the policy's window (as HubSpot's own
    /// SDK does), since no `Retry-After` is documented for the CRM APIs.
    fn pause_for_429(&self, err: &HubSpotError, bucket: Bucket) -> Duration {
        let policy = match err {
            HubSpotError::Api { body, .. } => body.policy_name.clone().unwrap_or_default(),
            _ => String::new(),
        };
        match (policy.as_str(), bucket) {
            ("SECONDLY", _) | (_, Bucket::Search) => Duration::from_secs(1),
            // The daily budget is not coming back within a sync pass; the
            // engine's job retry takes it from here.
            ("DAILY", _) => Duration::from_secs(60),
            _ => self.gate.interval(),
        }
    }
}

/// Whether a request creates records, so that sending it twice would
/// create them twice: such a request is never resent once it may have
/// reached HubSpot. Reads, updates, upserts, archives and associations
/// come out the same however often they land, so they are retried.
fn creates_records(method: &Method, path: &str) -> bool {
    if *method != Method::POST {
        return false;
    }
    if path.ends_with("/batch/create") {
        return true;
    }
    // `POST /crm/v3/objects/{type}`: one record.
    path.strip_prefix("/crm/v3/objects/")
        .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
}

/// A transport error with its causes, for an operator to read.
fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(cause) = src {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        src = cause.source();
    }
    s
}

/// The start of a non-JSON error body, so the error still says something.
fn snippet(text: &str) -> String {
    let t: String = text.chars().take(200).collect();
    if t.is_empty() {
        "(empty body)".into()
    } else {
        t
    }
}
