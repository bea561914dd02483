//! Integration tests: the real server on port 0, a fake WeChat on port 0, the
//! embedded store, driven over HTTP with reqwest.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Test code: failing loudly is the point.

mod helpers;

mod binary;
mod cors;
mod credentials;
mod credentials_official;
mod credentials_sts;
mod database;
mod embedded;
mod errors;
mod hostile_paths;
mod hostile_tokens;
mod login;
mod ops;
mod sign_v4;
mod sign_v5;
mod startup;
