//! The app's flow end to end: login, signature, upload, read back — v4 as the
//! mini-program does it (raw `wx.uploadFile` multipart and the uploader library), and the
//! same through the v5 endpoints (PUT with a server signature, POST Object with a policy).

use std::sync::Arc;

use serde_json::json;

use crate::harness::{bytes, proved, sha1_hex, spawn_app, wx};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v4_flow_as_the_mini_program_sends_it() {
    let app = spawn_app().await;
    let token = app.dev_login("alice").await;
    assert_eq!(token.token_type, "JWT");
    let dir = format!("{}photos", token.upload_prefix);
    let sign = app.sign_v4(&token.access_token, &dir).await;
    assert!(
        sign.upload_url
            .ends_with(&format!("{}photos/", token.upload_prefix))
    );

    // wx.uploadFile: formData {op: upload}, name 'filecontent', header Authorization: <sign>.
    let content = bytes(1, 300_000);
    let name = "测试 图片.jpg";
    let url = format!("{}{}", sign.upload_url, cos_sign::encode_path(name));
    let answer = wx::upload_file(&app.http, &url, &sign.sign, name, &content)
        .await
        .expect("upload request");
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json["code"], 0, "{}", answer.text);
    let source_url = answer.json["data"]["source_url"]
        .as_str()
        .expect("source_url")
        .to_owned();
    let resource_path = answer.json["data"]["resource_path"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(
        resource_path,
        format!(
            "/{}/{}{}photos/{name}",
            app.appid, app.bucket, token.upload_prefix
        )
    );

    // The app shows data.source_url: fetch it like an <image> tag would (no credentials).
    let got = app.http.get(&source_url).send().await.unwrap();
    assert_eq!(got.status(), 200);
    let got = got.bytes().await.unwrap();
    assert_eq!(sha1_hex(&got), sha1_hex(&content));
    proved(
        "flow",
        format!(
            "v4 wx.uploadFile flow: {} bytes at {source_url} read back byte-identical",
            content.len()
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v4_flow_through_the_uploader_library() {
    let app = spawn_app().await;
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("shots");
    std::fs::create_dir(&src).unwrap();
    let small = bytes(2, 10_000);
    let large = bytes(3, 3 * 1024 * 1024 + 17);
    std::fs::write(src.join("small.png"), &small).unwrap();
    std::fs::write(src.join("large.bin"), &large).unwrap();

    let client = Arc::new(uploader::ServerClient::new(app.http.clone(), &app.base_url));
    let session = client.login_dev("bob").await.expect("login");
    let mut opts = uploader::RunOptions {
        paths: vec![src],
        prefix: Some("album".into()),
        verify: true,
        ..Default::default()
    };
    // Force the slice path for the large file.
    opts.upload.large_threshold = 1024 * 1024;
    let report = uploader::run(
        client,
        &opts,
        Arc::new(uploader::NoProgress),
        uploader::CancellationToken::new(),
    )
    .await
    .expect("run");
    assert!(report.all_ok(), "{:#?}", report.files);
    assert_eq!(report.summary.uploaded, 2);
    assert_eq!(report.summary.verified, 2);
    // The directory keeps its name inside the prefix.
    let prefix = format!("{}album/shots/", session.upload_prefix.key_prefix());
    for (name, data) in [("small.png", &small), ("large.bin", &large)] {
        let got = app
            .get_object(&format!("{prefix}{name}"))
            .await
            .expect("object exists");
        assert_eq!(sha1_hex(&got), sha1_hex(data), "{name}");
    }
    proved(
        "flow",
        "uploader library: simple + slice upload (3 MiB over a 1 MiB threshold), verified by download",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_put_and_post_policy_flows() {
    let app = spawn_app().await;
    let token = app.dev_login("carol").await;
    let prefix = token.upload_prefix.trim_start_matches('/').to_owned();

    // PUT Object with an Authorization from the server's v5 endpoint.
    let key = format!("{prefix}v5/put 图.jpg");
    let body = bytes(4, 123_456);
    let host = format!("127.0.0.1:{}", app.port);
    let (status, signed) = app
        .post_json(
            shared::routes::V5_SIGN,
            &token.access_token,
            &json!({"Method": "PUT", "Key": key, "Headers": {"Host": host, "Content-Length": body.len()}}),
        )
        .await;
    assert_eq!(status, 200, "{signed}");
    let url = signed["Url"].as_str().expect("Url").to_owned();
    let res = app
        .http
        .put(&url)
        .header("Authorization", signed["Authorization"].as_str().unwrap())
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let got = app.get_object(&key).await.expect("PUT object readable");
    assert_eq!(sha1_hex(&got), sha1_hex(&body));

    // POST Object with a server-issued policy form.
    let (status, form) = app
        .post_json(
            shared::routes::POST_POLICY,
            &token.access_token,
            &json!({"prefix": format!("{}v5/", token.upload_prefix), "max_size": 1_000_000, "content_type": "image/"}),
        )
        .await;
    assert_eq!(status, 200, "{form}");
    let post_key = format!("{prefix}v5/posted.png");
    let body2 = bytes(5, 77_777);
    let mut multipart = reqwest::multipart::Form::new();
    for (k, v) in form["fields"].as_object().expect("fields") {
        let v = v.as_str().unwrap().to_owned();
        let v = if k == "key" { post_key.clone() } else { v };
        multipart = multipart.text(k.clone(), v);
    }
    if form["fields"].get("Content-Type").is_none() {
        multipart = multipart.text("Content-Type", "image/png");
    }
    multipart = multipart.part(
        "file",
        reqwest::multipart::Part::bytes(body2.clone()).file_name("posted.png"),
    );
    let res = app
        .http
        .post(form["url"].as_str().unwrap())
        .multipart(multipart)
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_success(),
        "{}: {}",
        res.status(),
        res.text().await.unwrap_or_default()
    );
    let got = app
        .get_object(&post_key)
        .await
        .expect("POST object readable");
    assert_eq!(sha1_hex(&got), sha1_hex(&body2));
    proved(
        "flow",
        "v5 PUT with a server signature and POST Object with a server policy, read back equal",
    );

    // And the uploader library over both v5 protocols.
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("a.jpg"), bytes(6, 50_000)).unwrap();
    std::fs::write(src.path().join("b.jpg"), bytes(7, 2 * 1024 * 1024 + 5)).unwrap();
    for (i, protocol) in [uploader::Protocol::V5Put, uploader::Protocol::V5Post]
        .into_iter()
        .enumerate()
    {
        let client = Arc::new(uploader::ServerClient::new(app.http.clone(), &app.base_url));
        client.login_dev("carol").await.unwrap();
        let mut opts = uploader::RunOptions {
            paths: vec![src.path().to_owned()],
            prefix: Some(format!("lib{i}")),
            protocol,
            verify: true,
            ..Default::default()
        };
        opts.upload.large_threshold = 1024 * 1024;
        opts.upload.part_size = 1024 * 1024;
        let report = uploader::run(
            client,
            &opts,
            Arc::new(uploader::NoProgress),
            uploader::CancellationToken::new(),
        )
        .await
        .unwrap();
        assert!(report.all_ok(), "{protocol:?}: {:#?}", report.files);
        assert_eq!(report.summary.verified, 2);
    }
    proved(
        "flow",
        "uploader library over v5 PUT and v5 POST, with multipart for a 2 MiB file, verified",
    );
}
