//! Integration tests: each starts a store on 127.0.0.1:0 in-process and drives
//! it over HTTP with reqwest.

// Helpers outside `#[test]` functions fail loudly too; clippy.toml's test
// allowances only cover the test functions themselves.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod auth;
mod binary;
mod disk_full;
mod expiry;
mod forbid_overwrite;
mod headers;
mod helpers;
mod interop;
mod messages;
mod storage;
mod sts;
mod sts_client;
mod subresources;
mod v4;
mod v5;
