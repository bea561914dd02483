//! What a request whose signature was accepted may do: anything, for a
//! permanent key (or no signature where none is needed), or what the CAM
//! policy of its temporary credentials allows. Every route that runs under
//! temporary credentials describes its request here (action, resource and
//! condition values, see `route.rs` for the table) and has it evaluated
//! before it reads a body byte or changes anything.

use actix_web::HttpRequest;
use shared::cam::{self, Action, Policy, RequestContext};

use super::Ctx;
use super::error::{V5Error, err};
use super::token::Temporary;
use crate::http;
use crate::inner::Inner;
use crate::key::StoreKey;

/// Who a checked request acts as. `#[must_use]`: a route that authorises a
/// request must also say what the request does (or refuse it).
#[derive(Debug)]
#[must_use]
pub(super) enum Access {
    /// A permanent key's signature, or no signature where the route needs
    /// none (a public-read GET): anything the route allows.
    Unrestricted,
    /// Temporary credentials: only what their policy allows.
    Temporary(Box<Temporary>),
}

impl Access {
    /// The temporary credentials' grant on the request's bucket, or `None`
    /// when the request is not bounded by a policy.
    pub(super) fn grant(&self, inner: &Inner, ctx: &Ctx) -> Result<Option<Grant<'_>>, V5Error> {
        let Access::Temporary(temporary) = self else {
            return Ok(None);
        };
        let bucket = cam::Bucket::new(
            &inner.config.region,
            &inner.config.appid,
            inner.bucket_short(&ctx.bucket),
        )
        .map_err(|e| {
            err(
                403,
                "AccessDenied",
                format!("Access Denied: {e} ({}).", ctx.bucket),
            )
        })?;
        Ok(Some(Grant {
            policy: &temporary.policy,
            bucket,
            bucket_full: ctx.bucket.clone(),
        }))
    }

    /// For an operation outside the CAM actions this store evaluates (PUT
    /// Bucket, GET Bucket location): allowed to permanent keys only.
    pub(super) fn permanent_only(&self, operation: &str) -> Result<(), V5Error> {
        match self {
            Access::Unrestricted => Ok(()),
            Access::Temporary(_) => Err(err(
                403,
                "AccessDenied",
                format!(
                    "Access Denied: temporary credentials cannot {operation} in this store; \
                     nothing was changed."
                ),
            )),
        }
    }
}

/// The policy of temporary credentials, applied to requests on one bucket.
#[derive(Debug)]
pub(super) struct Grant<'a> {
    policy: &'a Policy,
    bucket: cam::Bucket,
    /// `<name>-<appid>`, for messages.
    bucket_full: String,
}

/// One request as the policy sees it, with what a refusal names.
#[derive(Debug, Clone)]
pub(super) struct Asked {
    action: Action,
    request: RequestContext,
    /// `key "u/12/a.jpg"`, `prefix "u/12/" of bucket …`: never a secret.
    target: String,
    length: Option<u64>,
    content_type: Option<String>,
}

impl Asked {
    /// Sets `cos:content-length`.
    pub(super) fn length(self, length: u64) -> Self {
        Self {
            request: self.request.with_content_length(length),
            length: Some(length),
            ..self
        }
    }

    /// Sets `cos:content-type`: the type the object is (or will be) stored with.
    pub(super) fn content_type(self, content_type: &str) -> Self {
        Self {
            request: self.request.with_content_type(content_type),
            content_type: Some(content_type.to_owned()),
            ..self
        }
    }
}

