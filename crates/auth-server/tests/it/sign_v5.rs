//! `POST /v1/cos/v5/sign` and `POST /v1/cos/v5/post-policy`: what is signed
//! verifies with cos-sign, and nothing beyond the request is granted.

use std::collections::BTreeMap;

use cos_sign::VerifyError;
use cos_sign::v5::{self, ParsedAuthorization};
use serde_json::{Value, json};

use crate::helpers::*;

fn host(app: &TestApp) -> String {
    app.base_url.trim_start_matches("http://").to_owned()
}

/// `POST /v1/cos/v5/sign` for a bucket-level GET (a listing) with `query`.
async fn sign_bucket_get(app: &TestApp, token: &str, query: Value) -> reqwest::Response {
    let body = json!({"Method": "GET", "Key": "", "Pathname": "/", "Query": query});
    app.post_authed(shared::routes::V5_SIGN, token, &body).await
}

#[tokio::test]
async fn v5_signature_covers_exactly_the_request_and_host() {
    let app = spawn_app().await;
    let (token, id) = app.token("alice").await;
    let key = format!("u/{id}/测试 图片.jpg");
    let body = json!({
        "Method": "put", "Key": key,
        "Query": {}, "Headers": {"Content-Type": "image/jpeg", "Content-Length": 13, "x-cos-meta-sha1": "ab",
            // cos-nodejs-sdk-v5 passes its User-Agent along: left unsigned, not refused.
            "User-Agent": "cos-nodejs-sdk-v5-2.15.4"},
        "Bucket": "metis-1250000000", "Region": "local",
    });
    let before = now();
    let r = app
        .post_authed(shared::routes::V5_SIGN, &token, &body)
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["Key"], key);
    let start = v["StartTime"].as_u64().unwrap();
    let end = v["ExpiredTime"].as_u64().unwrap();
    assert!(start >= before && end == start + 3600);
    let url = v["Url"].as_str().unwrap();
    assert_eq!(
        url,
        format!("{}/{}", app.base_url, cos_sign::encode_path(&key))
    );
    let auth = ParsedAuthorization::from_header(v["Authorization"].as_str().unwrap()).unwrap();
    assert_eq!(
        auth.header_list,
        ["content-length", "content-type", "host", "x-cos-meta-sha1"]
    );
    let path = format!("/{key}");
    let h = host(&app);
    let headers = [
        ("Content-Type", "image/jpeg"),
        ("Content-Length", "13"),
        ("x-cos-meta-sha1", "ab"),
        ("Host", h.as_str()),
    ];
    let req = v5::Request {
        method: "PUT",
        path: &path,
        params: &[],
        headers: &headers,
    };
    v5::verify(&auth, &test_creds(), &req, now(), 0).unwrap();
    // Another key, method, host or content type does not verify.
    let other = format!("/u/{id}/other.jpg");
    for bad in [
        v5::Request {
            path: &other,
            ..req
        },
        v5::Request {
            method: "DELETE",
            ..req
        },
        v5::Request {
            headers: &[
                ("Content-Type", "text/html"),
                ("Content-Length", "13"),
                ("x-cos-meta-sha1", "ab"),
                ("Host", h.as_str()),
            ],
            ..req
        },
        v5::Request {
            headers: &[
                ("Content-Type", "image/jpeg"),
                ("Content-Length", "13"),
                ("x-cos-meta-sha1", "ab"),
                ("Host", "evil-1250000000.cos.ap-shanghai.myqcloud.com"),
            ],
            ..req
        },
    ] {
        assert_eq!(
            v5::verify(&auth, &test_creds(), &bad, now(), 0),
            Err(VerifyError::SignatureMismatch),
            "{bad:?}"
        );
    }
    let r = v5::verify(&auth, &test_creds(), &req, end + 1, 0);
    assert!(matches!(r, Err(VerifyError::Expired { .. })), "{r:?}");
}

