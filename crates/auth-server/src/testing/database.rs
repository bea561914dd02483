//! A database of its own for each test (feature `test-support`): a SQLite
//! file in a temporary directory, or a fresh PostgreSQL database on the
//! server `DATABASE_URL` names (a `postgres://` URL whose role may create
//! databases; `scripts/postgres-local.sh start <dir>` writes one to
//! `<dir>/postgres.env`, with `DATABASE_ADMIN_URL`, the superuser, which is
//! used to create and drop the databases when set). One database per test
//! lets tests run in parallel.
//!
//! Without `DATABASE_URL` the PostgreSQL variant of a test has nothing to
//! run on and returns early, saying so on stderr; with
//! `COS_REQUIRE_POSTGRES=1` (which `scripts/test-all.sh` sets) it fails
//! instead, so a run that was meant to cover PostgreSQL cannot skip it
//! silently.
// Test support: a database that cannot be made should fail the test loudly.
#![allow(clippy::expect_used, clippy::panic, clippy::print_stderr)]

use sqlx::{Connection as _, Executor as _};

use crate::Config;
use crate::config::DatabaseConfig;
use crate::db::{Backend, DatabaseUrl};

/// One test's database; a PostgreSQL one is dropped with it.
#[derive(Debug)]
pub struct TestDatabase {
    /// What a server (or [`crate::db::Db::connect`]) is given to use it.
    pub config: DatabaseConfig,
    /// The temporary directory of a SQLite file.
    _dir: Option<tempfile::TempDir>,
    /// `(URL of a role that may drop it, name)` of a PostgreSQL database.
    postgres: Option<(String, String)>,
}

/// Reads a variable of the test environment.
// The harness's configuration is the environment scripts/test-all.sh sets.
#[allow(clippy::disallowed_methods)]
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl TestDatabase {
    /// A new SQLite file in a temporary directory.
    pub fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = DatabaseUrl::Sqlite(dir.path().join("auth.sqlite3"));
        TestDatabase {
            config: DatabaseConfig::new(url),
            _dir: Some(dir),
            postgres: None,
        }
    }

    /// A new, empty PostgreSQL database on the `DATABASE_URL` server; `None`
    /// (after a note on stderr) when the variable is unset, unless
    /// `COS_REQUIRE_POSTGRES=1`, which makes that a panic.
    pub async fn postgres() -> Option<TestDatabase> {
        let Some(url) = env("DATABASE_URL") else {
            if env("COS_REQUIRE_POSTGRES").as_deref() == Some("1") {
                panic!(
                    "COS_REQUIRE_POSTGRES=1 but DATABASE_URL is not set: start a server with \
                     scripts/postgres-local.sh start <dir> and export <dir>/postgres.env"
                );
            }
            eprintln!("DATABASE_URL is not set: the PostgreSQL variant of this test did not run");
            return None;
        };
        let mut own = ::url::Url::parse(&url).expect("DATABASE_URL is a URL");
        assert!(
            matches!(own.scheme(), "postgres" | "postgresql"),
            "DATABASE_URL must be a postgres:// URL"
        );
        let role = own.username().to_owned();
        let admin = env("DATABASE_ADMIN_URL").unwrap_or_else(|| url.clone());
        let name = format!("auth_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::postgres::PgConnection::connect(&admin)
            .await
            .expect("connect to DATABASE_ADMIN_URL (or DATABASE_URL)");
        conn.execute(format!(r#"CREATE DATABASE "{name}" OWNER "{role}""#).as_str())
            .await
            .expect("create a test database");
        let _ = conn.close().await;
        own.set_path(&format!("/{name}"));
        let url = DatabaseUrl::parse(own.as_str()).expect("a postgres:// URL");
        Some(TestDatabase {
            config: DatabaseConfig::new(url),
            _dir: None,
            postgres: Some((admin, name)),
        })
    }

    /// A new database of `backend` ([`TestDatabase::postgres`]'s `None` included).
    pub async fn new(backend: Backend) -> Option<TestDatabase> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite()),
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// SQLite or PostgreSQL.
    pub fn backend(&self) -> Backend {
        match self.config.url {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// PostgreSQL only: `false` makes the database refuse new connections and
    /// ends the open ones (to the servers using it, the database is gone);
    /// `true` lets connections in again.
    pub async fn set_reachable(&self, reachable: bool) {
        let (admin, name) = self
            .postgres
            .as_ref()
            .expect("set_reachable needs a PostgreSQL test database");
        let mut conn = sqlx::postgres::PgConnection::connect(admin)
            .await
            .expect("connect to DATABASE_ADMIN_URL (or DATABASE_URL)");
        conn.execute(format!(r#"ALTER DATABASE "{name}" ALLOW_CONNECTIONS {reachable}"#).as_str())
            .await
            .expect("ALTER DATABASE … ALLOW_CONNECTIONS");
        if !reachable {
            conn.execute(
                format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                )
                .as_str(),
            )
            .await
            .expect("end the database's connections");
        }
        let _ = conn.close().await;
    }

    /// Points `config` at this database.
    pub fn use_in(&self, config: &mut Config) {
        config.database = self.config.clone();
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Drop is not async: a thread with a runtime of its own drops it, and
        // FORCE closes what a stopped server may have left open.
        let drop_sql = format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut conn = sqlx::postgres::PgConnection::connect(&admin).await?;
                conn.execute(drop_sql.as_str()).await?;
                conn.close().await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test database {name}");
        }
    }
}
