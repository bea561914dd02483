//! Deciding one request: which statements apply, and what their conditions
//! say (the rules are in the module documentation of [`crate::cam`]).

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::model::{ConditionValue, Effect, OneOrMany, Policy, Statement};
use super::request::RequestContext;

/// The outcome of evaluating a policy for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Decision {
    /// An `allow` statement applies and no `deny` does.
    Allow,
    /// A `deny` statement applies.
    ExplicitDeny,
    /// No statement allows the request (the default).
    NotAllowed,
}

impl Decision {
    /// True for [`Decision::Allow`] only.
    pub fn is_allowed(self) -> bool {
        self == Self::Allow
    }
}

impl Policy {
    /// Decides `req` under this policy.
    pub fn evaluate(&self, req: &RequestContext) -> Decision {
        let mut allowed = false;
        for statement in &self.statement {
            if !statement.covers(req) {
                continue;
            }
            let outcome = conditions(&statement.condition, req);
            match statement.effect {
                // A deny whose conditions cannot be understood still denies.
                Effect::Deny if outcome != Outcome::Fails => return Decision::ExplicitDeny,
                Effect::Allow if outcome == Outcome::Holds => allowed = true,
                _ => {}
            }
        }
        if allowed {
            Decision::Allow
        } else {
            Decision::NotAllowed
        }
    }
}

impl Statement {
    /// True when one action and one resource match the request.
    fn covers(&self, req: &RequestContext) -> bool {
        let action = req.action().as_str();
        self.action.as_slice().iter().any(|p| star_match(p, action))
            && self
                .resource
                .as_slice()
                .iter()
                .any(|p| current_resource(p).is_some_and(|p| star_match(&p, req.resource())))
    }
}

/// `pattern` equals `value`, or ends in `*` and the rest is a prefix of `value`.
fn star_match(pattern: &str, value: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => pattern == value,
    }
}

/// A policy resource in the current form: the legacy
/// `qcs::cos:<region>:uid/<appid>:prefix//<appid>/<bucket>/<path>` becomes
/// `qcs::cos:<region>:uid/<appid>:<bucket>-<appid>/<path>`; `None` for a
/// legacy resource without a bucket, which matches nothing.
fn current_resource(pattern: &str) -> Option<Cow<'_, str>> {
    let Some((head, legacy)) = pattern.split_once(":prefix//") else {
        return Some(Cow::Borrowed(pattern));
    };
    let (appid, rest) = legacy.split_once('/')?;
    let (bucket, path) = rest.split_once('/')?;
    Some(Cow::Owned(format!("{head}:{bucket}-{appid}/{path}")))
}

/// What a condition, or all of a statement's conditions, come to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Holds,
    Fails,
    /// An operator, key or value this evaluator does not understand.
    Unknown,
}

/// All conditions: any failure fails, else anything unknown is unknown.
fn conditions(
    condition: &BTreeMap<String, BTreeMap<String, OneOrMany<ConditionValue>>>,
    req: &RequestContext,
) -> Outcome {
    let mut outcome = Outcome::Holds;
    for (operator, keys) in condition {
        for (key, values) in keys {
            match condition_holds(operator, key, values.as_slice(), req) {
                Outcome::Fails => return Outcome::Fails,
                Outcome::Unknown => outcome = Outcome::Unknown,
                Outcome::Holds => {}
            }
        }
    }
    outcome
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compare {
    StringEqual,
    StringLike,
    NumericEqual,
    NumericLessThan,
    NumericLessThanEqual,
    NumericGreaterThan,
    NumericGreaterThanEqual,
}

/// `(comparison, negated, if_exist)` for a known operator.
fn operator(name: &str) -> Option<(Compare, bool, bool)> {
    let (base, if_exist) = match name.strip_suffix("_if_exist") {
        Some(base) => (base, true),
        None => (name, false),
    };
    let (compare, negated) = match base {
        "string_equal" => (Compare::StringEqual, false),
        "string_not_equal" => (Compare::StringEqual, true),
        "string_like" => (Compare::StringLike, false),
        "string_not_like" => (Compare::StringLike, true),
        "numeric_equal" => (Compare::NumericEqual, false),
        "numeric_not_equal" => (Compare::NumericEqual, true),
        "numeric_less_than" => (Compare::NumericLessThan, false),
        "numeric_less_than_equal" => (Compare::NumericLessThanEqual, false),
        "numeric_greater_than" => (Compare::NumericGreaterThan, false),
        "numeric_greater_than_equal" => (Compare::NumericGreaterThanEqual, false),
        _ => return None,
    };
    Some((compare, negated, if_exist))
}

/// The request's value for a known condition key.
enum KeyValue<'a> {
    Number(Option<u64>),
    Text(Option<Cow<'a, str>>),
}

fn key_value<'a>(key: &str, req: &'a RequestContext) -> Option<KeyValue<'a>> {
    match key {
        "cos:content-length" => Some(KeyValue::Number(req.content_length())),
        "cos:content-type" => Some(KeyValue::Text(req.content_type().map(Cow::Borrowed))),
        "cos:prefix" => Some(KeyValue::Text(
            req.prefix().map(|p| Cow::Owned(url_encode(p))),
        )),
        _ => None,
    }
}

