//! Rate limits per token: one token bucket per bearer token, checked after the token is
//! authenticated.
//!
//! What it is for: a runaway or compromised client (a retry loop, a scraper with a stolen
//! service token) cannot take the service from everyone else. Each token may make
//! `per_second` requests a second on average and `burst` at once; beyond that it is
//! answered 429 with `Retry-After`, and the other tokens are unaffected.
//!
//! What it must never do: keep state for callers that did not authenticate (buckets exist
//! only for valid tokens, so the table is bounded by the tokens an admin created), or
//! count one token's requests against another's. The arithmetic is pure ([`Bucket::take`]
//! takes the time as an argument); only [`RateLimiter`] reads the clock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many requests one token may make.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Requests allowed at once after a quiet spell (the bucket's size).
    pub burst: f64,
}

impl RateLimit {
    /// `per_second` sustained, with a burst of twice that (at least one request).
    pub fn per_second(per_second: f64) -> RateLimit {
        RateLimit {
            per_second,
            burst: (2.0 * per_second).max(1.0),
        }
    }
}

/// One token's bucket: how many requests it may make now, as of `at` seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Requests available.
    pub available: f64,
    /// When `available` was last brought up to date, in seconds on the limiter's clock.
    pub at: f64,
}

impl Bucket {
    /// A full bucket at time `now`.
    pub fn full(limit: RateLimit, now: f64) -> Bucket {
        Bucket {
            available: limit.burst,
            at: now,
        }
    }

    /// Takes one request at `now` (seconds), refilling for the time since the last one;
    /// refused with the wait until one is available.
    pub fn take(&mut self, limit: RateLimit, now: f64) -> Result<(), Duration> {
        // A clock that went backwards refills nothing (never a negative refill).
        let elapsed = (now - self.at).max(0.0);
        self.available = (self.available + elapsed * limit.per_second).min(limit.burst);
        self.at = self.at.max(now);
        if self.available >= 1.0 {
            self.available -= 1.0;
            return Ok(());
        }
        let wait = if limit.per_second > 0.0 {
            (1.0 - self.available) / limit.per_second
        } else {
            f64::from(u32::MAX)
        };
        Err(Duration::from_secs_f64(
            wait.clamp(0.0, f64::from(u32::MAX)),
        ))
    }
}

/// The buckets of every token that has called, on one clock.
#[derive(Debug)]
pub struct RateLimiter {
    limit: Option<RateLimit>,
    started: Instant,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// A limiter; `None` lets every request through.
    pub fn new(limit: Option<RateLimit>) -> RateLimiter {
        RateLimiter {
            limit,
            started: Instant::now(),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request for the token with public id `token`; refused with the wait.
    pub fn check(&self, token: &str) -> Result<(), Duration> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let now = self.started.elapsed().as_secs_f64();
        let mut buckets = match self.buckets.lock() {
            Ok(buckets) => buckets,
            Err(poisoned) => poisoned.into_inner(),
        };
        match buckets.get_mut(token) {
            Some(bucket) => bucket.take(limit, now),
            None => {
                let mut bucket = Bucket::full(limit, now);
                let taken = bucket.take(limit, now);
                buckets.insert(token.to_string(), bucket);
                taken
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (requests at these times, in seconds) → which are let through, at 2/s with a burst
    /// of 3.
    #[test]
    fn a_bucket_lets_the_burst_through_then_the_rate() {
        let limit = RateLimit {
            per_second: 2.0,
            burst: 3.0,
        };
        let table: &[(&[f64], &[bool])] = &[
            (&[0.0, 0.0, 0.0, 0.0], &[true, true, true, false]),
            // Half a second refills one request.
            (&[0.0, 0.0, 0.0, 0.5, 0.5], &[true, true, true, true, false]),
            // A long quiet spell refills to the burst, never beyond it.
            (
                &[0.0, 100.0, 100.0, 100.0, 100.0],
                &[true, true, true, true, false],
            ),
            // A clock that goes backwards refills nothing.
            (&[5.0, 5.0, 5.0, 1.0], &[true, true, true, false]),
        ];
        for (times, expected) in table {
            let mut bucket = Bucket::full(limit, times[0]);
            let got: Vec<bool> = times
                .iter()
                .map(|t| bucket.take(limit, *t).is_ok())
                .collect();
            assert_eq!(&got, expected, "requests at {times:?}");
        }
    }

    #[test]
    fn a_refusal_says_how_long_to_wait() {
        let limit = RateLimit {
            per_second: 4.0,
            burst: 1.0,
        };
        let mut bucket = Bucket::full(limit, 0.0);
        assert!(bucket.take(limit, 0.0).is_ok());
        let wait = bucket.take(limit, 0.0).expect_err("empty");
        assert!((wait.as_secs_f64() - 0.25).abs() < 1e-9, "{wait:?}");
    }

    #[test]
    fn tokens_do_not_share_a_bucket_and_no_limit_lets_all_through() {
        let limiter = RateLimiter::new(Some(RateLimit {
            per_second: 0.001,
            burst: 2.0,
        }));
        assert!(limiter.check("a").is_ok());
        assert!(limiter.check("a").is_ok());
        assert!(limiter.check("a").is_err());
        assert!(
            limiter.check("b").is_ok(),
            "another token has its own bucket"
        );
        let open = RateLimiter::new(None);
        assert!((0..10_000).all(|_| open.check("a").is_ok()));
    }
}
