//! A token bucket per key (GCRA from `governor`): `rate` requests per second refill a bucket of
//! `burst`; its state becomes the `RateLimit-Policy` / `RateLimit` headers and `Retry-After`.

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota as GovernorQuota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

type Limiter = RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>;

/// Rate (requests per second) and burst of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub rate: NonZeroU32,
    pub burst: NonZeroU32,
}

/// What the bucket said about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Admitted; `remaining` requests could follow at once.
    Allowed { remaining: u32 },
    /// Refused; a request is admitted again after `retry_after`.
    Throttled { retry_after: Duration },
}

/// One key's bucket.
pub struct Bucket {
    limits: Limits,
    limiter: Limiter,
    clock: DefaultClock,
}

impl Bucket {
    pub fn new(limits: Limits) -> Self {
        let clock = DefaultClock::default();
        let quota = GovernorQuota::per_second(limits.rate).allow_burst(limits.burst);
        Self {
            limiter: RateLimiter::direct_with_clock(quota, clock.clone())
                .with_middleware::<StateInformationMiddleware>(),
            limits,
            clock,
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub fn check(&self) -> Decision {
        match self.limiter.check() {
            Ok(state) => Decision::Allowed {
                remaining: state.remaining_burst_capacity(),
            },
            Err(not_until) => Decision::Throttled {
                retry_after: not_until.wait_time_from(self.clock.now()),
            },
        }
    }
}

/// Whole seconds, rounded up (a client told 0 would retry at once).
fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl Limits {
    /// Seconds an empty bucket takes to fill: the window of the policy.
    pub fn window_secs(&self) -> u64 {
        ceil_secs(Duration::from_secs_f64(
            f64::from(self.burst.get()) / f64::from(self.rate.get()),
        ))
        .max(1)
    }

    /// `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers): `burst` requests per window.
    pub fn policy_header(&self) -> String {
        format!("\"burst\";q={};w={}", self.burst, self.window_secs())
    }

    /// `RateLimit`: what is left now and seconds until the bucket is full again.
    pub fn state_header(&self, decision: Decision) -> String {
        let (remaining, reset) = match decision {
            Decision::Allowed { remaining } => {
                let missing = self.burst.get().saturating_sub(remaining);
                let refill = f64::from(missing) / f64::from(self.rate.get());
                (remaining, ceil_secs(Duration::from_secs_f64(refill)))
            }
            Decision::Throttled { retry_after } => (0, ceil_secs(retry_after)),
        };
        format!("\"burst\";r={remaining};t={reset}")
    }
}

/// `Retry-After` in whole seconds, at least 1.
pub fn retry_after_secs(retry_after: Duration) -> u64 {
    ceil_secs(retry_after).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(rate: u32, burst: u32) -> Limits {
        Limits {
            rate: NonZeroU32::new(rate).unwrap(),
            burst: NonZeroU32::new(burst).unwrap(),
        }
    }

    #[test]
    fn a_bucket_admits_its_burst_then_throttles_with_a_wait() {
        let bucket = Bucket::new(limits(1, 3));
        assert_eq!(bucket.check(), Decision::Allowed { remaining: 2 });
        assert_eq!(bucket.check(), Decision::Allowed { remaining: 1 });
        assert_eq!(bucket.check(), Decision::Allowed { remaining: 0 });
        match bucket.check() {
            Decision::Throttled { retry_after } => {
                assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(1));
                assert_eq!(retry_after_secs(retry_after), 1);
            }
            other => panic!("expected throttling, got {other:?}"),
        }
    }

    #[test]
    fn headers_state_the_policy_and_what_is_left() {
        let l = limits(10, 50);
        assert_eq!(l.policy_header(), "\"burst\";q=50;w=5");
        assert_eq!(
            l.state_header(Decision::Allowed { remaining: 40 }),
            "\"burst\";r=40;t=1"
        );
        assert_eq!(
            l.state_header(Decision::Throttled {
                retry_after: Duration::from_millis(100)
            }),
            "\"burst\";r=0;t=1"
        );
        assert_eq!(limits(100, 1).window_secs(), 1);
    }
}
