//! Bulk uploads: walk, plan keys, consult the journal, upload with bounded
//! concurrency, verify, and report. Planning is in `plan`, verification in
//! `verify`.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::client::ServerClient;
use crate::error::Error;
use crate::file_ctx::FileCtx;
use crate::job::FileJob;
use crate::journal::{Journal, JournalState};
use crate::plan::{Plan, RunPlan, plan, target_dir};
use crate::progress::Progress;
use crate::report::{FileReport, Report, Status, Stop};
use crate::upload::{Outcome, Protocol, UploadConfig, Uploader};
use crate::verify::verify_object;
use crate::walk::{WalkOptions, walk};

/// Everything a bulk run needs besides the logged-in client.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Files and directories to upload. A file goes to `<target>/<file
    /// name>`; a directory keeps its own name, like `cp -r photos dest/`:
    /// `photos/a.jpg` goes to `<target>/photos/a.jpg`.
    pub paths: Vec<PathBuf>,
    /// Filtering and symlink policy.
    pub walk: WalkOptions,
    /// Target directory: relative to the user's upload prefix (`photos/2024`),
    /// or absolute inside it (`/u/7/photos`). `None`: the upload prefix itself.
    pub prefix: Option<String>,
    /// Upload protocol.
    pub protocol: Protocol,
    /// Files uploaded at once.
    pub concurrency: usize,
    /// Resume journal.
    pub journal: Option<PathBuf>,
    /// Download every object afterwards and compare its SHA-1.
    pub verify: bool,
    /// Walk, hash and consult the journal, but send nothing to the store.
    pub dry_run: bool,
    /// Single-file tuning.
    pub upload: UploadConfig,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            paths: Vec::new(),
            walk: WalkOptions::default(),
            prefix: None,
            protocol: Protocol::V4,
            concurrency: 8,
            journal: None,
            verify: false,
            dry_run: false,
            upload: UploadConfig::default(),
        }
    }
}

