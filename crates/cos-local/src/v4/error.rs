//! v4 error replies (`{"code": <negative COS code>, "message": ...}`), and how
//! store and upload errors map onto them.

use actix_web::http::StatusCode;
use shared::v4::codes;

use crate::error::StoreError;
use crate::uploads::UploadError;

/// A v4 error reply.
#[derive(Debug)]
pub(super) struct V4Error {
    pub(super) status: StatusCode,
    pub(super) code: i64,
    pub(super) message: String,
    /// Sent with -4018 so a client learns where the existing object is.
    pub(super) data: Option<serde_json::Value>,
}

pub(super) fn fail(status: u16, code: i64, message: impl Into<String>) -> V4Error {
    V4Error {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        code,
        message: message.into(),
        data: None,
    }
}

pub(super) fn params_error(message: impl Into<String>) -> V4Error {
    fail(400, codes::PARAMS_ERROR, message)
}

impl From<StoreError> for V4Error {
    fn from(e: StoreError) -> Self {
        match &e {
            &StoreError::TooLarge { limit } => fail(
                400,
                codes::TOO_LARGE,
                format!("ERROR_CMD_FILE_TOO_LARGE: the file exceeds the limit of {limit} bytes"),
            ),
            StoreError::BodyAborted(m) => params_error(format!(
                "ERROR_CGI_BODY_INCOMPLETE: the request body was cut short: {m}"
            )),
            StoreError::Full { .. } => {
                tracing::error!(error = %e, "the store's disk is full");
                fail(
                    507,
                    codes::STORE_FULL,
                    "ERROR_CMD_STORE_FULL: the store's disk is full: nothing was stored; \
                     retrying will not help until space is freed on the store's data directory",
                )
            }
            _ => {
                tracing::error!(error = %e, "storage failure");
                fail(
                    500,
                    codes::INTERNAL,
                    "ERROR_CMD_COS_ERROR: internal error, try again",
                )
            }
        }
    }
}

impl From<UploadError> for V4Error {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::Store(s) => s.into(),
            UploadError::NoSuchUpload => fail(
                404,
                codes::NOT_FOUND,
                "ERROR_CMD_SESSION_NOTEXIST: no such slice-upload session: it finished, or \
                 expired after going without a slice for the store's upload TTL; start again \
                 with upload_slice_init",
            ),
            UploadError::Incomplete => fail(
                400,
                codes::SLICE_UNFINISHED,
                "ERROR_CMD_SLICE_UNFINISHED: some slices are missing; list the session and resume",
            ),
            UploadError::ShaMismatch => fail(
                400,
                codes::SHA_MISMATCH,
                "ERROR_CMD_SHA_NOT_EQU: the content's SHA-1 differs from the declared sha; nothing was stored",
            ),
            other => params_error(other.to_string()),
        }
    }
}

impl V4Error {
    /// The same error with another COS code.
    pub(super) fn with_code(mut self, code: i64) -> Self {
        self.code = code;
        self
    }
}
