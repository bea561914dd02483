//! The v4 JSON API.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn upload_returns_urls_and_source_url_serves_the_bytes() {
    let ts = TestStore::start().await;
    let body = content(5000, 1);
    let sign = ts.sign_more(Some("/u/42"));
    let (status, r) = ts.v4_upload("/u/42/photo 1.jpg", &body, &[], &sign).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["code"], 0);
    assert_eq!(r["message"], "SUCCESS");
    assert!(!r["request_id"].as_str().unwrap().is_empty());
    let d = &r["data"];
    let src = format!("{}/u/42/photo%201.jpg", ts.base);
    assert_eq!(d["source_url"], src);
    assert_eq!(d["access_url"], src);
    assert_eq!(d["resource_path"], "/1250000000/metis/u/42/photo 1.jpg");
    assert_eq!(
        d["url"],
        format!("{}/files/v2/1250000000/metis/u/42/photo%201.jpg", ts.base)
    );
    assert!(!d["vid"].as_str().unwrap().is_empty());
    // The app shows source_url without a signature (public-read).
    let got = ts.client.get(&src).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(
        got.headers()["content-type"],
        "image/jpeg",
        "guessed from the name"
    );
    assert_eq!(got.headers()["x-content-type-options"], "nosniff");
    assert_eq!(got.bytes().await.unwrap().to_vec(), body);
    assert_eq!(ts.keys(), vec!["u/42/photo 1.jpg"]);
}

#[tokio::test]
async fn camel_case_field_and_sign_query_parameter_are_accepted() {
    let ts = TestStore::start().await;
    let sign = ts.sign_more(None);
    let form = reqwest::multipart::Form::new().text("op", "upload").part(
        "fileContent",
        reqwest::multipart::Part::bytes(b"js sdk".to_vec()).file_name("x"),
    );
    let resp = ts
        .client
        .post(ts.v4_url("/js.txt"))
        .query(&[("sign", sign.as_str())])
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (status, r) = json_reply(resp).await;
    assert_eq!((status, r["code"].as_i64()), (200, Some(0)), "{r}");
    assert_eq!(ts.get_bytes("js.txt").await.unwrap(), b"js sdk");
}

#[tokio::test]
async fn sha_is_checked_and_a_mismatch_stores_nothing() {
    let ts = TestStore::start().await;
    let body = content(1000, 2);
    let sign = ts.sign_more(None);
    let (status, r) = ts
        .v4_upload("/a.bin", &body, &[("sha", &sha1_hex(b"other"))], &sign)
        .await;
    assert_eq!(status, 400);
    assert_eq!(r["code"], -174, "ERROR_CMD_COS_SHA_NOT_EQU: {r}");
    assert_eq!(r["code"], shared::v4::codes::SHA_MISMATCH, "{r}");
    ts.assert_nothing_stored().await;
    let (_, r) = ts
        .v4_upload("/a.bin", &body, &[("sha", &sha1_hex(&body))], &sign)
        .await;
    assert_eq!(r["code"], 0, "{r}");
}

#[tokio::test]
async fn insert_only_distinguishes_same_and_different_content() {
    let ts = TestStore::start().await;
    let sign = ts.sign_more(None);
    let (_, r) = ts.v4_upload("/x.txt", b"one", &[], &sign).await;
    assert_eq!(r["code"], 0);
    // Default insertOnly=1, same bytes: -4018 with the existing object's URLs.
    let (_, r) = ts.v4_upload("/x.txt", b"one", &[], &sign).await;
    assert_eq!(r["code"], shared::v4::codes::SAME_FILE_UPLOADED, "{r}");
    assert_eq!(r["data"]["source_url"], format!("{}/x.txt", ts.base));
    // Different bytes: -177 and the old content stays.
    let (_, r) = ts
        .v4_upload("/x.txt", b"two", &[("insertOnly", "1")], &sign)
        .await;
    assert_eq!(r["code"], shared::v4::codes::FILE_EXISTS, "{r}");
    assert_eq!(ts.get_bytes("x.txt").await.unwrap(), b"one");
    // insertOnly=0 overwrites.
    let (_, r) = ts
        .v4_upload("/x.txt", b"two", &[("insertOnly", "0")], &sign)
        .await;
    assert_eq!(r["code"], 0, "{r}");
    assert_eq!(ts.get_bytes("x.txt").await.unwrap(), b"two");
    // Only one body is kept.
    assert_eq!(ts.body_files(), 1);
    let (_, r) = ts
        .v4_upload("/x.txt", b"3", &[("insertOnly", "2")], &sign)
        .await;
    assert_eq!(r["code"], shared::v4::codes::PARAMS_ERROR, "{r}");
}

