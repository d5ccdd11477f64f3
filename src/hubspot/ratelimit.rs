//! Keeps the client inside HubSpot's rate limits so that steady-state syncing
//! never sees a 429.
//!
//! HubSpot limits requests per rolling 10-second window (per app) and, for
//! search, per second; it reports the window's size and what is left in the
//! `X-HubSpot-RateLimit-*` headers. The gate mirrors that window locally from
//! our own send times, learns the real ceiling from the headers, and trusts
//! the server when it says less is left than we think (another process may
//! share the token). Search responses carry no headers, so its per-second
//! limit is a setting.

use crate::status::RateBudget;
use reqwest::header::HeaderMap;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
// tokio's clock, so tests can run the window on paused time.
use tokio::time::Instant;

/// Which of HubSpot's separate limits a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Everything but search: the ten-second rolling window.
    Standard,
    /// CRM search: its own per-second limit.
    Search,
}

/// One booked request, for [`RateGate::settle`].
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    bucket: Bucket,
    booked: Instant,
}

#[derive(Debug)]
struct Window {
    max: u32,
    interval: Duration,
    sent: VecDeque<Instant>,
    /// After a 429, nothing goes out before this instant.
    blocked_until: Option<Instant>,
}

impl Window {
    fn new(max: u32, interval: Duration) -> Self {
        Window {
            max: max.max(1),
            interval,
            sent: VecDeque::new(),
            blocked_until: None,
        }
    }

    fn prune(&mut self, now: Instant) {
        // Settled entries can be out of order; drop every expired one.
        let interval = self.interval;
        self.sent.retain(|t| now.duration_since(*t) < interval);
    }

    /// How long to wait before one more request fits, or zero.
    fn wait(&mut self, now: Instant) -> Duration {
        self.prune(now);
        let mut wait = Duration::ZERO;
        if let Some(until) = self.blocked_until {
            wait = until.saturating_duration_since(now);
        }
        if self.sent.len() as u32 >= self.max
            && let Some(&oldest) = self.sent.iter().min()
        {
            wait = wait.max((oldest + self.interval).saturating_duration_since(now));
        }
        wait
    }
}

#[derive(Debug)]
struct GateState {
    standard: Window,
    search: Window,
    daily_max: Option<u64>,
    daily_remaining: Option<u64>,
    /// Whether any response has told us the real ceiling yet.
    learned: bool,
}

/// Shared by every request of one client.
#[derive(Debug)]
pub struct RateGate {
    state: Mutex<GateState>,
}

