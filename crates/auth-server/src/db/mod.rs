//! Persistence: users and an audit table of issued signatures, in SQLite (the
//! default: one file, one server) or PostgreSQL (`database.url =
//! "postgres://…"`: several replicas on one database).
//!
//! One schema, one set of migrations (`migrate.rs`) and one code path for
//! both: every query is written once, with `$1`-style parameters (SQLite
//! takes them too), and runs through sqlx's `Any` driver, which picks the
//! backend from the URL.
//!
//! Why sqlx (0.8, without its compile-time-checked macros, which would need a
//! database at build time): it is maintained, async on tokio (the runtime
//! actix already runs), has SQLite and PostgreSQL drivers behind one `Any`
//! pool and a migrator that locks PostgreSQL while it applies migrations.
//! The alternative, `tokio-postgres` with a pool beside `rusqlite`, would
//! mean two code paths, two pools and our own migration bookkeeping. Its
//! SQLite driver links `libsqlite3-sys` 0.30 (bundled SQLite); another
//! crate of the workspace that wants SQLite must use the same version
//! (`rusqlite` 0.32, or sqlx itself), since the C library links once.
//!
//! Request handling never waits for the audit: records go through a bounded
//! channel to one writer thread ([`audit`]) that inserts them in batches. The
//! user upsert at login is the only write a request awaits, through the pool.
//!
//! - `url.rs`: [`DatabaseUrl`], the parsed, redacted address;
//! - `migrate.rs`: the migrations and the one dialect difference;
//! - `users.rs`: [`Users`];
//! - `audit.rs`: [`AuditLog`], its writer thread, and counts of its rows.

pub mod audit;
mod migrate;
mod url;
mod users;

use sqlx::AnyPool;
use sqlx::Executor as _;
use sqlx::any::AnyPoolOptions;

pub use self::audit::{AuditLog, AuditRecord, AuditWriter, Kind, start_audit};
pub use self::url::{DatabaseUrl, InvalidDatabaseUrl, PostgresUrl};
pub use self::users::{Provider, Users};
use crate::config::DatabaseConfig;

/// Which database engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Database errors. None contains the PostgreSQL password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// The database could not be reached or opened.
    #[error("cannot open the database {url}: {message}")]
    Connect {
        /// The database, password redacted.
        url: String,
        /// Why.
        message: String,
    },
    /// The schema could not be brought up to date.
    #[error("cannot apply the migrations to the database {url}: {message}")]
    Migrate {
        /// The database, password redacted.
        url: String,
        /// Why.
        message: String,
    },
    /// A query failed.
    #[error("database: {0}")]
    Query(#[from] sqlx::Error),
    /// The database did not answer in time.
    #[error("the database did not answer within {0:?}")]
    Timeout(std::time::Duration),
}

/// A pool of connections to the database, its schema up to date. Cheap to
/// clone (clones share the pool).
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl std::fmt::Debug for Db {
    // The pool's own `Debug` is safe too, but says nothing useful.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .field("connections", &self.pool.size())
            .finish()
    }
}

impl Db {
    /// Connects (creating a SQLite file and its directory when missing) and
    /// applies the migrations the database lacks.
    pub async fn connect(config: &DatabaseConfig) -> Result<Db, DbError> {
        let connect_error = |e: sqlx::Error| DbError::Connect {
            url: config.url.to_string(),
            message: describe(config, &e),
        };
        if let Some(dir) = config
            .url
            .sqlite_path()
            .and_then(std::path::Path::parent)
            .filter(|d| !d.as_os_str().is_empty())
        {
            // A failure here surfaces as the connect error below.
            let _ = std::fs::create_dir_all(dir);
        }
        sqlx::any::install_default_drivers();
        let pool = pool_options(config, config.max_connections)
            .connect(&connect_url(config)?)
            .await
            .map_err(connect_error)?;
        let db = Db {
            pool,
            backend: backend(&config.url),
        };
        let migrated = async {
            migrate::migrator(db.backend).await?.run(&db.pool).await?;
            if db.backend == Backend::Sqlite {
                migrate::add_source_column(&db.pool).await?;
            }
            Ok::<(), sqlx::migrate::MigrateError>(())
        };
        migrated.await.map_err(|e| DbError::Migrate {
            url: config.url.to_string(),
            message: match &config.url {
                DatabaseUrl::Postgres(pg) => pg.scrub(&e.to_string()),
                DatabaseUrl::Sqlite(_) => e.to_string(),
            },
        })?;
        Ok(db)
    }

