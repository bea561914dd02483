//! `cos-upload`: bulk uploads through the auth server, the way the app does them.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, ValueEnum};
use uploader::{
    BarProgress, CancellationToken, Error, Login, NoProgress, PlainProgress, Progress, Protocol,
    RetryPolicy, RunOptions, ServerClient, Stop, UploadConfig, WalkOptions,
};

/// Exit codes (also listed in `--help`).
mod exit {
    pub const OK: u8 = 0;
    pub const PARTIAL: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const AUTH: u8 = 3;
    pub const FATAL: u8 = 4;
    pub const INTERRUPTED: u8 = 130;
}

const AFTER_HELP: &str = "\
Keys: a directory argument keeps its own name, like cp -r photos dest/: cos-upload
./photos puts photos/2024/a.jpg at <target>/photos/2024/a.jpg (. and .. are named after
the directory they are); a file argument goes to <target>/<file name>. The target is
your upload directory (/u/<id>/, from login), or --prefix inside it. Names are in
Unicode NFC; --include/--exclude path globs match paths inside the directory argument.
The destination is printed before anything is sent (not with --quiet).

Resume: with --journal FILE, a run that is killed and started again skips files recorded
as done (same size, mtime and SHA-1) and resumes unfinished slice/multipart uploads.
Uploads send the content's SHA-1 and never overwrite different content. A journal
records where its files went (server, store, user) and is locked while a run uses it:
a journal of another destination, or one in use, is refused. --dry-run reads the
journal but never creates or changes it.

Server down: requests that get no reply are retried. When no request has had any reply
from the auth server or the store for --give-up-after seconds (counted from the first
that got none), the run stops with exit 4 and says so; files not finished are
cancelled and not in the journal, so the same command resumes them. Replies that
sending again will not change (4xx other than 408 and 429) are not retried, nor is
507 (the store is full: free space on the server); a full store stops the run.

Report: --report FILE.json holds a summary and one entry per file: path, key, status
(uploaded, already_present, skipped, dry_run, failed, cancelled), url, size, sha1,
bytes_sent, bytes_resumed, requests (HTTP requests sent to the store for the file,
retries included), duration_ms, verified, error_kind and error.

Exit codes:
  0    every file uploaded, already present, or skipped (and verified with --verify)
  1    some files failed (see the messages or --report)
  2    usage error (bad arguments, glob or prefix; an https:// --server that answers
       plain HTTP)
  3    authentication failed (login refused or token rejected)
  4    could not run, or stopped: no reply from the server for --give-up-after
       seconds, the store is full, journal or report not writable, journal of
       another destination or in use by another run
  130  interrupted (Ctrl-C); the journal allows resuming

Output: progress bars only when stdout is a terminal (plain lines otherwise); log lines
on stderr are coloured only when stderr is a terminal and NO_COLOR is not set.

Environment: COS_UPLOAD_SERVER, COS_UPLOAD_DEV_USER, COS_UPLOAD_CODE,
COS_UPLOAD_GIVE_UP_AFTER; RUST_LOG for logs; NO_COLOR.";

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ProtocolArg {
    /// COS v4 JSON API (the mini-program's flow); slice upload for large files.
    V4,
    /// COS v5 PUT Object with per-request signatures; multipart for large files.
    V5Put,
    /// COS v5 POST Object with a server-issued policy; multipart for large files.
    V5Post,
}

