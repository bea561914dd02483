//! Bulk runs over directories: mixed sizes, Unicode names, filters, protocols.

use uploader::{Protocol, Status};

use crate::helpers::*;

#[tokio::test]
async fn a_directory_of_mixed_sizes_including_slices_uploads_and_verifies() {
    let app = spawn_app().await;
    let client = app.login("tree").await;
    let home = client.session().unwrap().upload_prefix;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("trip");
    let sizes = [
        ("a.jpg", 1usize),
        ("b.jpg", 4096),
        ("sub/c.png", 100 * 1024),
        ("sub/deeper/d.bin", 700 * 1024),
        ("e-large.bin", 1024 * 1024 + 1), // over the 1 MiB threshold: slices
        ("f-large.bin", 2 * 1024 * 1024 + 999),
    ];
    for (i, (rel, size)) in sizes.iter().enumerate() {
        write(&dir, rel, *size, 100 + i as u64);
    }
    let mut opts = options(vec![dir], Protocol::V4);
    opts.prefix = Some("photos".into());
    opts.verify = true;
    let report = run(&client, &opts).await;
    assert!(report.all_ok(), "{report:#?}");
    assert_eq!(report.summary.uploaded, sizes.len() as u64);
    assert_eq!(report.summary.verified, sizes.len() as u64);
    let total: u64 = sizes.iter().map(|(_, s)| *s as u64).sum();
    assert_eq!(report.summary.bytes_uploaded, total);

    let target = shared::DirPath::parse(&format!("{}photos/", home.as_str())).unwrap();
    let listed = list_store(&client, &target).await;
    let mut want: Vec<(String, u64, String)> = sizes
        .iter()
        .enumerate()
        .map(|(i, (rel, size))| {
            (
                // The directory keeps its name inside the prefix.
                format!("{}trip/{rel}", target.key_prefix()),
                *size as u64,
                sha1_hex(&content(*size, 100 + i as u64)),
            )
        })
        .collect();
    want.sort();
    assert_eq!(listed, want);
    for f in &report.files {
        assert_eq!(f.status, Status::Uploaded);
        assert_eq!(f.verified, Some(true));
        assert!(f.requests >= 1);
        assert!(f.url.as_deref().unwrap().contains("photos"));
    }
}

#[tokio::test]
async fn unicode_names_become_nfc_keys_and_bad_names_fail_alone() {
    let app = spawn_app().await;
    let client = app.login("unicode").await;
    let home = client.session().unwrap().upload_prefix;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("图片");
    write(&dir, "测试 图片.jpg", 2000, 1);
    write(&dir, "cafe\u{301}.png", 3000, 2); // NFD on disk
    write(&dir, "Ünïcødé/ファイル (1).txt", 1500, 3);
    write(&dir, "100%.jpg", 10, 4); // '%' cannot be in a key
    write(&dir, "a:b.jpg", 10, 5); // ':' is forbidden by COS
    let mut opts = options(vec![dir], Protocol::V4);
    opts.verify = true;
    let report = run(&client, &opts).await;
    assert_eq!(report.summary.uploaded, 3, "{report:#?}");
    assert_eq!(report.summary.failed, 2, "{report:#?}");
    let keys: Vec<&str> = report
        .files
        .iter()
        .filter(|f| f.status == Status::Uploaded)
        .map(|f| f.key.as_str())
        .collect();
    let p = format!("{}图片/", home.key_prefix());
    assert!(
        keys.contains(&format!("{p}测试 图片.jpg").as_str()),
        "{keys:?}"
    );
    assert!(
        keys.contains(&format!("{p}caf\u{e9}.png").as_str()),
        "{keys:?}"
    );
    assert!(
        keys.contains(&format!("{p}Ünïcødé/ファイル (1).txt").as_str()),
        "{keys:?}"
    );
    for f in report.files.iter().filter(|f| f.status == Status::Failed) {
        assert_eq!(f.error_kind.as_deref(), Some("key"), "{f:?}");
        assert!(
            f.error.as_deref().unwrap().contains("forbidden character"),
            "{f:?}"
        );
    }
    // The same tree through v5.
    let mut v5 = opts.clone();
    v5.protocol = Protocol::V5Put;
    v5.prefix = Some("v5".into());
    let report = run(&client, &v5).await;
    assert_eq!(report.summary.uploaded, 3, "{report:#?}");
    assert_eq!(report.summary.verified, 3);
}

