//! Where settings come from: the table of every setting (its TOML key and
//! environment variable), and reading them as text from an optional TOML
//! file, then the environment, then command-line overrides (each wins over
//! the one before).

use std::collections::BTreeMap;
use std::path::Path;

use super::ConfigError;

/// `(file key, environment variable)` of every setting: the reader accepts
/// exactly these, and the crate docs and `config.example.toml` list them all
/// (a test checks both).
pub(super) const SETTINGS: &[(&str, &str)] = &[
    ("server.bind", "AUTH_BIND"),
    ("server.public_url", "AUTH_PUBLIC_URL"),
    ("server.data_dir", "AUTH_DATA_DIR"),
    ("server.database", "AUTH_DATABASE"),
    ("server.workers", "AUTH_WORKERS"),
    ("server.trust_forwarded_for", "AUTH_TRUST_FORWARDED_FOR"),
    ("server.audit_queue", "AUTH_AUDIT_QUEUE"),
    ("server.cors_allowed_origins", "AUTH_CORS_ALLOWED_ORIGINS"),
    ("database.url", "AUTH_DATABASE_URL"),
    ("database.max_connections", "AUTH_DATABASE_MAX_CONNECTIONS"),
    (
        "database.connect_timeout_secs",
        "AUTH_DATABASE_CONNECT_TIMEOUT_SECS",
    ),
    ("jwt.secret", "AUTH_JWT_SECRET"),
    ("jwt.issuer", "AUTH_JWT_ISSUER"),
    ("jwt.audience", "AUTH_JWT_AUDIENCE"),
    ("jwt.ttl_secs", "AUTH_JWT_TTL_SECS"),
    ("jwt.leeway_secs", "AUTH_JWT_LEEWAY_SECS"),
    ("cos.appid", "AUTH_COS_APPID"),
    ("cos.bucket", "AUTH_COS_BUCKET"),
    ("cos.region", "AUTH_COS_REGION"),
    ("cos.secret_id", "AUTH_COS_SECRET_ID"),
    ("cos.secret_key", "AUTH_COS_SECRET_KEY"),
    ("cos.v4_endpoint", "AUTH_COS_V4_ENDPOINT"),
    ("cos.v5_endpoint", "AUTH_COS_V5_ENDPOINT"),
    ("wechat.appid", "AUTH_WECHAT_APPID"),
    ("wechat.secret", "AUTH_WECHAT_SECRET"),
    ("wechat.api_base", "AUTH_WECHAT_API_BASE"),
    ("wechat.timeout_secs", "AUTH_WECHAT_TIMEOUT_SECS"),
    ("signing.dev_login", "AUTH_DEV_LOGIN"),
    ("signing.ttl_secs", "AUTH_SIGN_TTL_SECS"),
    ("signing.max_upload_size", "AUTH_MAX_UPLOAD_SIZE"),
    ("signing.v5_methods", "AUTH_V5_METHODS"),
    ("sts.duration_secs", "AUTH_STS_DURATION_SECS"),
    ("sts.allowed_extensions", "AUTH_STS_ALLOWED_EXTENSIONS"),
    (
        "sts.allowed_content_types",
        "AUTH_STS_ALLOWED_CONTENT_TYPES",
    ),
    ("sts.endpoint", "AUTH_STS_ENDPOINT"),
    ("sts.scheme", "AUTH_STS_SCHEME"),
    ("sts.timeout_secs", "AUTH_STS_TIMEOUT_SECS"),
    ("sts.reuse_margin_secs", "AUTH_STS_REUSE_MARGIN_SECS"),
    ("sts.token_key", "AUTH_STS_TOKEN_KEY"),
    ("limits.login_per_minute", "AUTH_LOGIN_PER_MINUTE"),
    ("limits.login_burst", "AUTH_LOGIN_BURST"),
    ("limits.sign_per_second", "AUTH_SIGN_PER_SECOND"),
    ("limits.sign_burst", "AUTH_SIGN_BURST"),
    ("store.fault_seed", "AUTH_STORE_FAULT_SEED"),
    ("store.fault_error_rate", "AUTH_STORE_FAULT_ERROR_RATE"),
    ("store.fault_drop_rate", "AUTH_STORE_FAULT_DROP_RATE"),
    (
        "store.fault_lost_reply_rate",
        "AUTH_STORE_FAULT_LOST_REPLY_RATE",
    ),
    ("store.fault_latency_ms", "AUTH_STORE_FAULT_LATENCY_MS"),
    ("store.fault_latency_rate", "AUTH_STORE_FAULT_LATENCY_RATE"),
    ("store.print_banner", "AUTH_PRINT_BANNER"),
    ("store.allow_remote", "AUTH_STORE_ALLOW_REMOTE"),
    ("store.upload_ttl_secs", "AUTH_STORE_UPLOAD_TTL_SECS"),
];

