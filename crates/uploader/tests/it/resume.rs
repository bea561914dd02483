//! Interrupted runs resume from the journal: only what is missing is sent,
//! nothing is uploaded twice.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize};

use uploader::{CancellationToken, JournalState, Protocol, Status};

use crate::helpers::*;

fn journal_state(path: &std::path::Path) -> JournalState {
    JournalState::parse(std::io::BufReader::new(std::fs::File::open(path).unwrap())).unwrap()
}

#[tokio::test]
async fn a_cancelled_run_resumes_with_only_the_missing_files() {
    let app = spawn_app().await;
    let client = app.login("resume").await;
    let home = client.session().unwrap().upload_prefix;
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let n = 12;
    for i in 0..n {
        write(
            dir.path(),
            &format!("img{i:02}.jpg"),
            3000 + i * 100,
            i as u64,
        );
    }
    let journal = work.path().join("journal.jsonl");
    let mut opts = options(vec![dir.path().to_owned()], Protocol::V4);
    opts.concurrency = 2;
    opts.journal = Some(journal.clone());

    let token = CancellationToken::new();
    let stopper = Arc::new(CancelAfter {
        after: 5,
        done: AtomicUsize::new(0),
        token: token.clone(),
    });
    let first = uploader::run(client.clone(), &opts, stopper, token)
        .await
        .unwrap();
    assert!(first.summary.uploaded >= 5, "{:?}", first.summary);
    assert!(first.summary.cancelled > 0, "{:?}", first.summary);
    assert!(!first.all_ok());
    let done_before: HashSet<String> = journal_state(&journal).done.keys().cloned().collect();
    // Every reported upload is journaled; a file cut off between its journal
    // record and its report counts as cancelled here and as done on resume.
    for f in first.files.iter().filter(|f| f.status == Status::Uploaded) {
        assert!(done_before.contains(&f.key), "{f:?}");
    }
    assert!(done_before.len() as u64 <= first.summary.uploaded + opts.concurrency as u64);

    let second = run(&client, &opts).await;
    assert!(second.all_ok(), "{second:#?}");
    assert_eq!(second.summary.skipped as usize, done_before.len());
    assert_eq!(
        second.summary.uploaded + second.summary.already_present + second.summary.skipped,
        n as u64
    );
    for f in &second.files {
        let was_done = done_before.contains(&f.key);
        assert_eq!(f.status == Status::Skipped, was_done, "{f:?}");
        assert_eq!(f.requests == 0, was_done, "{f:?}");
    }
    // The store holds each file once, with the right content.
    let listed = list_store(&client, &home).await;
    assert_eq!(listed.len(), n);
    for (i, (key, size, sha)) in listed.iter().enumerate() {
        assert!(key.ends_with(&format!("img{i:02}.jpg")));
        assert_eq!(*size as usize, 3000 + i * 100);
        assert_eq!(*sha, sha1_hex(&content(3000 + i * 100, i as u64)));
    }
    // A third run has nothing left to do.
    let third = run(&client, &opts).await;
    assert_eq!(third.summary.skipped, n as u64);
    assert_eq!(third.files.iter().map(|f| f.requests).sum::<u32>(), 0);
}

async fn interrupted_large_upload_resumes(protocol: Protocol) {
    let app = spawn_app().await;
    let client = app.login(&format!("bigresume{}", protocol as u8)).await;
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    // 7 pieces: v4 slices of 512 KiB, v5 parts of 1 MiB (the store's minimum).
    let piece: usize = if protocol == Protocol::V4 {
        512 * 1024
    } else {
        1024 * 1024
    };
    let size = 6 * piece + 64 * 1024;
    write(dir.path(), "movie.bin", size, 9);
    let journal = work.path().join("j.jsonl");
    let mut opts = options(vec![dir.path().to_owned()], protocol);
    opts.journal = Some(journal.clone());
    opts.upload.parallel_parts = 1;
    opts.verify = true;

    let token = CancellationToken::new();
    let stopper = Arc::new(CancelAfterBytes {
        after: (piece * 27 / 10) as i64,
        sent: AtomicI64::new(0),
        token: token.clone(),
    });
    let first = uploader::run(client.clone(), &opts, stopper, token)
        .await
        .unwrap();
    assert_eq!(first.summary.cancelled, 1, "{first:#?}");
    let state = journal_state(&journal);
    let stored = match protocol {
        Protocol::V4 => state.slices.values().next().map(|s| s.offsets.len()),
        _ => state.multiparts.values().next().map(|m| m.parts.len()),
    }
    .unwrap_or_else(|| panic!("no pending upload in the journal: {state:?}"));
    assert!(stored >= 2, "only {stored} pieces recorded");

    let second = run(&client, &opts).await;
    assert!(second.all_ok(), "{second:#?}");
    let f = &second.files[0];
    assert_eq!(f.status, Status::Uploaded);
    assert_eq!(f.verified, Some(true));
    // Bytes: only what this run sent; what the first run stored is counted apart.
    assert!(
        f.bytes_resumed >= (stored * piece) as u64,
        "{} resumed for {stored} pieces: {f:?}",
        f.bytes_resumed
    );
    assert_eq!(f.bytes_sent + f.bytes_resumed, size as u64, "{f:?}");
    assert_eq!(second.summary.bytes_uploaded, f.bytes_sent);
    assert_eq!(second.summary.bytes_resumed, f.bytes_resumed);
    assert!(second.summary.bytes_uploaded < size as u64);
    // list + the missing pieces + finish; a fresh upload would need init + 7 + finish.
    // The store's list may hold one more piece than the journal (stored, then
    // cancelled before its record was written): it is not sent again either.
    let requests = f.requests as usize;
    let missing = 7 - stored;
    assert!(
        requests == missing + 2 || requests == missing + 1,
        "{requests} requests for {missing} missing pieces: {f:?}"
    );
}

