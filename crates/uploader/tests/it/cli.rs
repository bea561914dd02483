//! The `cos-upload` binary: exit codes, report, progress lines, and `kill -9` + resume.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use uploader::{JournalState, Report, Status, Stop};

use crate::cable::Cable;
use crate::helpers::*;

fn cos_upload() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cos-upload"));
    c.env_remove("COS_UPLOAD_SERVER")
        .env_remove("COS_UPLOAD_DEV_USER")
        .env_remove("COS_UPLOAD_CODE")
        .env_remove("COS_UPLOAD_GIVE_UP_AFTER")
        .env_remove("NO_COLOR")
        .env("RUST_LOG", "warn");
    c
}

async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn read_report(p: &Path) -> Report {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// Every store request takes 50 ms, so a run of many files is still going
/// when a test acts on it.
fn slow_store(c: &mut auth_server::Config) {
    c.embedded.faults.latency = Duration::from_millis(50);
    c.embedded.faults.latency_rate = 1.0;
}

/// `n` files of 2 KiB in `dir`: `00.jpg`, `01.jpg`…
fn small_files(dir: &Path, n: u64) {
    for i in 0..n {
        write(dir, &format!("{i:02}.jpg"), 2048, i);
    }
}

/// Waits (a minute at most) until the journal records `n` files as done.
async fn until_done(journal: &Path, n: usize) {
    let done = || {
        std::fs::read_to_string(journal)
            .map(|t| t.lines().filter(|l| l.contains(r#""t":"done""#)).count())
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while done() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn uploads_a_tree_writes_a_report_and_prints_plain_progress() {
    // Every store request takes 100 ms, so the run (slice init, slices,
    // finish, verification: one after the other) lasts several progress
    // intervals of 0.1 s.
    let app = spawn_app_with(|c| {
        c.embedded.faults.latency = Duration::from_millis(100);
        c.embedded.faults.latency_rate = 1.0;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    for i in 0..5 {
        write(dir.path(), &format!("d/{i}.jpg"), 2000 + i, i as u64);
    }
    write(dir.path(), "big.bin", 1300 * 1024, 9);
    let report = work.path().join("report.json");
    let mut cmd = cos_upload();
    cmd.args([
        "--server",
        &app.base_url,
        "--dev-user",
        "cli",
        "--verify",
        "-j",
        "3",
    ])
    .args([
        "--large-threshold",
        "1MiB",
        "--slice-size",
        "512KiB",
        "--progress-interval",
        "0.1",
    ])
    .arg("--report")
    .arg(&report)
    .arg(dir.path());
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("uploaded 6, already present 0, skipped 0, failed 0 of 6 files"),
        "{}",
        show(&o)
    );
    // stdout is a pipe: plain progress lines, no bar (no carriage returns or escapes).
    // `[   0.2s] files 2/6 | 12.0 KiB / 1.3 MiB | 60.0 KiB/s | ETA 21s`
    let progress: Vec<&str> = stdout
        .lines()
        .filter(|l| {
            l.starts_with('[')
                && l.contains("s] files ")
                && l.contains("/6 | ")
                && l.contains(" / 1.3 MiB | ")
                && l.contains("/s | ETA ")
        })
        .collect();
    assert!(!progress.is_empty(), "no progress line: {}", show(&o));
    assert!(
        !stdout.contains('\r') && !stdout.contains('\u{1b}'),
        "terminal output on a pipe: {}",
        show(&o)
    );
    let r = read_report(&report);
    assert_eq!(r.summary.uploaded, 6);
    assert_eq!(r.summary.verified, 6);
    assert!(
        r.files
            .iter()
            .all(|f| f.url.is_some() && f.sha1.is_some() && f.requests >= 1)
    );

    // Run again without a journal: everything is already there.
    let mut cmd = cos_upload();
    cmd.args(["--server", &app.base_url, "--dev-user", "cli", "--quiet"])
        .args(["--large-threshold", "1MiB"])
        .arg("--report")
        .arg(&report)
        .arg(dir.path());
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(o.stdout.is_empty(), "--quiet printed: {}", show(&o));
    assert_eq!(read_report(&report).summary.already_present, 6);
}

#[tokio::test]
async fn exit_codes_distinguish_usage_auth_partial_and_unreachable() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ok.jpg", 100, 1);
    write(dir.path(), "bad:name.jpg", 100, 2);

    // Usage: no paths; bad glob; prefix outside the user's directory.
    let mut cmd = cos_upload();
    cmd.args(["--server", &app.base_url, "--dev-user", "x"]);
    assert_eq!(output(cmd).await.status.code(), Some(2));
    let mut cmd = cos_upload();
    cmd.args([
        "--server",
        &app.base_url,
        "--dev-user",
        "x",
        "--include",
        "[",
        "--quiet",
    ])
    .arg(dir.path());
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let mut cmd = cos_upload();
    cmd.args([
        "--server",
        &app.base_url,
        "--dev-user",
        "x",
        "--prefix",
        "/u/elsewhere",
        "--quiet",
    ])
    .arg(dir.path());
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));

    // Auth: a user name the server refuses.
    let mut cmd = cos_upload();
    cmd.args(["--server", &app.base_url, "--dev-user", "not a valid name!"])
        .arg(dir.path());
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("login refused"), "{}", show(&o));
    assert!(!stderr.contains("signature refused"), "{}", show(&o));

    // Partial: one file cannot become a key.
    let mut cmd = cos_upload();
    cmd.args(["--server", &app.base_url, "--dev-user", "x", "--quiet"])
        .arg(dir.path());
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("bad:name.jpg"),
        "{}",
        show(&o)
    );

    // Unreachable server: a port nobody listens on. Nothing answers for the
    // bound (1 s here): one message, with the cause.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = format!("http://127.0.0.1:{port}");
    let mut cmd = cos_upload();
    cmd.env("COS_UPLOAD_GIVE_UP_AFTER", "1")
        .args(["--server", &server, "--dev-user", "x"])
        .arg(dir.path());
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(4), "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.lines().count(), 1, "{}", show(&o));
    assert!(
        stderr.starts_with(&format!(
            "cos-upload: cannot log in at {server}: no response from {server} for "
        )) && stderr
            .trim_end()
            .ends_with(" s (last error: connection refused)"),
        "{}",
        show(&o)
    );
}

#[tokio::test]
async fn a_server_that_goes_away_stops_the_run_with_exit_4_and_the_same_command_resumes() {
    let (cable, listener) = Cable::bind().await;
    let public_url = cable.url();
    // The store's URLs lead through the cable too.
    let app = spawn_app_with(move |c| {
        c.public_url = Some(public_url);
        slow_store(c);
    })
    .await;
    cable.plug(listener, &app.base_url);
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let n = 60;
    small_files(dir.path(), n);
    let journal = work.path().join("j.jsonl");
    let upload = |report: &Path| {
        let mut cmd = cos_upload();
        cmd.args(["--server", &cable.url(), "--dev-user", "gone", "-j", "2"])
            .args(["--give-up-after", "1", "--quiet", "--journal"])
            .arg(&journal)
            .arg("--report")
            .arg(report)
            .arg(dir.path());
        cmd
    };
    let first = work.path().join("first.json");
    let child = upload(&first)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    until_done(&journal, 5).await;
    cable.cut();
    let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.lines().count(), 1, "one message: {}", show(&o));
    assert!(
        stderr.starts_with(&format!(
            "cos-upload: stopped: no response from {} for ",
            cable.url()
        )) && stderr.contains(" s (last error: ")
            && stderr.trim_end().ends_with(
                "). Nothing is lost: run the same command again to resume (--journal keeps finished files)."
            ),
        "{}",
        show(&o)
    );
    let r = read_report(&first);
    assert!(
        matches!(r.stopped, Some(Stop::Unreachable { .. })),
        "{:?}",
        r.stopped
    );
    assert_eq!(r.summary.failed, 0, "{:?}", r.summary);
    assert!(r.summary.cancelled > 0, "{:?}", r.summary);
    assert_eq!(
        r.summary.uploaded + r.summary.cancelled,
        n,
        "{:?}",
        r.summary
    );
    // Only finished files are in the journal (a file may be journaled just
    // before its run stopped, and be reported cancelled).
    let state = JournalState::parse(std::io::BufReader::new(
        std::fs::File::open(&journal).unwrap(),
    ))
    .unwrap();
    for f in &r.files {
        if f.status == Status::Uploaded {
            assert!(state.done.contains_key(&f.key), "{f:?}");
        }
    }
    assert!(state.done.len() as u64 <= r.summary.uploaded + 2);

    // The server is back: the same command resumes.
    cable.mend().await;
    let second = work.path().join("second.json");
    let o = output(upload(&second)).await;
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let r = read_report(&second);
    assert_eq!(
        r.summary.skipped as usize,
        state.done.len(),
        "{:?}",
        r.summary
    );
    assert_eq!(
        r.summary.uploaded + r.summary.already_present + r.summary.skipped,
        n,
        "{:?}",
        r.summary
    );
}

#[tokio::test]
async fn a_journal_of_another_user_or_in_use_is_refused_with_exit_4() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    write(dir.path(), "a.jpg", 1000, 1);
    let journal = work.path().join("j.jsonl");
    let run = |user: &str| {
        let mut cmd = cos_upload();
        cmd.args(["--server", &app.base_url, "--dev-user", user, "--quiet"])
            .arg("--journal")
            .arg(&journal)
            .arg(dir.path());
        cmd
    };
    let o = output(run("jowner")).await;
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let before = std::fs::read(&journal).unwrap();

    // Another user: the journal's "done" says nothing about their directory.
    let o = output(run("jother")).await;
    assert_eq!(o.status.code(), Some(4), "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("this journal belongs to"), "{}", show(&o));
    assert_eq!(std::fs::read(&journal).unwrap(), before);

    // Another server in front of the same store is another destination too.
    let other = spawn_app().await;
    let mut cmd = cos_upload();
    cmd.args([
        "--server",
        &other.base_url,
        "--dev-user",
        "jowner",
        "--quiet",
    ])
    .arg("--journal")
    .arg(&journal)
    .arg(dir.path());
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(4), "{}", show(&o));
    assert_eq!(std::fs::read(&journal).unwrap(), before);

    // The same destination while another run holds the journal.
    let client = app.login("jowner").await;
    let dest = client.destination().await.unwrap();
    let (held, _) = uploader::Journal::open(&journal, &dest).unwrap();
    let o = output(run("jowner")).await;
    assert_eq!(o.status.code(), Some(4), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("in use by another cos-upload run"),
        "{}",
        show(&o)
    );
    drop(held);
    // Released: the owner resumes and skips the file.
    let o = output(run("jowner")).await;
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(std::fs::read(&journal).unwrap(), before);
}

