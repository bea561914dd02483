//! What a policy is evaluated against: the bucket, the action and the
//! request's condition values.

use std::fmt;

use crate::ObjectKey;

/// A bucket as CAM names it: region, APPID and short name (without `-<appid>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bucket {
    region: String,
    appid: String,
    name: String,
}

/// A region, APPID or bucket name that cannot go into a resource name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid {0} for a CAM resource")]
pub struct InvalidBucket(pub &'static str);

impl Bucket {
    /// Validates the parts: region `[a-z0-9-]` (`ap-guangzhou`), APPID digits,
    /// name lower-case letters, digits and `-` (not at either end), given
    /// without its `-<appid>` suffix.
    pub fn new(region: &str, appid: &str, name: &str) -> Result<Self, InvalidBucket> {
        let lower = |s: &str| {
            !s.is_empty()
                && s.len() <= 50
                && s.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        };
        if !lower(region) {
            return Err(InvalidBucket("region"));
        }
        if appid.is_empty() || appid.len() > 20 || !appid.bytes().all(|c| c.is_ascii_digit()) {
            return Err(InvalidBucket("APPID"));
        }
        if !lower(name)
            || name.starts_with('-')
            || name.ends_with('-')
            || name.ends_with(&format!("-{appid}"))
        {
            return Err(InvalidBucket("bucket name"));
        }
        Ok(Self {
            region: region.to_owned(),
            appid: appid.to_owned(),
            name: name.to_owned(),
        })
    }

    /// The region, `ap-guangzhou`.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The APPID, `1250000000`.
    pub fn appid(&self) -> &str {
        &self.appid
    }

    /// The short name, `metis`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The resource name of `path` (a key, a prefix, or a pattern such as
    /// `u/12/*`) in this bucket:
    /// `qcs::cos:<region>:uid/<appid>:<name>-<appid>/<path>`.
    pub fn resource(&self, path: &str) -> String {
        format!(
            "qcs::cos:{}:uid/{appid}:{}-{appid}/{path}",
            self.region,
            self.name,
            appid = self.appid
        )
    }
}

/// The COS actions the local store serves, as CAM names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// PUT Object.
    PutObject,
    /// POST Object (form upload).
    PostObject,
    /// GET Object.
    GetObject,
    /// HEAD Object.
    HeadObject,
    /// DELETE Object.
    DeleteObject,
    /// GET Bucket (list objects).
    GetBucket,
    /// HEAD Bucket.
    HeadBucket,
    /// Initiate Multipart Upload.
    InitiateMultipartUpload,
    /// Upload Part.
    UploadPart,
    /// Complete Multipart Upload.
    CompleteMultipartUpload,
    /// List Parts.
    ListParts,
    /// Abort Multipart Upload.
    AbortMultipartUpload,
    /// List Multipart Uploads.
    ListMultipartUploads,
}

impl Action {
    /// Every action, for tables and tests.
    pub const ALL: [Self; 13] = [
        Self::PutObject,
        Self::PostObject,
        Self::GetObject,
        Self::HeadObject,
        Self::DeleteObject,
        Self::GetBucket,
        Self::HeadBucket,
        Self::InitiateMultipartUpload,
        Self::UploadPart,
        Self::CompleteMultipartUpload,
        Self::ListParts,
        Self::AbortMultipartUpload,
        Self::ListMultipartUploads,
    ];

    /// The CAM action name, `name/cos:PutObject`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PutObject => "name/cos:PutObject",
            Self::PostObject => "name/cos:PostObject",
            Self::GetObject => "name/cos:GetObject",
            Self::HeadObject => "name/cos:HeadObject",
            Self::DeleteObject => "name/cos:DeleteObject",
            Self::GetBucket => "name/cos:GetBucket",
            Self::HeadBucket => "name/cos:HeadBucket",
            Self::InitiateMultipartUpload => "name/cos:InitiateMultipartUpload",
            Self::UploadPart => "name/cos:UploadPart",
            Self::CompleteMultipartUpload => "name/cos:CompleteMultipartUpload",
            Self::ListParts => "name/cos:ListParts",
            Self::AbortMultipartUpload => "name/cos:AbortMultipartUpload",
            Self::ListMultipartUploads => "name/cos:ListMultipartUploads",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request as a policy sees it: the action, the resource it acts on, and
/// the values of the condition keys (absent when the request has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    action: Action,
    resource: String,
    content_length: Option<u64>,
    content_type: Option<String>,
    prefix: Option<String>,
}