#[tokio::test]
async fn an_interrupted_slice_upload_resumes_via_slice_list() {
    interrupted_large_upload_resumes(Protocol::V4).await;
}

#[tokio::test]
async fn an_interrupted_multipart_upload_resumes_via_list_parts() {
    interrupted_large_upload_resumes(Protocol::V5Put).await;
}

#[tokio::test]
async fn a_lost_journal_still_uploads_nothing_twice() {
    // The journal is gone (or was never written): the store recognises the
    // content by its SHA-1 and answers "already uploaded".
    let app = spawn_app().await;
    let client = app.login("nojournal").await;
    let dir = tempfile::tempdir().unwrap();
    for i in 0..4 {
        write(dir.path(), &format!("{i}.jpg"), 1000, i);
    }
    write(dir.path(), "big.bin", 1200 * 1024, 42);
    let opts = options(vec![dir.path().to_owned()], Protocol::V4);
    let first = run(&client, &opts).await;
    assert_eq!(first.summary.uploaded, 5);
    let second = run(&client, &opts).await;
    assert!(second.all_ok(), "{second:#?}");
    assert_eq!(second.summary.already_present, 5);
    assert_eq!(second.summary.bytes_uploaded, 0);
}

#[tokio::test]
async fn a_dry_run_reads_the_journal_but_never_creates_or_changes_it() {
    let app = spawn_app().await;
    let client = app.login("dryrun").await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("photos");
    let work = tempfile::tempdir().unwrap();
    for i in 0..3 {
        write(&dir, &format!("{i}.jpg"), 1000, i);
    }
    let journal = work.path().join("j.jsonl");
    let mut opts = options(vec![dir.clone()], Protocol::V4);
    opts.journal = Some(journal.clone());

    // No journal yet: a dry run does not create one.
    opts.dry_run = true;
    let r = run(&client, &opts).await;
    assert_eq!(r.summary.dry_run, 3, "{r:#?}");
    assert!(!journal.exists(), "the dry run created the journal");

    // A real run for one file (to the key it has in the directory), then a
    // dry run over all three.
    let mut one = opts.clone();
    one.dry_run = false;
    one.paths = vec![dir.join("0.jpg")];
    one.prefix = Some("photos".into());
    assert_eq!(run(&client, &one).await.summary.uploaded, 1);
    let before = std::fs::read(&journal).unwrap();
    // Torn last line: a real run would terminate it; a dry run leaves it.
    let mut torn = before.clone();
    torn.extend_from_slice(b"{\"t\":\"do");
    std::fs::write(&journal, &torn).unwrap();
    let r = run(&client, &opts).await;
    assert_eq!(r.summary.skipped, 1, "{r:#?}");
    assert_eq!(r.summary.dry_run, 2, "{r:#?}");
    assert_eq!(r.summary.bytes_uploaded, 0);
    assert_eq!(std::fs::read(&journal).unwrap(), torn);

    // A dry run does not take the lock either: it reads while a run holds it.
    let dest = client.destination().await.unwrap();
    let (held, _) = uploader::Journal::open(&journal, &dest).unwrap();
    let r = run(&client, &opts).await;
    assert_eq!(r.summary.skipped, 1, "{r:#?}");
    drop(held);
}
