//! The users table: one row per (provider, subject), its id the JWT `sub`.
//! The database keeps the pair unique, so replicas sharing it give a user the
//! same id whichever one they log in on.

use super::{Db, DbError, to_i64, to_u64};

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

/// The users table.
#[derive(Debug, Clone)]
pub struct Users {
    db: Db,
}

impl Users {
    /// The users of `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Inserts or updates a user and returns its id, in one statement: two
    /// logins of a new user at once, on one replica or two, get one row.
    pub async fn upsert(
        &self,
        provider: Provider,
        subject: &str,
        unionid: Option<&str>,
        now: u64,
    ) -> Result<u64, DbError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (provider, subject, unionid, created_at, last_login_at)
             VALUES ($1, $2, $3, $4, $4)
             ON CONFLICT (provider, subject) DO UPDATE SET
                 last_login_at = excluded.last_login_at,
                 unionid = COALESCE(excluded.unionid, users.unionid)
             RETURNING id",
        )
        .bind(provider.as_str())
        .bind(subject)
        .bind(unionid)
        .bind(to_i64(now))
        .fetch_one(self.db.pool())
        .await?;
        Ok(to_u64(id))
    }

    /// Looks a user up: its id and unionid (tests and tools).
    pub async fn find(
        &self,
        provider: Provider,
        subject: &str,
    ) -> Result<Option<(u64, Option<String>)>, DbError> {
        let row: Option<(i64, Option<String>)> =
            sqlx::query_as("SELECT id, unionid FROM users WHERE provider = $1 AND subject = $2")
                .bind(provider.as_str())
                .bind(subject)
                .fetch_optional(self.db.pool())
                .await?;
        Ok(row.map(|(id, unionid)| (to_u64(id), unionid)))
    }
}
