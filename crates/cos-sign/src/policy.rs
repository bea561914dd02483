//! COS v5 POST Object policies (form uploads), modelled on S3 POST policies.
//!
//! ```text
//! SignKey      = hex(HMAC-SHA1(SecretKey, KeyTime))
//! StringToSign = hex(SHA1(policy JSON text))
//! q-signature  = hex(HMAC-SHA1(SignKey, StringToSign))
//! form field `policy` = base64(policy JSON text)
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{SignError, VerifyError};
use crate::secret::{Credentials, KeyStore};
use crate::v5::{KeyTime, hmac_sha1, sign_key};

/// One policy condition.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Condition {
    /// `{"<field>": "<value>"}`: the form field (or `bucket`) equals the value exactly.
    Exact(String, String),
    /// `["eq", "$<field>", "<value>"]`.
    Eq(String, String),
    /// `["starts-with", "$<field>", "<prefix>"]`.
    StartsWith(String, String),
    /// `["content-length-range", min, max]`: the file size in bytes, inclusive.
    ContentLengthRange(u64, u64),
}

impl Condition {
    fn to_json(&self) -> Value {
        match self {
            Self::Exact(f, v) => {
                let mut m = serde_json::Map::new();
                m.insert(f.clone(), Value::String(v.clone()));
                Value::Object(m)
            }
            Self::Eq(f, v) => json!(["eq", format!("${f}"), v]),
            Self::StartsWith(f, v) => json!(["starts-with", format!("${f}"), v]),
            Self::ContentLengthRange(a, b) => json!(["content-length-range", a, b]),
        }
    }

    fn from_json(v: &Value) -> Result<Self, VerifyError> {
        const BAD: VerifyError = VerifyError::Malformed("policy condition has an unknown shape");
        match v {
            Value::Object(m) if m.len() == 1 => {
                let (k, val) = m.iter().next().ok_or(BAD)?;
                let val = val.as_str().ok_or(BAD)?;
                Ok(Self::Exact(k.clone(), val.to_owned()))
            }
            Value::Array(a) if a.len() == 3 => {
                let op = a[0].as_str().ok_or(BAD)?.to_ascii_lowercase();
                if op == "content-length-range" {
                    let n = |x: &Value| x.as_u64().ok_or(BAD);
                    return Ok(Self::ContentLengthRange(n(&a[1])?, n(&a[2])?));
                }
                let field = a[1].as_str().and_then(|f| f.strip_prefix('$')).ok_or(BAD)?;
                let value = a[2].as_str().ok_or(BAD)?.to_owned();
                match op.as_str() {
                    "eq" => Ok(Self::Eq(field.to_owned(), value)),
                    "starts-with" => Ok(Self::StartsWith(field.to_owned(), value)),
                    _ => Err(BAD),
                }
            }
            _ => Err(BAD),
        }
    }
}

/// A POST Object policy: an expiry and its conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostPolicy {
    /// UNIX seconds after which the form is refused.
    pub expiration: u64,
    /// Conditions, in the order they will be written.
    pub conditions: Vec<Condition>,
}

/// Formats UNIX seconds as the policy's ISO-8601 UTC form, `2017-07-14T03:40:00.000Z`.
pub fn format_expiration(unix: u64) -> String {
    let Ok(secs) = i64::try_from(unix) else {
        return "9999-12-31T23:59:59.000Z".to_owned();
    };
    match OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => "9999-12-31T23:59:59.000Z".to_owned(),
    }
}

fn parse_expiration(s: &str) -> Result<u64, VerifyError> {
    let t = OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|_| VerifyError::Malformed("policy expiration is not ISO-8601"))?;
    u64::try_from(t.unix_timestamp())
        .map_err(|_| VerifyError::Malformed("policy expiration is before 1970"))
}

