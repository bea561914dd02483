//! v5 sub-resources (`?acl`, `?tagging`, `?restore`, …): every one COS
//! defines, with every method, on an object and on the bucket, is either
//! implemented or refused with 501 `NotImplemented`; neither changes the
//! object's body, metadata or the listing.

use shared::subresource::{self, Method, Target};

use crate::helpers::*;

const KEY: &str = "sub/photo.png";

/// What a request must not change: the object's body and metadata, the keys
/// listed, and the bodies on disk.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    body: Vec<u8>,
    headers: Vec<(String, String)>,
    keys: Vec<String>,
    body_files: usize,
}

async fn snapshot(ts: &TestStore) -> Snapshot {
    let resp = ts.get(KEY).await;
    assert_eq!(resp.status(), 200, "GET {KEY}");
    let headers = ["etag", "content-type", "last-modified", "x-cos-meta-owner"]
        .iter()
        .map(|h| {
            let value = resp
                .headers()
                .get(*h)
                .map(|v| v.to_str().unwrap().to_owned());
            (h.to_string(), value.unwrap_or_default())
        })
        .collect();
    Snapshot {
        body: resp.bytes().await.unwrap().to_vec(),
        headers,
        keys: ts.keys(),
        body_files: ts.body_files(),
    }
}

/// Sends a signed request with the query `params` and `body`: status and text.
async fn send(
    ts: &TestStore,
    method: Method,
    path: &str,
    params: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let resp = ts
        .signed(method.as_str(), path, params, &[], body.to_vec())
        .await;
    (
        resp.status().as_u16(),
        resp.text().await.unwrap_or_default(),
    )
}

async fn store_the_object(ts: &TestStore) {
    let headers = [("Content-Type", "image/png"), ("x-cos-meta-owner", "u1")];
    let resp = ts
        .signed("put", &format!("/{KEY}"), &[], &headers, content(5000, 3))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(ts.put("other.jpg", b"other".to_vec()).await.status(), 200);
}

#[tokio::test]
async fn put_acl_or_tagging_with_an_empty_body_leaves_the_object_alone() {
    let ts = TestStore::start().await;
    store_the_object(&ts).await;
    let before = snapshot(&ts).await;
    for name in ["acl", "tagging"] {
        let (status, text) = send(&ts, Method::Put, &format!("/{KEY}"), &[(name, "")], b"").await;
        assert_eq!(
            (status, tag(&text, "Code").as_deref()),
            (501, Some("NotImplemented")),
            "{text}"
        );
        assert!(text.contains(&format!("?{name}")), "{text}");
        assert_eq!(snapshot(&ts).await, before, "PUT ?{name}");
    }
}

#[tokio::test]
async fn every_sub_resource_with_every_method_is_implemented_or_refused_and_changes_nothing() {
    let ts = TestStore::start().await;
    store_the_object(&ts).await;
    let before = snapshot(&ts).await;
    let object_path = format!("/{KEY}");
    let mut refused = 0;
    for name in subresource::NAMES {
        for method in Method::ALL {
            for (target, path) in [
                (Target::Object, object_path.as_str()),
                (Target::Bucket, "/"),
            ] {
                let (status, text) =
                    send(&ts, method, path, &[(name, "")], b"<not a body to store/>").await;
                let what = format!("{} {path}?{name}", method.as_str());
                if subresource::implemented_by_store(method, target, name) {
                    assert_ne!(status, 501, "{what}: {text}");
                } else {
                    refused += 1;
                    assert_eq!(status, 501, "{what}: {text}");
                    if method != Method::Head {
                        assert_eq!(
                            tag(&text, "Code").as_deref(),
                            Some("NotImplemented"),
                            "{what}"
                        );
                        assert!(text.contains(&format!("?{name} for")), "{what}: {text}");
                    }
                }
                assert_eq!(snapshot(&ts).await, before, "{what} changed the store");
            }
        }
    }
    assert_eq!(
        refused,
        subresource::NAMES.len() * Method::ALL.len() * 2 - 8,
        "all but the 8 implemented combinations are refused"
    );
    // A sub-resource in another case is refused too, never taken for a plain PUT.
    let (status, text) = send(&ts, Method::Put, &object_path, &[("ACL", "")], b"x").await;
    assert_eq!(status, 501, "{text}");
    assert_eq!(snapshot(&ts).await, before);
}

#[tokio::test]
async fn query_parameters_that_are_no_sub_resource_keep_their_meaning() {
    let ts = TestStore::start().await;
    // A cache buster on a PUT is a plain PUT.
    let body = content(100, 9);
    let (status, text) = send(&ts, Method::Put, "/a.jpg", &[("t", "123")], &body).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(ts.get_bytes("a.jpg").await, Some(body.clone()));
    // GET with a cache buster, a response-* override and an image-processing
    // parameter serves the object.
    let resp = ts
        .client
        .get(format!(
            "{}?t=5&response-content-type=text%2Fplain&imageMogr2/thumbnail/10x",
            ts.url("a.jpg")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/plain");
    assert_eq!(resp.bytes().await.unwrap().to_vec(), body);
}
