//! Workspace-level suites: the system as a user meets it. One binary, one module per suite
//! (`cargo test -p system-tests --test it <suite>`). Each test prints `PROVED [...]` lines
//! saying what it showed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    missing_debug_implementations,
    // The suites read the interop tool locations from the environment (set by
    // scripts/test-all.sh); that is their configuration.
    clippy::disallowed_methods
)]

mod harness;

mod concurrency;
mod crash;
mod examples;
mod faults;
mod flow;
mod hostile;
mod official;
mod replicas;