#[tokio::test]
async fn a_killed_run_resumes_without_uploading_anything_twice() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let n = 300;
    for i in 0..n {
        write(dir.path(), &format!("{i:03}.jpg"), 8 * 1024, i as u64);
    }
    let journal = work.path().join("journal.jsonl");
    let args = |cmd: &mut Command| {
        cmd.args([
            "--server",
            &app.base_url,
            "--dev-user",
            "killed",
            "-j",
            "2",
            "--quiet",
        ])
        .arg("--journal")
        .arg(&journal)
        .arg(dir.path());
    };
    let mut cmd = cos_upload();
    args(&mut cmd);
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it (SIGKILL) once some files are recorded, well before the end
    // (the first line is the journal's destination).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let lines = std::fs::read_to_string(&journal)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if lines > 20 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    let state = JournalState::parse(std::io::BufReader::new(
        std::fs::File::open(&journal).unwrap(),
    ))
    .unwrap();
    let done_before = state.done.len();
    assert!(
        done_before >= 20 && done_before < n,
        "{done_before} done before the kill"
    );

    let report = work.path().join("r.json");
    let mut cmd = cos_upload();
    args(&mut cmd);
    cmd.arg("--report").arg(&report).arg("--verify");
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let r = read_report(&report);
    assert_eq!(r.summary.skipped as usize, done_before);
    assert_eq!(
        (r.summary.uploaded + r.summary.already_present) as usize,
        n - done_before
    );
    // Files in flight at the kill (at most -j 2) may be in the store already
    // without a journal record. This run uses v4, which has no "look first":
    // such a file is sent again whole, with its SHA-1 and insertOnly=1, and
    // the store answers -4018, so it is reported "already present" and never
    // stored twice. (v5 would HEAD the key first and not send it.)
    assert!(r.summary.already_present <= 2, "{:?}", r.summary);
    assert_eq!(r.summary.verified as usize, n);
    for f in &r.files {
        assert_eq!(
            f.status == Status::Skipped,
            state.done.contains_key(&f.key),
            "{f:?}"
        );
    }
}

