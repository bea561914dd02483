//! Integration tests: the real auth server with its embedded local store,
//! in-process on port 0, driven through the uploader library and CLI.

// Test helpers outside `#[test]` functions may panic on setup failures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cable;
mod helpers;

mod cli;
mod faults;
mod resume;
mod single;
mod tree;
mod verify;