#[tokio::test]
async fn simple_upload_size_limit() {
    let ts = TestStore::start_with(|c| c.max_simple_upload = 1000).await;
    let sign = ts.sign_more(None);
    let (status, r) = ts
        .v4_upload("/big.bin", &content(1001, 3), &[], &sign)
        .await;
    assert_eq!(status, 400);
    assert_eq!(r["code"], shared::v4::codes::TOO_LARGE, "{r}");
    ts.assert_nothing_stored().await;
    let (_, r) = ts
        .v4_upload("/big.bin", &content(1000, 3), &[], &sign)
        .await;
    assert_eq!(r["code"], 0, "{r}");
}

/// A refused upload whose chunked body is still coming: the answer comes
/// first and the connection closes, rather than the rest being read.
#[tokio::test]
async fn a_refused_chunked_upload_closes_its_connection() {
    let ts = TestStore::start().await;
    let form = "--XB\r\nContent-Disposition: form-data; name=\"op\"\r\n\r\nupload\r\n\
                --XB\r\nContent-Disposition: form-data; name=\"filecontent\"; filename=\"x\"\r\n\r\n";
    let request = format!(
        "POST /files/v2/{APPID}/{BUCKET}/a.bin HTTP/1.1\r\nHost: {}\r\n\
         Authorization: bm90IGEgc2lnbmF0dXJl\r\n\
         Content-Type: multipart/form-data; boundary=XB\r\nTransfer-Encoding: chunked\r\n\r\n\
         {:x}\r\n{form}\r\n",
        ts.host,
        form.len()
    );
    let answer = answer_to(&ts, &request).await;
    let head = answer
        .split("\r\n\r\n")
        .next()
        .unwrap()
        .to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 403"), "{answer}");
    assert!(head.contains("\r\nconnection: close"), "{answer}");
    ts.assert_nothing_stored().await;
}

#[tokio::test]
async fn invalid_paths_are_refused_not_normalised() {
    let ts = TestStore::start().await;
    let sign = ts.sign_more(None);
    for path in [
        "/a//b.jpg",
        "/a/%2E%2E/b.jpg",
        "/a/../b.jpg",
        "/a/b%3F.jpg",
        "/dir/",
        "/a/%252E",
    ] {
        // Raw bytes: an HTTP client would resolve the dot segments itself.
        let body = "--XB\r\nContent-Disposition: form-data; name=\"op\"\r\n\r\nupload\r\n\
                    --XB\r\nContent-Disposition: form-data; name=\"filecontent\"; filename=\"x\"\r\n\r\nx\r\n--XB--\r\n";
        let request = format!(
            "POST /files/v2/{APPID}/{BUCKET}{path} HTTP/1.1\r\nHost: {}\r\nAuthorization: {sign}\r\n\
             Content-Type: multipart/form-data; boundary=XB\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            ts.host,
            body.len()
        );
        let (status, text) = raw_request(&ts, request.as_bytes()).await;
        assert_eq!(status, 400, "{path}: {text}");
        assert!(text.contains("\"code\":-1"), "{path}: {text}");
    }
    ts.assert_nothing_stored().await;
}