#[tokio::test]
async fn v5_multipart_parameters_are_signed_and_others_refused() {
    let app = spawn_app().await;
    let (token, id) = app.token("alice").await;
    let key = format!("u/{id}/big.bin");
    let ok_cases = [
        json!({"Method": "POST", "Key": key, "Query": {"uploads": ""}}),
        json!({"Method": "PUT", "Key": key, "Query": {"partNumber": 3, "uploadId": "abc"}}),
        json!({"Method": "POST", "Key": key, "Query": {"uploadId": "abc"}, "Headers": {"Content-Type": "application/xml"}}),
        json!({"Method": "GET", "Key": key, "Query": {"uploadId": "abc"}}),
        json!({"Method": "DELETE", "Key": key, "Query": {"uploadId": "abc"}}),
        json!({"Method": "HEAD", "Key": key}),
        json!({"Method": "GET", "Pathname": format!("/{key}")}),
        json!({"Method": "PUT", "Key": key, "Headers": {"Host": host(&app)}}),
    ];
    for body in ok_cases {
        let r = app
            .post_authed(shared::routes::V5_SIGN, &token, &body)
            .await;
        assert_eq!(r.status(), 200, "{body}");
        let v: Value = r.json().await.unwrap();
        let auth = ParsedAuthorization::from_header(v["Authorization"].as_str().unwrap()).unwrap();
        let query: BTreeMap<String, String> = body["Query"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let params: Vec<(&str, &str)> = query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut headers: Vec<(String, String)> = body["Headers"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| *k != "Host")
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        headers.push(("host".into(), host(&app)));
        let hdrs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let path = format!("/{key}");
        let method = body["Method"].as_str().unwrap();
        let req = v5::Request {
            method,
            path: &path,
            params: &params,
            headers: &hdrs,
        };
        v5::verify(&auth, &test_creds(), &req, now(), 0).unwrap();
    }
    let refused = [
        (
            json!({"Method": "PUT", "Key": key, "Query": {"acl": ""}}),
            "query_not_allowed",
        ),
        (
            json!({"Method": "PUT", "Key": key, "Query": {"partNumber": 1}}),
            "query_not_allowed",
        ),
        (
            json!({"Method": "PUT", "Key": key, "Query": {"partNumber": "x", "uploadId": "a"}}),
            "query_not_allowed",
        ),
        (json!({"Method": "POST", "Key": key}), "query_not_allowed"),
        (
            json!({"Method": "GET", "Key": key, "Query": {"prefix": ""}}),
            "query_not_allowed",
        ),
        (
            json!({"Method": "PUT", "Key": key, "Headers": {"x-cos-copy-source": "metis-1250000000.cos/u/1/secret.jpg"}}),
            "header_not_allowed",
        ),
        (
            json!({"Method": "PUT", "Key": key, "Headers": {"x-cos-acl": "public-read-write"}}),
            "header_not_allowed",
        ),
        (
            json!({"Method": "PUT", "Key": key, "Headers": {"x-cos-meta-": "x"}}),
            "header_not_allowed",
        ),
        (
            json!({"Method": "PUT", "Key": key, "Headers": {"x-cos-grant-read": "id=\"1\""}}),
            "header_not_allowed",
        ),
        (
            json!({"Method": "PUT", "Key": key, "Headers": {"Host": "evil.example.com"}}),
            "host_mismatch",
        ),
        (
            json!({"Method": "PUT", "Key": key, "Headers": {"Content-Type": "a\r\nx: y"}}),
            "invalid_input",
        ),
        (
            json!({"Method": "PUT", "Key": key, "Headers": {"content-type": "a", "Content-Type": "b"}}),
            "invalid_input",
        ),
        (json!({"Method": "PATCH", "Key": key}), "unsupported_method"),
        (
            json!({"Method": "OPTIONS", "Key": key}),
            "unsupported_method",
        ),
        (json!({"Method": "PUT"}), "invalid_key"),
        (
            json!({"Method": "PUT", "Key": key, "Query": {"uploadId": [1]}}),
            "invalid_input",
        ),
        (json!({"Key": key}), "invalid_input"),
    ];
    for (body, code) in refused {
        let r = app
            .post_authed(shared::routes::V5_SIGN, &token, &body)
            .await;
        expect_error(r, 400, code).await;
    }
}

#[tokio::test]
async fn v5_methods_are_configurable() {
    let app = spawn_app_with(|c| c.v5_methods = vec!["PUT".into()]).await;
    let token = app.token_for(3);
    let r = app
        .post_authed(
            shared::routes::V5_SIGN,
            &token,
            &json!({"Method": "DELETE", "Key": "u/3/a"}),
        )
        .await;
    expect_error(r, 400, "unsupported_method").await;
    let r = app
        .post_authed(
            shared::routes::V5_SIGN,
            &token,
            &json!({"Method": "PUT", "Key": "u/3/a"}),
        )
        .await;
    assert_eq!(r.status(), 200);
}

/// Every sub-resource COS knows on an object or bucket URL (the `?acl`,
/// `?tagging`, ... of https://cloud.tencent.com/document/product/436/7751):
/// a signature covering one would let the client change the object's ACL,
/// tags, versions or the bucket's settings instead of uploading.
const COS_SUB_RESOURCES: [&str; 28] = [
    "acl",
    "tagging",
    "restore",
    "append",
    "select",
    "torrent",
    "versioning",
    "versionId",
    "versions",
    "cors",
    "lifecycle",
    "policy",
    "website",
    "referer",
    "logging",
    "inventory",
    "domain",
    "origin",
    "replication",
    "encryption",
    "intelligenttiering",
    "object-lock",
    "retention",
    "legal-hold",
    "accelerate",
    "notification",
    "requestPayment",
    "delete",
];

#[tokio::test]
async fn v5_sign_refuses_every_cos_sub_resource_for_every_method() {
    use auth_server::error::ErrorCode;
    use auth_server::grant::check_v5_query;

    let app = spawn_app().await;
    let (token, id) = app.token("alice").await;
    let key = format!("u/{id}/a.jpg");
    // Alone, and beside the parameters a method may otherwise sign.
    let companions: [(&str, &[(&str, &str)]); 5] = [
        ("PUT", &[("partNumber", "1"), ("uploadId", "x")]),
        ("POST", &[("uploads", "")]),
        ("GET", &[("uploadId", "x")]),
        ("HEAD", &[]),
        ("DELETE", &[("uploadId", "x")]),
    ];
    assert_eq!(
        app.config.v5_methods,
        companions.map(|(m, _)| m.to_owned()),
        "every signable method is covered"
    );
    for (method, allowed) in companions {
        for sub in COS_SUB_RESOURCES {
            for with_companions in [false, true] {
                let mut query: BTreeMap<String, String> = BTreeMap::new();
                if with_companions {
                    query.extend(allowed.iter().map(|(k, v)| ((*k).into(), (*v).into())));
                }
                query.insert(sub.into(), String::new());
                let r = check_v5_query(method, &query).map_err(|e| e.code());
                assert_eq!(r, Err(ErrorCode::QueryNotAllowed), "{method} {query:?}");
                let body = json!({"Method": method, "Key": key, "Query": query});
                let r = app
                    .post_authed(shared::routes::V5_SIGN, &token, &body)
                    .await;
                let v = expect_error(r, 400, "query_not_allowed").await;
                assert!(
                    v["message"].as_str().unwrap().contains(&format!("{sub:?}")),
                    "{method} {query:?}: {v}"
                );
            }
        }
    }
    // The two bucket-level requests (listing the caller's own objects or
    // multipart uploads) refuse them too.
    for sub in COS_SUB_RESOURCES {
        for mut query in [
            json!({"uploads": "", "prefix": format!("u/{id}/")}),
            json!({"prefix": format!("u/{id}/")}),
        ] {
            query[sub] = json!("");
            let body = json!({"Method": "GET", "Key": "", "Pathname": "/", "Query": query});
            let r = app
                .post_authed(shared::routes::V5_SIGN, &token, &body)
                .await;
            expect_error(r, 400, "query_not_allowed").await;
        }
    }
}

fn form_lookup(
    fields: &serde_json::Map<String, Value>,
    extra: &[(&str, &str)],
) -> impl Fn(&str) -> Option<String> + use<> {
    let mut all: BTreeMap<String, String> = fields
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap().to_owned()))
        .collect();
    for (k, v) in extra {
        all.insert(k.to_ascii_lowercase(), (*v).to_owned());
    }
    move |name: &str| all.get(&name.to_ascii_lowercase()).cloned()
}