/// Uploads everything `opts` names. The client must be logged in. Per-file
/// failures are in the report; `Err` means the run could not start (not logged
/// in, bad options, unreadable journal, a journal of another destination or
/// locked by another run).
///
/// `cancel` stops the run: no new file starts, files in flight are abandoned
/// where they are (as a killed process would leave them) and reported as
/// cancelled. The run stops the same way by itself when an error would meet
/// every other file too ([`Stop::caused_by`]: no server has answered for
/// [`crate::RetryPolicy::give_up_after`], or the store is full); the report's
/// `stopped` says why.
pub async fn run(
    client: Arc<ServerClient>,
    opts: &RunOptions,
    progress: Arc<dyn Progress>,
    cancel: CancellationToken,
) -> Result<Report, Error> {
    let started = Instant::now();
    let session = client.session().ok_or_else(|| Error::Auth {
        code: "not_logged_in".into(),
        message: "log in before running an upload".into(),
    })?;
    let target = target_dir(&session.upload_prefix, opts.prefix.as_deref())?;
    let walked = {
        let paths = opts.paths.clone();
        let wopts = opts.walk.clone();
        tokio::task::spawn_blocking(move || walk(&paths, &wopts))
            .await
            .map_err(|e| Error::Usage(format!("walk failed: {e}")))??
    };
    let Plan {
        mut reports,
        jobs,
        to,
    } = plan(walked, &target);

    let (journal, state) = match &opts.journal {
        Some(p) => {
            let dest = client.destination().await?;
            // A dry run reads the journal but never creates, locks or writes it.
            let (j, s) = if opts.dry_run {
                (None, Journal::read(p, &dest)?)
            } else {
                let (j, s) = Journal::open(p, &dest)?;
                (Some(Arc::new(j)), s)
            };
            if s.bad_lines > 0 {
                tracing::warn!(journal = %p.display(), lines = s.bad_lines, "ignored unreadable journal lines");
            }
            (j, Arc::new(s))
        }
        None => (None, Arc::new(JournalState::default())),
    };

    progress.begin(&RunPlan {
        files: reports.len() as u64,
        bytes: jobs.iter().map(|(_, j)| j.size).sum(),
        from: opts.paths.clone(),
        to,
        server: client.base_url().to_owned(),
        dry_run: opts.dry_run,
    });
    for (i, r) in reports.iter().enumerate() {
        if let Some(r) = r {
            progress.file_finished(i, r);
        }
    }

    let uploader = Arc::new(Uploader::new(client, opts.upload.clone()));
    let halt = Arc::new(Halt::new(&cancel));
    let limit = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let mut set: JoinSet<(usize, FileReport)> = JoinSet::new();
    let mut not_started: Vec<(usize, FileJob)> = Vec::new();
    let mut iter = jobs.into_iter();
    while let Some((idx, job)) = iter.next() {
        let permit = tokio::select! {
            biased;
            () = halt.token.cancelled() => None,
            p = limit.clone().acquire_owned() => p.ok(),
        };
        let Some(permit) = permit else {
            not_started.push((idx, job));
            not_started.extend(iter.by_ref());
            break;
        };
        // Collect finished files as we go, so reports stream to the progress sink.
        while let Some(done) = set.try_join_next() {
            if let Ok((i, r)) = done {
                reports[i] = Some(r);
            }
        }
        let uploader = uploader.clone();
        let journal = journal.clone();
        let state = state.clone();
        let progress = progress.clone();
        let halt = halt.clone();
        let opts = opts.clone();
        set.spawn(async move {
            let _permit = permit;
            let t0 = Instant::now();
            let ctx = {
                let c = FileCtx::new(idx, progress.clone());
                match &journal {
                    Some(j) => c.with_journal(j.clone(), &state, &job.key),
                    None => c,
                }
            };
            progress.file_started(idx, job.key.as_str(), job.size);
            let report = tokio::select! {
                biased;
                () = halt.token.cancelled() => cancelled(&job, &ctx, t0),
                r = process(&uploader, &opts, &job, &ctx, &state, t0) => match r {
                    Ok(report) => report,
                    Err(stop) => {
                        halt.stop(stop);
                        cancelled(&job, &ctx, t0)
                    }
                },
            };
            progress.file_finished(idx, &report);
            (idx, report)
        });
    }
    while let Some(done) = set.join_next().await {
        match done {
            Ok((i, r)) => reports[i] = Some(r),
            Err(e) => tracing::error!(error = %e, "upload task failed"),
        }
    }
    for (idx, job) in not_started {
        let r = cancelled(&job, &FileCtx::default(), Instant::now());
        progress.file_finished(idx, &r);
        reports[idx] = Some(r);
    }
    let files: Vec<FileReport> = reports
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.unwrap_or_else(|| FileReport {
                error_kind: Some("internal".into()),
                error: Some("the upload task panicked".into()),
                ..FileReport::new(PathBuf::from(format!("<file #{i}>")), String::new(), 0)
            })
        })
        .collect();
    let mut report = Report::from_files(files, started.elapsed());
    report.stopped = if cancel.is_cancelled() {
        Some(Stop::Cancelled)
    } else {
        halt.reason.get().cloned()
    };
    progress.finish(&report.summary);
    Ok(report)
}

/// The run's own stop: the caller's cancellation, or an error that ends the
/// run, with its reason.
struct Halt {
    /// Cancelled with the caller's token, or by [`Halt::stop`].
    token: CancellationToken,
    /// Why the run stopped by itself (the first reason wins).
    reason: OnceLock<Stop>,
}

impl Halt {
    fn new(cancel: &CancellationToken) -> Self {
        Self {
            token: cancel.child_token(),
            reason: OnceLock::new(),
        }
    }

