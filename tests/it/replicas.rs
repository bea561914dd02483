//! Two auth-server replicas on one database, as several run behind a load balancer: on the
//! PostgreSQL server `DATABASE_URL` names (scripts/test-all.sh starts one and sets
//! `COS_REQUIRE_POSTGRES=1`, which makes its absence a failure), otherwise on one SQLite file,
//! which two servers in one process can share. Each replica is started by the one harness
//! (`auth_server::testing::spawn_app_with`) with the same JWT secret and its own port and
//! embedded store (nothing here uploads). Shown: a token from one replica is good on the
//! other and a user has one id on both; under concurrent load both replicas write an audit
//! row for every signature they answered; stopping one mid-load leaves the other answering.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use auth_server::db::{Backend, Db, audit};
use auth_server::testing::database::TestDatabase;
use auth_server::testing::{TestApp, spawn_app_with};
use cos_sign::SecretKey;
use futures_util::StreamExt as _;
use shared::wire::TokenResponse;

use crate::harness::proved;

/// Signature requests sent to each replica in a round.
const REQUESTS: u64 = 500;
/// Requests in flight per replica.
const IN_FLIGHT: usize = 32;
/// Replica A is stopped once it has answered this many requests of the last round.
const STOP_A_AFTER: u64 = 100;

async fn dev_login(app: &TestApp, user: &str) -> TokenResponse {
    let res = app
        .http
        .post(format!("{}{}", app.base_url, shared::routes::DEV_LOGIN))
        .json(&serde_json::json!({ "user": user }))
        .send()
        .await
        .expect("dev login request");
    assert_eq!(res.status(), 200, "dev login on {}", app.base_url);
    res.json().await.expect("token JSON")
}

/// Asks `app` for a v4 signature of the token's own prefix; `None` when no reply came.
async fn sign(app: &TestApp, token: &TokenResponse) -> Option<u16> {
    let res = app
        .http
        .get(format!("{}{}", app.base_url, shared::routes::V4_SIGN))
        .query(&[("cos_path", token.upload_prefix.as_str())])
        .header("Authorization", format!("JWT {}", token.access_token))
        .send()
        .await
        .ok()?;
    Some(res.status().as_u16())
}

/// Sends `REQUESTS` signature requests to `app`, `IN_FLIGHT` at a time; counts the ones
/// answered 200 into `ok` and returns the statuses that were not 200 (`None`: no reply).
async fn load(app: &TestApp, token: &TokenResponse, ok: &AtomicU64) -> Vec<Option<u16>> {
    futures_util::stream::iter(0..REQUESTS)
        .map(|_| sign(app, token))
        .buffer_unordered(IN_FLIGHT)
        .filter_map(|status| async move {
            if status == Some(200) {
                ok.fetch_add(1, Ordering::Relaxed);
                None
            } else {
                Some(status)
            }
        })
        .collect()
        .await
}

fn user_id(token: &TokenResponse) -> u64 {
    token.user_id.parse().expect("numeric user id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_on_one_database_share_users_tokens_and_the_audit() {
    let database = match TestDatabase::postgres().await {
        Some(db) => db,
        None => TestDatabase::sqlite(),
    };
    let backend = match database.backend() {
        Backend::Postgres => "one PostgreSQL database",
        Backend::Sqlite => "one SQLite file",
    };
    let a = spawn_app_with(|c| database.use_in(c)).await;
    let secret = a.jwt_secret.clone();
    let b = spawn_app_with(|c| {
        database.use_in(c);
        c.jwt.secret = SecretKey::new(secret);
    })
    .await;
    let db = Db::connect(&database.config)
        .await
        .expect("the test reaches the database");

    // A user logs in on A and uses the token on B; logging in on B finds the same user.
    let alice = dev_login(&a, "alice").await;
    assert_eq!(sign(&b, &alice).await, Some(200));
    assert_eq!(dev_login(&b, "alice").await.user_id, alice.user_id);
    proved(
        "replicas",
        format!(
            "a token replica A issued is accepted by replica B, and user alice has one id ({}) \
             on both ({backend})",
            alice.user_id
        ),
    );

    // Both under load at once: every signature answered is one audit row, nothing dropped.
    let (on_a, on_b) = (dev_login(&a, "load-a").await, dev_login(&b, "load-b").await);
    let (ok_a, ok_b) = (AtomicU64::new(0), AtomicU64::new(0));
    let (failed_a, failed_b) = tokio::join!(load(&a, &on_a, &ok_a), load(&b, &on_b, &ok_b));
    assert_eq!(
        (failed_a, failed_b),
        (vec![], vec![]),
        "every request answered 200"
    );
    a.audit.flush();
    b.audit.flush();
    let rows_a = audit::count_for_user(&db, user_id(&on_a)).await.unwrap();
    let rows_b = audit::count_for_user(&db, user_id(&on_b)).await.unwrap();
    assert_eq!((rows_a, rows_b), (REQUESTS, REQUESTS));
    for app in [&a, &b] {
        let metrics = app
            .http
            .get(format!("{}{}", app.base_url, shared::routes::METRICS))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for fate in ["dropped", "failed"] {
            let line = format!("auth_audit_records_total{{fate=\"{fate}\"}} 0");
            assert!(metrics.contains(&line), "{line} not in\n{metrics}");
        }
    }
    proved(
        "replicas",
        format!(
            "2 x {REQUESTS} concurrent signature requests on two replicas: all answered 200, \
             {} audit rows, none dropped or failed ({backend})",
            rows_a + rows_b
        ),
    );

    // Again, and A stops (without waiting for its requests) once it has answered
    // STOP_A_AFTER: B answers all of its requests, and every answer A gave is in the audit.
    let (on_a, on_b) = (dev_login(&a, "stop-a").await, dev_login(&b, "stop-b").await);
    let (ok_a, ok_b) = (Arc::new(AtomicU64::new(0)), AtomicU64::new(0));
    let stopper = {
        let (ok_a, handle) = (ok_a.clone(), a.handle.clone());
        tokio::spawn(async move {
            while ok_a.load(Ordering::Relaxed) < STOP_A_AFTER {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            handle.stop(false).await;
        })
    };
    let (_, failed_b) = tokio::join!(load(&a, &on_a, &ok_a), load(&b, &on_b, &ok_b));
    stopper.await.unwrap();
    assert_eq!(failed_b, vec![], "B answered every request while A stopped");
    let answered_by_a = ok_a.load(Ordering::Relaxed);
    assert!(
        (STOP_A_AFTER..REQUESTS).contains(&answered_by_a),
        "A stopped mid-load: {answered_by_a}"
    );
    // A's server task ends once its audit queue is written; B keeps serving.
    a.join.await.unwrap().unwrap();
    assert_eq!(sign(&b, &on_b).await, Some(200));
    b.audit.flush();
    let rows_a = audit::count_for_user(&db, user_id(&on_a)).await.unwrap();
    let rows_b = audit::count_for_user(&db, user_id(&on_b)).await.unwrap();
    // A request A signed whose reply was cut by the stop is in the audit too.
    assert!(
        rows_a >= answered_by_a,
        "{rows_a} rows for {answered_by_a} answers"
    );
    assert_eq!(rows_b, REQUESTS + 1);
    proved(
        "replicas",
        format!(
            "replica A stopped mid-load after answering {answered_by_a} of {REQUESTS}: replica \
             B answered all {REQUESTS} (and more after), and each answer either gave is in the \
             audit ({rows_a} rows for A, {rows_b} for B; {backend})"
        ),
    );

    b.handle.stop(true).await;
    b.join.await.unwrap().unwrap();
    db.close().await;
}