fn condition_holds(
    operator_name: &str,
    key: &str,
    values: &[ConditionValue],
    req: &RequestContext,
) -> Outcome {
    let (Some((compare, negated, if_exist)), Some(actual)) =
        (operator(operator_name), key_value(key, req))
    else {
        return Outcome::Unknown;
    };
    if values.is_empty() {
        return Outcome::Unknown;
    }
    let any_match = match actual {
        KeyValue::Number(actual) => {
            let compare = match compare {
                Compare::NumericEqual => u64::eq,
                Compare::NumericLessThan => u64::lt,
                Compare::NumericLessThanEqual => u64::le,
                Compare::NumericGreaterThan => u64::gt,
                Compare::NumericGreaterThanEqual => u64::ge,
                Compare::StringEqual | Compare::StringLike => return Outcome::Unknown,
            };
            let Some(expected) = values.iter().map(as_number).collect::<Option<Vec<u64>>>() else {
                return Outcome::Unknown;
            };
            let Some(actual) = actual else {
                return missing(if_exist);
            };
            expected.iter().any(|e| compare(&actual, e))
        }
        KeyValue::Text(actual) => {
            let Some(expected) = values.iter().map(as_text).collect::<Option<Vec<&str>>>() else {
                return Outcome::Unknown;
            };
            let Some(actual) = actual else {
                return missing(if_exist);
            };
            match compare {
                Compare::StringEqual => expected.iter().any(|e| *e == actual),
                Compare::StringLike => expected.iter().any(|e| glob(e, &actual)),
                _ => return Outcome::Unknown,
            }
        }
    };
    if any_match != negated {
        Outcome::Holds
    } else {
        Outcome::Fails
    }
}

fn missing(if_exist: bool) -> Outcome {
    if if_exist {
        Outcome::Holds
    } else {
        Outcome::Fails
    }
}

/// A JSON number or a string of digits, as `u64`.
fn as_number(v: &ConditionValue) -> Option<u64> {
    match v {
        ConditionValue::Number(n) => n.as_u64(),
        ConditionValue::Text(s) if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    }
}

fn as_text(v: &ConditionValue) -> Option<&str> {
    match v {
        ConditionValue::Text(s) => Some(s),
        _ => None,
    }
}

/// `*` matches any run of characters (also none), `?` exactly one; every
/// other character itself. Linear backtracking to the last `*`, no regex.
pub(super) fn glob(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    let (mut pi, mut vi) = (0, 0);
    // The last `*` seen and the value position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if let Some((s, tried)) = star {
            // Let that `*` swallow one more character and go on from there.
            star = Some((s, tried + 1));
            pi = s + 1;
            vi = tried + 1;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Percent-encodes everything but `A-Z a-z 0-9 - _ . ~` (UTF-8, upper-case hex),
/// as a `cos:prefix` value is written in a policy.
pub(super) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_stars_and_question_marks() {
        for (pattern, value, expected) in [
            ("image/*", "image/jpeg", true),
            ("image/*", "image/", true),
            ("image/*", "image", false),
            ("image/*", "video/mp4", false),
            ("*", "", true),
            ("", "", true),
            ("", "a", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("*.jpg", "a.jpg.png", false),
            ("*.jpg", "a.png.jpg", true),
            ("image/jp?g", "image/jpeg", true),
            ("image/jp?g", "image/jpg", false),
            ("测?", "测试", true),
            ("**a", "a", true),
            ("a*", "A", false),
        ] {
            assert_eq!(glob(pattern, value), expected, "{pattern:?} {value:?}");
        }
    }

    #[test]
    fn legacy_resources_read_as_current_ones() {
        assert_eq!(
            current_resource(
                "qcs::cos:ap-guangzhou:uid/1250000000:prefix//1250000000/metis/u/12/*"
            )
            .as_deref(),
            Some("qcs::cos:ap-guangzhou:uid/1250000000:metis-1250000000/u/12/*")
        );
        assert_eq!(
            current_resource("qcs::cos:ap-guangzhou:uid/1:prefix//1/metis"),
            None
        );
        assert_eq!(current_resource("*").as_deref(), Some("*"));
    }

    #[test]
    fn prefixes_are_encoded_as_policies_write_them() {
        assert_eq!(
            url_encode("u/12/a b(1)*~é"),
            "u%2F12%2Fa%20b%281%29%2A~%C3%A9"
        );
    }
}
