//! Hostile paths (traversal, encoded dots, backslashes, control and format
//! characters, NFKC and non-decomposing look-alikes of `/` and `\`) on all three
//! signing endpoints: invalid → 400 with the validator's reason, outside the
//! caller's prefix → 403 `outside_prefix`. Nothing is ever rewritten.

use serde_json::json;

use crate::helpers::*;

/// `(cos_path as the server receives it after one decode, status, code)` for user 12.
fn dir_cases() -> Vec<(String, u16, &'static str)> {
    let long = format!("/u/12/{}", "a/".repeat(430));
    vec![
        ("../u/other/x.jpg".into(), 400, "invalid_path"),
        ("/u/12/../other/x".into(), 400, "invalid_path"),
        ("/u/12/./x".into(), 400, "invalid_path"),
        ("/u/12/.".into(), 400, "invalid_path"),
        ("/u/12/..".into(), 400, "invalid_path"),
        ("/u/12//x".into(), 400, "invalid_path"),
        ("//u/12/x".into(), 400, "invalid_path"),
        ("/u/12/%2e%2e/x".into(), 400, "invalid_path"),
        ("/u/12/%2E%2E/x".into(), 400, "invalid_path"),
        ("/u/12\\..\\x".into(), 400, "invalid_path"),
        ("/u/12/x\u{0}.jpg".into(), 400, "invalid_path"),
        ("/u/12/x\n.jpg".into(), 400, "invalid_path"),
        ("/u/12/x\r\n.jpg".into(), 400, "invalid_path"),
        ("/u/12/x\u{7f}.jpg".into(), 400, "invalid_path"),
        ("/u/12/\u{202E}gpj.exe".into(), 400, "invalid_path"),
        ("/u/12/\u{2066}x".into(), 400, "invalid_path"),
        ("/u/12\u{200B}/x".into(), 400, "invalid_path"),
        ("/u/12/\u{FF0E}\u{FF0E}/x".into(), 400, "invalid_path"),
        ("/u/12\u{FF0F}x".into(), 400, "invalid_path"),
        ("/u/12/\u{2024}\u{2024}/x".into(), 400, "invalid_path"),
        ("/u/12/a?b".into(), 400, "invalid_path"),
        // Look-alikes that other layers fold: '/' '\\' '%' after NFKC, or a segment
        // that reads as '..' after NFKC.
        ("/u/12/\u{2025}/x".into(), 400, "invalid_path"),
        ("/u/12/\u{2025}".into(), 400, "invalid_path"),
        ("/u/12/\u{FE30}/x".into(), 400, "invalid_path"),
        ("/u/12/\u{FE52}\u{FE52}/x".into(), 400, "invalid_path"),
        ("/u/12\u{FF3C}..\u{FF3C}x".into(), 400, "invalid_path"),
        ("/u/12/\u{FE68}x".into(), 400, "invalid_path"),
        ("/u/12/\u{FF05}2e\u{FF05}2e/x".into(), 400, "invalid_path"),
        ("/u/12/\u{FE6A}2e/x".into(), 400, "invalid_path"),
        ("/u/12/\u{2100}".into(), 400, "invalid_path"),
        ("/u/12/x\u{2101}y".into(), 400, "invalid_path"),
        ("/u/12/\u{2105}/x".into(), 400, "invalid_path"),
        ("/u/12/\u{2106}".into(), 400, "invalid_path"),
        // Look-alikes with no decomposition.
        ("/u/12\u{2215}x".into(), 400, "invalid_path"),
        ("/u/12\u{2044}x".into(), 400, "invalid_path"),
        ("/u/12\u{29F8}x".into(), 400, "invalid_path"),
        ("/u/12\u{29F9}x".into(), 400, "invalid_path"),
        ("/u/12\u{2216}x".into(), 400, "invalid_path"),
        // Format characters (general category Cf): invisible or bidi controls.
        ("/u/12/\u{061C}x".into(), 400, "invalid_path"),
        ("/u/12/a\u{00AD}b".into(), 400, "invalid_path"),
        ("/u/12/x\u{2060}".into(), 400, "invalid_path"),
        ("/u/12/x\u{2061}".into(), 400, "invalid_path"),
        ("/u/12/x\u{2062}".into(), 400, "invalid_path"),
        ("/u/12/x\u{2063}".into(), 400, "invalid_path"),
        ("/u/12/x\u{2064}".into(), 400, "invalid_path"),
        ("/u/12\u{180E}/x".into(), 400, "invalid_path"),
        ("/u/12/x\u{E0041}".into(), 400, "invalid_path"),
        ("/u/12/\u{FFF9}x\u{FFFB}".into(), 400, "invalid_path"),
        ("/u/12/a*".into(), 400, "invalid_path"),
        ("u/12/x".into(), 400, "invalid_path"),
        ("".into(), 400, "invalid_path"),
        (long, 400, "invalid_path"),
        // Whole-segment prefix: /u/12/ is not /u/123/.
        ("/u/123/x".into(), 403, "outside_prefix"),
        ("/u/123".into(), 403, "outside_prefix"),
        ("/u/1".into(), 403, "outside_prefix"),
        ("/u/12x/".into(), 403, "outside_prefix"),
        ("/u/".into(), 403, "outside_prefix"),
        ("/u".into(), 403, "outside_prefix"),
        ("/".into(), 403, "outside_prefix"),
        ("/U/12/x".into(), 403, "outside_prefix"),
        ("/u/1\u{FF12}/x".into(), 403, "outside_prefix"),
        ("/u/012/x".into(), 403, "outside_prefix"),
        ("/v/12/x".into(), 403, "outside_prefix"),
    ]
}