/// `(file key, environment variable)` of the setting `key`, if there is one.
pub(super) fn setting(key: &str) -> Option<(&'static str, &'static str)> {
    SETTINGS.iter().find(|(k, _)| *k == key).copied()
}

/// Reads the settings: the TOML `file`, overlaid by the environment, overlaid
/// by `overrides` (`("server.bind", "…")`).
pub(super) fn read(file: Option<&Path>, overrides: &[(&str, String)]) -> Result<Raw, ConfigError> {
    let mut map = BTreeMap::new();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        map = flatten_toml(path, &text)?;
    }
    for (key, env) in SETTINGS {
        // The one sanctioned place that reads the process environment.
        #[allow(clippy::disallowed_methods)]
        let value = std::env::var_os(env);
        if let Some(v) = value {
            let v = v
                .into_string()
                .map_err(|_| Raw::invalid(key, "is not valid UTF-8"))?;
            map.insert(*key, v);
        }
    }
    for (key, value) in overrides {
        let (key, _) = setting(key)
            .ok_or_else(|| ConfigError::Inconsistent(format!("unknown setting {key:?}")))?;
        map.insert(key, value.clone());
    }
    Ok(Raw(map))
}

/// Raw settings: file values overlaid by environment values, as text.
pub(super) struct Raw(BTreeMap<&'static str, String>);

/// Raw settings from `(file key, value)` pairs (tests).
#[cfg(test)]
pub(super) fn raw(pairs: &[(&'static str, &str)]) -> Raw {
    Raw(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
}

impl Raw {
    pub(super) fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
        let (key, env) = setting(key).unwrap_or(("?", "?"));
        ConfigError::Invalid {
            key,
            env,
            message: message.into(),
        }
    }

    pub(super) fn str(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    /// A comma-separated list setting: its items, trimmed, empty ones dropped
    /// (`None` when the setting is absent).
    pub(super) fn list(&self, key: &str) -> Option<Vec<&str>> {
        self.str(key).map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .collect()
        })
    }

    pub(super) fn string_or(&self, key: &str, default: &str) -> String {
        self.str(key).unwrap_or(default).to_owned()
    }

    pub(super) fn parse<T: std::str::FromStr>(
        &self,
        key: &str,
        default: T,
    ) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.str(key) {
            None => Ok(default),
            Some(s) => s
                .parse()
                .map_err(|e| Self::invalid(key, format!("cannot parse {s:?}: {e}"))),
        }
    }

    pub(super) fn bool(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.str(key).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some(other) => Err(Self::invalid(
                key,
                format!("expected true or false, got {other:?}"),
            )),
        }
    }

    pub(super) fn rate(&self, key: &str, default: f64) -> Result<f64, ConfigError> {
        let v: f64 = self.parse(key, default)?;
        if !(0.0..=1.0).contains(&v) {
            return Err(Self::invalid(key, "must lie between 0 and 1"));
        }
        Ok(v)
    }
}

/// A TOML syntax error as `line L, column C: <message>`, without the source
/// text. (`toml::de::Error`'s `Display` quotes the offending line, which may
/// be a `secret = "..."` line.)
fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let message = e.message().trim().replace('\n', "; ");
    let message = match e.span() {
        Some(span) => {
            let start = span.start.min(text.len());
            let before = text.get(..start).unwrap_or("");
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    };
    ConfigError::Parse {
        path: path.to_owned(),
        message,
    }
}

/// Parses a TOML document into a table, reporting errors without source text.
pub(super) fn parse_toml_table(path: &Path, text: &str) -> Result<toml::Table, ConfigError> {
    text.parse::<toml::Table>()
        .map_err(|e| toml_error(path, text, &e))
}

