//! Types shared by the auth server, the local store and the uploader: the JSON
//! wire shapes of every endpoint, object-key validation, and the wall clock.
//!
//! Nothing here does I/O.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod clock;
pub mod key;
pub mod routes;
pub mod v4;
pub mod wire;

pub use key::{DirPath, KeyError, ObjectKey};