#[tokio::test]
async fn v4_cos_path_table() {
    let app = spawn_app().await;
    let auth = format!("JWT {}", app.token_for(12));
    for (path, status, code) in dir_cases() {
        let r = app.v4(Some(&auth), Some(&path)).await;
        let v = expect_error(r, status, code).await;
        if status == 400 {
            // The validator's reason, not a generic message.
            let m = v["message"].as_str().unwrap();
            assert!(m.contains("key") || m.contains("path"), "{path:?}: {m}");
        }
    }
    // Accepted as given (trailing slash optional), never rewritten.
    for (path, bound) in [
        ("/u/12", "/u/12/"),
        ("/u/12/", "/u/12/"),
        ("/u/12/photos", "/u/12/photos/"),
        ("/u/12/测试 图片", "/u/12/测试 图片/"),
        ("/u/12/a..b/.hidden", "/u/12/a..b/.hidden/"),
        // Fullwidth punctuation that folds to nothing path-significant stays as given.
        ("/u/12/截图：2024（1）", "/u/12/截图：2024（1）/"),
        ("/u/12/照片。jpg？", "/u/12/照片。jpg？/"),
        ("/u/12/等等……/a\u{2025}b", "/u/12/等等……/a\u{2025}b/"),
    ] {
        let r = app.v4(Some(&auth), Some(path)).await;
        assert_eq!(r.status(), 200, "{path:?}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["cos_path"], bound);
    }
    // The raw query `%252e%252e` arrives as `%2e%2e` after one decode: refused.
    let r = app
        .http
        .get(format!(
            "{}?cos_path=/u/12/%252e%252e/x",
            app.url(shared::routes::V4_SIGN)
        ))
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap();
    expect_error(r, 400, "invalid_path").await;
    // And user 123 cannot reach /u/12/.
    let auth123 = format!("JWT {}", app.token_for(123));
    expect_error(
        app.v4(Some(&auth123), Some("/u/12/")).await,
        403,
        "outside_prefix",
    )
    .await;
    assert_eq!(app.v4(Some(&auth123), Some("/u/123/")).await.status(), 200);
}

#[tokio::test]
async fn v5_key_table() {
    let app = spawn_app().await;
    let token = app.token_for(12);
    // The same table as keys (no leading '/'); a trailing '/' makes a key invalid.
    let keys = dir_cases()
        .into_iter()
        .filter(|(p, _, _)| p.starts_with('/') && p.len() > 1)
        .map(|(p, status, code)| {
            let key = p[1..].to_owned();
            if status == 400 || key.ends_with('/') {
                (key, 400, "invalid_key")
            } else {
                (key, status, code)
            }
        })
        .chain([
            ("/u/12/a.jpg".to_owned(), 400, "invalid_key"),
            ("u/12/a.jpg/".to_owned(), 400, "invalid_key"),
            ("u/12".to_owned(), 403, "outside_prefix"),
        ]);
    for (key, status, code) in keys {
        let r = app
            .post_authed(
                shared::routes::V5_SIGN,
                &token,
                &json!({"Method": "PUT", "Key": key}),
            )
            .await;
        expect_error(r, status, code).await;
    }
    // Pathname is checked the same way.
    let r = app
        .post_authed(
            shared::routes::V5_SIGN,
            &token,
            &json!({"Method": "PUT", "Pathname": "/u/123/a.jpg"}),
        )
        .await;
    expect_error(r, 403, "outside_prefix").await;
    let r = app
        .post_authed(
            shared::routes::V5_SIGN,
            &token,
            &json!({"Method": "PUT", "Pathname": "/u/12/../123/a.jpg"}),
        )
        .await;
    expect_error(r, 400, "invalid_key").await;
}

#[tokio::test]
async fn post_policy_key_and_prefix_table() {
    let app = spawn_app().await;
    let token = app.token_for(12);
    for (prefix, status, code) in dir_cases() {
        if prefix.is_empty() {
            continue;
        }
        let r = app
            .post_authed(
                shared::routes::POST_POLICY,
                &token,
                &json!({"prefix": prefix}),
            )
            .await;
        expect_error(r, status, code).await;
    }
    for (key, status, code) in [
        ("u/123/a.jpg", 403, "outside_prefix"),
        ("u/12/../123/a.jpg", 400, "invalid_key"),
        ("/u/12/a.jpg", 400, "invalid_key"),
        ("u/12/%2e%2e/a.jpg", 400, "invalid_key"),
        ("u/12/\u{202E}gpj.exe", 400, "invalid_key"),
    ] {
        let r = app
            .post_authed(shared::routes::POST_POLICY, &token, &json!({"key": key}))
            .await;
        expect_error(r, status, code).await;
    }
}