pub(super) fn flatten_toml(
    path: &Path,
    text: &str,
) -> Result<BTreeMap<&'static str, String>, ConfigError> {
    let parse_err = |message: String| ConfigError::Parse {
        path: path.to_owned(),
        message,
    };
    let table = parse_toml_table(path, text)?;
    let mut out = BTreeMap::new();
    for (section, value) in table {
        let toml::Value::Table(inner) = value else {
            return Err(parse_err(format!(
                "top-level key {section:?} must be a [section]"
            )));
        };
        for (name, v) in inner {
            let full = format!("{section}.{name}");
            let (key, _) =
                setting(&full).ok_or_else(|| parse_err(format!("unknown setting {full:?}")))?;
            let text = match v {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Array(items) => {
                    let mut parts = Vec::new();
                    for item in items {
                        match item {
                            toml::Value::String(s) => parts.push(s),
                            _ => return Err(parse_err(format!("{full}: expected strings"))),
                        }
                    }
                    parts.join(",")
                }
                _ => return Err(parse_err(format!("{full}: unsupported value type"))),
            };
            out.insert(key, text);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::sections::from_raw;

    #[test]
    fn toml_file_is_flattened_and_unknown_keys_refused() {
        let p = Path::new("x.toml");
        let m = flatten_toml(
            p,
            "[server]\nbind = \"0.0.0.0:9000\"\n[signing]\nttl_secs = 600\nv5_methods = [\"PUT\", \"post\"]\n",
        )
        .unwrap();
        assert_eq!(m.get("server.bind").unwrap(), "0.0.0.0:9000");
        assert_eq!(m.get("signing.ttl_secs").unwrap(), "600");
        assert_eq!(m.get("signing.v5_methods").unwrap(), "PUT,post");
        for bad in ["[server]\nbnd = 1\n", "bind = 1\n"] {
            let r = flatten_toml(p, bad);
            assert!(matches!(r, Err(ConfigError::Parse { .. })), "{r:?}");
        }
    }

    #[test]
    fn toml_syntax_errors_give_the_line_but_never_the_source_text() {
        let p = Path::new("bad.toml");
        for (text, line) in [
            ("[jwt]\nsecret = \"hunter2-unterminated\n", 2),
            ("[jwt]\nsecret = hunter2-bare-value\n", 2),
            (
                "[server]\nbind = \"127.0.0.1:1\"\n[cos]\nsecret_key = \"hunter2\" trailing\n",
                4,
            ),
            ("[cos]\nsecret_key = 'hunter2' = 'x'\n", 2),
            (
                "[cos]\nsecret_key = \"hunter2\"\nsecret_key = \"hunter2\"\n",
                3,
            ),
        ] {
            // The old rendering (toml's Display) quotes the offending line.
            let display = text.parse::<toml::Table>().unwrap_err().to_string();
            assert!(display.contains("hunter2"), "{display}");
            let e = flatten_toml(p, text).unwrap_err().to_string();
            assert!(!e.contains("hunter2"), "{text:?} -> {e}");
            assert!(e.contains("bad.toml"), "{e}");
            assert!(
                e.contains(&format!("line {line}, column ")),
                "{text:?} -> {e}"
            );
        }
    }

    #[test]
    fn example_config_parses() {
        let text = include_str!("../../config.example.toml");
        let m = flatten_toml(Path::new("config.example.toml"), text).unwrap();
        assert!(!m.is_empty());
        assert_eq!(m.get("store.allow_remote").unwrap(), "false");
        assert_eq!(m.get("server.cors_allowed_origins").unwrap(), "");
        // The example, with its data_dir pointed elsewhere, is a valid configuration.
        let dir = tempfile::tempdir().unwrap();
        let mut m = m;
        m.insert("server.data_dir", dir.path().to_str().unwrap().to_owned());
        let c = from_raw(&Raw(m)).unwrap();
        assert!(c.cors_allowed_origins.is_empty() && !c.embedded.allow_remote);
    }

    /// Every `AUTH_<NAME>` in `text` (a bare `AUTH_*` is not a name).
    fn env_names(text: &str) -> Vec<&str> {
        text.match_indices("AUTH_")
            .map(|(i, _)| {
                let rest = &text[i..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                    .unwrap_or(rest.len());
                &rest[..end]
            })
            .filter(|name| name.len() > "AUTH_".len())
            .collect()
    }

    #[test]
    fn every_setting_is_in_the_example_file_and_the_crate_docs() {
        let example = include_str!("../../config.example.toml");
        // The configuration table of the crate docs.
        let rows: Vec<&str> = include_str!("../lib.rs")
            .lines()
            .filter(|line| line.starts_with("//! | `AUTH_"))
            .collect();
        for (key, env) in SETTINGS {
            let (section, name) = key.split_once('.').unwrap();
            // Under its `[section]`, a line `name = …  # ENV …`, possibly commented out.
            let mut current = "";
            let in_example = example.lines().any(|line| {
                if let Some(header) = line.strip_prefix('[') {
                    current = header.trim_end().trim_end_matches(']');
                    return false;
                }
                let line = line.trim_start_matches('#').trim_start();
                current == section
                    && line.starts_with(&format!("{name} ="))
                    && line
                        .split_once('#')
                        .is_some_and(|(_, comment)| env_names(comment).contains(env))
            });
            assert!(in_example, "{key} ({env}) is not in config.example.toml");
            let in_docs = rows
                .iter()
                .any(|row| row.contains(&format!("`{env}`")) && row.contains(&format!("`{key}`")));
            assert!(
                in_docs,
                "{key} ({env}) is not in the crate docs' configuration table"
            );
        }
        // And neither names a variable the reader does not know.
        let known: Vec<&str> = SETTINGS.iter().map(|(_, env)| *env).collect();
        for env in env_names(example) {
            assert!(
                known.contains(&env),
                "config.example.toml names unknown {env}"
            );
        }
        for env in rows.iter().flat_map(|row| env_names(row)) {
            assert!(known.contains(&env), "the crate docs name unknown {env}");
        }
    }
}