/// Upload files to COS (or the local store) through the auth server.
#[derive(Debug, Parser)]
#[command(name = "cos-upload", version, after_help = AFTER_HELP)]
struct Cli {
    /// Auth server base URL, with its scheme: http://127.0.0.1:8080.
    #[arg(long, env = "COS_UPLOAD_SERVER", value_parser = parse_server)]
    server: String,
    /// Log in with dev login as this user.
    #[arg(
        long,
        env = "COS_UPLOAD_DEV_USER",
        conflicts_with = "code",
        required_unless_present = "code",
        value_parser = parse_dev_user
    )]
    dev_user: Option<String>,
    /// Log in with a wx.login code.
    #[arg(long, env = "COS_UPLOAD_CODE", hide_env_values = true)]
    code: Option<String>,
    /// Upload protocol.
    #[arg(long, value_enum, default_value = "v4")]
    protocol: ProtocolArg,
    /// Files uploaded in parallel.
    #[arg(short = 'j', long = "jobs", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1024))]
    jobs: u16,
    /// Target directory, relative to your upload directory or absolute inside it.
    #[arg(long)]
    prefix: Option<String>,
    /// Upload only files matching this glob (name glob, or path glob if it has a '/'). Repeatable.
    #[arg(long = "include", value_name = "GLOB")]
    include: Vec<String>,
    /// Skip files and directories matching this glob. Repeatable.
    #[arg(long = "exclude", value_name = "GLOB")]
    exclude: Vec<String>,
    /// Follow symbolic links inside directories (default: skip them).
    #[arg(long)]
    follow_symlinks: bool,
    /// Resume journal (JSON lines, created if missing).
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
    /// Download every object afterwards and compare its SHA-1.
    #[arg(long)]
    verify: bool,
    /// Write a JSON report with one entry per file.
    #[arg(long, value_name = "FILE.json")]
    report: Option<PathBuf>,
    /// Walk, hash and consult the journal without uploading.
    #[arg(long)]
    dry_run: bool,
    /// No progress display and no summary line (errors still go to stderr).
    #[arg(short, long)]
    quiet: bool,
    /// Files above this size use slice (v4) or multipart (v5) upload, e.g. 20MiB.
    #[arg(long, default_value = "20MiB", value_parser = parse_size)]
    large_threshold: u64,
    /// v4 slice size, e.g. 1MiB (COS v4 accepts 512KiB, 1MiB, 2MiB and 3MiB).
    #[arg(long, default_value = "3MiB", value_parser = parse_size)]
    slice_size: u64,
    /// v5 multipart part size, e.g. 8MiB.
    #[arg(long, default_value = "8MiB", value_parser = parse_size)]
    part_size: u64,
    /// Slices or parts of one large file in flight at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    parallel_parts: u16,
    /// Attempts per request before its file fails (1 = no retries). While no
    /// server answers anything, requests wait instead, up to --give-up-after.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=100))]
    attempts: u32,
    /// Stop the run (exit 4) when no request has had any reply from the auth
    /// server or the store for this many seconds.
    #[arg(
        long,
        env = "COS_UPLOAD_GIVE_UP_AFTER",
        value_name = "SECS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    give_up_after: u64,
    /// Seconds between progress lines when stdout is not a terminal.
    #[arg(long, default_value_t = 2.0)]
    progress_interval: f64,
    /// Paths to upload: files, or directories (uploaded under their own name).
    #[arg(required = true, value_name = "PATHS")]
    paths: Vec<PathBuf>,
}

/// A `--server` URL: `http://` or `https://`, a host, and no query. The
/// trailing `/` is dropped.
fn parse_server(s: &str) -> Result<String, String> {
    let example = "e.g. http://127.0.0.1:8080";
    let t = s.trim();
    let scheme = t
        .split_once("://")
        .map(|(scheme, _)| scheme.to_ascii_lowercase());
    if !matches!(scheme.as_deref(), Some("http" | "https")) {
        return Err(format!("--server needs a scheme, {example}"));
    }
    let url = reqwest::Url::parse(t).map_err(|e| format!("not a URL ({e}), {example}"))?;
    if url.host_str().is_none_or(str::is_empty) || url.query().is_some() {
        return Err(format!("not a server's base URL, {example}"));
    }
    Ok(t.trim_end_matches('/').to_owned())
}

/// A `--dev-user` name: not empty, not only spaces.
fn parse_dev_user(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err("--dev-user needs a user name, e.g. --dev-user alice".into());
    }
    Ok(s.to_owned())
}

/// Parses `4096`, `64KiB`, `1.5MiB`, `20MB`, `1G` (binary multiples).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("bad size {s:?}"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("bad size unit in {s:?} (use B, KiB, MiB, GiB)")),
    };
    let v = n * mult as f64;
    if !(1.0..1e15).contains(&v) {
        return Err(format!("size {s:?} out of range"));
    }
    Ok(v as u64)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && !no_color())
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "cos-upload: cannot start the runtime: {e}"
            );
            return ExitCode::from(exit::FATAL);
        }
    };
    match rt.block_on(real_main(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "cos-upload: {e:#}");
            ExitCode::from(exit::FATAL)
        }
    }
}

/// True when `NO_COLOR` is set to anything but the empty string
/// (<https://no-color.org>).
#[allow(clippy::disallowed_methods)] // The binary reads its environment here, once.
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

fn stderr_line(msg: &str) {
    let _ = writeln!(std::io::stderr(), "cos-upload: {msg}");
}