#[tokio::test]
async fn the_report_counts_requests_under_that_name() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    // 9 slices of 512 KiB: init, 9 slices and finish are 11 requests.
    let file = write(dir.path(), "nine.bin", 9 * 512 * 1024 - 100, 3);
    let report = work.path().join("r.json");
    let mut cmd = cos_upload();
    cmd.args([
        "--server",
        &app.base_url,
        "--dev-user",
        "requests",
        "--quiet",
    ])
    .args(["--large-threshold", "1MiB", "--slice-size", "512KiB"])
    .arg("--report")
    .arg(&report)
    .arg(&file);
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let entry = &json["files"][0];
    assert_eq!(entry["requests"], 11, "{entry}");
    assert_eq!(entry.get("attempts"), None, "{entry}");

    let mut cmd = cos_upload();
    cmd.arg("--help");
    let help = String::from_utf8(output(cmd).await.stdout).unwrap();
    assert!(help.contains("requests"), "{help}");
}

#[tokio::test]
async fn warnings_on_a_pipe_carry_no_colour_codes() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "clash.jpg", 1000, 1);
    let upload = || {
        let mut cmd = cos_upload();
        cmd.args(["--server", &app.base_url, "--dev-user", "colour", "--quiet"])
            .arg(&file);
        cmd
    };
    let o = output(upload()).await;
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    // Other content under the same key: refused, and logged as a warning.
    write(dir.path(), "clash.jpg", 1000, 2);
    let o = output(upload()).await;
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("WARN"), "{}", show(&o));
    assert!(!stderr.contains("\u{1b}["), "{}", show(&o));
}

