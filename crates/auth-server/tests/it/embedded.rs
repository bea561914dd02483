//! The embedded store accepts what the server signs, and only that.

use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn v4_upload_with_the_returned_sign_is_accepted_inside_and_refused_outside() {
    let app = spawn_app().await;
    let (token, id) = app.token("alice").await;
    let (_, other) = app.token("mallory").await;
    let v: Value = app
        .v4(
            Some(&format!("JWT {token}")),
            Some(&format!("/u/{id}/photos")),
        )
        .await
        .json()
        .await
        .unwrap();
    let sign = v["sign"].as_str().unwrap();
    let upload = |url: String| {
        let form = reqwest::multipart::Form::new().text("op", "upload").part(
            "filecontent",
            reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("a.jpg"),
        );
        app.http
            .post(url)
            .header("Authorization", sign)
            .multipart(form)
            .send()
    };
    let ok: Value = upload(format!("{}a.jpg", v["upload_url"].as_str().unwrap()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ok["code"], 0, "{ok}");
    let source = ok["data"]["source_url"].as_str().unwrap();
    assert_eq!(
        app.http
            .get(source)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .as_ref(),
        b"hello"
    );

    for outside in [
        format!("{}/files/v2/1250000000/metis/u/{id}/a.jpg", app.base_url),
        format!(
            "{}/files/v2/1250000000/metis/u/{id}/photos2/a.jpg",
            app.base_url
        ),
        format!(
            "{}/files/v2/1250000000/metis/u/{other}/photos/a.jpg",
            app.base_url
        ),
        format!(
            "{}/files/v2/1250000000/other/u/{id}/photos/a.jpg",
            app.base_url
        ),
    ] {
        let r: Value = upload(outside.clone()).await.unwrap().json().await.unwrap();
        assert_ne!(r["code"], 0, "{outside}: {r}");
    }
}

#[tokio::test]
async fn v5_put_with_the_returned_authorization_is_accepted_only_for_that_key() {
    let app = spawn_app().await;
    let (token, id) = app.token("alice").await;
    let key = format!("u/{id}/dir/测试 图片.jpg");
    let body = b"v5 body".to_vec();
    let v: Value = app
        .post_authed(
            shared::routes::V5_SIGN,
            &token,
            &json!({"Method": "PUT", "Key": key, "Headers": {"Content-Type": "image/jpeg"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let auth = v["Authorization"].as_str().unwrap();
    let url = v["Url"].as_str().unwrap();
    let r = app
        .http
        .put(url)
        .header("Authorization", auth)
        .header("Content-Type", "image/jpeg")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(
        app.http
            .get(url)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .as_ref(),
        &body[..]
    );

    // The same Authorization on another key, or with another content type, is refused.
    let other_url = format!("{}/u/{id}/dir/other.jpg", app.base_url);
    let r = app
        .http
        .put(&other_url)
        .header("Authorization", auth)
        .header("Content-Type", "image/jpeg")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = app
        .http
        .put(url)
        .header("Authorization", auth)
        .header("Content-Type", "text/html")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn post_policy_form_upload_is_accepted_inside_the_prefix_only() {
    let app = spawn_app().await;
    let (token, id) = app.token("alice").await;
    let v: Value = app
        .post_authed(
            shared::routes::POST_POLICY,
            &token,
            &json!({"prefix": format!("/u/{id}/p/"), "min_size": 2, "max_size": 10, "content_type": "image/"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let post = |key: String, content_type: &str, bytes: &[u8]| {
        let mut form = reqwest::multipart::Form::new();
        for (k, val) in v["fields"].as_object().unwrap() {
            if k != "key" {
                form = form.text(k.clone(), val.as_str().unwrap().to_owned());
            }
        }
        form = form
            .text("key", key)
            .text("Content-Type", content_type.to_owned())
            .text("success_action_status", "200")
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("x.png"),
            );
        app.http
            .post(v["url"].as_str().unwrap())
            .multipart(form)
            .send()
    };
    let r = post(format!("u/{id}/p/x.png"), "image/png", b"png!")
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = app
        .http
        .get(format!("{}/u/{id}/p/x.png", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"png!");
    for (key, ct, bytes) in [
        (format!("u/{id}/x.png"), "image/png", &b"png!"[..]),
        (format!("u/{id}/p/z.png"), "image/png", &b"p"[..]),
        (format!("u/{id}/p/x.png"), "text/html", &b"png!"[..]),
        (
            format!("u/{id}/p/y.png"),
            "image/png",
            &b"this is too large"[..],
        ),
    ] {
        let r = post(key.clone(), ct, bytes).await.unwrap();
        assert!(r.status().is_client_error(), "{key} {ct}: {}", r.status());
    }
}
