//! The store's typed errors.

use std::io;

/// Why the store could not open or complete an operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file-system operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        source: io::Error,
    },
    /// The configuration cannot work (empty credentials, bad appid or bucket name…).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Stored metadata does not parse.
    #[error("corrupt metadata in {path}: {reason}")]
    Corrupt {
        /// File.
        path: String,
        /// Parser message.
        reason: String,
    },
    /// The body exceeds the configured limit.
    #[error("the body exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The client's request body stream failed (dropped connection).
    #[error("the request body was cut short: {0}")]
    BodyAborted(String),
}

impl StoreError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> StoreError {
        let what = what.into();
        move |source| StoreError::Io { what, source }
    }
}
