//! Jittered waits between attempts. Instances of a fleet start together (a deploy, a scale-up)
//! and fail together (an outage of the token issuer or of Cloud Storage); with the same fixed
//! waits they would also retry together, in step, for as long as the outage lasts. Each wait
//! is stretched by a random part of itself instead, never shortened, so that a wait that is
//! also a rate limit ("at most once a minute") still holds.
//!
//! Nothing here imports anything: the waits are the callers' (`auth::keys`,
//! `registry::refresh`).

use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

/// The largest stretch, as a share of the wait.
pub const SPREAD: f64 = 0.25;

/// `wait`, stretched by a random factor in `[1, 1 + SPREAD)`.
pub fn jitter(wait: Duration) -> Duration {
    wait.mul_f64(stretch())
}

/// A random factor in `[1, 1 + SPREAD)`, for a wait whose length is decided later.
pub fn stretch() -> f64 {
    // Each `RandomState` has keys of its own: a new one hashes to a new random value.
    let random = RandomState::new().hash_one(Instant::now());
    let unit = (random >> 11) as f64 / (1u64 << 53) as f64;
    1.0 + SPREAD * unit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_stretched_by_at_most_the_spread_and_differ() {
        let wait = Duration::from_secs(60);
        let waits: Vec<Duration> = (0..200).map(|_| jitter(wait)).collect();
        assert!(
            waits
                .iter()
                .all(|&w| w >= wait && w < wait.mul_f64(1.0 + SPREAD))
        );
        let distinct: std::collections::BTreeSet<_> = waits.iter().collect();
        assert!(
            distinct.len() > 150,
            "the stretches repeat: {}",
            distinct.len()
        );
    }
}
