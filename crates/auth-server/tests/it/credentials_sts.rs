//! `POST /v1/cos/credentials` in real-COS mode, against the fake Tencent STS
//! (`auth_server::testing::fake_sts`): the call it saw (TC3-signed, exactly
//! the policy of the grant), reuse of prefix credentials, and failures:
//! an STS error, STS down, and transient errors that a retry gets past.

use auth_server::testing::fake_sts::{Failure, Signing, StsCall};
use cos_sign::sts;
use serde_json::{Value, json};
use shared::cam::{Bucket, Policy, Scope, UploadLimits};
use shared::{DirPath, ObjectKey};

use crate::helpers::*;

fn bucket() -> Bucket {
    Bucket::new("ap-guangzhou", "1250000000", "metis").unwrap()
}

fn limits(app: &TestApp) -> UploadLimits {
    UploadLimits {
        max_size: app.config.max_upload_size,
        content_types: vec!["image/*".into(), "video/*".into()],
    }
}

async fn ok(r: reqwest::Response) -> Value {
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{v}");
    v
}

/// The call a correct GetFederationToken makes, for `policy`.
fn assert_good_call(call: &StsCall, policy: &Policy) {
    assert_eq!(call.signing, Signing::Tc3, "{call:?}");
    assert_eq!(call.verdict, Ok(()), "{call:?}");
    assert_eq!(call.action, "GetFederationToken");
    assert_eq!(call.version, "2018-08-13");
    assert_eq!(call.region, "ap-guangzhou");
    assert_eq!(call.name, "cos-upload-kit");
    assert_eq!(call.secret_id, test_creds().secret_id);
    assert_eq!(call.duration_seconds, Some(1800));
    assert_eq!(call.policy.as_ref(), Some(policy), "{call:?}");
    assert_eq!(call.policy_text.as_deref(), Some(policy.to_json().as_str()));
}

#[tokio::test]
async fn key_credentials_come_from_a_tc3_signed_get_federation_token() {
    let (app, fake) = spawn_sts_app(|_| {}).await;
    let (token, id) = app.token("alice").await;
    let v = ok(app
        .credentials(
            &token,
            &json!({"scope": "key", "ext": "jpg", "dir": "photos"}),
        )
        .await)
    .await;
    let k = ObjectKey::parse(v["Key"].as_str().unwrap()).unwrap();
    assert!(k.is_within(&DirPath::parse(&format!("/u/{id}/photos/")).unwrap()));
    let policy = Policy::for_upload(&bucket(), &Scope::Key(k), &limits(&app));
    let calls = fake.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_good_call(&calls[0], &policy);
    assert_eq!(calls[0].host, fake.host);

    // The reply is what STS minted: it opens with the key the fake (and a
    // store sharing it) holds, and carries the policy asked for.
    let claims = sts::open(&sts_token_key(), v["SecurityToken"].as_str().unwrap()).unwrap();
    assert_eq!(claims.id.as_str(), v["TmpSecretId"]);
    assert_eq!(Policy::from_json(&claims.policy).unwrap(), policy);
    assert_eq!(
        sts::derive_tmp_secret_key(&sts_token_key(), &claims.id).expose_to_client(),
        v["TmpSecretKey"]
    );
    // StartTime = ExpiredTime − duration (STS returns no StartTime).
    let (start, end) = (
        v["StartTime"].as_u64().unwrap(),
        v["ExpiredTime"].as_u64().unwrap(),
    );
    assert_eq!(end, claims.expired_time);
    assert_eq!(end - start, 1800);
    assert_eq!(v["Endpoint"], COS_V5_ENDPOINT);
    assert_eq!(
        (v["Bucket"].as_str(), v["Region"].as_str()),
        (Some("metis-1250000000"), Some("ap-guangzhou"))
    );

    // Key credentials are never reused: each names a new key.
    let v2 = ok(app
        .credentials(&token, &json!({"scope": "key", "ext": "jpg"}))
        .await)
    .await;
    assert_ne!(v2["Key"], v["Key"]);
    assert_ne!(v2["TmpSecretId"], v["TmpSecretId"]);
    assert_eq!(fake.calls().len(), 2);
    let db = app.db().await;
    let sources: Vec<String> = sqlx::query_scalar("SELECT source FROM signatures ORDER BY id")
        .fetch_all(db.pool())
        .await
        .unwrap();
    assert_eq!(sources, ["sts", "sts"]);
}

