//! The audit of issued signatures: [`AuditLog::record`] queues a record
//! without waiting, into a bounded channel read by one writer thread that
//! inserts what it finds in batches, one transaction per batch. A full
//! channel drops the record and counts it
//! ([`crate::metrics::Metrics::audit_dropped`]).
//!
//! The writer thread runs its own small tokio runtime and its own one-
//! connection pool, so it depends on no runtime of the server's: it keeps
//! writing while the HTTP workers stop, and [`AuditWriter::shutdown`] (or a
//! test's [`AuditLog::flush`]) can block on it from anywhere. Replicas on
//! one PostgreSQL database each run a writer; the rows' ids come from the
//! database, so their inserts never collide.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use sqlx::AnyPool;

use super::{Db, DbError, lazy_pool, to_i64, to_u64};
use crate::config::DatabaseConfig;
use crate::metrics::Metrics;

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
    Flush(SyncSender<()>),
    Shutdown,
}

/// `Msg` boxed in a newtype so `AuditLog` can derive `Debug`.
struct MsgBox(Msg);

impl std::fmt::Debug for MsgBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditMsg")
    }
}

/// The sending side of the audit queue. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AuditLog {
    tx: SyncSender<MsgBox>,
    metrics: Arc<Metrics>,
}

/// The writer thread; shut it down at the end so every queued record is written.
#[derive(Debug)]
pub struct AuditWriter {
    handle: Option<JoinHandle<()>>,
    tx: SyncSender<MsgBox>,
}

/// Most records written in one transaction.
const BATCH: usize = 2048;

/// Rows per multi-row `INSERT`: 7 parameters a row, far below SQLite's
/// 32,766 and PostgreSQL's 65,535 parameters a statement.
const ROWS_PER_INSERT: usize = 128;

/// Tries of one batch before its records count as failed: a PostgreSQL
/// connection that broke is replaced on the next try. (A commit whose reply
/// was lost is written again: a duplicate row rather than a missing one.)
const ATTEMPTS: u32 = 3;

/// Starts the writer thread on the database `config` names (which
/// [`Db::connect`] has already migrated).
pub fn start_audit(
    config: &DatabaseConfig,
    capacity: usize,
    metrics: Arc<Metrics>,
) -> (AuditLog, AuditWriter) {
    let (tx, rx) = std::sync::mpsc::sync_channel(capacity);
    let m = metrics.clone();
    let config = config.clone();
    let handle = std::thread::Builder::new()
        .name("audit-writer".into())
        .spawn(move || writer_thread(&config, rx, &m))
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
            let _ = rx.recv_timeout(Duration::from_secs(30));
        }
    }
}

impl AuditWriter {
    /// Writes what is queued and stops the thread (blocking).
    pub fn shutdown(mut self) {
        let _ = self.tx.send(MsgBox(Msg::Shutdown));
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Rows in the audit table (tests and tools).
pub async fn count(db: &Db) -> Result<u64, DbError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM signatures")
        .fetch_one(db.pool())
        .await?;
    Ok(to_u64(n))
}

/// Rows in the audit table for one user (tests and tools).
pub async fn count_for_user(db: &Db, user_id: u64) -> Result<u64, DbError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM signatures WHERE user_id = $1")
        .bind(to_i64(user_id))
        .fetch_one(db.pool())
        .await?;
    Ok(to_u64(n))
}

fn writer_thread(config: &DatabaseConfig, rx: Receiver<MsgBox>, metrics: &Metrics) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            // Dropping `rx` makes every later record count as dropped.
            tracing::error!(error = %e, "cannot start the audit writer's runtime");
            return;
        }
    };
    let pool = match runtime.block_on(async { lazy_pool(config, 1) }) {
        Ok(pool) => pool,
        Err(e) => {
            tracing::error!(error = %e, "the audit writer cannot reach the database");
            return;
        }
    };
    let mut batch: Vec<AuditRecord> = Vec::with_capacity(BATCH);
    let mut acks: Vec<SyncSender<()>> = Vec::new();
    loop {
        let stop = receive(&rx, &mut batch, &mut acks);
        if !batch.is_empty() {
            let n = batch.len() as u64;
            match runtime.block_on(write_with_retries(&pool, &batch)) {
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
            runtime.block_on(pool.close());
            return;
        }
    }
}

/// Waits for the next message, then takes what else is queued, up to one
/// batch (everything, once told to stop). True when the writer should stop.
fn receive(
    rx: &Receiver<MsgBox>,
    batch: &mut Vec<AuditRecord>,
    acks: &mut Vec<SyncSender<()>>,
) -> bool {
    let mut stop = match rx.recv_timeout(Duration::from_millis(500)) {
        Ok(MsgBox(m)) => take(m, batch, acks),
        Err(RecvTimeoutError::Timeout) => return false,
        Err(RecvTimeoutError::Disconnected) => true,
    };
    while stop || batch.len() < BATCH {
        match rx.try_recv() {
            Ok(MsgBox(m)) => stop |= take(m, batch, acks),
            Err(_) => break,
        }
    }
    stop
}

/// Files one message; true for `Shutdown`.
fn take(m: Msg, batch: &mut Vec<AuditRecord>, acks: &mut Vec<SyncSender<()>>) -> bool {
    match m {
        Msg::Record(r) => batch.push(r),
        Msg::Flush(a) => acks.push(a),
        Msg::Shutdown => return true,
    }
    false
}

async fn write_with_retries(pool: &AnyPool, batch: &[AuditRecord]) -> Result<(), sqlx::Error> {
    let mut attempt = 1;
    loop {
        match write_batch(pool, batch).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < ATTEMPTS => {
                tracing::warn!(error = %e, attempt, "audit batch not written; trying again");
                tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt))).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Columns a row of the audit inserts.
const COLUMNS: usize = 7;

/// `INSERT INTO signatures … VALUES ($1,…,$7),($8,…,$14),…` for `rows` rows.
fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO signatures (user_id, kind, target, expires_at, ip, issued_at, source) VALUES ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        let first = row * COLUMNS + 1;
        let params: Vec<String> = (first..first + COLUMNS).map(|i| format!("${i}")).collect();
        sql.push('(');
        sql.push_str(&params.join(","));
        sql.push(')');
    }
    sql
}

async fn write_batch(pool: &AnyPool, batch: &[AuditRecord]) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for chunk in batch.chunks(ROWS_PER_INSERT) {
        let sql = insert_sql(chunk.len());
        // Full chunks reuse one prepared statement; a tail is prepared once.
        let mut query = sqlx::query(&sql).persistent(chunk.len() == ROWS_PER_INSERT);
        for r in chunk {
            query = query
                .bind(to_i64(r.user_id))
                .bind(r.kind.as_str())
                .bind(r.target.as_str())
                .bind(to_i64(r.expires_at))
                .bind(r.ip.as_str())
                .bind(to_i64(r.issued_at))
                .bind(r.source);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_number_their_parameters_row_by_row() {
        assert_eq!(
            insert_sql(2),
            "INSERT INTO signatures (user_id, kind, target, expires_at, ip, issued_at, source) \
             VALUES ($1,$2,$3,$4,$5,$6,$7),($8,$9,$10,$11,$12,$13,$14)"
        );
    }
}
