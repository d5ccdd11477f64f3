//! HubSpot's rate limits, per token: a rolling ten-second window and a daily
//! budget for most endpoints, and a separate per-second limit for search.
//! "Rolling" is literal here: a request counts for exactly ten seconds after
//! it was accepted, and `Remaining` says how many more would be accepted now.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
struct TokenUse {
    ten_second: VecDeque<Instant>,
    search: VecDeque<Instant>,
    day: u64,
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted; `remaining` more fit in the window, `daily_remaining` today.
    Allowed {
        remaining: u64,
        daily_remaining: u64,
    },
    TenSecondly,
    Daily,
    Secondly,
}

#[derive(Debug)]
pub struct Limiter {
    pub ten_second_limit: u32,
    pub daily_limit: u64,
    pub search_per_second: u32,
    /// HubSpot's burst window is ten seconds; tests shorten it.
    pub window: Duration,
    tokens: HashMap<String, TokenUse>,
}

fn prune(q: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
        q.pop_front();
    }
}

impl Limiter {
    pub fn new(
        ten_second_limit: u32,
        window: Duration,
        daily_limit: u64,
        search_per_second: u32,
    ) -> Self {
        Limiter {
            ten_second_limit,
            daily_limit,
            search_per_second,
            window,
            tokens: HashMap::new(),
        }
    }

    pub fn check(&mut self, token: &str, search: bool, now: Instant) -> Verdict {
        let u = self.tokens.entry(token.to_string()).or_default();
        if search {
            prune(&mut u.search, now, Duration::from_secs(1));
            if u.search.len() as u32 >= self.search_per_second {
                return Verdict::Secondly;
            }
            u.search.push_back(now);
            return Verdict::Allowed {
                remaining: 0,
                daily_remaining: self.daily_limit.saturating_sub(u.day),
            };
        }
        if u.day >= self.daily_limit {
            return Verdict::Daily;
        }
        prune(&mut u.ten_second, now, self.window);
        if u.ten_second.len() as u32 >= self.ten_second_limit {
            return Verdict::TenSecondly;
        }
        u.ten_second.push_back(now);
        u.day += 1;
        Verdict::Allowed {
            remaining: (self.ten_second_limit as u64).saturating_sub(u.ten_second.len() as u64),
            daily_remaining: self.daily_limit.saturating_sub(u.day),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_rolls_ten_seconds_after_each_request() {
        let mut l = Limiter::new(2, Duration::from_secs(10), 100, 5);
        let t0 = Instant::now();
        assert!(matches!(
            l.check("t", false, t0),
            Verdict::Allowed { remaining: 1, .. }
        ));
        assert!(matches!(
            l.check("t", false, t0),
            Verdict::Allowed { remaining: 0, .. }
        ));
        assert_eq!(
            l.check("t", false, t0 + Duration::from_secs(9)),
            Verdict::TenSecondly
        );
        assert!(matches!(
            l.check("t", false, t0 + Duration::from_secs(10)),
            Verdict::Allowed { .. }
        ));
    }

    #[test]
    fn search_has_its_own_per_second_limit() {
        let mut l = Limiter::new(100, Duration::from_secs(10), 100, 1);
        let t0 = Instant::now();
        assert!(matches!(l.check("t", true, t0), Verdict::Allowed { .. }));
        assert_eq!(l.check("t", true, t0), Verdict::Secondly);
        assert!(matches!(
            l.check("t", false, t0),
            Verdict::Allowed { remaining: 99, .. }
        ));
    }

    #[test]
    fn the_daily_budget_runs_out() {
        let mut l = Limiter::new(100, Duration::from_secs(10), 1, 5);
        let t0 = Instant::now();
        assert!(matches!(
            l.check("t", false, t0),
            Verdict::Allowed {
                daily_remaining: 0,
                ..
            }
        ));
        assert_eq!(l.check("t", false, t0), Verdict::Daily);
    }
}
