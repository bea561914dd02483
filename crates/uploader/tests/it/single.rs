//! One file at a time, through the library API.

use shared::ObjectKey;
use uploader::{
    Error, FileCtx, FileJob, Outcome, Protocol, Uploader, upload_file_v4, upload_file_v5,
};

use crate::helpers::*;

#[tokio::test]
async fn v4_single_file_round_trip_then_same_content_then_different_content() {
    let app = spawn_app().await;
    let client = app.login("single").await;
    let home = client.session().unwrap().upload_prefix;
    let dir = tempfile::tempdir().unwrap();
    let data = content(10_000, 1);
    let path = write(dir.path(), "cat.jpg", 10_000, 1);
    let key = home.join("cat.jpg").unwrap();
    let up = Uploader::new(client.clone(), small_config());

    let job = FileJob::new(&path, key.clone()).unwrap();
    let ctx = FileCtx::default();
    let done = upload_file_v4(&up, &job, &ctx).await.unwrap();
    assert_eq!(done.outcome, Outcome::Uploaded);
    assert_eq!(done.sha1, sha1_hex(&data));
    assert_eq!(ctx.requests(), 1);
    assert_eq!(download(&done.url).await, data);

    // The same content again: -4018, counted as present, nothing rewritten.
    let again = upload_file_v4(&up, &job, &FileCtx::default())
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyPresent);
    assert_eq!(again.url, done.url);

    // Different content under the same key is refused, never overwritten.
    std::fs::write(&path, b"something else").unwrap();
    let job = FileJob::new(&path, key.clone()).unwrap();
    let err = upload_file_v4(&up, &job, &FileCtx::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Exists { .. }), "{err}");
    assert_eq!(download(&done.url).await, data);
}

#[tokio::test]
async fn v4_slice_upload_of_a_file_over_the_threshold() {
    let app = spawn_app().await;
    let client = app.login("slices").await;
    let home = client.session().unwrap().upload_prefix;
    let dir = tempfile::tempdir().unwrap();
    let size = 2 * 1024 * 1024 + 12_345; // 5 slices of 512 KiB
    let path = write(dir.path(), "big.bin", size, 2);
    let up = Uploader::new(client.clone(), small_config());
    let job = FileJob::new(&path, home.join("big.bin").unwrap()).unwrap();
    let ctx = FileCtx::default();
    let done = upload_file_v4(&up, &job, &ctx).await.unwrap();
    assert_eq!(done.outcome, Outcome::Uploaded);
    // init + 5 slices + finish
    assert_eq!(ctx.requests(), 7);
    assert_eq!(
        sha1_hex(&download(&done.url).await),
        sha1_hex(&content(size, 2))
    );
    // Again: the init already knows the content.
    let again = upload_file_v4(&up, &job, &FileCtx::default())
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyPresent);
}

#[tokio::test]
async fn v5_put_post_and_multipart() {
    let app = spawn_app().await;
    let client = app.login("vfive").await;
    let home = client.session().unwrap().upload_prefix;
    let dir = tempfile::tempdir().unwrap();
    let up = Uploader::new(client.clone(), small_config());
    for (i, (protocol, size)) in [
        (Protocol::V5Put, 1000usize),
        (Protocol::V5Put, 200 * 1024),
        (Protocol::V5Post, 3000),
        (Protocol::V5Put, 1536 * 1024 + 7),
        (Protocol::V5Post, 1100 * 1024),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("f{i}.bin");
        let path = write(dir.path(), &name, size, 10 + i as u64);
        let job = FileJob::new(&path, home.join(&name).unwrap()).unwrap();
        let done = upload_file_v5(&up, protocol, &job, &FileCtx::default())
            .await
            .unwrap_or_else(|e| panic!("{protocol:?} {size}: {e}"));
        assert_eq!(done.outcome, Outcome::Uploaded, "{protocol:?} {size}");
        assert_eq!(
            sha1_hex(&download(&done.url).await),
            sha1_hex(&content(size, 10 + i as u64)),
            "{protocol:?} {size}"
        );
    }
    // PUT of identical content: present; of different content: refused.
    let path = dir.path().join("f0.bin");
    let job = FileJob::new(&path, home.join("f0.bin").unwrap()).unwrap();
    let again = upload_file_v5(&up, Protocol::V5Put, &job, &FileCtx::default())
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyPresent);
    std::fs::write(&path, b"other").unwrap();
    let job = FileJob::new(&path, home.join("f0.bin").unwrap()).unwrap();
    let err = upload_file_v5(&up, Protocol::V5Put, &job, &FileCtx::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Exists { .. }), "{err}");
}

#[tokio::test]
async fn keys_outside_the_user_prefix_are_refused_by_the_server() {
    let app = spawn_app().await;
    let client = app.login("nosy").await;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "x.jpg", 10, 3);
    let up = Uploader::new(client.clone(), small_config());
    let job = FileJob::new(&path, ObjectKey::parse("u/somebody-else/x.jpg").unwrap()).unwrap();
    let err = upload_file_v4(&up, &job, &FileCtx::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Sign { .. }), "{err}");
    let err = upload_file_v5(&up, Protocol::V5Put, &job, &FileCtx::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Sign { .. }), "{err}");
}
