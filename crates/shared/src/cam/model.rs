//! The policy JSON: types that parse it, refusing what they do not know, and
//! write it back compactly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The only policy language version there is.
pub const VERSION: &str = "2.0";

/// A CAM policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// `"2.0"` (also when absent, as CAM defaults it).
    #[serde(alias = "Version", default = "version")]
    pub version: String,
    /// The statements, in order (order does not change the decision).
    #[serde(alias = "Statement")]
    pub statement: Vec<Statement>,
}

fn version() -> String {
    VERSION.to_owned()
}

/// One statement: an effect on actions and resources, under conditions.
///
/// Unknown elements are refused rather than ignored: a misspelt `condition`
/// would otherwise make a conditional `allow` unconditional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// `allow` or `deny`.
    #[serde(alias = "Effect")]
    pub effect: Effect,
    /// Actions, e.g. `name/cos:PutObject`.
    #[serde(alias = "Action")]
    pub action: OneOrMany<String>,
    /// Resources, e.g. `qcs::cos:ap-guangzhou:uid/1250000000:metis-1250000000/u/12/*`.
    #[serde(alias = "Resource")]
    pub resource: OneOrMany<String>,
    /// Operator → condition key → value(s). Empty when absent.
    #[serde(
        alias = "Condition",
        default,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub condition: BTreeMap<String, BTreeMap<String, OneOrMany<ConditionValue>>>,
    /// Kept as written, never evaluated (an STS policy must not have one).
    #[serde(alias = "Principal", default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<serde_json::Value>,
}

/// A statement's effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// Grants.
    #[serde(alias = "Allow")]
    Allow,
    /// Refuses, whatever else grants.
    #[serde(alias = "Deny")]
    Deny,
}

/// A value written either alone or as a list; kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// `"x"`.
    One(T),
    /// `["x", "y"]`.
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// The values, one or many.
    pub fn as_slice(&self) -> &[T] {
        match self {
            Self::One(v) => std::slice::from_ref(v),
            Self::Many(v) => v,
        }
    }
}

/// A condition value: a string, a number or a boolean, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ConditionValue {
    /// `"image/*"`, or digits standing for a number.
    Text(String),
    /// `10485760`.
    Number(serde_json::Number),
    /// `true` (`bool_equal`, not evaluated here).
    Bool(bool),
}

/// Why a policy was not parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// Not JSON, or not the shape of a policy (unknown element, wrong type,
    /// unknown effect); the message says where.
    #[error("the policy is not a valid CAM policy: {0}")]
    Syntax(String),
    /// A `version` other than `2.0`.
    #[error("policy version {0:?} is not supported (only \"2.0\" is)")]
    UnsupportedVersion(String),
}

impl Policy {
    /// Parses policy JSON (from configuration, or a token's claims).
    pub fn from_json(text: &str) -> Result<Self, PolicyError> {
        let policy: Self =
            serde_json::from_str(text).map_err(|e| PolicyError::Syntax(e.to_string()))?;
        if policy.version != VERSION {
            return Err(PolicyError::UnsupportedVersion(policy.version));
        }
        Ok(policy)
    }

    /// Compact JSON, lower-case element names, `version` first.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|_| unreachable!("strings, numbers and string-keyed maps serialise"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tencents_upload_example() {
        // https://cloud.tencent.com/document/product/436/31923
        let text = r#"{"version":"2.0","statement":[
            {"action":["name/cos:PutObject","name/cos:PostObject"],"effect":"allow",
             "resource":["qcs::cos:ap-beijing:uid/1250000000:examplebucket-1250000000/doc/*"]},
            {"action":["name/cos:GetObject"],"effect":"allow",
             "resource":["qcs::cos:ap-beijing:uid/1250000000:examplebucket-1250000000/doc2/*"]}]}"#;
        let p = Policy::from_json(text).unwrap();
        assert_eq!(p.statement.len(), 2);
        assert_eq!(p.statement[1].action.as_slice(), ["name/cos:GetObject"]);
    }

    #[test]
    fn accepts_scalars_capitals_principal_and_a_missing_version() {
        let text = r#"{"Statement":[{"Effect":"Deny","Action":"name/cos:*","Resource":"*",
            "Principal":{"qcs":["*"]},
            "Condition":{"numeric_greater_than_if_exist":{"cos:content-length":"100"},
                         "bool_equal":{"cos:secure-transport":true}}}]}"#;
        let p = Policy::from_json(text).unwrap();
        assert_eq!(p.version, "2.0");
        let s = &p.statement[0];
        assert_eq!(s.effect, Effect::Deny);
        assert_eq!(s.action, OneOrMany::One("name/cos:*".to_owned()));
        assert_eq!(
            s.condition["bool_equal"]["cos:secure-transport"],
            OneOrMany::One(ConditionValue::Bool(true))
        );
        // Written back with lower-case names, and read back the same.
        let json = p.to_json();
        assert!(
            json.starts_with(
                r#"{"version":"2.0","statement":[{"effect":"deny","action":"name/cos:*""#
            ),
            "{json}"
        );
        assert_eq!(Policy::from_json(&json), Ok(p));
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        let syntax = |text: &str| match Policy::from_json(text) {
            Err(PolicyError::Syntax(msg)) => msg,
            other => panic!("{text}: {other:?}"),
        };
        syntax("");
        syntax("[]");
        syntax(r#"{"version":"2.0"}"#);
        let typo = syntax(
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*","condtion":{}}]}"#,
        );
        assert!(typo.contains("condtion"), "{typo}");
        syntax(r#"{"version":"2.0","statement":[{"effect":"maybe","action":"*","resource":"*"}]}"#);
        syntax(r#"{"version":"2.0","statement":[{"effect":"allow","resource":"*"}]}"#);
        syntax(r#"{"version":"2.0","statement":[{"effect":"allow","action":1,"resource":"*"}]}"#);
        syntax(
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*","condition":{"string_equal":{"k":null}}}]}"#,
        );
        syntax(r#"{"version":"2.0","statement":[],"extra":1}"#);
        assert_eq!(
            Policy::from_json(r#"{"version":"1.0","statement":[]}"#),
            Err(PolicyError::UnsupportedVersion("1.0".into()))
        );
    }
}
