//! The policies temporary upload credentials carry: one key, or everything
//! under one directory, with a size limit and a list of content types.

use std::collections::BTreeMap;

use super::evaluate::url_encode;
use super::model::{ConditionValue, Effect, OneOrMany, Policy, Statement, VERSION};
use super::request::{Action, Bucket};
use crate::{DirPath, ObjectKey};

/// What the credentials may write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Exactly this key.
    Key(ObjectKey),
    /// Any key below this directory, by whole segments: the resource is
    /// `<dir>/*` with the directory's trailing `/`, so `u/12/` never reaches
    /// `u/123/`.
    Prefix(DirPath),
}

/// The limits on every upload the credentials make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadLimits {
    /// Largest object, in bytes (`cos:content-length`).
    pub max_size: u64,
    /// Allowed content types, `string_like` patterns such as `image/*` or
    /// `image/jpeg`. An empty list allows no upload.
    pub content_types: Vec<String>,
}

impl Policy {
    /// The upload policy for `scope` in `bucket`:
    ///
    /// 1. `PutObject`, `PostObject`: size at most `max_size` and a content type
    ///    from the list.
    /// 2. `InitiateMultipartUpload`: a content type from the list.
    /// 3. `UploadPart`, `CompleteMultipartUpload`: size at most `max_size`.
    /// 4. `ListParts`, `AbortMultipartUpload`, `HeadObject`, `GetObject` and
    ///    `ListMultipartUploads` (the wx SDK lists the key's uploads before
    ///    every multipart upload): no condition.
    /// 5. For a prefix, `GetBucket` on the prefix, with `cos:prefix` (written
    ///    URL-encoded, as COS reads it) starting with it.
    ///
    /// Statements 1–4 are on the key, or on `<prefix>*`.
    pub fn for_upload(bucket: &Bucket, scope: &Scope, limits: &UploadLimits) -> Self {
        let resource = match scope {
            Scope::Key(key) => bucket.resource(key.as_str()),
            Scope::Prefix(dir) => bucket.resource(&format!("{}*", dir.key_prefix())),
        };
        let size = || {
            (
                "numeric_less_than_equal",
                "cos:content-length",
                vec![ConditionValue::Number(limits.max_size.into())],
            )
        };
        let types = || {
            (
                "string_like",
                "cos:content-type",
                limits
                    .content_types
                    .iter()
                    .map(|t| ConditionValue::Text(t.clone()))
                    .collect(),
            )
        };
        let allow =
            |actions: &[Action], conditions: Vec<(&str, &str, Vec<ConditionValue>)>| Statement {
                effect: Effect::Allow,
                action: OneOrMany::Many(actions.iter().map(|a| a.as_str().to_owned()).collect()),
                resource: OneOrMany::Many(vec![resource.clone()]),
                condition: conditions
                    .into_iter()
                    .map(|(op, key, values)| {
                        (
                            op.to_owned(),
                            BTreeMap::from([(key.to_owned(), OneOrMany::Many(values))]),
                        )
                    })
                    .collect(),
                principal: None,
            };
        let mut statement = vec![
            allow(
                &[Action::PutObject, Action::PostObject],
                vec![size(), types()],
            ),
            allow(&[Action::InitiateMultipartUpload], vec![types()]),
            allow(
                &[Action::UploadPart, Action::CompleteMultipartUpload],
                vec![size()],
            ),
            allow(
                &[
                    Action::ListParts,
                    Action::AbortMultipartUpload,
                    Action::HeadObject,
                    Action::GetObject,
                    Action::ListMultipartUploads,
                ],
                vec![],
            ),
        ];
        if let Scope::Prefix(dir) = scope {
            let prefix = format!("{}*", url_encode(dir.key_prefix()));
            statement.push(allow(
                &[Action::GetBucket],
                vec![(
                    "string_like",
                    "cos:prefix",
                    vec![ConditionValue::Text(prefix)],
                )],
            ));
        }
        Self {
            version: VERSION.to_owned(),
            statement,
        }
    }
}
