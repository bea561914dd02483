//! The database suite. Each test is written once, as a function of the
//! database it runs on, and runs twice: on a SQLite file
//! (`database::sqlite::<test>`, always) and on a fresh PostgreSQL database
//! (`database::postgres::<test>`, when `DATABASE_URL` names a server; with
//! `COS_REQUIRE_POSTGRES=1` a missing server fails it). See
//! [`auth_server::testing::database`].

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use auth_server::config::DatabaseConfig;
use auth_server::db::{self, AuditRecord, DatabaseUrl, Db, DbError, Kind, Provider, Users, audit};
use auth_server::metrics::Metrics;
use auth_server::testing::database::TestDatabase;
use sqlx::Connection as _;
use sqlx::Executor as _;

use crate::helpers::*;

/// Defines each `async fn test(db: &TestDatabase)` and a `#[tokio::test]` of
/// it in `mod sqlite` and in `mod postgres`.
macro_rules! on_every_backend {
    ($($(#[$doc:meta])* async fn $name:ident($db:ident: &TestDatabase) $body:block)*) => {
        $($(#[$doc])* async fn $name($db: &TestDatabase) $body)*

        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                let db = super::TestDatabase::sqlite();
                super::$name(&db).await;
            })*
        }

        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                if let Some(db) = super::TestDatabase::postgres().await {
                    super::$name(&db).await;
                }
            })*
        }
    };
}

fn record(user_id: u64) -> AuditRecord {
    AuditRecord {
        user_id,
        kind: Kind::V4,
        target: "/u/1/".into(),
        expires_at: 10,
        ip: "127.0.0.1".into(),
        issued_at: 1,
        source: None,
    }
}

