//! When to connect again after a connection is lost: exponential backoff
//! with jitter, a maximum delay, and a reset once a connection has stayed
//! up long enough. Sans-IO like every machine: it reads no clock (the
//! runtime hands it `now`), takes its randomness from the caller, and its
//! deadline joins the machine's `poll_timeout`.
//!
//! ```
//! # #[cfg(feature = "testing")] {
//! use core::time::Duration;
//! use iot_sansio::backoff::{Backoff, BackoffConfig};
//!
//! let config = BackoffConfig {
//!     initial: Duration::from_secs(1),
//!     max: Duration::from_secs(60),
//!     jitter: 0, // no randomness, for the example
//!     stable_after: Duration::from_secs(120),
//! };
//! let mut backoff = Backoff::new(config);
//! // The machine's randomness, from the runtime (a seeded one here).
//! let mut rng = iot_sansio::testing::rng(7);
//! let t0 = Duration::ZERO;
//! // Lost: try again after 1 s, then 2 s, 4 s, ... up to 60 s.
//! assert_eq!(backoff.lost(t0, &mut rng), t0 + Duration::from_secs(1));
//! assert_eq!(backoff.poll_timeout(), Some(t0 + Duration::from_secs(1)));
//! assert!(!backoff.due(t0));
//! assert!(backoff.due(t0 + Duration::from_secs(1)));
//! assert_eq!(backoff.lost(t0, &mut rng), t0 + Duration::from_secs(2));
//! // A connection that stays up past `stable_after` starts over.
//! backoff.connected(t0);
//! let later = t0 + Duration::from_secs(300);
//! assert_eq!(backoff.lost(later, &mut rng), later + Duration::from_secs(1));
//! # }
//! ```

use core::time::Duration;

use rand_core::RngCore;

use crate::Instant;

/// How a [`Backoff`] spaces its attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffConfig {
    /// The delay after the first loss (default 1 s).
    pub initial: Duration,
    /// The longest delay (default 5 minutes); each loss doubles the delay
    /// up to it.
    pub max: Duration,
    /// How much of each delay is random, in percent (default 50): a delay
    /// `d` becomes one drawn evenly from `d * (1 - jitter/100)` to `d`, so
    /// that devices that lost their server together do not all come back
    /// at once. Above 100 counts as 100.
    pub jitter: u8,
    /// How long a connection must stay up for the next loss to start
    /// over from `initial` (default 2 minutes).
    pub stable_after: Duration,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(300),
            jitter: 50,
            stable_after: Duration::from_secs(120),
        }
    }
}

/// When to connect again: the attempts after a loss, each later than the
/// one before up to a maximum, with jitter.
#[derive(Debug, Clone)]
pub struct Backoff<I> {
    config: BackoffConfig,
    /// Losses since the last stable connection.
    attempt: u32,
    /// When to connect again, while waiting to.
    next: Option<I>,
    /// When the current connection came up.
    up_since: Option<I>,
}