impl PostPolicy {
    /// The policy for a COS form upload as the SDKs write it: the signature
    /// fields and bucket first, then `extra` conditions.
    pub fn for_upload(
        credentials: &Credentials,
        bucket_with_appid: &str,
        key_time: KeyTime,
        extra: Vec<Condition>,
    ) -> Self {
        let mut conditions = vec![
            Condition::Exact("q-sign-algorithm".into(), "sha1".into()),
            Condition::Exact("q-ak".into(), credentials.secret_id.clone()),
            Condition::Exact("q-sign-time".into(), key_time.to_string()),
            Condition::Exact("bucket".into(), bucket_with_appid.to_owned()),
        ];
        conditions.extend(extra);
        Self {
            expiration: key_time.end,
            conditions,
        }
    }

    /// The compact JSON text that is signed and sent (base64) as `policy`.
    pub fn to_json(&self) -> String {
        // Written by hand so that `expiration` comes first, as every SDK writes it.
        let conditions = Value::Array(self.conditions.iter().map(Condition::to_json).collect());
        format!(
            "{{\"expiration\":{},\"conditions\":{conditions}}}",
            Value::String(format_expiration(self.expiration))
        )
    }

    /// Parses policy JSON text.
    pub fn from_json(text: &[u8]) -> Result<Self, VerifyError> {
        let v: Value = serde_json::from_slice(text)
            .map_err(|_| VerifyError::Malformed("policy is not JSON"))?;
        let exp = v
            .get("expiration")
            .and_then(Value::as_str)
            .ok_or(VerifyError::Malformed("policy has no expiration"))?;
        let conds = v
            .get("conditions")
            .and_then(Value::as_array)
            .ok_or(VerifyError::Malformed("policy has no conditions"))?;
        Ok(Self {
            expiration: parse_expiration(exp)?,
            conditions: conds
                .iter()
                .map(Condition::from_json)
                .collect::<Result<_, _>>()?,
        })
    }
}

/// The form fields that carry a signed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyForm {
    /// `policy`: base64 of the policy text.
    pub policy: String,
    /// `q-sign-algorithm`: always `sha1`.
    pub q_sign_algorithm: &'static str,
    /// `q-ak`.
    pub q_ak: String,
    /// `q-key-time`.
    pub q_key_time: String,
    /// `q-signature`.
    pub q_signature: String,
}

/// `hex(HMAC-SHA1(SignKey, hex(SHA1(policy_text))))`.
pub fn policy_signature(credentials: &Credentials, key_time: KeyTime, policy_text: &str) -> String {
    let string_to_sign = hex::encode(Sha1::digest(policy_text.as_bytes()));
    let key = sign_key(&credentials.secret_key, key_time);
    hex::encode(hmac_sha1(key.as_bytes(), string_to_sign.as_bytes()))
}

/// Signs an exact policy text and returns the form fields.
pub fn sign_text(credentials: &Credentials, key_time: KeyTime, policy_text: &str) -> PolicyForm {
    PolicyForm {
        policy: STANDARD.encode(policy_text.as_bytes()),
        q_sign_algorithm: "sha1",
        q_ak: credentials.secret_id.clone(),
        q_key_time: key_time.to_string(),
        q_signature: policy_signature(credentials, key_time, policy_text),
    }
}

/// Builds and signs a policy; refuses an expiry outside the key time.
pub fn sign(
    credentials: &Credentials,
    key_time: KeyTime,
    policy: &PostPolicy,
) -> Result<PolicyForm, SignError> {
    if policy.expiration < key_time.start {
        return Err(SignError::ExpiryNotAfterNow {
            expires_at: policy.expiration,
            now: key_time.start,
        });
    }
    Ok(sign_text(credentials, key_time, &policy.to_json()))
}

/// What a verified policy still requires while the body streams in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The parsed policy.
    pub policy: PostPolicy,
    /// Inclusive byte range the file must fall in, if the policy sets one.
    pub content_length_range: Option<(u64, u64)>,
}

impl Accepted {
    /// Checks the final file size against `content-length-range`.
    pub fn check_size(&self, size: u64) -> Result<(), VerifyError> {
        match self.content_length_range {
            Some((min, max)) if size < min || size > max => Err(VerifyError::PolicyCondition(
                format!("file size {size} is outside content-length-range {min}..={max}"),
            )),
            _ => Ok(()),
        }
    }
}