on_every_backend! {
    /// One row per (provider, subject); a later login keeps the unionid and
    /// the creation time.
    async fn users_are_upserted_once_and_keep_their_unionid(t: &TestDatabase) {
        let db = Db::connect(&t.config).await.unwrap();
        assert_eq!(db.backend(), t.backend());
        let users = Users::new(db.clone());
        let a = users.upsert(Provider::Wechat, "o-a", Some("u-a"), 1).await.unwrap();
        let b = users.upsert(Provider::Wechat, "o-b", None, 2).await.unwrap();
        assert_ne!(a, b);
        assert_eq!(users.upsert(Provider::Wechat, "o-a", None, 3).await.unwrap(), a);
        assert_eq!(
            users.find(Provider::Wechat, "o-a").await.unwrap(),
            Some((a, Some("u-a".into())))
        );
        assert_eq!(users.find(Provider::Wechat, "o-c").await.unwrap(), None);
        // Same subject, other provider: another user.
        assert_ne!(users.upsert(Provider::Dev, "o-a", None, 4).await.unwrap(), a);
        let times: (i64, i64) =
            sqlx::query_as("SELECT created_at, last_login_at FROM users WHERE id = $1")
                .bind(a as i64)
                .fetch_one(db.pool())
                .await
                .unwrap();
        assert_eq!(times, (1, 3));
    }

    /// Two pools (as two replicas hold) logging one new user in at once
    /// get one row and one id: the database keeps the pair unique.
    async fn concurrent_logins_of_one_new_user_on_two_pools_get_one_id(t: &TestDatabase) {
        let replicas = [
            Users::new(Db::connect(&t.config).await.unwrap()),
            Users::new(Db::connect(&t.config).await.unwrap()),
        ];
        let logins: Vec<_> = (0..40u64)
            .map(|i| {
                let users = replicas[(i % 2) as usize].clone();
                tokio::spawn(async move { users.upsert(Provider::Dev, "carol", None, i).await })
            })
            .collect();
        let mut ids = BTreeSet::new();
        for login in logins {
            ids.insert(login.await.unwrap().unwrap());
        }
        assert_eq!(ids.len(), 1, "{ids:?}");
        let db = Db::connect(&t.config).await.unwrap();
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE subject = $1")
            .bind("carol")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(rows, 1);
    }

    /// More records than one batch (and than one multi-row insert) are all
    /// written, in order, by the time the writer has shut down.
    async fn audit_records_are_written_in_batches_and_flushed_at_shutdown(t: &TestDatabase) {
        let db = Db::connect(&t.config).await.unwrap();
        let metrics = Arc::new(Metrics::default());
        let (log, writer) = db::start_audit(&t.config, 10_000, metrics.clone());
        for i in 0..3000 {
            log.record(record(i));
        }
        writer.shutdown();
        assert_eq!(
            (metrics.audit_written.get(), metrics.audit_dropped.get(), metrics.audit_failed.get()),
            (3000, 0, 0)
        );
        assert_eq!(audit::count(&db).await.unwrap(), 3000);
        let distinct: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT user_id) FROM signatures")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(distinct, 3000);
        let last: (i64, String, String, i64, String, i64) = sqlx::query_as(
            "SELECT user_id, kind, target, expires_at, ip, issued_at
             FROM signatures ORDER BY id DESC LIMIT 1",
        )
        .fetch_one(db.pool())
        .await
        .unwrap();
        assert_eq!(
            last,
            (2999, "v4".into(), "/u/1/".into(), 10, "127.0.0.1".into(), 1)
        );
    }

    /// Connecting again applies nothing twice.
    async fn migrations_apply_once(t: &TestDatabase) {
        Db::connect(&t.config).await.unwrap();
        let again = Db::connect(&t.config).await.unwrap();
        let versions: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
                .fetch_all(again.pool())
                .await
                .unwrap();
        assert_eq!(versions, [1]);
    }

    /// Every credential the server issues is one audit row; refusals are none.
    async fn every_issued_credential_is_audited(t: &TestDatabase) {
        let app = spawn_app_with(|c| t.use_in(c)).await;
        let (token, id) = app.token("alice").await;
        app.v4(Some(&format!("JWT {token}")), Some(&format!("/u/{id}/a")))
            .await;
        app.post_authed(
            shared::routes::V5_SIGN,
            &token,
            &serde_json::json!({"Method": "PUT", "Key": format!("u/{id}/k.jpg")}),
        )
        .await;
        app.post_authed(shared::routes::POST_POLICY, &token, &serde_json::json!({}))
            .await;
        // Refused requests are not credentials.
        app.v4(Some(&format!("JWT {token}")), Some("/u/999/")).await;
        let rows: Vec<(i64, String, String, i64, String)> = sqlx::query_as(
            "SELECT user_id, kind, target, expires_at - issued_at, ip FROM signatures ORDER BY id",
        )
        .fetch_all(app.db().await.pool())
        .await
        .unwrap();
        let id = id as i64;
        let row = |kind: &str, target: String| (id, kind.into(), target, 3600, "127.0.0.1".into());
        assert_eq!(
            rows,
            vec![
                row("v4", format!("/u/{id}/a/")),
                row("v5", format!("PUT u/{id}/k.jpg")),
                row("post-policy", format!("u/{id}/*")),
            ]
        );
    }

    /// A server stopped gracefully has written every record it queued.
    async fn graceful_shutdown_flushes_the_audit_queue(t: &TestDatabase) {
        let app = spawn_app_with(|c| t.use_in(c)).await;
        let auth = format!("JWT {}", app.token_for(4));
        for _ in 0..50 {
            assert_eq!(app.v4(Some(&auth), None).await.status(), 200);
        }
        app.handle.stop(true).await;
        app.join.await.unwrap().unwrap();
        let db = Db::connect(&t.config).await.unwrap();
        assert_eq!(audit::count(&db).await.unwrap(), 50);
    }

    /// Two servers on one database with one JWT secret: a user has one id on
    /// both, and a token one issued is good on the other.
    async fn two_servers_on_one_database_share_users_and_tokens(t: &TestDatabase) {
        let a = spawn_app_with(|c| t.use_in(c)).await;
        let secret = a.config.jwt.secret.clone();
        let b = spawn_app_with(|c| {
            t.use_in(c);
            c.jwt.secret = secret;
        })
        .await;
        let (token, id) = a.token("dave").await;
        assert_eq!(b.token("dave").await.1, id);
        assert_eq!(b.v4(Some(&format!("JWT {token}")), None).await.status(), 200);
        b.audit.flush();
        let db = Db::connect(&t.config).await.unwrap();
        assert_eq!(audit::count(&db).await.unwrap(), 1);
    }
}