#[tokio::test]
async fn prefix_credentials_are_reused_per_user_and_policy_until_the_margin() {
    let (app, fake) = spawn_sts_app(|_| {}).await;
    let (alice, alice_id) = app.token("alice").await;
    let (bob, _) = app.token("bob").await;
    let first = ok(app.credentials(&alice, &json!({"scope": "prefix"})).await).await;
    let again = ok(app.credentials(&alice, &json!({"scope": "prefix"})).await).await;
    // The same credentials, times and all.
    assert_eq!(again, first);
    assert_eq!(fake.calls().len(), 1);
    let dir = DirPath::parse(&format!("/u/{alice_id}/")).unwrap();
    assert_good_call(
        &fake.calls()[0],
        &Policy::for_upload(&bucket(), &Scope::Prefix(dir), &limits(&app)),
    );
    // Another user, another directory, or other limits: other credentials.
    for (token, body) in [
        (&bob, json!({"scope": "prefix"})),
        (&alice, json!({"scope": "prefix", "dir": "album"})),
        (
            &alice,
            json!({"scope": "prefix", "content_type": "image/png"}),
        ),
        (&alice, json!({"scope": "prefix", "size": 10})),
    ] {
        let v = ok(app.credentials(token, &body).await).await;
        assert_ne!(v["TmpSecretId"], first["TmpSecretId"], "{body}");
    }
    assert_eq!(fake.calls().len(), 5);
    app.assert_metrics(&[
        "auth_credentials_issued_total{scope=\"prefix\",source=\"sts\"} 5",
        "auth_credentials_issued_total{scope=\"prefix\",source=\"cache\"} 1",
        "auth_sts_calls_total{outcome=\"ok\"} 5",
        "auth_sts_call_duration_seconds_count 5",
    ])
    .await;
    let db = app.db().await;
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT target, source FROM signatures ORDER BY id LIMIT 2")
            .fetch_all(db.pool())
            .await
            .unwrap();
    let target = format!("u/{alice_id}/*");
    assert_eq!(
        rows,
        [
            (target.clone(), "sts".to_owned()),
            (target, "cache".to_owned())
        ]
    );

    // A margin as long as the credentials' life: none is ever fresh enough to reuse.
    let (app, fake) = spawn_sts_app(|c| c.sts.reuse_margin_secs = c.sts.duration_secs).await;
    let (token, _) = app.token("alice").await;
    let a = ok(app.credentials(&token, &json!({"scope": "prefix"})).await).await;
    let b = ok(app.credentials(&token, &json!({"scope": "prefix"})).await).await;
    assert_ne!(a["TmpSecretId"], b["TmpSecretId"]);
    assert_eq!(fake.calls().len(), 2);
}

#[tokio::test]
async fn an_sts_error_is_503_sts_unavailable_with_a_generic_message() {
    let (app, fake) = spawn_sts_app(|_| {}).await;
    let (token, _) = app.token("alice").await;
    fake.fail_always(Some(Failure::Error("UnauthorizedOperation".into())));
    let v = expect_error(
        app.credentials(&token, &json!({"scope": "prefix"})).await,
        503,
        "sts_unavailable",
    )
    .await;
    let message = v["message"].as_str().unwrap();
    assert!(message.contains("try again"), "{message}");
    assert!(!message.contains("Unauthorized"), "{message}");
    // A refusal is not retried.
    assert_eq!(fake.calls().len(), 1);
    // Neither is a call STS cannot verify (the server holds another key).
    let (other, fake2) = spawn_sts_app(|c| {
        if let Some(cos) = &mut c.cos {
            cos.credentials = cos_sign::Credentials::new(test_creds().secret_id, "another-key");
        }
    })
    .await;
    let (token2, _) = other.token("alice").await;
    expect_error(
        other
            .credentials(&token2, &json!({"scope": "prefix"}))
            .await,
        503,
        "sts_unavailable",
    )
    .await;
    let calls = fake2.calls();
    assert_eq!(calls.len(), 1);
    assert!(
        calls[0]
            .verdict
            .as_ref()
            .is_err_and(|why| why.starts_with("AuthFailure.SignatureFailure")),
        "{calls:?}"
    );
    // Nothing was issued or audited.
    app.assert_metrics(&["auth_sts_calls_total{outcome=\"sts_error\"} 1"])
        .await;
    assert_eq!(app.issued_count().await, 0);
}