impl Grant<'_> {
    /// `action` on the object `key`. Directory markers (keys ending in `/`)
    /// have no CAM resource this store can name, so temporary credentials
    /// cannot touch them.
    pub(super) fn object(&self, action: Action, key: &StoreKey) -> Result<Asked, V5Error> {
        match key {
            StoreKey::Object(key) => Ok(Asked {
                action,
                request: RequestContext::object(action, &self.bucket, key),
                target: format!("key {:?}", key.as_str()),
                length: None,
                content_type: None,
            }),
            StoreKey::Dir(dir) => Err(err(
                403,
                "AccessDenied",
                format!(
                    "Access Denied: temporary credentials cannot use directory markers (keys \
                     ending in '/', here {:?}) in this store; nothing was changed.",
                    dir.key_prefix()
                ),
            )),
        }
    }

    /// A listing (`GetBucket`, `ListMultipartUploads`) of `prefix` (decoded;
    /// empty when the request has none): the resource is `<bucket>/<prefix>`
    /// and `cos:prefix` the prefix.
    pub(super) fn listing(&self, action: Action, prefix: &str) -> Asked {
        Asked {
            action,
            request: RequestContext::listing(action, &self.bucket, prefix),
            target: format!("prefix {prefix:?} of bucket {}", self.bucket_full),
            length: None,
            content_type: None,
        }
    }

    /// `action` on the bucket itself (`HeadBucket`).
    pub(super) fn bucket(&self, action: Action) -> Asked {
        Asked {
            action,
            request: RequestContext::bucket(action, &self.bucket),
            target: format!("bucket {}", self.bucket_full),
            length: None,
            content_type: None,
        }
    }

    /// Evaluates the policy: allowed, or 403 `AccessDenied` naming the
    /// action, the key (or prefix) and the condition values it was judged on.
    pub(super) fn allow(&self, asked: &Asked) -> Result<(), V5Error> {
        if self.policy.evaluate(&asked.request).is_allowed() {
            return Ok(());
        }
        Err(self.denied(asked, ""))
    }

    /// The refusal of `asked`, with an optional explanation.
    pub(super) fn denied(&self, asked: &Asked, because: &str) -> V5Error {
        let mut values = Vec::new();
        if let Some(length) = asked.length {
            values.push(format!("content-length {length}"));
        }
        if let Some(content_type) = &asked.content_type {
            values.push(format!("content-type {content_type:?}"));
        }
        let values = if values.is_empty() {
            String::new()
        } else {
            format!(" with {}", values.join(", "))
        };
        err(
            403,
            "AccessDenied",
            format!(
                "Access Denied: the temporary credentials do not allow {} on {}{values}{because}; \
                 nothing was stored or changed.",
                asked.action, asked.target
            ),
        )
    }

    /// The largest `cos:content-length` the policy allows for `asked` (all
    /// its other values set), `Some(u64::MAX)` when it sets no bound, `None`
    /// when it allows no length at all. What a body streamed without a
    /// declared length (the file of a POST Object) is cut off at.
    ///
    /// Whether a length is allowed changes only at the numbers the policy
    /// compares `cos:content-length` with, so trying each of them, its
    /// neighbours, 0 and `u64::MAX` finds the largest allowed length exactly.
    pub(super) fn largest_allowed_length(&self, asked: &Asked) -> Option<u64> {
        let mut candidates = vec![0, u64::MAX];
        for n in length_bounds(self.policy) {
            candidates.extend([n.saturating_sub(1), n, n.saturating_add(1)]);
        }
        candidates
            .into_iter()
            .filter(|n| {
                let request = asked.request.clone().with_content_length(*n);
                self.policy.evaluate(&request).is_allowed()
            })
            .max()
    }
}

/// Every number a condition of `policy` compares `cos:content-length` with.
fn length_bounds(policy: &Policy) -> Vec<u64> {
    let mut out = Vec::new();
    for statement in &policy.statement {
        for keys in statement.condition.values() {
            for (key, values) in keys {
                if key != "cos:content-length" {
                    continue;
                }
                out.extend(values.as_slice().iter().filter_map(|v| match v {
                    cam::ConditionValue::Number(n) => n.as_u64(),
                    cam::ConditionValue::Text(s) => s.parse().ok(),
                    cam::ConditionValue::Bool(_) => None,
                }));
            }
        }
    }
    out
}

