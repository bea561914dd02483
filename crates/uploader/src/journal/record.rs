//! What a journal line holds ([`Record`]), and the identity of a local file
//! and the destination that records refer to.

use serde::{Deserialize, Serialize};

/// What identifies the content of a local file: size, modification time and SHA-1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileIdentity {
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the UNIX epoch.
    pub mtime_ns: i64,
    /// Lower-case hex SHA-1 of the content.
    pub sha1: String,
}

/// Where a journal's objects go: what must be the same for its "done"
/// records to hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destination {
    /// The auth server's base URL.
    pub server: String,
    /// The store location signatures are issued for: the v4 upload URL
    /// without the directory (`<endpoint>/files/v2/<appid>/<bucket>`).
    pub store: String,
    /// The user id the objects were uploaded as.
    pub user: String,
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "server {}, store {}, user {}",
            self.server, self.store, self.user
        )
    }
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Record {
    /// The journal's first record: where its objects go.
    Destination {
        /// The destination.
        #[serde(flatten)]
        dest: Destination,
    },
    /// The object `key` holds this file's content.
    Done {
        /// Object key.
        key: String,
        /// The local file it came from.
        #[serde(flatten)]
        id: FileIdentity,
        /// The object's URL (`source_url`).
        url: String,
    },
    /// A v4 slice session was opened for `key`.
    SliceInit {
        /// Object key.
        key: String,
        /// The local file being uploaded.
        #[serde(flatten)]
        id: FileIdentity,
        /// The store's session id.
        session: String,
        /// Slice size the store asked for.
        slice_size: u64,
    },
    /// One v4 slice was stored.
    Slice {
        /// Object key.
        key: String,
        /// Session id.
        session: String,
        /// Byte offset.
        offset: u64,
        /// Length.
        len: u64,
    },
    /// A v5 multipart upload was initiated for `key`.
    MultipartInit {
        /// Object key.
        key: String,
        /// The local file being uploaded.
        #[serde(flatten)]
        id: FileIdentity,
        /// The store's upload id.
        upload_id: String,
        /// Part size used.
        part_size: u64,
    },
    /// One v5 part was stored.
    Part {
        /// Object key.
        key: String,
        /// Upload id.
        upload_id: String,
        /// 1-based part number.
        part: u32,
        /// The part's ETag.
        etag: String,
    },
}