#[tokio::test]
async fn sts_down_is_503_after_bounded_retries() {
    let (app, fake) = spawn_sts_app(|_| {}).await;
    let (token, _) = app.token("alice").await;
    fake.stop().await;
    expect_error(
        app.credentials(&token, &json!({"scope": "key", "ext": "jpg"}))
            .await,
        503,
        "sts_unavailable",
    )
    .await;
    app.assert_metrics(&[
        "auth_sts_calls_total{outcome=\"transport_error\"} 3",
        "auth_sts_calls_total{outcome=\"ok\"} 0",
        "auth_sts_call_duration_seconds_count 3",
    ])
    .await;
}

#[tokio::test]
async fn transient_sts_failures_are_retried_up_to_three_calls() {
    let (app, fake) = spawn_sts_app(|_| {}).await;
    let (token, _) = app.token("alice").await;
    // InternalError, then success.
    fake.fail_next([Failure::Error("InternalError".into())]);
    ok(app
        .credentials(&token, &json!({"scope": "key", "ext": "jpg"}))
        .await)
    .await;
    assert_eq!(fake.calls().len(), 2);
    // Throttled, then a gateway error, then success: the third call.
    fake.fail_next([
        Failure::Error("RequestLimitExceeded".into()),
        Failure::Status(502),
    ]);
    ok(app
        .credentials(&token, &json!({"scope": "key", "ext": "jpg"}))
        .await)
    .await;
    assert_eq!(fake.calls().len(), 5);
    // Three failures: given up.
    fake.fail_next([
        Failure::Error("InternalError.DbError".into()),
        Failure::Error("InternalError".into()),
        Failure::Error("RequestLimitExceeded".into()),
    ]);
    expect_error(
        app.credentials(&token, &json!({"scope": "key", "ext": "jpg"}))
            .await,
        503,
        "sts_unavailable",
    )
    .await;
    assert_eq!(fake.calls().len(), 8);
    // Every call was signed and asked for the grant's policy.
    assert!(
        fake.calls().iter().all(|c| c.verdict.is_ok()),
        "{:?}",
        fake.calls()
    );
    app.assert_metrics(&[
        "auth_sts_calls_total{outcome=\"ok\"} 2",
        "auth_sts_calls_total{outcome=\"sts_error\"} 5",
        "auth_sts_calls_total{outcome=\"transport_error\"} 1",
    ])
    .await;
}

#[tokio::test]
async fn with_a_token_key_real_cos_mode_mints_for_a_standalone_cos_local() {
    let (app, fake) = spawn_sts_app(|c| c.sts.token_key = Some(sts_token_key())).await;
    let (token, id) = app.token("alice").await;
    let v = ok(app.credentials(&token, &json!({"scope": "prefix"})).await).await;
    assert_eq!(v["Prefix"], format!("u/{id}/"));
    assert_eq!(v["Endpoint"], COS_V5_ENDPOINT);
    let claims = sts::open(&sts_token_key(), v["SecurityToken"].as_str().unwrap()).unwrap();
    let dir = DirPath::parse(&format!("/u/{id}/")).unwrap();
    assert_eq!(
        Policy::from_json(&claims.policy).unwrap(),
        Policy::for_upload(&bucket(), &Scope::Prefix(dir), &limits(&app))
    );
    assert!(fake.calls().is_empty());
    app.assert_metrics(&["auth_credentials_issued_total{scope=\"prefix\",source=\"minted\"} 1"])
        .await;
}