/// Verifies a submitted form. `field` looks a form field up by name (any case);
/// `bucket` is the bucket the form was posted to (`name-appid`).
///
/// Checks: the `q-*` fields, the key time and the policy expiration against
/// `now` (with `max_skew`), the signature (constant time), then every condition
/// except `content-length-range`, which [`Accepted::check_size`] applies once
/// the size is known. A `q-sign-time` condition is matched against the form's
/// `q-key-time` when the form has no `q-sign-time` field, as COS forms do.
pub fn verify<K: KeyStore + ?Sized>(
    keys: &K,
    field: &dyn Fn(&str) -> Option<String>,
    bucket: &str,
    now: u64,
    max_skew: u64,
) -> Result<Accepted, VerifyError> {
    let get = |name: &'static str| field(name).ok_or(VerifyError::Malformed(name));
    let policy_b64 = get("policy")?;
    let alg = get("q-sign-algorithm")?;
    if !alg.eq_ignore_ascii_case("sha1") {
        return Err(VerifyError::UnsupportedAlgorithm);
    }
    let ak = get("q-ak")?;
    let key_time = KeyTime::parse(&get("q-key-time")?)?;
    let signature = get("q-signature")?.to_ascii_lowercase();
    let secret = keys.secret_for(&ak).ok_or(VerifyError::UnknownSecretId)?;
    let text = STANDARD
        .decode(policy_b64.trim())
        .map_err(|_| VerifyError::Malformed("policy is not base64"))?;
    let text_str =
        std::str::from_utf8(&text).map_err(|_| VerifyError::Malformed("policy is not UTF-8"))?;
    let creds = Credentials {
        secret_id: ak.clone(),
        secret_key: secret.clone(),
    };
    let expected = policy_signature(&creds, key_time, text_str);
    if !bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
        return Err(VerifyError::SignatureMismatch);
    }
    if key_time.start > now.saturating_add(max_skew) {
        return Err(VerifyError::NotYetValid {
            valid_from: key_time.start,
            now,
        });
    }
    if now > key_time.end.saturating_add(max_skew) {
        return Err(VerifyError::Expired {
            expired_at: key_time.end,
            now,
        });
    }
    let policy = PostPolicy::from_json(&text)?;
    if now > policy.expiration.saturating_add(max_skew) {
        return Err(VerifyError::Expired {
            expired_at: policy.expiration,
            now,
        });
    }
    let lookup = |name: &str| -> Option<String> {
        if name.eq_ignore_ascii_case("bucket") {
            Some(bucket.to_owned())
        } else if name.eq_ignore_ascii_case("q-sign-time") {
            // The form carries the window as `q-key-time` (the SDKs, `PolicyForm`
            // and https://cloud.tencent.com/document/product/436/14690); the
            // required `q-sign-time` condition names that value.
            field(name).or_else(|| Some(key_time.to_string()))
        } else {
            field(name)
        }
    };
    let mut range = None;
    for c in &policy.conditions {
        match c {
            Condition::Exact(f, v) | Condition::Eq(f, v) => {
                let actual = lookup(f);
                if actual.as_deref() != Some(v.as_str()) {
                    if f.eq_ignore_ascii_case("bucket") {
                        return Err(VerifyError::BucketMismatch);
                    }
                    return Err(VerifyError::PolicyCondition(format!(
                        "{f} must equal {v:?}"
                    )));
                }
            }
            Condition::StartsWith(f, prefix) => {
                let actual = lookup(f).unwrap_or_default();
                if !actual.starts_with(prefix.as_str()) {
                    if f.eq_ignore_ascii_case("key") {
                        return Err(VerifyError::PathNotAllowed);
                    }
                    return Err(VerifyError::PolicyCondition(format!(
                        "{f} must start with {prefix:?}"
                    )));
                }
            }
            Condition::ContentLengthRange(a, b) => {
                if a > b {
                    return Err(VerifyError::Malformed("content-length-range is reversed"));
                }
                range = Some((*a, *b));
            }
        }
    }
    Ok(Accepted {
        policy,
        content_length_range: range,
    })
}
