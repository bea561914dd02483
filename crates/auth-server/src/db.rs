//! SQLite persistence: users, and an audit table of issued signatures and
//! temporary credentials.
//!
//! Request handling never waits for SQLite on the signing path: audit records
//! go through a bounded channel to one writer thread that inserts them in
//! batches, one transaction per batch. A full channel drops the record and
//! counts it ([`crate::metrics::Metrics::audit_dropped`]).

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension as _, params};

use crate::metrics::Metrics;

const SCHEMA: &str = "
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
    issued_at  INTEGER NOT NULL,
    source     TEXT
);
CREATE INDEX IF NOT EXISTS signatures_by_user ON signatures (user_id, issued_at);
";

/// Database errors.
#[derive(Debug, thiserror::Error)]
#[error("database: {0}")]
pub struct DbError(#[from] rusqlite::Error);

/// Opens (creating) the database and applies the schema.
pub fn open(path: &Path) -> Result<Connection, DbError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // A failure here surfaces as the open error below.
        let _ = std::fs::create_dir_all(dir);
    }
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(SCHEMA)?;
    add_source_column(&conn)?;
    Ok(conn)
}

/// Databases made before temporary credentials lack `signatures.source`
/// (where a credential came from: `minted`, `sts` or `cache`; NULL for
/// signatures).
fn add_source_column(conn: &Connection) -> Result<(), rusqlite::Error> {
    let present = conn
        .prepare("SELECT 1 FROM pragma_table_info('signatures') WHERE name = 'source'")?
        .exists([])?;
    if !present {
        conn.execute_batch("ALTER TABLE signatures ADD COLUMN source TEXT")?;
    }
    Ok(())
}

/// Who logs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// WeChat mini-program (`subject` = openid).
    Wechat,
    /// Dev login (`subject` = the chosen name).
    Dev,
}

impl Provider {
    fn as_str(self) -> &'static str {
        match self {
            Self::Wechat => "wechat",
            Self::Dev => "dev",
        }
    }
}

/// The users table behind a mutex (logins are rare next to signatures).
#[derive(Debug, Clone)]
pub struct Users {
    conn: Arc<Mutex<Connection>>,
}

impl Users {
    /// Wraps a connection.
    pub fn new(conn: Connection) -> Self {
        Self {
            conn: Arc::new(Mutex::new(conn)),
        }
    }

    /// Inserts or updates a user and returns its id. Blocking: call from
    /// `web::block`.
    pub fn upsert(
        &self,
        provider: Provider,
        subject: &str,
        unionid: Option<&str>,
        now: u64,
    ) -> Result<u64, DbError> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| DbError(rusqlite::Error::InvalidQuery))?;
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        conn.execute(
            "INSERT INTO users (provider, subject, unionid, created_at, last_login_at)
             VALUES (?1, ?2, ?3, ?4, ?4)
             ON CONFLICT (provider, subject) DO UPDATE SET
                 last_login_at = excluded.last_login_at,
                 unionid = COALESCE(excluded.unionid, users.unionid)",
            params![provider.as_str(), subject, unionid, now],
        )?;
        let id: i64 = conn.query_row(
            "SELECT id FROM users WHERE provider = ?1 AND subject = ?2",
            params![provider.as_str(), subject],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(id).unwrap_or(0))
    }

    /// Looks a user up (tests and tools).
    pub fn find(
        &self,
        provider: Provider,
        subject: &str,
    ) -> Result<Option<(u64, Option<String>)>, DbError> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| DbError(rusqlite::Error::InvalidQuery))?;
        Ok(conn
            .query_row(
                "SELECT id, unionid FROM users WHERE provider = ?1 AND subject = ?2",
                params![provider.as_str(), subject],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?)),
            )
            .optional()?
            .map(|(id, u)| (u64::try_from(id).unwrap_or(0), u)))
    }
}

/// What kind of credential was issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// v4 multi-effect signature.
    V4,
    /// v5 request signature.
    V5,
    /// v5 POST Object policy.
    Policy,
    /// Temporary credentials for one key.
    CredentialsKey,
    /// Temporary credentials for a prefix.
    CredentialsPrefix,
}

impl Kind {
    /// The text stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V4 => "v4",
            Self::V5 => "v5",
            Self::Policy => "post-policy",
            Self::CredentialsKey => "sts-key",
            Self::CredentialsPrefix => "sts-prefix",
        }
    }
}