#[tokio::test]
async fn stat_list_create_and_delete() {
    let ts = TestStore::start().await;
    let sign = ts.sign_more(None);
    for name in ["b.txt", "a.txt", "c.txt"] {
        let (_, r) = ts
            .v4_upload(
                &format!("/d/{name}"),
                name.as_bytes(),
                &[("biz_attr", "attr")],
                &sign,
            )
            .await;
        assert_eq!(r["code"], 0, "{r}");
    }
    ts.v4_upload("/d/sub/deep.txt", b"deep", &[], &sign).await;

    // stat a file
    let (status, r) = ts.v4_get("/d/a.txt", &[("op", "stat")], &sign).await;
    assert_eq!(status, 200, "{r}");
    let d = &r["data"];
    assert_eq!(d["name"], "a.txt");
    assert_eq!(d["filesize"], 5);
    assert_eq!(d["sha"], sha1_hex(b"a.txt"));
    assert_eq!(d["biz_attr"], "attr");
    assert_eq!(d["source_url"], format!("{}/d/a.txt", ts.base));
    let (status, r) = ts.v4_get("/d/zz.txt", &[("op", "stat")], &sign).await;
    assert_eq!(
        (status, r["code"].as_i64()),
        (404, Some(shared::v4::codes::NOT_FOUND))
    );

    // list with paging: files and the implied subdirectory
    let (_, r) = ts
        .v4_get("/d/", &[("op", "list"), ("num", "2")], &sign)
        .await;
    let names: Vec<&str> = r["data"]["infos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a.txt", "b.txt"], "{r}");
    assert_eq!(r["data"]["listover"], false);
    let context = r["data"]["context"].as_str().unwrap().to_owned();
    let (_, r) = ts
        .v4_get(
            "/d/",
            &[("op", "list"), ("num", "2"), ("context", &context)],
            &sign,
        )
        .await;
    let infos = r["data"]["infos"].as_array().unwrap();
    let names: Vec<&str> = infos.iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["c.txt", "sub"], "{r}");
    assert!(
        infos[1].get("filesize").is_none(),
        "a directory has no filesize"
    );
    assert_eq!(r["data"]["listover"], true);
    // list with a name prefix and a pattern
    let (_, r) = ts.v4_get("/d/b", &[("op", "list")], &sign).await;
    assert_eq!(r["data"]["infos"].as_array().unwrap().len(), 1, "{r}");
    let (_, r) = ts
        .v4_get("/d/", &[("op", "list"), ("pattern", "eListDirOnly")], &sign)
        .await;
    assert_eq!(r["data"]["infos"][0]["name"], "sub", "{r}");

    // create a directory (JSON body, as the SDKs send it), twice
    let (_, r) = ts
        .v4_json("/e/", json!({"op": "create", "biz_attr": "dir"}), &sign)
        .await;
    assert_eq!(r["code"], 0, "{r}");
    assert_eq!(r["data"]["resource_path"], "/1250000000/metis/e/");
    let (status, r) = ts.v4_json("/e/", json!({"op": "create"}), &sign).await;
    assert_eq!((status, &r["code"]), (409, &json!(-178)), "{r}");
    assert_eq!(r["code"], shared::v4::codes::PATH_CONFLICT, "{r}");
    let (_, r) = ts.v4_get("/e/", &[("op", "stat")], &sign).await;
    assert_eq!(r["data"]["biz_attr"], "dir", "{r}");

    // delete needs a single-effect signature
    let (_, r) = ts.v4_json("/d/a.txt", json!({"op": "delete"}), &sign).await;
    assert_eq!(r["code"], shared::v4::codes::SIGN_INVALID, "{r}");
    assert!(ts.keys().contains(&"d/a.txt".to_owned()));
    let once = ts.sign_once("/d/a.txt");
    let (_, r) = ts.v4_json("/d/a.txt", json!({"op": "delete"}), &once).await;
    assert_eq!(r["code"], 0, "{r}");
    assert!(!ts.keys().contains(&"d/a.txt".to_owned()));
    let once = ts.sign_once("/d/a.txt");
    let (status, r) = ts.v4_json("/d/a.txt", json!({"op": "delete"}), &once).await;
    assert_eq!(
        (status, r["code"].as_i64()),
        (404, Some(shared::v4::codes::NOT_FOUND))
    );

    // a directory with content cannot be deleted; an empty one can
    let once = ts.sign_once("/d/sub/");
    let (_, r) = ts.v4_json("/d/sub/", json!({"op": "delete"}), &once).await;
    assert_eq!(r["code"], shared::v4::codes::DIR_NOT_EMPTY, "{r}");
    let (_, r) = ts.v4_json("/d/sub/", json!({"op": "create"}), &sign).await;
    assert_eq!(r["code"], 0);
    let once = ts.sign_once("/d/sub/");
    let (_, r) = ts.v4_json("/d/sub/", json!({"op": "delete"}), &once).await;
    assert_eq!(r["code"], shared::v4::codes::DIR_NOT_EMPTY, "{r}");
    let once = ts.sign_once("/e/");
    let (_, r) = ts.v4_json("/e/", json!({"op": "delete"}), &once).await;
    assert_eq!(r["code"], 0, "{r}");

    // update biz_attr
    let once = ts.sign_once("/d/b.txt");
    let (_, r) = ts
        .v4_json(
            "/d/b.txt",
            json!({"op": "update", "biz_attr": "new"}),
            &once,
        )
        .await;
    assert_eq!(r["code"], 0, "{r}");
    let (_, r) = ts.v4_get("/d/b.txt", &[("op", "stat")], &sign).await;
    assert_eq!(r["data"]["biz_attr"], "new");
    assert_eq!(ts.get_bytes("d/b.txt").await.unwrap(), b"b.txt");
}

