//! Embedded (dev) mode's generated secrets: a JWT secret, the store's
//! credentials and the key of its security tokens, created once and kept in
//! `<data_dir>/dev-secrets.toml` (mode 0600), so tokens, signatures and
//! temporary credentials survive a restart. A file written before the token
//! key existed gets one added.

use std::path::Path;

use rand::Rng as _;
use rand::distributions::Alphanumeric;

use super::ConfigError;
use super::source::parse_toml_table;

pub(super) fn random_text(len: usize) -> String {
    rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Generated secrets persisted in the data directory (embedded/dev mode), so
/// tokens and signatures survive a restart.
#[derive(serde::Serialize)]
pub(super) struct DevSecrets {
    pub(super) jwt_secret: String,
    pub(super) cos_secret_id: String,
    pub(super) cos_secret_key: String,
    pub(super) sts_token_key: String,
}

impl DevSecrets {
    /// Reads the file's string fields; a missing `sts_token_key` (a file
    /// written by an older version) is `None`. Errors name the field and the
    /// line, never a value (serde's type errors would quote a mistyped value).
    fn parse(path: &Path, text: &str) -> Result<(DevSecrets, bool), ConfigError> {
        let mut table = parse_toml_table(path, text)?;
        let bad = |message: String| ConfigError::Parse {
            path: path.to_owned(),
            message,
        };
        const FIELDS: [&str; 4] = [
            "jwt_secret",
            "cos_secret_id",
            "cos_secret_key",
            "sts_token_key",
        ];
        if table.keys().any(|k| !FIELDS.contains(&k.as_str())) {
            // Not named: in a damaged file the "key" may be part of a secret.
            return Err(bad(format!(
                "unexpected field (expected only {})",
                FIELDS.join(", ")
            )));
        }
        let mut optional = |name: &str| match table.remove(name) {
            Some(toml::Value::String(s)) if !s.is_empty() => Ok(Some(s)),
            Some(_) => Err(bad(format!("{name} must be a non-empty string"))),
            None => Ok(None),
        };
        let sts_token_key = optional("sts_token_key")?;
        let mut field =
            |name: &str| optional(name)?.ok_or_else(|| bad(format!("{name} is missing")));
        let secrets = DevSecrets {
            jwt_secret: field("jwt_secret")?,
            cos_secret_id: field("cos_secret_id")?,
            cos_secret_key: field("cos_secret_key")?,
            sts_token_key: sts_token_key.clone().unwrap_or_default(),
        };
        Ok((secrets, sts_token_key.is_some()))
    }
}

pub(super) const DEV_SECRETS_FILE: &str = "dev-secrets.toml";

pub(super) fn load_or_create_dev_secrets(data_dir: &Path) -> Result<DevSecrets, ConfigError> {
    let path = data_dir.join(DEV_SECRETS_FILE);
    let err = |source| ConfigError::DevSecrets {
        path: path.clone(),
        source,
    };
    let secrets = match std::fs::read_to_string(&path) {
        Ok(text) => match DevSecrets::parse(&path, &text)? {
            (secrets, true) => return Ok(secrets),
            (secrets, false) => DevSecrets {
                sts_token_key: random_text(48),
                ..secrets
            },
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            crate::data_dir::create(data_dir).map_err(err)?;
            DevSecrets {
                jwt_secret: random_text(48),
                cos_secret_id: format!("AKIDdev{}", random_text(29)),
                cos_secret_key: random_text(32),
                sts_token_key: random_text(48),
            }
        }
        Err(e) => return Err(err(e)),
    };
    let text = toml::to_string(&secrets).map_err(|e| err(std::io::Error::other(e.to_string())))?;
    write_private(&path, text.as_bytes()).map_err(err)?;
    Ok(secrets)
}

/// Writes a file only the owner can read, atomically (temp file + rename).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::sections::from_raw;
    use crate::config::source::raw;

    #[test]
    fn a_damaged_dev_secrets_file_is_refused_without_echoing_it() {
        for text in [
            "jwt_secret = \"hunter2-abcdefghijklmnopqrstuvwxyz0123456789\ncos_secret_id",
            "jwt_secret = 123456789\ncos_secret_id = \"AKIDhunter2\"\ncos_secret_key = \"hunter2\"\n",
            "jwt_secret = \"hunter2\"\ncos_secret_id = \"AKIDhunter2\"\n",
            "jwt_secret = \"hunter2\"\ncos_secret_id = \"AKIDhunter2\"\ncos_secret_key = \"hunter2\"\nhunter2 = 1\n",
        ] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(DEV_SECRETS_FILE), text).unwrap();
            let d = dir.path().to_str().unwrap();
            let e = match from_raw(&raw(&[("server.data_dir", d)])) {
                Ok(_) => panic!("{text:?} was accepted"),
                Err(e) => e.to_string(),
            };
            assert!(e.contains(DEV_SECRETS_FILE), "{e}");
            assert!(
                !e.contains("hunter2") && !e.contains("123456789"),
                "{text:?} -> {e}"
            );
        }
        // A good file round-trips.
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let a = from_raw(&raw(&[("server.data_dir", d)])).unwrap();
        let text = std::fs::read_to_string(dir.path().join(DEV_SECRETS_FILE)).unwrap();
        let (parsed, complete) = DevSecrets::parse(Path::new("x"), &text).unwrap();
        assert!(complete);
        assert_eq!(parsed.jwt_secret, a.jwt.secret.expose_secret());
        assert_eq!(parsed.sts_token_key.len(), 48);
    }

    #[test]
    fn a_dev_secrets_file_without_a_token_key_gets_one_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DEV_SECRETS_FILE);
        let old = "jwt_secret = \"an-old-jwt-secret-of-some-length-0123456789\"\n\
                   cos_secret_id = \"AKIDdevOld\"\ncos_secret_key = \"old-key\"\n";
        std::fs::write(&path, old).unwrap();
        let d = dir.path().to_str().unwrap();
        let a = from_raw(&raw(&[("server.data_dir", d)])).unwrap();
        let creds = a.embedded.credentials.unwrap();
        assert_eq!(creds.secret_id, "AKIDdevOld");
        assert_eq!(
            a.jwt.secret.expose_secret(),
            "an-old-jwt-secret-of-some-length-0123456789"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let (parsed, complete) = DevSecrets::parse(&path, &text).unwrap();
        assert!(complete, "{text}");
        assert_eq!(parsed.cos_secret_key, "old-key");
        // The next start reads the same key.
        let b = from_raw(&raw(&[("server.data_dir", d)])).unwrap();
        assert!(a.sts.token_key.is_some() && b.sts.token_key.is_some());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }
}
