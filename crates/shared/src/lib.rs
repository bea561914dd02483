//! Types shared by the auth server, the local store and the uploader: the JSON
//! wire shapes of every endpoint, object-key validation, the CAM policies
//! temporary credentials carry ([`cam`]: built by the auth server, evaluated
//! by the store), COS's sub-resource query names ([`subresource`]), and the
//! wall clock. Nothing here does I/O.
//!
//! Object keys are validated, never normalised: a key is accepted exactly as
//! given or refused with the reason.
//!
//! ```
//! use shared::{DirPath, KeyError, ObjectKey};
//!
//! let key = ObjectKey::parse("u/12/photos/测试 图片.jpg")?;
//! assert_eq!(key.v4_path(), "/u/12/photos/测试 图片.jpg");
//! // Directories contain keys by whole segment: inside `/u/12/`, not inside `/u/1/`.
//! assert!(key.is_within(&DirPath::parse("/u/12")?));
//! assert!(!key.is_within(&DirPath::parse("/u/1")?));
//!
//! assert_eq!(ObjectKey::parse("u/12/../13/a.jpg"), Err(KeyError::DotSegment));
//! # Ok::<(), KeyError>(())
//! ```
//!
//! Feature `openapi`: the [`wire`] types derive `utoipa::ToSchema`, for the
//! auth server's OpenAPI document. Clients (the uploader) leave it off and do
//! not compile utoipa.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cam;
pub mod clock;
pub mod key;
pub mod routes;
pub mod subresource;
pub mod v4;
pub mod wire;

pub use key::{DirPath, KeyError, ObjectKey};