impl rusqlite::ToSql for Kind {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::Borrowed(
            rusqlite::types::ValueRef::Text(self.as_str().as_bytes()),
        ))
    }
}

/// One issued credential.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    /// The user.
    pub user_id: u64,
    /// v4, v5, policy or credentials.
    pub kind: Kind,
    /// The directory, key (`PUT u/7/a.jpg`), key or key prefix granted
    /// (`u/7/*`).
    pub target: String,
    /// Expiry (UNIX seconds).
    pub expires_at: u64,
    /// Client IP.
    pub ip: String,
    /// Issue time (UNIX seconds).
    pub issued_at: u64,
    /// Where temporary credentials came from (`minted`, `sts`, `cache`);
    /// `None` for signatures.
    pub source: Option<&'static str>,
}

enum Msg {
    Record(AuditRecord),
    Flush(std::sync::mpsc::SyncSender<()>),
    Shutdown,
}

/// The sending side of the audit queue. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AuditLog {
    tx: SyncSender<MsgBox>,
    metrics: Arc<Metrics>,
}

/// `Msg` boxed in a newtype so `AuditLog` can derive `Debug`.
struct MsgBox(Msg);

impl std::fmt::Debug for MsgBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditMsg")
    }
}

/// The writer thread; join it at shutdown so every queued record is written.
#[derive(Debug)]
pub struct AuditWriter {
    handle: Option<JoinHandle<()>>,
    tx: SyncSender<MsgBox>,
}

const BATCH: usize = 2048;

/// Starts the writer thread on `conn`.
pub fn start_audit(
    conn: Connection,
    capacity: usize,
    metrics: Arc<Metrics>,
) -> (AuditLog, AuditWriter) {
    let (tx, rx) = std::sync::mpsc::sync_channel(capacity);
    let m = metrics.clone();
    let handle = std::thread::Builder::new()
        .name("audit-writer".into())
        .spawn(move || writer_loop(conn, rx, m))
        .ok();
    if handle.is_none() {
        tracing::error!("cannot start the audit writer thread; audit records will be dropped");
    }
    (
        AuditLog {
            tx: tx.clone(),
            metrics,
        },
        AuditWriter { handle, tx },
    )
}

impl AuditLog {
    /// Queues a record without blocking; drops and counts it when the queue is full.
    pub fn record(&self, rec: AuditRecord) {
        match self.tx.try_send(MsgBox(Msg::Record(rec))) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.metrics.audit_dropped.inc();
            }
        }
    }

    /// Waits until every record queued before this call is written (tests).
    pub fn flush(&self) {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        if self.tx.send(MsgBox(Msg::Flush(tx))).is_ok() {
            let _ = rx.recv_timeout(Duration::from_secs(10));
        }
    }
}

impl AuditWriter {
    /// Writes what is queued and stops the thread.
    pub fn shutdown(mut self) {
        let _ = self.tx.send(MsgBox(Msg::Shutdown));
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn writer_loop(mut conn: Connection, rx: Receiver<MsgBox>, metrics: Arc<Metrics>) {
    let mut batch: Vec<AuditRecord> = Vec::with_capacity(BATCH);
    let mut acks: Vec<SyncSender<()>> = Vec::new();
    loop {
        let mut stop = false;
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(MsgBox(m)) => match m {
                Msg::Record(r) => batch.push(r),
                Msg::Flush(a) => acks.push(a),
                Msg::Shutdown => stop = true,
            },
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => stop = true,
        }
        // Drain whatever else is queued, up to one batch.
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(MsgBox(Msg::Record(r))) => batch.push(r),
                Ok(MsgBox(Msg::Flush(a))) => acks.push(a),
                Ok(MsgBox(Msg::Shutdown)) => stop = true,
                Err(_) => break,
            }
        }
        if stop {
            // Take everything left before exiting.
            while let Ok(MsgBox(m)) = rx.try_recv() {
                match m {
                    Msg::Record(r) => batch.push(r),
                    Msg::Flush(a) => acks.push(a),
                    Msg::Shutdown => {}
                }
            }
        }
        if !batch.is_empty() {
            let n = batch.len() as u64;
            match write_batch(&mut conn, &batch) {
                Ok(()) => metrics.audit_written.add(n),
                Err(e) => {
                    metrics.audit_failed.add(n);
                    tracing::error!(error = %e, records = n, "audit batch not written");
                }
            }
            batch.clear();
        }
        for a in acks.drain(..) {
            let _ = a.try_send(());
        }
        if stop {
            return;
        }
    }
}

