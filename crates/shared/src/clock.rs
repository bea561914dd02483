//! The one place that reads the wall clock. Everything below takes `now` as an argument.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the UNIX epoch (0 if the clock is before 1970).
#[allow(clippy::disallowed_methods)] // This is the sanctioned clock.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