impl RateGate {
    /// `ten_second_limit` is the ceiling assumed until HubSpot's headers say
    /// otherwise; `search_per_second` is search's own limit.
    pub fn new(ten_second_limit: u32, search_per_second: u32) -> Self {
        RateGate {
            state: Mutex::new(GateState {
                standard: Window::new(ten_second_limit, Duration::from_secs(10)),
                search: Window::new(search_per_second, Duration::from_secs(1)),
                daily_max: None,
                daily_remaining: None,
                learned: false,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        // A panic while holding this lock cannot leave the window inconsistent
        // in a way that matters more than losing rate-limit bookkeeping.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until one more request in `bucket` fits, then books it. Pass
    /// the returned slot to [`RateGate::settle`] when the answer arrives.
    pub async fn acquire(&self, bucket: Bucket) -> Slot {
        loop {
            let wait = {
                let mut st = self.lock();
                let now = Instant::now();
                let w = match bucket {
                    Bucket::Standard => &mut st.standard,
                    Bucket::Search => &mut st.search,
                };
                let wait = w.wait(now);
                if wait.is_zero() {
                    w.sent.push_back(now);
                    return Slot {
                        bucket,
                        booked: now,
                    };
                }
                wait
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Re-dates a booked request to when its answer arrived. HubSpot counted
    /// it somewhere between sending and answering; counting it from the
    /// answer means our window never frees a slot before HubSpot's does.
    pub fn settle(&self, slot: Slot) {
        let mut st = self.lock();
        let w = match slot.bucket {
            Bucket::Standard => &mut st.standard,
            Bucket::Search => &mut st.search,
        };
        if let Some(t) = w.sent.iter_mut().find(|t| **t == slot.booked) {
            *t = Instant::now();
        }
    }

    /// Learns from HubSpot's `X-HubSpot-RateLimit-*` headers.
    pub fn observe(&self, headers: &HeaderMap) {
        let num = |name: &str| -> Option<u64> {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok())
        };
        let mut st = self.lock();
        if let Some(max) = num("x-hubspot-ratelimit-max") {
            st.standard.max = (max as u32).max(1);
            st.learned = true;
        }
        if let Some(ms) = num("x-hubspot-ratelimit-interval-milliseconds")
            && ms > 0
        {
            st.standard.interval = Duration::from_millis(ms);
        }
        if let Some(remaining) = num("x-hubspot-ratelimit-remaining") {
            // If HubSpot counts more requests in the window than we sent,
            // someone else shares the token: book phantom sends so our window
            // agrees with the server's.
            let now = Instant::now();
            st.standard.prune(now);
            let server_used = (st.standard.max as u64).saturating_sub(remaining);
            while (st.standard.sent.len() as u64) < server_used {
                st.standard.sent.push_back(now);
            }
        }
        if let Some(d) = num("x-hubspot-ratelimit-daily") {
            st.daily_max = Some(d);
        }
        if let Some(d) = num("x-hubspot-ratelimit-daily-remaining") {
            st.daily_remaining = Some(d);
        }
    }

    /// After a 429: hold the bucket the policy names for `pause`.
    pub fn block(&self, bucket: Bucket, pause: Duration) {
        let mut st = self.lock();
        let until = Instant::now() + pause;
        let w = match bucket {
            Bucket::Standard => &mut st.standard,
            Bucket::Search => &mut st.search,
        };
        w.blocked_until = Some(w.blocked_until.map_or(until, |u| u.max(until)));
    }

    /// The ten-second window's interval, for waiting out a 429.
    pub fn interval(&self) -> Duration {
        self.lock().standard.interval
    }

    /// What is left of the ten-second budget now, as the console shows it.
    pub fn budget(&self) -> Option<RateBudget> {
        let mut st = self.lock();
        if !st.learned {
            return None;
        }
        let now = Instant::now();
        st.standard.prune(now);
        let max = st.standard.max as u64;
        Some(RateBudget {
            remaining: max.saturating_sub(st.standard.sent.len() as u64),
            max,
            interval_ms: st.standard.interval.as_millis() as u64,
            daily_remaining: st.daily_remaining,
            daily_max: st.daily_max,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[tokio::test(start_paused = true)]
    async fn the_request_past_the_ceiling_waits_for_the_window_to_roll() {
        let gate = RateGate::new(3, 5);
        let start = tokio::time::Instant::now();
        for _ in 0..3 {
            gate.acquire(Bucket::Standard).await;
        }
        assert!(start.elapsed() < Duration::from_millis(1));
        gate.acquire(Bucket::Standard).await;
        assert!(start.elapsed() >= Duration::from_secs(10));
    }

    #[test]
    fn headers_set_the_ceiling_and_a_lower_server_count_is_trusted() {
        let gate = RateGate::new(100, 5);
        let mut h = HeaderMap::new();
        h.insert("x-hubspot-ratelimit-max", HeaderValue::from_static("190"));
        h.insert(
            "x-hubspot-ratelimit-remaining",
            HeaderValue::from_static("150"),
        );
        h.insert(
            "x-hubspot-ratelimit-interval-milliseconds",
            HeaderValue::from_static("10000"),
        );
        gate.observe(&h);
        let b = gate.budget().expect("learned from headers");
        assert_eq!((b.max, b.remaining), (190, 150));
    }

    #[test]
    fn no_budget_is_reported_before_hubspot_has_answered() {
        assert!(RateGate::new(100, 5).budget().is_none());
    }
}
