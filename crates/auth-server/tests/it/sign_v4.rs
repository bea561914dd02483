//! `GET /v1/qc_cos/config`: the v4 signature verifies with cos-sign, is bound
//! to the directory by whole segments, and expires after the configured TTL.

use cos_sign::v4::{self, Expect};
use serde_json::Value;

use crate::helpers::*;

fn expect<'a>(path: &'a str, now: u64) -> Expect<'a> {
    Expect {
        appid: "1250000000",
        bucket: "metis",
        path,
        now,
        max_skew: 0,
    }
}

#[tokio::test]
async fn signature_verifies_and_is_bound_to_the_directory() {
    let app = spawn_app().await;
    let (token, id) = app.token("alice").await;
    let auth = format!("JWT {token}");
    let before = now();
    let r = app.v4(Some(&auth), Some(&format!("/u/{id}/photos"))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let v: Value = r.json().await.unwrap();
    let sign = v["sign"].as_str().unwrap();
    let expires_at = v["expires_at"].as_u64().unwrap();
    assert!(expires_at >= before + 3600 && expires_at <= now() + 3600);
    assert_eq!(v["cos_path"], format!("/u/{id}/photos/"));
    assert_eq!(
        v["upload_url"],
        format!("{}/files/v2/1250000000/metis/u/{id}/photos/", app.base_url)
    );

    let creds = test_creds();
    let t = now();
    let claims = v4::verify(sign, &creds, &expect(&format!("/u/{id}/photos/a.jpg"), t)).unwrap();
    assert!(!claims.is_single_effect());
    assert_eq!(claims.expires_at, expires_at);
    assert!(claims.nonce < 10_000_000_000);
    // Bound with the trailing '/': a plain string-prefix match by COS cannot
    // reach `/u/<id>/photos2/` or `/u/<id>0/`.
    assert_eq!(claims.fileid, format!("/1250000000/metis/u/{id}/photos/"));
    v4::verify(
        sign,
        &creds,
        &expect(&format!("/u/{id}/photos/sub/b.jpg"), t),
    )
    .unwrap();
    for outside in [
        format!("/u/{id}/a.jpg"),
        format!("/u/{id}/photos2/a.jpg"),
        format!("/u/{id}/photos/../a.jpg"),
        "/u/999/photos/a.jpg".to_owned(),
    ] {
        assert_eq!(
            v4::verify(sign, &creds, &expect(&outside, t)),
            Err(cos_sign::VerifyError::PathNotAllowed),
            "{outside}"
        );
    }
    // Expired after the TTL.
    assert!(matches!(
        v4::verify(
            sign,
            &creds,
            &expect(&format!("/u/{id}/photos/a.jpg"), expires_at + 1)
        ),
        Err(cos_sign::VerifyError::Expired { .. })
    ));
    // Nonces differ between calls.
    let again: Value = app
        .v4(Some(&auth), Some(&format!("/u/{id}/photos")))
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(again["sign"], v["sign"]);
}

#[tokio::test]
async fn default_path_is_the_callers_prefix_and_ttl_is_configurable() {
    let app = spawn_app_with(|c| c.sign_ttl_secs = 600).await;
    let (token, id) = app.token("bob").await;
    let v: Value = app
        .v4(Some(&format!("JWT {token}")), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["cos_path"], format!("/u/{id}/"));
    let exp = v["expires_at"].as_u64().unwrap();
    assert!(exp <= now() + 600 && exp + 5 >= now() + 600);
    let creds = test_creds();
    let claims = v4::verify(
        v["sign"].as_str().unwrap(),
        &creds,
        &expect(&format!("/u/{id}/x.jpg"), now()),
    )
    .unwrap();
    assert_eq!(claims.fileid, format!("/1250000000/metis/u/{id}/"));
    assert_eq!(
        v4::verify(
            v["sign"].as_str().unwrap(),
            &creds,
            &expect(&format!("/u/{id}0/x.jpg"), now())
        ),
        Err(cos_sign::VerifyError::PathNotAllowed)
    );
}

#[tokio::test]
async fn signing_rate_limit_per_user_is_429() {
    let app = spawn_app_with(|c| {
        c.limits.sign_per_second = 1;
        c.limits.sign_burst = 2;
    })
    .await;
    let a = format!("JWT {}", app.token_for(5));
    let b = format!("JWT {}", app.token_for(6));
    assert_eq!(app.v4(Some(&a), None).await.status(), 200);
    assert_eq!(app.v4(Some(&a), None).await.status(), 200);
    let r = app.v4(Some(&a), None).await;
    assert!(r.headers().contains_key("retry-after"));
    expect_error(r, 429, "rate_limited").await;
    // The same budget covers v5 and policies; other users are unaffected.
    let r = app
        .post_authed(
            shared::routes::V5_SIGN,
            &app.token_for(5),
            &serde_json::json!({"Method": "PUT", "Key": "u/5/a"}),
        )
        .await;
    expect_error(r, 429, "rate_limited").await;
    let r = app
        .post_authed(
            shared::routes::POST_POLICY,
            &app.token_for(5),
            &serde_json::json!({}),
        )
        .await;
    expect_error(r, 429, "rate_limited").await;
    assert_eq!(app.v4(Some(&b), None).await.status(), 200);
    app.assert_metrics(&["auth_refused_total{reason=\"rate_limited_sign\"} 3"])
        .await;
}
