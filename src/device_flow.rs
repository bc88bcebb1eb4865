//! The RFC 8628 polling loop, apart from HTTP and the real clock so its timing rules can
//! be tested directly: wait `interval` before every poll (never less), `slow_down` (and
//! HTTP 429) adds 5 s for every later poll, a 429's `Retry-After` is waited out before
//! the next one, connection failures and 5xx back off, and the whole thing stops at
//! `expires_in` whatever the server keeps saying.

use std::time::{Duration, Instant};

use crate::api::{self, Poll, TokenResponse};
use crate::error::Result;
use crate::ui::debug;

/// Interval when the server names none (RFC 8628 §3.2).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// What `slow_down` adds to the interval (RFC 8628 §3.5).
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// Ceiling of the extra wait after failed polls.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Time as the loop sees it.
pub trait Clock {
    /// The current instant.
    fn now(&self) -> Instant;
    /// Waits for `d`.
    fn sleep(&mut self, d: Duration);
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn sleep(&mut self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// Polls with `poll` until it yields tokens, fails, or `expires_in` runs out.
pub fn wait_for_token(
    interval: Duration,
    expires_in: Duration,
    clock: &mut impl Clock,
    mut poll: impl FnMut() -> Result<Poll>,
) -> Result<TokenResponse> {
    let deadline = clock.now() + expires_in;
    let mut interval = interval.max(Duration::from_secs(1));
    let mut backoff = Duration::ZERO;
    // A `Retry-After` to honour before the next poll only.
    let mut at_least = Duration::ZERO;
    loop {
        let wait = (interval + backoff).max(std::mem::take(&mut at_least));
        if clock.now() + wait > deadline {
            return Err(api::expired());
        }
        clock.sleep(wait);
        match poll()? {
            Poll::Token(token) => return Ok(token),
            Poll::Pending => backoff = Duration::ZERO,
            Poll::SlowDown { retry_after } => {
                interval += SLOW_DOWN_STEP;
                at_least = retry_after.unwrap_or(Duration::ZERO);
                debug!(
                    "server asked to slow down; polling every {}s",
                    interval.as_secs_f64()
                );
            }
            Poll::Retry(e) => {
                backoff = (backoff * 2).max(interval).min(MAX_BACKOFF);
                debug!(
                    "poll failed ({e}); retrying in {}s",
                    (interval + backoff).as_secs()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    /// A clock that only moves when slept on, recording each sleep.
    struct FakeClock {
        now: Instant,
        sleeps: Vec<u64>,
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            self.now
        }
        fn sleep(&mut self, d: Duration) {
            self.now += d;
            self.sleeps.push(d.as_secs());
        }
    }

    fn token() -> Poll {
        Poll::Token(TokenResponse {
            access_token: crate::secret::Secret::new("a"),
            refresh_token: None,
            expires_in: None,
            token_type: "Bearer".into(),
        })
    }

    fn run(
        interval: u64,
        expires: u64,
        script: Vec<Poll>,
    ) -> (Result<TokenResponse>, Vec<u64>, usize) {
        let mut clock = FakeClock {
            now: Instant::now(),
            sleeps: vec![],
        };
        let mut script = script.into_iter();
        let mut polls = 0;
        let r = wait_for_token(
            Duration::from_secs(interval),
            Duration::from_secs(expires),
            &mut clock,
            || {
                polls += 1;
                Ok(script.next().unwrap_or(Poll::Pending))
            },
        );
        (r, clock.sleeps, polls)
    }

    #[test]
    fn waits_interval_before_every_poll_and_stops_at_success() {
        let (r, sleeps, polls) = run(
            2,
            100,
            vec![Poll::Pending, Poll::Pending, token(), Poll::Pending],
        );
        assert!(r.is_ok());
        assert_eq!(sleeps, [2, 2, 2]);
        assert_eq!(polls, 3);
    }

    #[test]
    fn slow_down_raises_interval_for_all_later_polls() {
        let (_, sleeps, _) = run(
            1,
            100,
            vec![
                Poll::Pending,
                Poll::SlowDown { retry_after: None },
                Poll::Pending,
                Poll::SlowDown { retry_after: None },
                token(),
            ],
        );
        assert_eq!(sleeps, [1, 1, 6, 6, 11]);
    }

    #[test]
    fn too_many_requests_slows_down_and_waits_out_retry_after() {
        let busy = |s| Poll::SlowDown {
            retry_after: Some(Duration::from_secs(s)),
        };
        let (r, sleeps, _) = run(
            1,
            100,
            vec![busy(30), Poll::Pending, busy(2), Poll::Pending, token()],
        );
        assert!(r.is_ok());
        // Retry-After once, then the raised interval; a short Retry-After never shortens it.
        assert_eq!(sleeps, [1, 30, 6, 11, 11]);
    }

    #[test]
    fn a_retry_after_past_the_deadline_expires() {
        let busy = Poll::SlowDown {
            retry_after: Some(Duration::from_secs(500)),
        };
        let (r, sleeps, polls) = run(1, 100, vec![busy]);
        assert!(matches!(r, Err(Error::Auth(_))));
        assert_eq!((sleeps, polls), (vec![1], 1));
    }

    #[test]
    fn failures_back_off_and_recover() {
        let fail = || Poll::Retry(Error::failure("down"));
        let (r, sleeps, _) = run(1, 100, vec![fail(), fail(), fail(), Poll::Pending, token()]);
        assert!(r.is_ok());
        assert_eq!(sleeps, [1, 2, 3, 5, 1]);
    }

    #[test]
    fn gives_up_at_expires_in() {
        let (r, sleeps, polls) = run(5, 17, vec![]);
        assert!(matches!(r, Err(Error::Auth(_))));
        assert_eq!(sleeps, [5, 5, 5]);
        assert_eq!(polls, 3);
    }

    #[test]
    fn default_interval_floor_is_one_second() {
        let (_, sleeps, _) = run(0, 100, vec![token()]);
        assert_eq!(sleeps, [1]);
    }
}