    /// The connection pool, for queries of tables beyond users and the audit.
    /// Write each query once, with `$1`, `$2`, … parameters, and only SQL
    /// both backends take.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Runs `SELECT 1` within `timeout`: whether the database answers now
    /// (the readiness check a load balancer polls).
    pub async fn ping(&self, timeout: std::time::Duration) -> Result<(), DbError> {
        let ping = sqlx::query("SELECT 1").execute(&self.pool);
        match tokio::time::timeout(timeout, ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(DbError::Query(e)),
            Err(_) => Err(DbError::Timeout(timeout)),
        }
    }

    /// SQLite or PostgreSQL.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn backend(url: &DatabaseUrl) -> Backend {
    match url {
        DatabaseUrl::Sqlite(_) => Backend::Sqlite,
        DatabaseUrl::Postgres(_) => Backend::Postgres,
    }
}

/// The URL the driver connects with (the password in clear: only for sqlx).
fn connect_url(config: &DatabaseConfig) -> Result<String, DbError> {
    match &config.url {
        DatabaseUrl::Postgres(pg) => Ok(pg.expose_secret()),
        DatabaseUrl::Sqlite(path) => {
            // sqlx reads a sqlite URL's path percent-decoded; `mode=rwc`
            // creates the file when it is missing.
            let file_url = std::path::absolute(path)
                .ok()
                .and_then(|p| ::url::Url::from_file_path(p).ok())
                .ok_or_else(|| DbError::Connect {
                    url: config.url.to_string(),
                    message: "cannot make the path absolute".into(),
                })?;
            Ok(format!("sqlite://{}?mode=rwc", file_url.path()))
        }
    }
}

/// The pool's settings: at most `max` connections, each made within the
/// connect timeout.
fn pool_options(config: &DatabaseConfig, max: u32) -> AnyPoolOptions {
    let options = AnyPoolOptions::new()
        .max_connections(max.max(1))
        .acquire_timeout(config.connect_timeout);
    match config.url {
        DatabaseUrl::Postgres(_) => options,
        // The second place the backends differ. The `Any` driver configures a
        // connection from its URL alone, and a sqlite URL cannot ask for the
        // write-ahead log (readers never block the writer; kept in the file)
        // or for syncing at checkpoints only (a power loss may lose the last
        // commits, never corrupt the file), so every new connection asks.
        DatabaseUrl::Sqlite(_) => options.after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL")
                    .await
                    .map(drop)
            })
        }),
    }
}

/// A pool that connects on first use, for a thread with its own runtime (the
/// audit writer); call it inside that runtime.
fn lazy_pool(config: &DatabaseConfig, max: u32) -> Result<AnyPool, DbError> {
    sqlx::any::install_default_drivers();
    let url = connect_url(config)?;
    pool_options(config, max)
        .connect_lazy(&url)
        .map_err(|e| DbError::Connect {
            url: config.url.to_string(),
            message: describe(config, &e),
        })
}

/// A driver error as text, the password scrubbed (drivers should never
/// include it, but a URL parse error might quote the URL).
fn describe(config: &DatabaseConfig, e: &sqlx::Error) -> String {
    let text = match e {
        sqlx::Error::PoolTimedOut => format!(
            "no connection within {} s (database.connect_timeout_secs)",
            config.connect_timeout.as_secs()
        ),
        e => e.to_string(),
    };
    match &config.url {
        DatabaseUrl::Postgres(pg) => pg.scrub(&text),
        DatabaseUrl::Sqlite(_) => text,
    }
}

/// `v` as the signed 64-bit integer both databases store (saturating).
fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A stored id or count as `u64` (0 for a negative value, which the schema
/// never produces).
fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}