    fn stop(&self, reason: Stop) {
        let _ = self.reason.set(reason);
        self.token.cancel();
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn cancelled(job: &FileJob, ctx: &FileCtx, t0: Instant) -> FileReport {
    FileReport {
        status: Status::Cancelled,
        bytes_sent: ctx.bytes_sent(),
        bytes_resumed: ctx.bytes_resumed(),
        requests: ctx.requests(),
        duration_ms: ms(t0.elapsed()),
        error_kind: Some("cancelled".into()),
        error: Some("the run stopped before this file finished".into()),
        ..FileReport::new(job.path.clone(), job.key.as_str().to_owned(), job.size)
    }
}

/// Uploads (or skips, or verifies) one file: its report, or why the whole
/// run must stop.
async fn process(
    up: &Uploader,
    opts: &RunOptions,
    job: &FileJob,
    ctx: &FileCtx,
    state: &JournalState,
    t0: Instant,
) -> Result<FileReport, Stop> {
    let mut report = FileReport::new(job.path.clone(), job.key.as_str().to_owned(), job.size);
    let result = upload_one(up, opts, job, ctx, state, &mut report).await;
    report.requests = ctx.requests();
    report.bytes_sent = ctx.bytes_sent();
    report.bytes_resumed = ctx.bytes_resumed();
    if let Some(stop) = result.as_ref().err().and_then(Stop::caused_by) {
        return Err(stop);
    }
    if let Err(e) = result {
        report.status = Status::Failed;
        report.error_kind = Some(e.kind().to_owned());
        report.error = Some(e.to_string());
        tracing::warn!(path = %job.path.display(), key = %job.key, error = %e, "upload failed");
    }
    report.duration_ms = ms(t0.elapsed());
    Ok(report)
}

async fn upload_one(
    up: &Uploader,
    opts: &RunOptions,
    job: &FileJob,
    ctx: &FileCtx,
    state: &JournalState,
    report: &mut FileReport,
) -> Result<(), Error> {
    let prepared = up.prepare(opts.protocol, job, ctx).await?;
    report.sha1 = Some(prepared.id.sha1.clone());
    if let Some((id, url)) = state.done.get(job.key.as_str())
        && *id == prepared.id
    {
        report.status = Status::Skipped;
        report.url = Some(url.clone());
        // Count the bytes as done for the progress totals.
        ctx.progress_done(job.size);
    } else if opts.dry_run {
        report.status = Status::DryRun;
        return Ok(());
    } else {
        let done = up
            .upload_prepared(opts.protocol, job, ctx, prepared.clone())
            .await?;
        report.status = match done.outcome {
            Outcome::Uploaded => Status::Uploaded,
            Outcome::AlreadyPresent => Status::AlreadyPresent,
        };
        report.url = Some(done.url);
    }
    if opts.verify && !opts.dry_run {
        let url = report.url.clone().unwrap_or_default();
        verify_object(
            up.client(),
            &opts.upload.retry,
            job.key.as_str(),
            &url,
            &prepared.id,
        )
        .await
        .inspect_err(|_| report.verified = Some(false))?;
        report.verified = Some(true);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;
    use crate::mock::{self, Response};
    use crate::progress::NoProgress;

    #[tokio::test]
    async fn a_full_store_stops_the_run_and_leaves_the_rest_not_done() {
        let base: Arc<OnceLock<String>> = Arc::default();
        let b = base.clone();
        let srv = mock::serve(move |req| {
            mock::auth_routes(b.get().unwrap(), req).unwrap_or_else(|| {
                Response::new(507, r#"{"code":-1,"message":"the store is full"}"#)
            })
        })
        .await;
        base.set(srv.base.clone()).unwrap();
        let client = Arc::new(ServerClient::new(reqwest::Client::new(), &srv.base));
        client.login_dev("x").await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.jpg", "b.jpg", "c.jpg"] {
            std::fs::write(dir.path().join(name), name).unwrap();
        }
        let opts = RunOptions {
            paths: vec![dir.path().to_owned()],
            concurrency: 1,
            ..RunOptions::default()
        };
        let report = run(
            client,
            &opts,
            Arc::new(NoProgress),
            CancellationToken::new(),
        )
        .await
        .unwrap();
        let Some(Stop::StoreFull { message }) = &report.stopped else {
            panic!("{report:#?}")
        };
        assert!(message.contains("free space on the server"), "{message}");
        assert_eq!(report.summary.cancelled, 3, "{report:#?}");
        assert_eq!(report.summary.failed, 0, "{report:#?}");
        let uploads = srv
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.target.starts_with("/files/"))
            .count();
        assert_eq!(uploads, 1);
    }
}