async fn real_main(cli: Cli) -> anyhow::Result<u8> {
    let http = uploader::http_client(usize::from(cli.jobs)).context("building the HTTP client")?;
    let retry = RetryPolicy {
        max_attempts: cli.attempts,
        give_up_after: Duration::from_secs(cli.give_up_after),
        ..RetryPolicy::default()
    };
    let client = Arc::new(ServerClient::new(http, &cli.server).with_retry(retry));
    let login = match (&cli.dev_user, &cli.code) {
        (Some(u), _) => Login::Dev(u.clone()),
        (None, Some(c)) => Login::Code(c.clone()),
        (None, None) => {
            stderr_line("give --dev-user NAME or --code CODE");
            return Ok(exit::USAGE);
        }
    };
    match client.login(login).await {
        Ok(s) => tracing::info!(user = %s.user_id, prefix = %s.upload_prefix, "logged in"),
        Err(e @ Error::Auth { .. }) => {
            stderr_line(&format!("login refused by {}: {e}", cli.server));
            return Ok(exit::AUTH);
        }
        Err(e @ Error::PlainHttp { .. }) => {
            stderr_line(&format!("--server {}: {e}", cli.server));
            return Ok(exit::USAGE);
        }
        Err(e) => {
            stderr_line(&format!("cannot log in at {}: {e}", cli.server));
            return Ok(exit::FATAL);
        }
    }

    let opts = RunOptions {
        paths: cli.paths.clone(),
        walk: WalkOptions {
            include: cli.include.clone(),
            exclude: cli.exclude.clone(),
            follow_symlinks: cli.follow_symlinks,
        },
        prefix: cli.prefix.clone(),
        protocol: match cli.protocol {
            ProtocolArg::V4 => Protocol::V4,
            ProtocolArg::V5Put => Protocol::V5Put,
            ProtocolArg::V5Post => Protocol::V5Post,
        },
        concurrency: usize::from(cli.jobs),
        journal: cli.journal.clone(),
        verify: cli.verify,
        dry_run: cli.dry_run,
        upload: UploadConfig {
            large_threshold: cli.large_threshold,
            slice_size: cli.slice_size,
            part_size: cli.part_size,
            parallel_parts: usize::from(cli.parallel_parts),
            retry,
            ..UploadConfig::default()
        },
    };

    let progress: Arc<dyn Progress> = if cli.quiet {
        Arc::new(NoProgress)
    } else if std::io::stdout().is_terminal() {
        Arc::new(BarProgress::new())
    } else {
        let secs = if cli.progress_interval.is_finite() && cli.progress_interval > 0.05 {
            cli.progress_interval
        } else {
            2.0
        };
        Arc::new(PlainProgress::new(
            Box::new(std::io::stdout()),
            Duration::from_secs_f64(secs),
        ))
    };

    let cancel = CancellationToken::new();
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stderr_line("interrupted; stopping (Ctrl-C again to quit at once)");
                cancel.cancel();
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(i32::from(exit::INTERRUPTED));
                }
            }
        });
    }

    let report = match uploader::run(client, &opts, progress, cancel.clone()).await {
        Ok(r) => r,
        Err(Error::Usage(msg)) => {
            stderr_line(&msg);
            return Ok(exit::USAGE);
        }
        Err(e @ Error::Auth { .. }) => {
            stderr_line(&e.to_string());
            return Ok(exit::AUTH);
        }
        Err(e) => {
            stderr_line(&e.to_string());
            return Ok(exit::FATAL);
        }
    };

    if let Some(path) = &cli.report {
        report
            .write_json(path)
            .with_context(|| format!("writing the report to {}", path.display()))?;
    }
    let failed: Vec<_> = report
        .files
        .iter()
        .filter(|f| f.status == uploader::Status::Failed)
        .collect();
    for f in failed.iter().take(20) {
        stderr_line(&format!(
            "failed: {}: {}",
            f.path.display(),
            f.error.as_deref().unwrap_or("unknown error")
        ));
    }
    if failed.len() > 20 {
        stderr_line(&format!("… and {} more failures", failed.len() - 20));
    }
    if !cli.quiet {
        let mut out = std::io::stdout();
        let _ = writeln!(out, "{}", report.summary.line());
    }
    match &report.stopped {
        Some(Stop::Cancelled) => return Ok(exit::INTERRUPTED),
        Some(Stop::Unreachable { message }) => {
            stderr_line(&format!(
                "stopped: {message}. Nothing is lost: run the same command again to resume (--journal keeps finished files)."
            ));
            return Ok(exit::FATAL);
        }
        Some(Stop::StoreFull { message }) => {
            stderr_line(&format!("stopped: {message} to resume."));
            return Ok(exit::FATAL);
        }
        None => {}
    }
    if failed
        .iter()
        .all(|f| f.error_kind.as_deref() == Some("auth"))
        && !failed.is_empty()
    {
        return Ok(exit::AUTH);
    }
    Ok(if report.all_ok() {
        exit::OK
    } else {
        exit::PARTIAL
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64KiB"), Ok(65536));
        assert_eq!(parse_size("1.5MiB"), Ok(1_572_864));
        assert_eq!(parse_size("20MB"), Ok(20 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        for bad in ["0", "12 parsecs", ""] {
            let r = parse_size(bad);
            assert!(r.is_err(), "{bad:?} parsed as {r:?}");
        }
    }

    #[test]
    fn server_urls_need_a_scheme_and_a_host() {
        assert_eq!(
            parse_server("http://127.0.0.1:8080/"),
            Ok("http://127.0.0.1:8080".to_owned())
        );
        assert_eq!(
            parse_server("HTTPS://cos.example.com"),
            Ok("HTTPS://cos.example.com".to_owned())
        );
        for bad in [
            "127.0.0.1:8080",
            "localhost:8080",
            "ftp://h",
            "http://",
            "http://h/?a=1",
        ] {
            let r = parse_server(bad);
            assert!(
                matches!(&r, Err(m) if m.ends_with("e.g. http://127.0.0.1:8080")),
                "{bad:?}: {r:?}"
            );
        }
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    use clap::CommandFactory as _;
}