/// The schema `crates/auth-server/src/db.rs` created before the server had
/// migrations (at commit a584f65), verbatim.
const SCHEMA_BEFORE_MIGRATIONS: &str = "
CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    provider      TEXT NOT NULL,
    subject       TEXT NOT NULL,
    unionid       TEXT,
    created_at    INTEGER NOT NULL,
    last_login_at INTEGER NOT NULL,
    UNIQUE (provider, subject)
);
CREATE TABLE IF NOT EXISTS signatures (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    target     TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    ip         TEXT NOT NULL,
    issued_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS signatures_by_user ON signatures (user_id, issued_at);
";

/// Writes `schema` and the rows of a server from before migrations into a
/// fresh SQLite file.
async fn old_sqlite_file(t: &TestDatabase, schema: &str) {
    let path = t.config.url.sqlite_path().unwrap();
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
    let mut old = sqlx::sqlite::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    old.execute(schema).await.unwrap();
    old.execute(
        "INSERT INTO users (provider, subject, unionid, created_at, last_login_at)
         VALUES ('dev', 'alice', NULL, 1, 1), ('wechat', 'o-bob', 'un-bob', 2, 2);
         INSERT INTO signatures (user_id, kind, target, expires_at, ip, issued_at)
         VALUES (1, 'v4', '/u/1/', 3601, '127.0.0.1', 1);",
    )
    .await
    .unwrap();
    old.close().await.unwrap();
}

/// The audit's `source` column of the credential `log` recorded last.
async fn last_source(db: &Db) -> Option<String> {
    sqlx::query_scalar("SELECT source FROM signatures ORDER BY id DESC LIMIT 1")
        .fetch_one(db.pool())
        .await
        .unwrap()
}

/// A temporary credential's audit record.
fn credential_record(user_id: u64) -> AuditRecord {
    AuditRecord {
        kind: Kind::CredentialsPrefix,
        target: format!("u/{user_id}/*"),
        source: Some("minted"),
        ..record(user_id)
    }
}

#[tokio::test]
async fn a_sqlite_file_from_before_migrations_keeps_its_users_and_audit() {
    let t = TestDatabase::sqlite();
    old_sqlite_file(&t, SCHEMA_BEFORE_MIGRATIONS).await;

    let db = Db::connect(&t.config).await.unwrap();
    let users = Users::new(db.clone());
    assert_eq!(
        users.find(Provider::Dev, "alice").await.unwrap(),
        Some((1, None))
    );
    // Existing users keep their ids (and unionid); new ones continue after them.
    assert_eq!(
        users
            .upsert(Provider::Wechat, "o-bob", None, 3)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        users.find(Provider::Wechat, "o-bob").await.unwrap(),
        Some((2, Some("un-bob".into())))
    );
    // (An upsert that finds its user still draws an id, in both databases:
    // ids have gaps, never repeats.)
    let carol = users.upsert(Provider::Dev, "carol", None, 3).await.unwrap();
    assert!(carol > 2, "{carol}");
    // The audit keeps its row and takes new ones.
    let metrics = Arc::new(Metrics::default());
    let (log, writer) = db::start_audit(&t.config, 16, metrics);
    log.record(record(3));
    log.record(credential_record(3));
    writer.shutdown();
    assert_eq!(audit::count(&db).await.unwrap(), 3);
    // The audit gained the `source` column temporary credentials need.
    assert_eq!(last_source(&db).await.as_deref(), Some("minted"));
    // And the next start finds the schema up to date.
    Db::connect(&t.config).await.unwrap();
}

/// A SQLite file of the release between temporary credentials and
/// migrations already has `signatures.source`: it is kept as it is.
#[tokio::test]
async fn a_sqlite_file_with_the_source_column_but_no_migrations_opens() {
    let t = TestDatabase::sqlite();
    let schema = SCHEMA_BEFORE_MIGRATIONS.replace(
        "issued_at  INTEGER NOT NULL\n",
        "issued_at  INTEGER NOT NULL,\n    source     TEXT\n",
    );
    assert!(schema.contains("source"), "{schema}");
    old_sqlite_file(&t, &schema).await;
    let db = Db::connect(&t.config).await.unwrap();
    let (log, writer) = db::start_audit(&t.config, 16, Arc::new(Metrics::default()));
    log.record(credential_record(1));
    writer.shutdown();
    assert_eq!(audit::count(&db).await.unwrap(), 2);
    assert_eq!(last_source(&db).await.as_deref(), Some("minted"));
}

#[tokio::test]
async fn a_database_that_cannot_be_reached_is_named_without_its_password() {
    // Port 1 on loopback: nothing listens, the connection is refused.
    let url = DatabaseUrl::parse("postgres://app:hunter2-secret@127.0.0.1:1/auth").unwrap();
    let mut config = DatabaseConfig::new(url);
    config.connect_timeout = Duration::from_secs(1);
    let e = Db::connect(&config).await.unwrap_err();
    let text = format!("{e} / {e:?}");
    assert!(matches!(e, DbError::Connect { .. }), "{text}");
    assert!(
        !text.contains("hunter2") && text.contains("postgres://app:<redacted>@127.0.0.1:1/auth"),
        "{text}"
    );
}

/// `GET <path>`: status and JSON body.
async fn get_json(app: &TestApp, path: &str) -> (u16, serde_json::Value) {
    let r = app.http.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// `/readyz` follows the database: 503 `database_unavailable` while it is
/// gone (liveness stays 200), 200 again once it is back. PostgreSQL only: a
/// SQLite file cannot go away under an open connection.
#[tokio::test]
async fn readiness_follows_the_database() {
    let Some(t) = TestDatabase::postgres().await else {
        return;
    };
    let app = spawn_app_with(|c| t.use_in(c)).await;
    let ready = || get_json(&app, shared::routes::READYZ);
    assert_eq!(ready().await, (200, serde_json::json!({"status": "ready"})));
    t.set_reachable(false).await;
    let (status, body) = ready().await;
    assert_eq!(
        (status, &body["error_code"]),
        (503, &serde_json::json!("database_unavailable")),
        "{body}"
    );
    assert_eq!(get_json(&app, shared::routes::HEALTHZ).await.0, 200);
    t.set_reachable(true).await;
    assert_eq!(ready().await.0, 200);
}
