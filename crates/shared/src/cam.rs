//! CAM access policies for COS, as temporary credentials carry them: the
//! policy model (the JSON Tencent STS takes), the upload policies the auth
//! server grants, and their evaluation against one request, as the local
//! store does it. Pure: no I/O, no clock.
//!
//! * [`Policy`] parses and writes the policy JSON: lower-case element names
//!   (`version`, `statement`, `effect`, `action`, `resource`, `condition`,
//!   `principal`), `action` and `resource` as a string or a list, `condition`
//!   as operator → {key → value or list}
//!   (<https://cloud.tencent.com/document/product/436/31923>).
//! * [`Policy::for_upload`] builds the statements that let a client upload one
//!   key, or anything under one prefix, within a size limit and a list of
//!   content types.
//! * [`Policy::evaluate`] decides one request, described by a
//!   [`RequestContext`] (action, resource, condition values).
//!
//! ```
//! use shared::ObjectKey;
//! use shared::cam::{Action, Bucket, Decision, Policy, RequestContext, Scope, UploadLimits};
//!
//! let bucket = Bucket::new("ap-guangzhou", "1250000000", "metis")?;
//! let key = ObjectKey::parse("u/12/photos/20261202/k3j.jpg")?;
//! let limits = UploadLimits { max_size: 10 << 20, content_types: vec!["image/*".into()] };
//! let policy = Policy::for_upload(&bucket, &Scope::Key(key.clone()), &limits);
//!
//! let put = RequestContext::object(Action::PutObject, &bucket, &key)
//!     .with_content_length(123_456)
//!     .with_content_type("image/jpeg");
//! assert_eq!(policy.evaluate(&put), Decision::Allow);
//! // Too large, another type, or another key: refused.
//! assert_eq!(policy.evaluate(&put.clone().with_content_length(11 << 20)), Decision::NotAllowed);
//! assert_eq!(policy.evaluate(&put.clone().with_content_type("text/html")), Decision::NotAllowed);
//! let other = ObjectKey::parse("u/12/photos/20261202/other.jpg")?;
//! let put_other = RequestContext::object(Action::PutObject, &bucket, &other)
//!     .with_content_length(1)
//!     .with_content_type("image/jpeg");
//! assert_eq!(policy.evaluate(&put_other), Decision::NotAllowed);
//!
//! // What STS receives (URL-encoded there) and what a token carries.
//! assert_eq!(Policy::from_json(&policy.to_json())?, policy);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Evaluation
//!
//! CAM semantics (<https://www.tencentcloud.com/document/product/598/10605>):
//! nothing is allowed unless an `allow` statement applies, and an applying
//! `deny` statement wins over every `allow`. A statement applies when one of
//! its actions matches the request's (exactly, or a pattern ending in `*`
//! such as `name/cos:*` or `*`; case-sensitive), one of its resources matches
//! (exactly, or a pattern ending in `*` as a prefix), and every condition
//! holds.
//!
//! Conditions: `string_equal`, `string_not_equal`, `string_like` (glob: `*`
//! any run of characters, `?` one character), `string_not_like`,
//! `numeric_equal`, `numeric_not_equal`, `numeric_less_than`,
//! `numeric_less_than_equal`, `numeric_greater_than`,
//! `numeric_greater_than_equal`, and their `_if_exist` forms, on the keys
//! `cos:content-length` (numeric), `cos:content-type` and `cos:prefix`
//! (strings). A list of values means any of them (for the `not` operators:
//! none of them). A condition on a key the request does not carry fails,
//! unless its operator ends in `_if_exist`, when it holds. Numbers compare as
//! `u64` (a JSON number or a string of digits); strings compare exactly (case
//! included).
//!
//! `cos:prefix` values are written URL-encoded, as COS requires
//! (<https://cloud.tencent.com/document/product/436/71307>: a prefix with
//! special characters such as `/` is written encoded, `folder1%2F`): the
//! request's prefix, percent-encoded except `A-Z a-z 0-9 - _ . ~`, is what
//! they are compared with.
//!
//! Fails closed: an operator, a condition key or a value this evaluator does
//! not understand (`ip_equal`, `qcs:ip`, a negative number, an empty list)
//! keeps an `allow` statement from applying and makes a `deny` statement
//! apply. `principal` is kept but not evaluated (STS policies must not have
//! one; qcloud-cos-sts writes `{"qcs":["*"]}`).
//!
//! Resources: `qcs::cos:<region>:uid/<appid>:<bucket>-<appid>/<key or prefix*>`.
//! The legacy form `qcs::cos:<region>:uid/<appid>:prefix//<appid>/<bucket>/<path>`,
//! which qcloud-cos-sts still writes, is read as the same resource.

mod evaluate;
mod model;
mod request;
#[cfg(test)]
mod tests;
mod upload;

pub use evaluate::Decision;
pub use model::{ConditionValue, Effect, OneOrMany, Policy, PolicyError, Statement};
pub use request::{Action, Bucket, InvalidBucket, RequestContext};
pub use upload::{Scope, UploadLimits};