impl RequestContext {
    /// A request on one object (`PutObject`, `UploadPart`, `GetObject`, …).
    pub fn object(action: Action, bucket: &Bucket, key: &ObjectKey) -> Self {
        Self::on(action, bucket.resource(key.as_str()))
    }

    /// A listing (`GetBucket`, `ListMultipartUploads`) with its `prefix`
    /// query parameter, decoded (`""` when absent). The resource is
    /// `<bucket>/<prefix>` and `cos:prefix` is the prefix.
    pub fn listing(action: Action, bucket: &Bucket, prefix: &str) -> Self {
        Self {
            prefix: Some(prefix.to_owned()),
            ..Self::on(action, bucket.resource(prefix))
        }
    }

    /// A request on the bucket itself (`HeadBucket`): resource `<bucket>/`.
    pub fn bucket(action: Action, bucket: &Bucket) -> Self {
        Self::on(action, bucket.resource(""))
    }

    fn on(action: Action, resource: String) -> Self {
        Self {
            action,
            resource,
            content_length: None,
            content_type: None,
            prefix: None,
        }
    }

    /// Sets `cos:content-length`: the body's length for PutObject and
    /// UploadPart, the file part's size for PostObject, the assembled size for
    /// CompleteMultipartUpload.
    pub fn with_content_length(self, length: u64) -> Self {
        Self {
            content_length: Some(length),
            ..self
        }
    }

    /// Sets `cos:content-type`: the type the object will be stored with.
    pub fn with_content_type(self, content_type: impl Into<String>) -> Self {
        Self {
            content_type: Some(content_type.into()),
            ..self
        }
    }

    /// The action.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The resource name.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    pub(super) fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    pub(super) fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    pub(super) fn prefix(&self) -> Option<&str> {
        self.prefix.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_named_as_cam_names_them() {
        let b = Bucket::new("ap-guangzhou", "1250000000", "metis").unwrap();
        assert_eq!(
            b.resource("u/12/a.jpg"),
            "qcs::cos:ap-guangzhou:uid/1250000000:metis-1250000000/u/12/a.jpg"
        );
        let key = ObjectKey::parse("u/12/测试 图片.jpg").unwrap();
        assert_eq!(
            RequestContext::object(Action::PutObject, &b, &key).resource(),
            "qcs::cos:ap-guangzhou:uid/1250000000:metis-1250000000/u/12/测试 图片.jpg"
        );
        assert_eq!(
            RequestContext::bucket(Action::HeadBucket, &b).resource(),
            "qcs::cos:ap-guangzhou:uid/1250000000:metis-1250000000/"
        );
        assert_eq!(
            Action::ListMultipartUploads.to_string(),
            "name/cos:ListMultipartUploads"
        );
    }

    #[test]
    fn bucket_parts_are_validated() {
        for (region, appid, name, field) in [
            ("", "1250000000", "metis", "region"),
            ("ap:guangzhou", "1250000000", "metis", "region"),
            ("AP-GUANGZHOU", "1250000000", "metis", "region"),
            ("ap-guangzhou", "", "metis", "APPID"),
            ("ap-guangzhou", "12a", "metis", "APPID"),
            ("ap-guangzhou", "1250000000", "", "bucket name"),
            ("ap-guangzhou", "1250000000", "-metis", "bucket name"),
            ("ap-guangzhou", "1250000000", "me/tis", "bucket name"),
            (
                "ap-guangzhou",
                "1250000000",
                "metis-1250000000",
                "bucket name",
            ),
        ] {
            assert_eq!(
                Bucket::new(region, appid, name),
                Err(InvalidBucket(field)),
                "{region} {appid} {name}"
            );
        }
    }
}
