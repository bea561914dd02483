//! Error messages that say what to do instead.

use serde_json::json;
use shared::v4::codes;

use crate::helpers::*;

fn message(r: &serde_json::Value) -> &str {
    r["message"].as_str().unwrap_or_default()
}

/// A v4 upload to the directory's URL: append the file name.
#[tokio::test]
async fn an_upload_to_a_directory_url_says_to_append_the_file_name() {
    let ts = TestStore::start().await;
    let sign = ts.sign_more(None);
    let (status, r) = ts.v4_upload("/u/1/photos/", b"x", &[], &sign).await;
    assert_eq!(
        (status, &r["code"]),
        (400, &json!(codes::PARAMS_ERROR)),
        "{r}"
    );
    let m = message(&r);
    assert!(
        m.contains("directory") && m.contains("append the file name") && m.contains("/u/1/photos/"),
        "{m}"
    );
    assert!(ts.keys().is_empty());
}

/// A v4 upload that is not multipart/form-data: name the content type to send.
#[tokio::test]
async fn a_v4_upload_with_another_content_type_names_multipart_form_data() {
    let ts = TestStore::start().await;
    let sign = ts.sign_more(None);
    for content_type in [Some("application/octet-stream"), Some("image/jpeg"), None] {
        let mut rb = ts
            .client
            .post(ts.v4_url("/u/1/a.jpg"))
            .header("Authorization", &sign)
            .body(b"op=upload".to_vec());
        if let Some(ct) = content_type {
            rb = rb.header("Content-Type", ct);
        }
        let (status, r) = json_reply(rb.send().await.unwrap()).await;
        assert_eq!(status, 400, "{content_type:?}: {r}");
        assert!(
            message(&r).contains("multipart/form-data"),
            "{content_type:?}: {r}"
        );
    }
    // JSON is read, but an upload needs its file in a multipart form.
    let (status, r) = ts
        .v4_json("/u/1/a.jpg", json!({"op": "upload"}), &sign)
        .await;
    assert_eq!(status, 400, "{r}");
    let m = message(&r);
    assert!(
        m.contains("filecontent") && m.contains("multipart/form-data"),
        "{m}"
    );
}

/// `insertOnly=1` refusing different content: say how to overwrite.
#[tokio::test]
async fn a_refused_same_name_upload_mentions_insert_only_0() {
    let ts = TestStore::start().await;
    let sign = ts.sign_more(None);
    assert_eq!(ts.v4_upload("/a.jpg", b"one", &[], &sign).await.0, 200);
    let (status, r) = ts.v4_upload("/a.jpg", b"two", &[], &sign).await;
    assert_eq!(
        (status, &r["code"]),
        (409, &json!(codes::FILE_EXISTS)),
        "{r}"
    );
    assert!(message(&r).contains("insertOnly=0"), "{r}");
}

/// A v5 request signed for 127.0.0.1 and sent to localhost: the host is
/// signed, and the message names both.
#[tokio::test]
async fn a_request_signed_for_another_host_names_both_hosts() {
    let ts = TestStore::start().await;
    // A PUT signed for `signed` and sent with the Host header `sent`: the
    // refusal's message.
    let refusal = |signed: String, sent: String| {
        let ts = &ts;
        async move {
            let auth = auth_with(
                &creds(),
                &signed,
                "put",
                "/h.txt",
                &[],
                now() - 10,
                now() + 600,
            );
            let resp = ts
                .client
                .put(ts.url("h.txt"))
                .header("Host", sent)
                .header("Authorization", auth)
                .body("x")
                .send()
                .await
                .unwrap();
            let (status, code, text) = xml_code(resp).await;
            assert_eq!(
                (status, code.as_str()),
                (403, "SignatureDoesNotMatch"),
                "{text}"
            );
            tag(&text, "Message").unwrap_or_default()
        }
    };
    let port = ts.host.rsplit(':').next().unwrap().to_owned();
    let (signed, sent) = (format!("127.0.0.1:{port}"), format!("localhost:{port}"));
    let m = refusal(signed.clone(), sent.clone()).await;
    assert!(
        m.contains(&format!("signed for host {signed:?}"))
            && m.contains(&format!("sent to {sent:?}"))
            && m.contains("host is part of the signature"),
        "{m}"
    );
    // Signed for a host that is no other name of this one: say which arrived.
    let m = refusal("cos.example.com".to_owned(), ts.host.clone()).await;
    assert!(
        m.contains("host is part of this signature") && m.contains(&format!("{:?}", ts.host)),
        "{m}"
    );
    assert!(ts.keys().is_empty());
}