#[tokio::test]
async fn post_policy_exact_key_verifies_and_binds_type_size_and_key() {
    let app = spawn_app_with(|c| c.max_upload_size = 1000).await;
    let (token, id) = app.token("alice").await;
    let key = format!("u/{id}/a.jpg");
    let r = app
        .post_authed(
            shared::routes::POST_POLICY,
            &token,
            &json!({"key": key, "max_size": 5000, "content_type": "image/jpeg", "expires_in": 99999}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["url"], format!("{}/", app.base_url));
    assert_eq!(v["max_size"], 1000, "capped by the server");
    let exp = v["expires_at"].as_u64().unwrap();
    assert!(exp <= now() + 3600, "expiry capped by the sign TTL");
    let fields = v["fields"].as_object().unwrap();
    for f in [
        "key",
        "policy",
        "q-sign-algorithm",
        "q-ak",
        "q-key-time",
        "q-signature",
        "Content-Type",
    ] {
        assert!(fields.contains_key(f), "{f}");
    }
    assert_eq!(fields["key"], key);
    let bucket = "metis-1250000000";
    let accepted =
        cos_sign::policy::verify(&test_creds(), &form_lookup(fields, &[]), bucket, now(), 0)
            .unwrap();
    assert_eq!(accepted.check_size(1000), Ok(()));
    let r = accepted.check_size(1001);
    assert!(matches!(r, Err(VerifyError::PolicyCondition(_))), "{r:?}");
    // Another key or content type, or another bucket, fails.
    let other = format!("u/{id}/b.jpg");
    let r = cos_sign::policy::verify(
        &test_creds(),
        &form_lookup(fields, &[("key", &other)]),
        bucket,
        now(),
        0,
    );
    assert!(matches!(r, Err(VerifyError::PolicyCondition(_))), "{r:?}");
    let r = cos_sign::policy::verify(
        &test_creds(),
        &form_lookup(fields, &[("Content-Type", "text/html")]),
        bucket,
        now(),
        0,
    );
    assert!(matches!(r, Err(VerifyError::PolicyCondition(_))), "{r:?}");
    let r = cos_sign::policy::verify(
        &test_creds(),
        &form_lookup(fields, &[]),
        "other-1250000000",
        now(),
        0,
    );
    assert!(matches!(r, Err(VerifyError::BucketMismatch)), "{r:?}");
    let r = cos_sign::policy::verify(&test_creds(), &form_lookup(fields, &[]), bucket, exp + 1, 0);
    assert!(matches!(r, Err(VerifyError::Expired { .. })), "{r:?}");
}

#[tokio::test]
async fn post_policy_prefix_and_content_type_prefix() {
    let app = spawn_app().await;
    let (token, id) = app.token("alice").await;
    let r = app
        .post_authed(
            shared::routes::POST_POLICY,
            &token,
            &json!({"prefix": format!("/u/{id}/photos"), "content_type": "image/"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let fields = v["fields"].as_object().unwrap();
    assert_eq!(fields["key"], format!("u/{id}/photos/"));
    assert!(
        !fields.contains_key("Content-Type"),
        "a prefix is not a fixed type"
    );
    let bucket = "metis-1250000000";
    let inside = format!("u/{id}/photos/x.png");
    let lookup = form_lookup(fields, &[("key", &inside), ("Content-Type", "image/png")]);
    cos_sign::policy::verify(&test_creds(), &lookup, bucket, now(), 0).unwrap();
    let outside = format!("u/{id}/x.png");
    let lookup = form_lookup(fields, &[("key", &outside), ("Content-Type", "image/png")]);
    assert_eq!(
        cos_sign::policy::verify(&test_creds(), &lookup, bucket, now(), 0),
        Err(VerifyError::PathNotAllowed)
    );
    let lookup = form_lookup(fields, &[("key", &inside), ("Content-Type", "text/html")]);
    let r = cos_sign::policy::verify(&test_creds(), &lookup, bucket, now(), 0);
    assert!(matches!(r, Err(VerifyError::PolicyCondition(_))), "{r:?}");

    // No key or prefix: the caller's whole prefix.
    let v: Value = app
        .post_authed(shared::routes::POST_POLICY, &token, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["fields"]["key"], format!("u/{id}/"));
    // Bad requests.
    for (body, code) in [
        (
            json!({"key": format!("u/{id}/a"), "prefix": format!("/u/{id}/")}),
            "invalid_input",
        ),
        (json!({"expires_in": 0}), "invalid_input"),
        (
            json!({"content_type": "image/jpeg\"x"}),
            "invalid_content_type",
        ),
        (json!({"content_type": ""}), "invalid_content_type"),
        (json!({"max_size": -1}), "invalid_input"),
    ] {
        expect_error(
            app.post_authed(shared::routes::POST_POLICY, &token, &body)
                .await,
            400,
            code,
        )
        .await;
    }
}

#[tokio::test]
async fn v5_upload_listing_is_signed_only_inside_the_callers_prefix() {
    let app = spawn_app().await;
    let (token, id) = app.token("alice").await;
    let sign = |query: Value| {
        let (app, token) = (&app, token.clone());
        async move {
            let r = sign_bucket_get(app, &token, query).await;
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    // What cos-nodejs-sdk-v5's uploadFile asks for before a multipart upload.
    let prefix = format!("u/{id}/big.bin");
    let (status, v) = sign(json!({"uploads": "", "prefix": prefix})).await;
    assert_eq!(status, 200, "{v}");
    let auth = ParsedAuthorization::from_header(v["Authorization"].as_str().unwrap()).unwrap();
    assert_eq!(auth.param_list, ["prefix", "uploads"]);
    let h = host(&app);
    v5::verify(
        &auth,
        &test_creds(),
        &v5::Request {
            method: "GET",
            path: "/",
            params: &[("uploads", ""), ("prefix", &prefix)],
            headers: &[("Host", &h)],
        },
        now(),
        0,
    )
    .unwrap();
    // Without a prefix, or with someone else's, the listing would show other users' uploads.
    for (query, code) in [
        (json!({"uploads": ""}), "outside_prefix"),
        (json!({"uploads": "", "prefix": "u/"}), "outside_prefix"),
        (
            json!({"uploads": "", "prefix": format!("u/{id}0/")}),
            "outside_prefix",
        ),
        (
            json!({"uploads": "", "prefix": format!("u/{id}/"), "acl": ""}),
            "query_not_allowed",
        ),
    ] {
        let (status, v) = sign(query.clone()).await;
        assert_eq!(v["error_code"], code, "{query}: {v}");
        assert!(status == 403 || status == 400, "{query}: {status}");
    }
    // Any other bucket-level request stays refused.
    for method in ["PUT", "POST", "HEAD", "DELETE"] {
        let body = json!({"Method": method, "Key": "", "Pathname": "/",
                          "Query": {"prefix": format!("u/{id}/")}});
        let v = expect_error(
            app.post_authed(shared::routes::V5_SIGN, &token, &body)
                .await,
            400,
            "invalid_key",
        )
        .await;
        assert!(v["message"].as_str().is_some(), "{method}: {v}");
    }
}

#[tokio::test]
async fn v5_object_listing_is_signed_only_inside_the_callers_prefix() {
    let app = spawn_app().await;
    let (token, id) = app.token("alice").await;
    let sign = |query: Value| sign_bucket_get(&app, &token, query);
    // What getBucket sends (wx/js/node: every given parameter; Python: all
    // of them, empty ones included).
    let prefix = format!("u/{id}/dir/");
    for params in [
        vec![
            ("delimiter", "/"),
            ("encoding-type", "url"),
            ("marker", "dir/a b"),
            ("max-keys", "10"),
            ("prefix", prefix.as_str()),
        ],
        vec![
            ("prefix", prefix.as_str()),
            ("delimiter", ""),
            ("marker", ""),
            ("max-keys", "1000"),
        ],
        vec![("prefix", &prefix[..prefix.len() - 1])],
    ] {
        let query: BTreeMap<&str, &str> = params.iter().copied().collect();
        let r = sign(json!(query)).await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        let auth = ParsedAuthorization::from_header(v["Authorization"].as_str().unwrap()).unwrap();
        let mut names: Vec<&str> = query.keys().copied().collect();
        names.sort_unstable();
        assert_eq!(auth.param_list, names);
        let h = host(&app);
        let signed: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, *v)).collect();
        v5::verify(
            &auth,
            &test_creds(),
            &v5::Request {
                method: "GET",
                path: "/",
                params: &signed,
                headers: &[("Host", &h)],
            },
            now(),
            0,
        )
        .unwrap();
    }
    // The caller's whole prefix, yes; a prefix that is not inside it by whole
    // segments, no (u/12 would also list u/123/).
    assert_eq!(
        sign(json!({"prefix": format!("u/{id}/")})).await.status(),
        200
    );
    for (query, status, code) in [
        (json!({}), 403, "outside_prefix"),
        (json!({"prefix": ""}), 403, "outside_prefix"),
        (json!({"prefix": "u/"}), 403, "outside_prefix"),
        (json!({"prefix": format!("u/{id}")}), 403, "outside_prefix"),
        (
            json!({"prefix": format!("u/{id}0/")}),
            403,
            "outside_prefix",
        ),
        (
            json!({"prefix": format!("u/{}/", id + 1)}),
            403,
            "outside_prefix",
        ),
        (
            json!({"prefix": format!("u/{id}/"), "max-keys": "ten"}),
            400,
            "query_not_allowed",
        ),
        (
            json!({"prefix": format!("u/{id}/"), "versions": ""}),
            400,
            "query_not_allowed",
        ),
        (
            json!({"prefix": format!("u/{id}/"), "key-marker": ""}),
            400,
            "query_not_allowed",
        ),
        (
            json!({"prefix": format!("u/{id}/\n")}),
            400,
            "invalid_input",
        ),
    ] {
        let v = expect_error(sign(query.clone()).await, status, code).await;
        assert!(v["message"].as_str().is_some(), "{query}");
    }
    // Audited like any signature.
    let db = app.db().await;
    let target: String = sqlx::query_scalar(
        "SELECT target FROM signatures WHERE target LIKE 'GET ?prefix=%' LIMIT 1",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(target, format!("GET ?prefix={prefix}"));
}

#[tokio::test]
async fn v5_get_signs_the_response_header_parameters() {
    let app = spawn_app().await;
    let (token, id) = app.token("alice").await;
    let key = format!("u/{id}/dir/a.txt");
    let query = json!({
        "response-content-disposition": "attachment; filename=\"a b.txt\"",
        "response-content-type": "text/plain",
        "response-content-language": "zh-CN",
        "response-expires": "Thu, 01 Dec 1994 16:00:00 GMT",
        "response-cache-control": "max-age=600",
        "response-content-encoding": "identity",
    });
    let r = app
        .post_authed(
            shared::routes::V5_SIGN,
            &token,
            &json!({"Method": "GET", "Key": key, "Query": query}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let auth = ParsedAuthorization::from_header(v["Authorization"].as_str().unwrap()).unwrap();
    assert_eq!(auth.param_list.len(), 6);
    let params: Vec<(&str, &str)> = query
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
        .collect();
    let h = host(&app);
    v5::verify(
        &auth,
        &test_creds(),
        &v5::Request {
            method: "GET",
            path: &format!("/{key}"),
            params: &params,
            headers: &[("Host", &h)],
        },
        now(),
        0,
    )
    .unwrap();
    // Only for GET.
    for method in ["PUT", "HEAD", "DELETE", "POST"] {
        let r = app
            .post_authed(
                shared::routes::V5_SIGN,
                &token,
                &json!({"Method": method, "Key": key,
                        "Query": {"response-content-type": "text/html"}}),
            )
            .await;
        expect_error(r, 400, "query_not_allowed").await;
    }
}

#[tokio::test]
async fn post_policy_min_size_bounds_the_range_and_must_not_exceed_the_max() {
    let app = spawn_app_with(|c| c.max_upload_size = 1000).await;
    let (token, id) = app.token("alice").await;
    let bucket = "metis-1250000000";
    let key = format!("u/{id}/a.jpg");
    let policy = |body: Value| {
        let app = &app;
        let token = token.clone();
        async move {
            app.post_authed(shared::routes::POST_POLICY, &token, &body)
                .await
        }
    };
    let v: Value = policy(json!({"key": key, "min_size": 10, "max_size": 20}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["max_size"], 20);
    let fields = v["fields"].as_object().unwrap();
    let accepted =
        cos_sign::policy::verify(&test_creds(), &form_lookup(fields, &[]), bucket, now(), 0)
            .unwrap();
    assert_eq!(accepted.content_length_range, Some((10, 20)));
    assert_eq!(accepted.check_size(10), Ok(()));
    assert_eq!(accepted.check_size(20), Ok(()));
    for size in [9, 21] {
        let r = accepted.check_size(size);
        assert!(
            matches!(r, Err(VerifyError::PolicyCondition(_))),
            "{size}: {r:?}"
        );
    }

    // The old request shape (no min_size) keeps a 0 minimum.
    let v: Value = policy(json!({"key": key})).await.json().await.unwrap();
    let accepted = cos_sign::policy::verify(
        &test_creds(),
        &form_lookup(v["fields"].as_object().unwrap(), &[]),
        bucket,
        now(),
        0,
    )
    .unwrap();
    assert_eq!(accepted.content_length_range, Some((0, 1000)));

    // min_size == max_size is one exact size; above the (capped) max is refused.
    assert_eq!(
        policy(json!({"key": key, "min_size": 5, "max_size": 5}))
            .await
            .status(),
        200
    );
    for body in [
        json!({"key": key, "min_size": 21, "max_size": 20}),
        json!({"key": key, "min_size": 1001}),
        json!({"key": key, "min_size": 1001, "max_size": 5000}),
        json!({"key": key, "min_size": -1}),
    ] {
        expect_error(policy(body.clone()).await, 400, "invalid_input").await;
    }
    // A content type prefix must be `<type>/`.
    for ct in ["/", "image//", "image/png/"] {
        expect_error(
            policy(json!({"key": key, "content_type": ct})).await,
            400,
            "invalid_content_type",
        )
        .await;
    }
}
