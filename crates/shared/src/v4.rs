//! The COS v4 JSON API's reply envelope and data shapes, as Tencent's v4 API
//! docs describe them (simple upload: <https://cloud.tencent.com/document/api/436/6066>;
//! slice upload and the other operations: docs 436/6067 to 436/6074).

use serde::{Deserialize, Serialize};

/// Every v4 reply: `{"code": 0, "message": "SUCCESS", "request_id": "…", "data": …}`.
/// Errors carry a negative `code` and an `ERROR_…` message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply<T> {
    /// `0` on success, negative on error.
    pub code: i64,
    /// `SUCCESS` or an error description.
    pub message: String,
    /// Identifies the request in the store's logs.
    #[serde(default)]
    pub request_id: String,
    /// Present on success. (No `#[serde(default)]`: a missing `Option` is `None`
    /// anyway, and `default` would make serde require `T: Default`.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
}

/// Where an uploaded object lives (`op=upload`, `upload_slice_finish`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadData {
    /// CDN URL.
    pub access_url: String,
    /// `/<appid>/<bucket>/<path>`.
    pub resource_path: String,
    /// Origin URL; what the app stores and shows.
    pub source_url: String,
    /// Operation URL for stat/delete.
    pub url: String,
    /// Version id.
    #[serde(default)]
    pub vid: String,
}

/// `upload_slice_init` / `upload_slice_data` replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SliceSession {
    /// The upload session, sent back with every slice.
    pub session: String,
    /// Slice size the store expects.
    #[serde(default)]
    pub slice_size: u64,
    /// Offset of the slice just stored (data replies).
    #[serde(default)]
    pub offset: u64,
}

/// One stored slice, in `upload_slice_list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlicePart {
    /// Byte offset.
    pub offset: u64,
    /// Length in bytes.
    pub datalen: u64,
}

/// `upload_slice_list` reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SliceList {
    /// The session.
    pub session: String,
    /// Declared file size.
    pub filesize: u64,
    /// Slice size.
    pub slice_size: u64,
    /// Slices stored so far.
    pub listparts: Vec<SlicePart>,
}

/// `stat` reply and `list` entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatData {
    /// File or directory name.
    pub name: String,
    /// Opaque attribute stored with the object.
    #[serde(default)]
    pub biz_attr: String,
    /// Size in bytes (files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filesize: Option<u64>,
    /// Stored length (equals `filesize` once complete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filelen: Option<u64>,
    /// Lower-case hex SHA-1 of the content (files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha: Option<String>,
    /// Creation time (UNIX seconds, as a string like COS).
    #[serde(default)]
    pub ctime: String,
    /// Modification time.
    #[serde(default)]
    pub mtime: String,
    /// CDN URL (files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_url: Option<String>,
    /// Origin URL (files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
}

/// `list` reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListData {
    /// Pass back as `context` for the next page; empty when done.
    pub context: String,
    /// `true` when there are no more entries.
    pub listover: bool,
    /// The entries.
    pub infos: Vec<StatData>,
}

/// v4 error codes the store and clients agree on. Where a number for the case
/// is known, it is used: -4019 from Tencent's slice-upload docs (436/6067 to
/// 436/6070); -97, -96, -61, -4018 and the `ERROR_CMD_COS_*` codes -173 to
/// -178 from what the v4 SDKs' demos, their users and community client code
/// of 2016 COS report, not from an official table. `PARAMS_ERROR`,
/// `SIGN_REPLAYED`, `NOT_FOUND`, `TOO_LARGE`, `STORE_FULL` and `INTERNAL` are
/// this workspace's own choices for cases without a known code.
pub mod codes {
    /// Success.
    pub const OK: i64 = 0;
    /// Bad parameters (missing `op`, bad offset…).
    pub const PARAMS_ERROR: i64 = -1;
    /// Signature invalid.
    pub const SIGN_INVALID: i64 = -97;
    /// Signature expired.
    pub const SIGN_EXPIRED: i64 = -96;
    /// Signature's bucket differs from the request's.
    pub const SIGN_BUCKET_MISMATCH: i64 = -61;
    /// Single-effect signature already used.
    pub const SIGN_REPLAYED: i64 = -95;
    /// Not found.
    pub const NOT_FOUND: i64 = -197;
    /// The file exists and `insertOnly=1` (different content).
    pub const FILE_EXISTS: i64 = -177;
    /// The same content is already stored under this name.
    pub const SAME_FILE_UPLOADED: i64 = -4018;
    /// Slice upload not finished; list the session and resume.
    pub const SLICE_UNFINISHED: i64 = -4019;
    /// `sha` given but the content hashes differently (`ERROR_CMD_COS_SHA_NOT_EQU`).
    pub const SHA_MISMATCH: i64 = -174;
    /// Slice finish: `filesize` differs from the one given at init
    /// (`ERROR_CMD_COS_FILE_SIZE_NOT_EQU`).
    pub const FILE_SIZE_MISMATCH: i64 = -175;
    /// `create` of a directory that exists, or a path taken by another entry
    /// (`ERROR_CMD_COS_PATH_CONFLICT`).
    pub const PATH_CONFLICT: i64 = -178;
    /// File larger than allowed.
    pub const TOO_LARGE: i64 = -5994;
    /// Directory not empty (delete).
    pub const DIR_NOT_EMPTY: i64 = -173;
    /// Internal error (injected faults too).
    pub const INTERNAL: i64 = -5999;
    /// The store's disk is full (HTTP 507, `ERROR_CMD_STORE_FULL`): nothing
    /// was stored, and retrying will not help until space is freed. COS has no
    /// such code; the local store answers it.
    pub const STORE_FULL: i64 = -5998;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_distinct() {
        use codes::*;
        let all = [
            OK,
            PARAMS_ERROR,
            SIGN_INVALID,
            SIGN_EXPIRED,
            SIGN_BUCKET_MISMATCH,
            SIGN_REPLAYED,
            NOT_FOUND,
            FILE_EXISTS,
            SAME_FILE_UPLOADED,
            SLICE_UNFINISHED,
            SHA_MISMATCH,
            FILE_SIZE_MISMATCH,
            PATH_CONFLICT,
            TOO_LARGE,
            DIR_NOT_EMPTY,
            INTERNAL,
            STORE_FULL,
        ];
        let unique: std::collections::BTreeSet<i64> = all.iter().copied().collect();
        assert_eq!(unique.len(), all.len(), "{all:?}");
    }

    #[test]
    fn replies_parse_with_and_without_data() {
        let ok: Reply<ListData> = serde_json::from_str(
            r#"{"code":0,"message":"SUCCESS","request_id":"r","data":{"context":"","listover":true,"infos":[]}}"#,
        )
        .unwrap();
        assert_eq!(ok.data.map(|d| d.listover), Some(true));
        let err: Reply<ListData> =
            serde_json::from_str(r#"{"code":-97,"message":"ERROR_PROXY_SIGN_INVALID"}"#).unwrap();
        assert_eq!(
            (err.code, err.data, err.request_id.as_str()),
            (codes::SIGN_INVALID, None, "")
        );
    }
}
