//! Deterministic fault injection.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use crate::config::FaultConfig;

/// What to do to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Serve normally.
    None,
    /// Answer 500 InternalError before doing anything.
    Internal,
    /// Answer 503 SlowDown before doing anything.
    SlowDown,
    /// Read part of the body, then drop the connection without a response.
    Drop,
}

#[derive(Debug)]
pub(crate) struct Faults {
    config: FaultConfig,
    rng: Mutex<StdRng>,
}

impl Faults {
    pub(crate) fn new(config: FaultConfig) -> Self {
        let rng = Mutex::new(StdRng::seed_from_u64(config.seed));
        Self { config, rng }
    }

    /// Draws the fault for one request. `write` says whether it is a write;
    /// requests outside the configured scope never draw (so they do not shift
    /// the sequence others see).
    pub(crate) fn draw(&self, write: bool, head: bool) -> (Option<Duration>, Fault) {
        let c = &self.config;
        if c.is_off() || head || (write && !c.scope.writes) || (!write && !c.scope.reads) {
            return (None, Fault::None);
        }
        // Four draws, always in this order, whatever the outcome.
        let (a, b, d, e) = {
            let mut rng = self
                .rng
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let a: f64 = rng.r#gen();
            let b: f64 = rng.r#gen();
            let d: bool = rng.r#gen();
            let e: f64 = rng.r#gen();
            (a, b, d, e)
        };
        let latency = (a < c.latency_rate && !c.latency.is_zero()).then_some(c.latency);
        let fault = if b < c.error_rate {
            if d { Fault::SlowDown } else { Fault::Internal }
        } else if e < c.drop_rate {
            Fault::Drop
        } else {
            Fault::None
        };
        (latency, fault)
    }
}
