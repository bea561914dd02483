//! `--verify` catches an object whose content differs from the local file.

use std::collections::BTreeMap;

use shared::wire::V5SignRequest;
use uploader::{Protocol, Status};

use crate::helpers::*;

#[tokio::test]
async fn verify_reports_a_corrupted_object() {
    let app = spawn_app().await;
    let client = app.login("verify").await;
    let home = client.session().unwrap().upload_prefix;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("photos");
    let work = tempfile::tempdir().unwrap();
    write(&dir, "good.jpg", 5000, 1);
    write(&dir, "victim.jpg", 5000, 2);
    let mut opts = options(vec![dir], Protocol::V4);
    opts.journal = Some(work.path().join("j.jsonl"));
    opts.verify = true;
    let first = run(&client, &opts).await;
    assert!(first.all_ok(), "{first:#?}");
    assert_eq!(first.summary.verified, 2);

    // Overwrite one object behind the uploader's back, with a signature from the server.
    let key = home.join("photos/victim.jpg").unwrap();
    let evil = b"not the picture you uploaded".to_vec();
    let signed = client
        .sign_v5(&V5SignRequest {
            method: "PUT".into(),
            key: key.as_str().to_owned(),
            pathname: None,
            query: BTreeMap::new(),
            headers: BTreeMap::from([("content-length".to_owned(), evil.len().to_string())]),
        })
        .await
        .unwrap();
    let resp = client
        .http()
        .put(&signed.url)
        .header("Authorization", &signed.authorization)
        .header("content-length", evil.len().to_string())
        .body(evil)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());

    // The journal says both are done; verification downloads and compares.
    let second = run(&client, &opts).await;
    assert!(!second.all_ok());
    assert_eq!(second.summary.failed, 1, "{second:#?}");
    let victim = second.files.iter().find(|f| f.key == key.as_str()).unwrap();
    assert_eq!(victim.status, Status::Failed);
    assert_eq!(victim.verified, Some(false));
    assert_eq!(victim.error_kind.as_deref(), Some("verify"));
    assert!(
        victim.error.as_deref().unwrap().contains("SHA-1"),
        "{victim:?}"
    );
    let good = second.files.iter().find(|f| f.key != key.as_str()).unwrap();
    assert_eq!(good.status, Status::Skipped);
    assert_eq!(good.verified, Some(true));
}