/// The request's `Content-Length`, which temporary credentials' size
/// conditions are evaluated on before the body is read: a body without one
/// (chunked) is refused with 411 `MissingContentLength`.
pub(super) fn declared_length(req: &HttpRequest) -> Result<u64, V5Error> {
    http::content_length(req).ok_or_else(|| {
        err(
            411,
            "MissingContentLength",
            "You must provide the Content-Length HTTP header: requests made with temporary \
             credentials are checked against their size limit before the body is read.",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::ObjectKey;
    use shared::cam::{Scope, UploadLimits};

    fn grant(policy: &Policy) -> Grant<'_> {
        Grant {
            policy,
            bucket: cam::Bucket::new("ap-guangzhou", "1250000000", "metis").unwrap(),
            bucket_full: "metis-1250000000".to_owned(),
        }
    }

    fn put(g: &Grant<'_>, key: &str) -> Asked {
        let key = StoreKey::Object(ObjectKey::parse(key).unwrap());
        g.object(Action::PostObject, &key)
            .unwrap()
            .content_type("image/png")
    }

    #[test]
    fn the_largest_allowed_length_is_the_policy_bound() {
        let bucket = cam::Bucket::new("ap-guangzhou", "1250000000", "metis").unwrap();
        let limits = UploadLimits {
            max_size: 1000,
            content_types: vec!["image/*".into()],
        };
        let policy = Policy::for_upload(
            &bucket,
            &Scope::Key(ObjectKey::parse("u/1/a.png").unwrap()),
            &limits,
        );
        let g = grant(&policy);
        assert_eq!(g.largest_allowed_length(&put(&g, "u/1/a.png")), Some(1000));
        assert_eq!(g.largest_allowed_length(&put(&g, "u/1/b.png")), None);
        let text = put(&g, "u/1/a.png").content_type("text/html");
        assert_eq!(g.largest_allowed_length(&text), None);
    }

    #[test]
    fn bounds_from_several_statements_and_denies_combine() {
        // Allowed: up to 5000 as a number, but 100..=200 is denied (written
        // as strings), and exactly 4000 too.
        let policy = Policy::from_json(
            r#"{"version":"2.0","statement":[
            {"effect":"allow","action":"name/cos:PostObject","resource":"*",
             "condition":{"numeric_less_than_equal":{"cos:content-length":5000}}},
            {"effect":"deny","action":"*","resource":"*",
             "condition":{"numeric_greater_than_equal":{"cos:content-length":"100"},
                          "numeric_less_than_equal":{"cos:content-length":"200"}}},
            {"effect":"deny","action":"*","resource":"*",
             "condition":{"numeric_equal":{"cos:content-length":4000}}}]}"#,
        )
        .unwrap();
        let g = grant(&policy);
        let asked = put(&g, "u/1/a.png");
        assert_eq!(g.largest_allowed_length(&asked), Some(5000));
        assert!(g.allow(&asked.clone().length(99)).is_ok());
        assert!(g.allow(&asked.clone().length(150)).is_err());
        // Unbounded: an allow without a size condition.
        let open = Policy::from_json(
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*"}]}"#,
        )
        .unwrap();
        let g = grant(&open);
        assert_eq!(
            g.largest_allowed_length(&put(&g, "u/1/a.png")),
            Some(u64::MAX)
        );
    }

    #[test]
    fn refusals_name_the_action_the_key_and_the_values() {
        let policy = Policy::from_json(r#"{"version":"2.0","statement":[]}"#).unwrap();
        let g = grant(&policy);
        let e = g.allow(&put(&g, "u/1/a.png").length(7)).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (403, "AccessDenied"));
        assert!(
            e.message
                .contains("name/cos:PostObject on key \"u/1/a.png\"")
                && e.message
                    .contains("content-length 7, content-type \"image/png\""),
            "{}",
            e.message
        );
        let dir = StoreKey::Dir(shared::DirPath::parse("/u/1/d/").unwrap());
        let e = g.object(Action::PutObject, &dir).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (403, "AccessDenied"));
    }
}