#[tokio::test]
async fn a_wrong_server_url_or_an_empty_user_says_what_to_do() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "a.jpg", 100, 1);
    let hostport = app.base_url.trim_start_matches("http://").to_owned();
    let attempt = |server: &str, user: &str| {
        let mut cmd = cos_upload();
        cmd.args(["--server", server, "--dev-user", user, "--quiet"])
            .arg(&file);
        cmd
    };

    // No scheme.
    let o = output(attempt(&hostport, "alice")).await;
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("--server needs a scheme, e.g. http://127.0.0.1:8080"),
        "{}",
        show(&o)
    );

    // https:// to a server that speaks plain HTTP.
    let o = output(attempt(&format!("https://{hostport}"), "alice")).await;
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(&format!(
            "answered in plain HTTP, not HTTPS: use http://{hostport} instead"
        )),
        "{}",
        show(&o)
    );

    // An empty or blank dev-login user.
    for user in ["", "   "] {
        let o = output(attempt(&app.base_url, user)).await;
        assert_eq!(o.status.code(), Some(2), "{user:?}: {}", show(&o));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains("--dev-user needs a user name, e.g. --dev-user alice"),
            "{user:?}: {}",
            show(&o)
        );
    }
    let mut cmd = cos_upload();
    cmd.env("COS_UPLOAD_DEV_USER", "")
        .args(["--server", &app.base_url, "--quiet"])
        .arg(&file);
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
}

