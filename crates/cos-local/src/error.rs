//! The store's typed errors.

use std::io;

/// Why the store could not open or complete an operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The file system is full, or the store's disk quota is used up
    /// (`ENOSPC`, `EDQUOT`): nothing more can be stored until space is freed.
    #[error("{what}: the store's disk is full ({source})")]
    Full {
        /// What was being written.
        what: String,
        /// The OS error.
        source: io::Error,
    },
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
    /// Wraps an OS error met while doing `what`: [`StoreError::Full`] when it
    /// says the disk is full, [`StoreError::Io`] otherwise.
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> StoreError {
        let what = what.into();
        move |source| {
            if is_disk_full(&source) {
                StoreError::Full { what, source }
            } else {
                StoreError::Io { what, source }
            }
        }
    }
}

/// Whether an OS error says the file system is full (`ENOSPC`) or the disk
/// quota is used up (`EDQUOT`), however it was raised.
pub(crate) fn is_disk_full(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_or_quota_is_told_apart_from_other_io_errors() {
        for kind in [io::ErrorKind::StorageFull, io::ErrorKind::QuotaExceeded] {
            let e = StoreError::io("write x")(io::Error::from(kind));
            assert!(matches!(e, StoreError::Full { .. }), "{e:?}");
        }
        let e = StoreError::io("write x")(io::Error::from(io::ErrorKind::PermissionDenied));
        assert!(matches!(e, StoreError::Io { .. }), "{e:?}");
    }

    /// A real ENOSPC from the kernel: every write to `/dev/full` fails so.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_real_enospc_from_the_kernel_is_a_full_disk() {
        use std::io::Write as _;
        let mut full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let os = full
            .write_all(b"x")
            .and_then(|()| full.flush())
            .unwrap_err();
        assert_eq!(os.raw_os_error(), Some(28), "ENOSPC: {os:?}");
        let e = StoreError::io("write /dev/full")(os);
        assert!(matches!(e, StoreError::Full { .. }), "{e:?}");
        assert!(e.to_string().contains("disk is full"), "{e}");
    }
}
