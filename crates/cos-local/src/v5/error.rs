//! COS `<Error>` replies, and how store and upload errors map onto them.

use std::sync::Arc;

use actix_web::http::StatusCode;

use crate::error::StoreError;
use crate::storage::{Commit, Meta};
use crate::uploads::UploadError;

/// A COS XML error.
#[derive(Debug)]
pub(super) struct V5Error {
    pub(super) status: StatusCode,
    pub(super) code: &'static str,
    pub(super) message: String,
}

pub(super) fn err(status: u16, code: &'static str, message: impl Into<String>) -> V5Error {
    V5Error {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        code,
        message: message.into(),
    }
}

impl From<StoreError> for V5Error {
    fn from(e: StoreError) -> Self {
        match &e {
            &StoreError::TooLarge { limit } => err(
                400,
                "EntityTooLarge",
                format!(
                    "Your proposed upload exceeds the maximum allowed object size ({limit} bytes)."
                ),
            ),
            StoreError::BodyAborted(m) => err(
                400,
                "IncompleteBody",
                format!("The request body was cut short: {m}"),
            ),
            StoreError::Full { .. } => {
                tracing::error!(error = %e, "the store's disk is full");
                store_full()
            }
            _ => {
                tracing::error!(error = %e, "storage failure");
                err(
                    500,
                    "InternalError",
                    "We encountered an internal error. Please try again.",
                )
            }
        }
    }
}

/// 507 `InsufficientStorage`: the store's disk is full. COS has no code for
/// this (its storage does not fill up), so the store uses the HTTP status's
/// name, and says that a retry will not help.
fn store_full() -> V5Error {
    err(
        507,
        "InsufficientStorage",
        "The store's disk is full: nothing was stored. Retrying will not help until \
         space is freed on the store's data directory.",
    )
}

impl From<UploadError> for V5Error {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::Store(s) => s.into(),
            UploadError::NoSuchUpload => err(
                404,
                "NoSuchUpload",
                "The specified multipart upload does not exist: it was completed, aborted, \
                 or expired after going without a part for the store's upload TTL. Start a \
                 new one with Initiate Multipart Upload.",
            ),
            UploadError::InvalidPart(m) => err(400, "InvalidPart", m),
            UploadError::InvalidPartOrder => err(
                400,
                "InvalidPartOrder",
                "The list of parts was not in ascending order.",
            ),
            UploadError::TooSmall(m) => err(400, "EntityTooSmall", m),
            UploadError::BadRequest(m) => err(400, "InvalidArgument", m),
            UploadError::Incomplete | UploadError::ShaMismatch => {
                err(400, "InvalidArgument", e.to_string())
            }
        }
    }
}

pub(super) fn not_implemented() -> V5Error {
    err(
        501,
        "NotImplemented",
        "The local store does not implement this operation.",
    )
}

/// A sub-resource (`?acl`, `?tagging`, …) the store does not implement for
/// this method: refused before anything was read or written.
pub(super) fn not_implemented_subresource(method: &str, name: &str) -> V5Error {
    err(
        501,
        "NotImplemented",
        format!(
            "The local store does not implement the sub-resource ?{name} for {method}; \
             nothing was read, written or deleted. It implements multipart upload \
             (?uploads, ?uploadId, ?partNumber), GET /?uploads and GET /?location only."
        ),
    )
}

/// The object a write stored; a write with `x-cos-forbid-overwrite: true`
/// that found its key taken answers 409 `FileAlreadyExists`, COS's code.
pub(super) fn written(commit: Commit) -> Result<Arc<Meta>, V5Error> {
    match commit {
        Commit::Written(meta) => Ok(meta),
        Commit::Refused(_) => Err(file_already_exists()),
    }
}

/// 409 `FileAlreadyExists`: the key is taken and the request forbade
/// replacing it; nothing was written.
pub(super) fn file_already_exists() -> V5Error {
    err(
        409,
        "FileAlreadyExists",
        "The object already exists and x-cos-forbid-overwrite: true forbids replacing it \
         (even with the same content); nothing was written. Leave the header out or set it \
         to false to overwrite.",
    )
}