/// Rows per multi-row `INSERT` (SQLite allows 32,766 parameters; 7 per row).
const ROWS_PER_INSERT: usize = 128;

fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO signatures (user_id, kind, target, expires_at, ip, issued_at, source) VALUES ",
    );
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?,?,?)");
    }
    sql
}

fn write_batch(conn: &mut Connection, batch: &[AuditRecord]) -> Result<(), rusqlite::Error> {
    let to_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    let tx = conn.transaction()?;
    for chunk in batch.chunks(ROWS_PER_INSERT) {
        // Full chunks reuse one cached statement; the tail gets its own.
        let mut stmt = tx.prepare_cached(&insert_sql(chunk.len()))?;
        let nums: Vec<[i64; 3]> = chunk
            .iter()
            .map(|r| [to_i64(r.user_id), to_i64(r.expires_at), to_i64(r.issued_at)])
            .collect();
        let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(chunk.len() * 7);
        for (r, n) in chunk.iter().zip(&nums) {
            values.extend_from_slice(&[
                &n[0] as &dyn rusqlite::ToSql,
                &r.kind,
                &r.target,
                &n[1],
                &r.ip,
                &n[2],
                &r.source,
            ]);
        }
        stmt.execute(rusqlite::params_from_iter(values))?;
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_is_idempotent_and_keeps_unionid() {
        let dir = tempfile::tempdir().unwrap();
        let users = Users::new(open(&dir.path().join("db")).unwrap());
        let a = users
            .upsert(Provider::Wechat, "o-a", Some("u-a"), 1)
            .unwrap();
        let b = users.upsert(Provider::Wechat, "o-b", None, 2).unwrap();
        assert_ne!(a, b);
        assert_eq!(users.upsert(Provider::Wechat, "o-a", None, 3).unwrap(), a);
        assert_eq!(
            users.find(Provider::Wechat, "o-a").unwrap(),
            Some((a, Some("u-a".into())))
        );
        // Same subject, other provider: another user.
        assert_ne!(users.upsert(Provider::Dev, "o-a", None, 4).unwrap(), a);
    }

    #[test]
    fn audit_records_are_written_and_flushed_at_shutdown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let metrics = Arc::new(Metrics::default());
        let (log, writer) = start_audit(open(&path).unwrap(), 1000, metrics.clone());
        for i in 0..300 {
            log.record(AuditRecord {
                user_id: i,
                kind: Kind::V4,
                target: "/u/1/".into(),
                expires_at: 10,
                ip: "127.0.0.1".into(),
                issued_at: 1,
                source: None,
            });
        }
        writer.shutdown();
        let conn = open(&path).unwrap();
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM signatures", [], |r| r.get(0))
            .unwrap();
        assert_eq!(metrics.audit_dropped.get(), 0);
        assert_eq!(n, 300);
        let (user, kind, target): (i64, String, String) = conn
            .query_row(
                "SELECT user_id, kind, target FROM signatures ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((user, kind.as_str(), target.as_str()), (299, "v4", "/u/1/"));
    }

    #[test]
    fn a_database_from_before_credentials_gets_the_source_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let old = Connection::open(&path).unwrap();
        old.execute_batch(
            "CREATE TABLE signatures (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL,
                 kind TEXT NOT NULL, target TEXT NOT NULL, expires_at INTEGER NOT NULL,
                 ip TEXT NOT NULL, issued_at INTEGER NOT NULL);
             INSERT INTO signatures (user_id, kind, target, expires_at, ip, issued_at)
                 VALUES (1, 'v4', '/u/1/', 10, '127.0.0.1', 1);",
        )
        .unwrap();
        drop(old);
        let metrics = Arc::new(Metrics::default());
        let (log, writer) = start_audit(open(&path).unwrap(), 10, metrics);
        // Opening twice (the server opens two connections) is fine.
        drop(open(&path).unwrap());
        log.record(AuditRecord {
            user_id: 1,
            kind: Kind::CredentialsPrefix,
            target: "u/1/*".into(),
            expires_at: 20,
            ip: "127.0.0.1".into(),
            issued_at: 2,
            source: Some("cache"),
        });
        writer.shutdown();
        let conn = open(&path).unwrap();
        let rows: Vec<(String, Option<String>)> = conn
            .prepare("SELECT kind, source FROM signatures ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            rows,
            [
                ("v4".to_owned(), None),
                ("sts-prefix".to_owned(), Some("cache".to_owned()))
            ]
        );
    }
}