pub async fn slice_op(
    ts: &TestStore,
    path: &str,
    sign: &str,
    fields: &[(&str, &str)],
    file: Option<&[u8]>,
) -> serde_json::Value {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    if let Some(f) = file {
        form = form.part(
            "filecontent",
            reqwest::multipart::Part::bytes(f.to_vec()).file_name("s"),
        );
    }
    ts.v4_post(path, form, sign).await.1
}

#[tokio::test]
async fn slice_upload_out_of_order_with_list_and_finish() {
    let ts = TestStore::start().await;
    let sign = ts.sign_more(Some("/big/"));
    let slice = 64 * 1024usize;
    let body = content(slice * 3 + 100, 9);
    let sha = sha1_hex(&body);
    let size = body.len().to_string();
    let slice_s = slice.to_string();
    let r = slice_op(
        &ts,
        "/big/file.bin",
        &sign,
        &[
            ("op", "upload_slice_init"),
            ("filesize", &size),
            ("slice_size", &slice_s),
            ("sha", &sha),
            ("biz_attr", "sliced"),
        ],
        None,
    )
    .await;
    assert_eq!(r["code"], 0, "{r}");
    let session = r["data"]["session"].as_str().unwrap().to_owned();
    assert_eq!(r["data"]["slice_size"], slice);

    // Slices 3 and 1 first.
    for i in [3usize, 1] {
        let off = (i * slice).to_string();
        let end = ((i + 1) * slice).min(body.len());
        let r = slice_op(
            &ts,
            "/big/file.bin",
            &sign,
            &[
                ("op", "upload_slice_data"),
                ("session", &session),
                ("offset", &off),
            ],
            Some(&body[i * slice..end]),
        )
        .await;
        assert_eq!(r["code"], 0, "{r}");
        assert_eq!(r["data"]["offset"], i * slice);
    }
    // A slice of the wrong length is refused.
    let r = slice_op(
        &ts,
        "/big/file.bin",
        &sign,
        &[
            ("op", "upload_slice_data"),
            ("session", &session),
            ("offset", "0"),
        ],
        Some(&body[..10]),
    )
    .await;
    assert_eq!(r["code"], shared::v4::codes::PARAMS_ERROR, "{r}");
    // Finish too early: -4019, nothing visible.
    let r = slice_op(
        &ts,
        "/big/file.bin",
        &sign,
        &[
            ("op", "upload_slice_finish"),
            ("session", &session),
            ("filesize", &size),
            ("sha", &sha),
        ],
        None,
    )
    .await;
    assert_eq!(r["code"], shared::v4::codes::SLICE_UNFINISHED, "{r}");
    assert!(ts.keys().is_empty());
    // Finish with another filesize than at init: -175, the session stays.
    let other_size = (body.len() + 1).to_string();
    let r = slice_op(
        &ts,
        "/big/file.bin",
        &sign,
        &[
            ("op", "upload_slice_finish"),
            ("session", &session),
            ("filesize", &other_size),
            ("sha", &sha),
        ],
        None,
    )
    .await;
    assert_eq!(r["code"], -175, "{r}");
    assert_eq!(r["code"], shared::v4::codes::FILE_SIZE_MISMATCH, "{r}");
    assert!(ts.keys().is_empty());
    // The list shows what is stored (by path, as the SDK resumes).
    let r = slice_op(
        &ts,
        "/big/file.bin",
        &sign,
        &[("op", "upload_slice_list")],
        None,
    )
    .await;
    assert_eq!(r["data"]["session"], session.as_str(), "{r}");
    let parts: Vec<u64> = r["data"]["listparts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["offset"].as_u64().unwrap())
        .collect();
    assert_eq!(parts, [slice as u64, 3 * slice as u64]);
    // Init again with the same parameters resumes the same session.
    let r = slice_op(
        &ts,
        "/big/file.bin",
        &sign,
        &[
            ("op", "upload_slice_init"),
            ("filesize", &size),
            ("slice_size", &slice_s),
            ("sha", &sha),
        ],
        None,
    )
    .await;
    assert_eq!(r["data"]["session"], session.as_str());
    let off = "0".to_owned();
    let r = slice_op(
        &ts,
        "/big/file.bin",
        &sign,
        &[
            ("op", "upload_slice_data"),
            ("session", &session),
            ("offset", &off),
        ],
        Some(&body[..slice]),
    )
    .await;
    assert_eq!(r["code"], 0, "{r}");
    // The fields may also follow the file part.
    let off = (2 * slice).to_string();
    let form = reqwest::multipart::Form::new()
        .part(
            "filecontent",
            reqwest::multipart::Part::bytes(body[2 * slice..3 * slice].to_vec()).file_name("s"),
        )
        .text("op", "upload_slice_data")
        .text("session", session.clone())
        .text("offset", off);
    let (_, r) = ts.v4_post("/big/file.bin", form, &sign).await;
    assert_eq!(r["code"], 0, "{r}");
    // sha was given at init, so finish without it is refused.
    let r = slice_op(
        &ts,
        "/big/file.bin",
        &sign,
        &[
            ("op", "upload_slice_finish"),
            ("session", &session),
            ("filesize", &size),
        ],
        None,
    )
    .await;
    assert_eq!(r["code"], -29094, "{r}");
    let r = slice_op(
        &ts,
        "/big/file.bin",
        &sign,
        &[
            ("op", "upload_slice_finish"),
            ("session", &session),
            ("filesize", &size),
            ("sha", &sha),
        ],
        None,
    )
    .await;
    assert_eq!(r["code"], 0, "{r}");
    assert_eq!(r["data"]["source_url"], format!("{}/big/file.bin", ts.base));
    assert_eq!(ts.get_bytes("big/file.bin").await.unwrap(), body);
    let (_, r) = ts.v4_get("/big/file.bin", &[("op", "stat")], &sign).await;
    assert_eq!(r["data"]["biz_attr"], "sliced");
    assert_eq!(r["data"]["sha"], sha);
    // The session is gone.
    let r = slice_op(
        &ts,
        "/big/file.bin",
        &sign,
        &[("op", "upload_slice_list")],
        None,
    )
    .await;
    assert_eq!(r["code"], shared::v4::codes::NOT_FOUND, "{r}");
}

#[tokio::test]
async fn slice_finish_with_wrong_sha_stores_nothing() {
    let ts = TestStore::start().await;
    let sign = ts.sign_more(None);
    let body = content(70_000, 4);
    let size = body.len().to_string();
    let r = slice_op(
        &ts,
        "/s.bin",
        &sign,
        &[
            ("op", "upload_slice_init"),
            ("filesize", &size),
            ("slice_size", "65536"),
        ],
        None,
    )
    .await;
    let session = r["data"]["session"].as_str().unwrap().to_owned();
    for off in [0usize, 65536] {
        let o = off.to_string();
        let r = slice_op(
            &ts,
            "/s.bin",
            &sign,
            &[
                ("op", "upload_slice_data"),
                ("session", &session),
                ("offset", &o),
            ],
            Some(&body[off..(off + 65536).min(body.len())]),
        )
        .await;
        assert_eq!(r["code"], 0, "{r}");
    }
    let r = slice_op(
        &ts,
        "/s.bin",
        &sign,
        &[
            ("op", "upload_slice_finish"),
            ("session", &session),
            ("sha", &sha1_hex(b"no")),
        ],
        None,
    )
    .await;
    assert_eq!(r["code"], shared::v4::codes::SHA_MISMATCH, "{r}");
    assert!(ts.keys().is_empty());
}

#[tokio::test]
async fn parallel_slices_of_one_session() {
    let ts = TestStore::start().await;
    let sign = ts.sign_more(None);
    let slice = 64 * 1024usize;
    let body = content(slice * 8 - 7, 11);
    let size = body.len().to_string();
    let r = slice_op(
        &ts,
        "/p.bin",
        &sign,
        &[
            ("op", "upload_slice_init"),
            ("filesize", &size),
            ("slice_size", "65536"),
        ],
        None,
    )
    .await;
    let session = r["data"]["session"].as_str().unwrap().to_owned();
    let sends = (0..8).map(|i| {
        let off = (i * slice).to_string();
        let part = body[i * slice..((i + 1) * slice).min(body.len())].to_vec();
        let (ts, sign, session) = (&ts, &sign, &session);
        async move {
            slice_op(
                ts,
                "/p.bin",
                sign,
                &[
                    ("op", "upload_slice_data"),
                    ("session", session),
                    ("offset", &off),
                ],
                Some(&part),
            )
            .await
        }
    });
    for r in futures_util::future::join_all(sends).await {
        assert_eq!(r["code"], 0, "{r}");
    }
    let r = slice_op(
        &ts,
        "/p.bin",
        &sign,
        &[
            ("op", "upload_slice_finish"),
            ("session", &session),
            ("filesize", &size),
        ],
        None,
    )
    .await;
    assert_eq!(r["code"], 0, "{r}");
    assert_eq!(ts.get_bytes("p.bin").await.unwrap(), body);
}