impl<I: Instant> Backoff<I> {
    /// A policy with no loss yet.
    #[must_use]
    pub fn new(config: BackoffConfig) -> Self {
        Self {
            config,
            attempt: 0,
            next: None,
            up_since: None,
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &BackoffConfig {
        &self.config
    }

    /// How many losses since the last stable connection.
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// A connection came up at `now` (logged in, resumed): the wait is
    /// over, and it counts as stable once it stays up `stable_after`.
    pub fn connected(&mut self, now: I) {
        self.next = None;
        self.up_since = Some(now);
    }

    /// The connection was lost at `now`, or an attempt failed: returns
    /// when to try again (also [`Backoff::poll_timeout`]).
    pub fn lost(&mut self, now: I, rng: &mut impl RngCore) -> I {
        if self
            .up_since
            .take()
            .is_some_and(|up| up + self.config.stable_after <= now)
        {
            self.attempt = 0;
        }
        let delay = self.delay(rng);
        self.attempt = self.attempt.saturating_add(1);
        let next = now + delay;
        self.next = Some(next);
        next
    }

    /// When to connect again, while waiting to.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<I> {
        self.next
    }

    /// Whether it is time to connect again at `now`; once it is, the wait
    /// is over (the runtime connects, then calls
    /// [`Backoff::connected`] or [`Backoff::lost`]).
    pub fn due(&mut self, now: I) -> bool {
        if self.next.is_some_and(|next| now >= next) {
            self.next = None;
            return true;
        }
        false
    }

    /// The delay before the next attempt: `initial` doubled per loss, at
    /// most `max`, less up to `jitter` percent of it at random.
    fn delay(&self, rng: &mut impl RngCore) -> Duration {
        let full = self
            .config
            .initial
            .checked_mul(1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX))
            .unwrap_or(self.config.max)
            .min(self.config.max);
        let jitter = u128::from(self.config.jitter.min(100));
        let nanos = full.as_nanos();
        let spread = nanos * jitter / 100;
        let cut = if spread == 0 {
            0
        } else {
            u128::from(rng.next_u64()) % (spread + 1)
        };
        let nanos = u64::try_from(nanos - cut).unwrap_or(u64::MAX);
        Duration::from_nanos(nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// An RNG that always gives `value`.
    struct Fixed(u64);

    impl RngCore for Fixed {
        fn next_u32(&mut self) -> u32 {
            u32::try_from(self.0 & u64::from(u32::MAX)).unwrap_or(0)
        }
        fn next_u64(&mut self) -> u64 {
            self.0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.fill(0);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            dest.fill(0);
            Ok(())
        }
    }

    const S: Duration = Duration::from_secs(1);

    fn config(jitter: u8) -> BackoffConfig {
        BackoffConfig {
            initial: S,
            max: 10 * S,
            jitter,
            stable_after: 60 * S,
        }
    }

    #[test]
    fn the_defaults_are_a_second_to_five_minutes_half_random() {
        let b = Backoff::<Duration>::new(BackoffConfig::default());
        let config = b.config();
        assert_eq!((config.initial, config.max), (S, 300 * S));
        assert_eq!((config.jitter, config.stable_after), (50, 120 * S));
        assert_eq!(b.attempts(), 0);
        // The test RNG gives its value whichever way it is asked.
        let mut rng = Fixed(7);
        assert_eq!(rng.next_u32(), 7);
        let mut bytes = [1u8; 2];
        rng.fill_bytes(&mut bytes);
        assert!(rng.try_fill_bytes(&mut bytes).is_ok());
        assert_eq!(bytes, [0, 0]);
    }

    #[test]
    fn delays_double_up_to_the_maximum() {
        let mut b = Backoff::new(config(0));
        let delays: Vec<Duration> = (0..6)
            .map(|_| b.lost(Duration::ZERO, &mut Fixed(0)))
            .collect();
        assert_eq!(delays, [S, 2 * S, 4 * S, 8 * S, 10 * S, 10 * S]);
        assert_eq!(b.attempts(), 6);
        // Far past 32 losses the delay stays at the maximum.
        for _ in 0..100 {
            b.lost(Duration::ZERO, &mut Fixed(0));
        }
        assert_eq!(b.lost(Duration::ZERO, &mut Fixed(0)), 10 * S);
    }

    #[test]
    fn jitter_takes_up_to_its_share_off_the_delay() {
        // 50%: from 0.5 s to 1 s for the first delay.
        let mut b = Backoff::new(config(50));
        assert_eq!(b.lost(Duration::ZERO, &mut Fixed(0)), S);
        let mut b = Backoff::new(config(50));
        let half = u64::try_from(S.as_nanos() / 2).unwrap();
        assert_eq!(b.lost(Duration::ZERO, &mut Fixed(half)), S / 2);
        let mut b = Backoff::new(config(50));
        assert_eq!(b.lost(Duration::ZERO, &mut Fixed(half + 1)), S);
        // Over 100% counts as 100%: from 0 to the delay.
        let mut b = Backoff::new(config(200));
        let full = u64::try_from(S.as_nanos()).unwrap();
        assert_eq!(b.lost(Duration::ZERO, &mut Fixed(full)), Duration::ZERO);
    }

    #[test]
    fn the_wait_is_due_at_its_deadline_once() {
        let mut b = Backoff::new(config(0));
        assert_eq!(b.poll_timeout(), None);
        assert!(!b.due(100 * S));
        let at = b.lost(5 * S, &mut Fixed(0));
        assert_eq!(at, 6 * S);
        assert!(!b.due(at - Duration::from_nanos(1)));
        assert!(b.due(at));
        assert!(!b.due(at));
        assert_eq!(b.poll_timeout(), None);
    }

    #[test]
    fn a_stable_connection_starts_over_and_a_short_one_does_not() {
        let mut b = Backoff::new(config(0));
        b.lost(Duration::ZERO, &mut Fixed(0));
        b.lost(Duration::ZERO, &mut Fixed(0));
        // Up for 59 s: not stable, the next delay goes on doubling.
        b.connected(10 * S);
        assert_eq!(b.poll_timeout(), None);
        assert_eq!(b.lost(69 * S, &mut Fixed(0)), 69 * S + 4 * S);
        // Up for 60 s: stable.
        b.connected(100 * S);
        assert_eq!(b.lost(160 * S, &mut Fixed(0)), 161 * S);
        assert_eq!(b.attempts(), 1);
    }
}
