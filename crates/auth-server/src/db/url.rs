//! [`DatabaseUrl`]: which database the server uses, parsed once from
//! `database.url` (or `server.database`, a SQLite path) and kept typed, with a
//! PostgreSQL password that never shows in `Debug`, `Display`, logs or errors.

use std::fmt;
use std::path::{Path, PathBuf};

use cos_sign::SecretKey;
use url::{Position, Url};

/// Where users and the audit live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file, created (with its directory) when missing: one server.
    Sqlite(PathBuf),
    /// A PostgreSQL database, which several replicas may share.
    Postgres(PostgresUrl),
}

/// Why a database URL was refused. The message never contains the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidDatabaseUrl(String);

impl DatabaseUrl {
    /// Parses `sqlite://<path>` (`sqlite:<path>` too; `sqlite:///abs/path` is
    /// absolute, `sqlite://rel/path` relative to the working directory) or
    /// `postgres://user:password@host[:port]/database[?sslmode=…]`
    /// (`postgresql://` too).
    pub fn parse(text: &str) -> Result<Self, InvalidDatabaseUrl> {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return PostgresUrl::parse(text).map(Self::Postgres);
        }
        let Some(path) = ["sqlite://", "sqlite:"]
            .iter()
            .find_map(|scheme| lower.starts_with(scheme).then(|| &text[scheme.len()..]))
        else {
            return Err(InvalidDatabaseUrl(
                "expected sqlite://<path> or postgres://user:password@host/database".into(),
            ));
        };
        if path.is_empty() || path.contains(['?', '#']) || path.starts_with(':') {
            return Err(InvalidDatabaseUrl(
                "a sqlite:// URL names a file path, without query parameters \
                 (in-memory databases are not supported)"
                    .into(),
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(path) => Some(path),
            Self::Postgres(_) => None,
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(url) => url.fmt(f),
        }
    }
}

/// A `postgres://` URL whose password is kept apart, in a [`SecretKey`]:
/// `Debug` and `Display` show `postgres://user:<redacted>@host/db`.
#[derive(Clone)]
pub struct PostgresUrl {
    /// The URL without its password.
    url: Url,
    /// The password, percent-decoded.
    password: Option<SecretKey>,
}

impl PostgresUrl {
    fn parse(text: &str) -> Result<Self, InvalidDatabaseUrl> {
        // `url`'s parse errors name the problem, never the input.
        let mut url =
            Url::parse(text).map_err(|e| InvalidDatabaseUrl(format!("not a valid URL: {e}")))?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err(InvalidDatabaseUrl("a postgres:// URL needs a host".into()));
        }
        if url
            .query_pairs()
            .any(|(k, _)| k.eq_ignore_ascii_case("password"))
        {
            return Err(InvalidDatabaseUrl(
                "put the password in the URL's user info (postgres://user:password@host/db), \
                 not in a query parameter"
                    .into(),
            ));
        }
        let password = match url.password() {
            None => None,
            Some(encoded) => Some(SecretKey::new(
                percent_encoding::percent_decode_str(encoded)
                    .decode_utf8()
                    .map_err(|_| InvalidDatabaseUrl("the password is not UTF-8".into()))?,
            )),
        };
        url.set_password(None)
            .map_err(|()| InvalidDatabaseUrl("a postgres:// URL needs a host".into()))?;
        Ok(Self { url, password })
    }

    /// The URL to connect with, password included. Only the driver gets it.
    pub(crate) fn expose_secret(&self) -> String {
        let mut url = self.url.clone();
        if let Some(password) = &self.password {
            // Cannot fail: `parse` checked the URL has a host.
            let _ = url.set_password(Some(password.expose_secret()));
        }
        url.into()
    }

    /// `text` with the password, if any, replaced by `<redacted>` (for driver
    /// errors, which should not contain it, but might).
    pub(crate) fn scrub(&self, text: &str) -> String {
        match &self.password {
            Some(p) if !p.expose_secret().is_empty() => {
                text.replace(p.expose_secret(), "<redacted>")
            }
            _ => text.to_owned(),
        }
    }
}

impl PartialEq for PostgresUrl {
    fn eq(&self, other: &Self) -> bool {
        self.expose_secret() == other.expose_secret()
    }
}

impl Eq for PostgresUrl {}

impl fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.password {
            None => f.write_str(self.url.as_str()),
            Some(_) => write!(
                f,
                "{}://{}:<redacted>@{}",
                self.url.scheme(),
                self.url.username(),
                &self.url[Position::BeforeHost..]
            ),
        }
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostgresUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_are_paths() {
        for (text, path) in [
            ("sqlite:///var/lib/auth.sqlite3", "/var/lib/auth.sqlite3"),
            ("sqlite://data/auth.sqlite3", "data/auth.sqlite3"),
            ("sqlite:auth.db", "auth.db"),
            ("SQLite:///a b/c.db", "/a b/c.db"),
        ] {
            assert_eq!(
                DatabaseUrl::parse(text),
                Ok(DatabaseUrl::Sqlite(path.into())),
                "{text}"
            );
        }
        for bad in [
            "sqlite://",
            "sqlite::memory:",
            "sqlite://a.db?mode=ro",
            "mysql://h/db",
            "/plain/path",
        ] {
            let r = DatabaseUrl::parse(bad);
            assert!(matches!(r, Err(InvalidDatabaseUrl(_))), "{bad}: {r:?}");
        }
    }

    #[test]
    fn the_postgres_password_never_shows() {
        let text = "postgres://app:s3cr%40t-hunter2@db.example:5433/auth?sslmode=require";
        let url = DatabaseUrl::parse(text).unwrap();
        let DatabaseUrl::Postgres(pg) = &url else {
            panic!("{url:?}")
        };
        let shown = [format!("{url}"), format!("{url:?}"), format!("{pg:?}")];
        for s in &shown {
            assert!(!s.contains("hunter2"), "{s}");
        }
        assert_eq!(
            shown[0],
            "postgres://app:<redacted>@db.example:5433/auth?sslmode=require"
        );
        // The driver gets it back, encoded as it came.
        assert_eq!(pg.expose_secret(), text);
        assert_eq!(
            pg.scrub("password for s3cr@t-hunter2 refused"),
            "password for <redacted> refused"
        );
        // Without a password there is nothing to hide.
        let open = DatabaseUrl::parse("postgresql://app@localhost/auth").unwrap();
        assert_eq!(open.to_string(), "postgresql://app@localhost/auth");
        for bad in [
            "postgres:///auth",
            "postgres://app@h/db?password=hunter2",
            "postgres://app:hunter2@[::1/db",
        ] {
            let r = DatabaseUrl::parse(bad);
            assert!(
                matches!(&r, Err(e) if !e.to_string().contains("hunter2")),
                "{bad}: {r:?}"
            );
        }
    }
}
