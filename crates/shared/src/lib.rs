//! Types shared by the auth server, the local store and the uploader: the JSON
//! wire shapes of every endpoint, object-key validation, and the wall clock.
//!
//! Nothing here does I/O.
//!
//! Feature `openapi`: the [`wire`] types derive `utoipa::ToSchema`, for the
//! auth server's OpenAPI document. Clients (the uploader) leave it off and do
//! not compile utoipa.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod clock;
pub mod key;
pub mod routes;
pub mod v4;
pub mod wire;

pub use key::{DirPath, KeyError, ObjectKey};
