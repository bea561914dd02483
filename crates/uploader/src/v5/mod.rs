//! COS v5 (XML API) uploads with signatures from the auth server: PUT Object,
//! POST Object with a policy, and multipart upload for large files.
//!
//! Every object carries `x-cos-meta-sha1` (hex SHA-1 of the content). Before a
//! PUT, POST or multipart upload a `HEAD` of the key decides: absent → upload;
//! same SHA-1 → "already present"; anything else → refused, never overwritten.
//! PUT also sends `x-cos-forbid-overwrite: true`, so on real COS a writer racing
//! between the `HEAD` and the PUT gets a 409 rather than a silent overwrite.
//!
//! `request` signs, sends and reads one request; `head` looks at the key;
//! `single` uploads in one request (PUT or POST); `multipart` in parts.

mod head;
mod multipart;
mod request;
mod single;

use crate::error::Error;
use crate::file_ctx::FileCtx;
use crate::job::FileJob;
use crate::upload::{Outcome, Prepared, Protocol, Uploader};

/// Metadata header holding the content's SHA-1.
pub const META_SHA1: &str = "x-cos-meta-sha1";
/// Refuse to replace an existing object.
pub const FORBID_OVERWRITE: &str = "x-cos-forbid-overwrite";

impl Uploader {
    pub(crate) async fn v5_upload(
        &self,
        protocol: Protocol,
        job: &FileJob,
        ctx: &FileCtx,
        p: Prepared,
    ) -> Result<(Outcome, String), Error> {
        if job.size > self.config.large_threshold {
            return self.v5_multipart(job, ctx, &p).await;
        }
        // Look first: PUT's `x-cos-forbid-overwrite` is ignored by some stores
        // (with it, a race with another writer still ends in 409), and POST
        // Object has no "do not overwrite" switch at all.
        if let Some(done) = self.v5_existing(job, ctx, &p).await? {
            return Ok(done);
        }
        match protocol {
            Protocol::V5Post => self.v5_post(job, ctx, &p).await,
            _ => self.v5_put(job, ctx, &p).await,
        }
    }
}