#[tokio::test]
async fn filters_symlinks_and_dry_run() {
    let app = spawn_app().await;
    let client = app.login("filters").await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("src");
    write(&dir, "keep.jpg", 10, 1);
    write(&dir, "skip.txt", 10, 2);
    write(&dir, ".git/config", 10, 3);
    write(&dir, "raw/keep-not.jpg", 10, 4);
    std::os::unix::fs::symlink(dir.join("keep.jpg"), dir.join("link.jpg")).unwrap();
    let mut opts = options(vec![dir], Protocol::V4);
    opts.walk.include = vec!["*.jpg".into()];
    opts.walk.exclude = vec![".git".into(), "raw/**".into()];
    opts.dry_run = true;
    let report = run(&client, &opts).await;
    assert_eq!(report.summary.dry_run, 1, "{report:#?}");
    assert_eq!(
        report.files[0].key,
        format!(
            "{}src/keep.jpg",
            client.session().unwrap().upload_prefix.key_prefix()
        )
    );
    let home = client.session().unwrap().upload_prefix;
    assert!(
        list_store(&client, &home).await.is_empty(),
        "dry run uploaded something"
    );

    opts.dry_run = false;
    opts.walk.follow_symlinks = true;
    let report = run(&client, &opts).await;
    assert_eq!(report.summary.uploaded, 2, "{report:#?}");
    assert_eq!(list_store(&client, &home).await.len(), 2);
}

#[tokio::test]
async fn v5_post_and_multipart_through_a_bulk_run() {
    let app = spawn_app().await;
    let client = app.login("v5bulk").await;
    let dir = tempfile::tempdir().unwrap();
    for i in 0..6u64 {
        write(dir.path(), &format!("p{i}.jpg"), 5000 * (i as usize + 1), i);
    }
    write(dir.path(), "big.bin", 1600 * 1024, 77);
    let mut opts = options(vec![dir.path().to_owned()], Protocol::V5Post);
    opts.verify = true;
    let report = run(&client, &opts).await;
    assert!(report.all_ok(), "{report:#?}");
    assert_eq!(report.summary.uploaded, 7);
    assert_eq!(report.summary.verified, 7);
}

/// Records the order of hashing and sending events.
#[derive(Default)]
struct Events(std::sync::Mutex<Vec<(&'static str, u64)>>);

impl uploader::Progress for Events {
    fn hashed(&self, _file: usize, bytes: u64) {
        self.0.lock().unwrap().push(("hashed", bytes));
    }
    fn bytes(&self, _file: usize, delta: i64) {
        if delta > 0 {
            self.0.lock().unwrap().push(("sent", delta.unsigned_abs()));
        }
    }
}

#[tokio::test]
async fn a_large_file_reports_its_hashing_pass_before_any_byte_is_sent() {
    let app = spawn_app().await;
    let client = app.login("hashing").await;
    let dir = tempfile::tempdir().unwrap();
    let size = 1500 * 1024;
    let file = write(dir.path(), "big.bin", size, 4);
    for protocol in [Protocol::V4, Protocol::V5Put] {
        let mut opts = options(vec![file.clone()], protocol);
        opts.prefix = Some(format!("{protocol:?}"));
        let events = std::sync::Arc::new(Events::default());
        let report = uploader::run(client.clone(), &opts, events.clone(), Default::default())
            .await
            .unwrap();
        assert!(report.all_ok(), "{report:#?}");
        let events = events.0.lock().unwrap();
        let first_sent = events.iter().position(|(what, _)| *what == "sent");
        let hashed_before: u64 = events[..first_sent.unwrap_or(events.len())]
            .iter()
            .filter(|(what, _)| *what == "hashed")
            .map(|(_, n)| n)
            .sum();
        assert_eq!(hashed_before, size as u64, "{protocol:?}: {events:?}");
        assert!(first_sent.is_some(), "{protocol:?}: {events:?}");
    }
}
