//! COS sub-resources: the query parameters that turn a request on an object
//! or on a bucket into another operation (`PUT /photo.jpg?acl` sets the
//! object's ACL and leaves its body alone; `DELETE /photo.jpg?tagging` removes
//! its tags, not the object). A client, a signer or a store that took such a
//! request for the plain operation would write, read or delete the wrong
//! thing, so this module lists them all, and says which ones the local store
//! (`cos-local`) implements, per method and target, so that the store and the
//! auth server refuse the same ones.
//!
//! The names are those of Tencent's COS API reference
//! (<https://cloud.tencent.com/document/product/436/7751> and the pages it
//! links) and of the query strings Tencent's own SDKs send
//! (<https://github.com/tencentyun/cos-go-sdk-v5>,
//! <https://github.com/tencentyun/cos-python-sdk-v5>). Query parameters that
//! only modify an operation (`prefix`, `max-keys`, `response-content-type`,
//! presigned `q-*`, `x-cos-security-token`, image-processing parameters, a
//! cache buster such as `t=123`) are not sub-resources.
//!
//! ```
//! use shared::subresource::{self, Method, Target};
//!
//! let query = ["acl", "t"];
//! assert_eq!(subresource::first_unimplemented(Method::Put, Target::Object, query), Some("acl"));
//! // Multipart upload is implemented; a cache buster is no sub-resource at all.
//! let part = ["partNumber", "uploadId", "t"];
//! assert_eq!(subresource::first_unimplemented(Method::Put, Target::Object, part), None);
//! ```

/// Every sub-resource query name COS defines, object- and bucket-level, as
/// COS spells it.
pub const NAMES: &[&str] = &[
    // Objects (some also name a bucket-level operation).
    "acl",
    "tagging",
    "restore",
    "append",
    "position",
    "select",
    "select-type",
    "torrent",
    "versionId",
    "retention",
    "legal-hold",
    "symlink",
    // Multipart upload: `uploads` is also the bucket's list of uploads.
    "uploads",
    "uploadId",
    "partNumber",
    // Buckets.
    "location",
    "versioning",
    "versions",
    "cors",
    "lifecycle",
    "policy",
    "website",
    "referer",
    "logging",
    "inventory",
    "domain",
    "domaincertificate",
    "origin",
    "replication",
    "encryption",
    "intelligenttiering",
    "intelligent-tiering",
    "object-lock",
    "accelerate",
    "notification",
    "requestPayment",
    "hotlink",
    "style",
    "image-slim",
    "guetzli",
    "origin-protect",
    // Multi-object delete (`POST /?delete`).
    "delete",
];

/// The HTTP method of a request, as far as sub-resources go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`.
    Head,
    /// `PUT`.
    Put,
    /// `POST`.
    Post,
    /// `DELETE`.
    Delete,
    /// `OPTIONS`.
    Options,
}

impl Method {
    /// Every method, for tables.
    pub const ALL: [Method; 6] = [
        Method::Get,
        Method::Head,
        Method::Put,
        Method::Post,
        Method::Delete,
        Method::Options,
    ];

    /// Parses a method name in any case; `None` for any other method.
    pub fn parse(name: &str) -> Option<Method> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(name))
    }

    /// The method's name, upper case.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
        }
    }
}

/// What a request addresses: an object (`/<key>`) or the bucket (`/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `/<key>`.
    Object,
    /// `/`.
    Bucket,
}

/// The sub-resource `name` stands for, compared in any case (so `?ACL` is
/// taken for `acl` rather than ignored); `None` when it is no sub-resource.
pub fn lookup(name: &str) -> Option<&'static str> {
    NAMES.iter().copied().find(|n| n.eq_ignore_ascii_case(name))
}

/// Whether the local store implements the sub-resource `name` (spelled
/// exactly as COS spells it) for `method` on `target`: multipart upload
/// (`POST ?uploads`, `PUT ?partNumber&uploadId`, `POST`, `GET` and `DELETE`
/// `?uploadId`), the bucket's list of multipart uploads (`GET /?uploads`)
/// and its location (`GET /?location`). It answers every other sub-resource
/// `501 NotImplemented` without touching anything.
pub fn implemented_by_store(method: Method, target: Target, name: &str) -> bool {
    use Method::{Delete, Get, Post, Put};
    matches!(
        (target, name, method),
        (Target::Object, "uploads", Post)
            | (Target::Object, "uploadId", Put | Post | Get | Delete)
            | (Target::Object, "partNumber", Put)
            | (Target::Bucket, "uploads" | "location", Get)
    )
}

/// The first query parameter name among `names` that is a sub-resource the
/// local store does not implement for `method` on `target` (see
/// [`implemented_by_store`]), as the query spelled it. A sub-resource spelled
/// in another case than COS's is never implemented.
pub fn first_unimplemented<'a>(
    method: Method,
    target: Target,
    names: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    names
        .into_iter()
        .find(|name| lookup(name).is_some() && !implemented_by_store(method, target, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_and_found_in_any_case() {
        let unique: std::collections::BTreeSet<String> =
            NAMES.iter().map(|n| n.to_ascii_lowercase()).collect();
        assert_eq!(unique.len(), NAMES.len(), "{NAMES:?}");
        assert_eq!(lookup("ACL"), Some("acl"));
        assert_eq!(lookup("uploadid"), Some("uploadId"));
        for plain in [
            "t",
            "prefix",
            "max-keys",
            "response-content-type",
            "q-ak",
            "imageMogr2",
        ] {
            assert_eq!(lookup(plain), None, "{plain}");
        }
    }

    #[test]
    fn the_store_implements_multipart_upload_the_upload_list_and_location_only() {
        let mut implemented = Vec::new();
        for name in NAMES {
            for method in Method::ALL {
                for target in [Target::Object, Target::Bucket] {
                    if implemented_by_store(method, target, name) {
                        implemented.push(format!("{} {target:?} ?{name}", method.as_str()));
                    }
                }
            }
        }
        assert_eq!(
            implemented,
            [
                "GET Bucket ?uploads",
                "POST Object ?uploads",
                "GET Object ?uploadId",
                "PUT Object ?uploadId",
                "POST Object ?uploadId",
                "DELETE Object ?uploadId",
                "PUT Object ?partNumber",
                "GET Bucket ?location",
            ]
        );
    }

    #[test]
    fn the_first_unimplemented_sub_resource_is_named_as_sent() {
        let first = |m, t, q: &[&'static str]| first_unimplemented(m, t, q.iter().copied());
        assert_eq!(
            first(Method::Put, Target::Object, &["t", "tagging"]),
            Some("tagging")
        );
        assert_eq!(first(Method::Get, Target::Object, &["Acl"]), Some("Acl"));
        // A known name in another case is refused, never served as the plain operation.
        assert_eq!(
            first(Method::Put, Target::Object, &["uploadid"]),
            Some("uploadid")
        );
        assert_eq!(first(Method::Delete, Target::Object, &["uploadId"]), None);
        assert_eq!(
            first(Method::Delete, Target::Bucket, &["uploadId"]),
            Some("uploadId")
        );
        assert_eq!(
            first(Method::Post, Target::Bucket, &["delete"]),
            Some("delete")
        );
        assert_eq!(
            first(Method::Get, Target::Bucket, &["prefix", "uploads"]),
            None
        );
    }

    #[test]
    fn methods_parse_in_any_case() {
        assert_eq!(Method::parse("put"), Some(Method::Put));
        assert_eq!(Method::parse("OPTIONS"), Some(Method::Options));
        assert_eq!(Method::parse("PATCH"), None);
    }
}