#[tokio::test]
async fn ctrl_c_cancels_what_is_unfinished_everywhere_and_exits_130() {
    let app = spawn_app_with(slow_store).await;
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let n = 60;
    small_files(dir.path(), n);
    let journal = work.path().join("j.jsonl");
    let report = work.path().join("r.json");
    let mut cmd = cos_upload();
    cmd.args(["--server", &app.base_url, "--dev-user", "ctrlc", "-j", "2"])
        .args(["--progress-interval", "0.1", "--journal"])
        .arg(&journal)
        .arg("--report")
        .arg(&report)
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    until_done(&journal, 5).await;
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", show(&o));

    let r = read_report(&report);
    assert_eq!(r.stopped, Some(Stop::Cancelled), "{:?}", r.summary);
    let cancelled = r.summary.cancelled;
    assert!(cancelled > 0, "{:?}", r.summary);
    assert_eq!(r.summary.failed, 0, "{:?}", r.summary);
    assert_eq!(r.summary.uploaded + cancelled, n, "{:?}", r.summary);
    // Nothing calls a cut-short file failed: not the messages, not the
    // progress lines, not the summary.
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("failed"), "{}", show(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let last = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('['))
        .unwrap_or_else(|| panic!("no progress line: {}", show(&o)));
    assert!(
        last.contains(&format!(
            "files {}/{n}, {cancelled} cancelled |",
            r.summary.uploaded
        )),
        "{last}\n{}",
        show(&o)
    );
    // The bytes stop where they were: not all of them.
    let total = uploader::report::human_bytes(n * 2048);
    assert!(!last.contains(&format!("{total} / {total}")), "{last}");
    assert!(
        stdout.contains(&format!("failed 0, cancelled {cancelled} of {n} files")),
        "{}",
        show(&o)
    );
}

#[tokio::test]
async fn the_destination_is_printed_first_and_a_directory_keeps_its_name() {
    let app = spawn_app().await;
    let home = app.login("dest").await.session().unwrap().upload_prefix;
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    write(&photos, "a.jpg", 1000, 1);
    write(&photos, "2024/b.jpg", 1500, 2);
    let work = tempfile::tempdir().unwrap();
    let report = work.path().join("r.json");
    let upload = |args: &[&std::ffi::OsStr]| {
        let mut cmd = cos_upload();
        cmd.args(["--server", &app.base_url, "--dev-user", "dest", "--report"])
            .arg(&report)
            .args(args);
        cmd
    };
    let first_line = |o: &Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    let keys = || {
        let mut k: Vec<String> = read_report(&report)
            .files
            .into_iter()
            .map(|f| f.key)
            .collect();
        k.sort();
        k
    };
    let p = home.key_prefix();

    // A directory: like `cp -r photos dest/`.
    let o = output(upload(&[photos.as_os_str()])).await;
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(
        first_line(&o),
        format!(
            "Uploading 2 files (2.4 KiB) from {} to {home}photos/ on {}",
            photos.display(),
            app.base_url
        )
    );
    assert_eq!(
        keys(),
        [format!("{p}photos/2024/b.jpg"), format!("{p}photos/a.jpg")]
    );

    // A file, into --prefix.
    let a = photos.join("a.jpg");
    let o = output(upload(&[
        "--prefix".as_ref(),
        "2024".as_ref(),
        a.as_os_str(),
    ]))
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(
        first_line(&o),
        format!(
            "Uploading 1 file (1000 B) from {} to {home}2024/a.jpg on {}",
            a.display(),
            app.base_url
        )
    );
    assert_eq!(keys(), [format!("{p}2024/a.jpg")]);

    // `.` is named after the directory it is: the same keys as `./photos`.
    let mut cmd = upload(&[".".as_ref()]);
    cmd.current_dir(&photos);
    let o = output(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        first_line(&o).starts_with(&format!(
            "Uploading 2 files (2.4 KiB) from . to {home}photos/ on "
        )),
        "{}",
        show(&o)
    );
    assert_eq!(read_report(&report).summary.already_present, 2);

    // Not with --quiet.
    let o = output(upload(&["--quiet".as_ref(), photos.as_os_str()])).await;
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(o.stdout.is_empty(), "{}", show(&o));

    let mut cmd = cos_upload();
    cmd.arg("--help");
    let help = String::from_utf8(output(cmd).await.stdout).unwrap();
    assert!(help.contains("keeps its own name, like cp -r"), "{help}");
}
