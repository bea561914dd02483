//! `cos-local`: run the local COS-compatible store on its own.

use std::ffi::OsStr;
use std::io::IsTerminal as _;
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use cos_local::{FaultConfig, FaultScope, Store, StoreConfig};
use cos_sign::sts::TokenKey;
use cos_sign::{Credentials, SecretKey};

/// A local object store that speaks Tencent COS's APIs (the v4 JSON API and
/// the v5 XML API), for developing and testing uploads without a cloud account.
#[derive(Debug, Parser)]
#[command(
    name = "cos-local",
    version,
    after_help = "Example:\n  COS_LOCAL_SECRET_KEY=change-me cos-local --secret-id AKIDlocal\n\
                  then point a COS SDK or the uploader at http://127.0.0.1:9000 \
                  (bucket metis-1250000000)."
)]
struct Args {
    /// Where uploaded objects and unfinished uploads are kept (created if missing).
    #[arg(long, env = "COS_LOCAL_DATA_DIR", default_value = "./cos-data")]
    data_dir: PathBuf,
    /// Address and port to listen on; port 0 picks a free port (the address is
    /// printed when the store starts).
    #[arg(long, env = "COS_LOCAL_BIND", default_value = "127.0.0.1:9000")]
    bind: String,
    /// Your COS APPID, a number: bucket names end in -<APPID>.
    #[arg(long, env = "COS_LOCAL_APPID", default_value = "1250000000")]
    appid: String,
    /// Bucket used when the request's host names none (as http://127.0.0.1:9000 does).
    #[arg(long, env = "COS_LOCAL_BUCKET", default_value = "metis")]
    bucket: String,
    /// SecretId that clients sign their requests with.
    #[arg(long, env = "COS_LOCAL_SECRET_ID")]
    secret_id: String,
    /// SecretKey that goes with the SecretId. Prefer the environment variable:
    /// a command-line flag can be seen in the process list.
    // Parsed into a SecretKey, so printing the arguments never shows it.
    #[arg(long, env = "COS_LOCAL_SECRET_KEY", hide_env_values = true, value_parser = parse_secret)]
    secret_key: SecretKey,
    /// Key shared with the server that issues temporary credentials (at least
    /// 32 bytes): with it the store accepts requests signed with their
    /// TmpSecretId and TmpSecretKey that carry x-cos-security-token, and allows
    /// each only what the credentials' policy allows. Without it such requests
    /// are refused. Prefer the environment variable.
    // Parsed into a SecretKey and checked in `token_key`: clap would echo a
    // value its parser refuses.
    #[arg(long, env = "COS_LOCAL_STS_TOKEN_KEY", hide_env_values = true, value_parser = parse_secret)]
    sts_token_key: Option<SecretKey>,
    /// Region named in the resources of temporary credentials' policies
    /// (qcs::cos:<region>:uid/<APPID>:<bucket>/<key>).
    #[arg(long, env = "COS_LOCAL_REGION", default_value = "ap-guangzhou")]
    region: String,
    /// Base URL of the links the store hands out (source_url, Location), such
    /// as https://img.example.com (default: the address the request was sent to).
    #[arg(long, env = "COS_LOCAL_PUBLIC_URL")]
    public_url: Option<String>,
    /// Require a signature to download objects too. Without it anyone may
    /// download, as from a public-read bucket; uploads always need one.
    #[arg(long, env = "COS_LOCAL_PRIVATE")]
    private: bool,
    /// How many seconds a client's clock may be off when it signs.
    #[arg(long, env = "COS_LOCAL_MAX_SKEW_SECS", default_value_t = 60)]
    max_skew_secs: u64,
    /// Largest object accepted, in bytes.
    #[arg(long, env = "COS_LOCAL_MAX_OBJECT_SIZE", default_value_t = 5 * 1024 * 1024 * 1024)]
    max_object_size: u64,
    /// Largest v4 upload in one request (op=upload), in bytes; larger files are
    /// sent in slices.
    #[arg(long, env = "COS_LOCAL_MAX_SIMPLE_UPLOAD", default_value_t = 20 * 1024 * 1024)]
    max_simple_upload: u64,
    /// Do not wait for the disk to confirm each upload: faster, but a power
    /// loss can lose the latest uploads (a crash of the store alone loses none).
    #[arg(long, env = "COS_LOCAL_NO_FSYNC")]
    no_fsync: bool,
    /// Delete an unfinished multipart or slice upload after this long without a
    /// new part: seconds, or a number with s, m, h or d (such as 90m or 7d).
    #[arg(long, env = "COS_LOCAL_UPLOAD_TTL", default_value = "24h", value_parser = parse_ttl)]
    upload_ttl: Duration,
    /// Seed for choosing which requests fail: the same seed fails the same
    /// requests of the same sequence.
    #[arg(long, env = "COS_LOCAL_FAULT_SEED", default_value_t = 0, help_heading = FAULTS)]
    fault_seed: u64,
    /// Share of requests (0 to 1) answered with a 500 or 503 error.
    #[arg(long, env = "COS_LOCAL_FAULT_ERROR_RATE", default_value_t = 0.0, help_heading = FAULTS)]
    fault_error_rate: f64,
    /// Share of requests whose connection is cut while the body is being sent;
    /// nothing is stored.
    #[arg(long, env = "COS_LOCAL_FAULT_DROP_RATE", default_value_t = 0.0, help_heading = FAULTS)]
    fault_drop_rate: f64,
    /// Share of requests that are carried out (an upload is stored) but whose
    /// reply is lost. Errors, cut connections and lost replies never overlap:
    /// the three shares add up to the share of requests that fail.
    #[arg(
        long,
        alias = "fault-lost-reply",
        env = "COS_LOCAL_FAULT_LOST_REPLY_RATE",
        default_value_t = 0.0,
        help_heading = FAULTS
    )]
    fault_lost_reply_rate: f64,
    /// Delay added to the requests picked by --fault-latency-rate, in milliseconds.
    #[arg(long, env = "COS_LOCAL_FAULT_LATENCY_MS", default_value_t = 0, help_heading = FAULTS)]
    fault_latency_ms: u64,
    /// Share of requests delayed by --fault-latency-ms.
    #[arg(long, env = "COS_LOCAL_FAULT_LATENCY_RATE", default_value_t = 0.0, help_heading = FAULTS)]
    fault_latency_rate: f64,
    /// Which requests may fail: writes, reads or all.
    #[arg(long, env = "COS_LOCAL_FAULT_SCOPE", default_value = "all", help_heading = FAULTS)]
    fault_scope: String,
    /// Act as if the disk were full: every upload is refused with 507.
    #[arg(long, env = "COS_LOCAL_FAULT_DISK_FULL", help_heading = FAULTS)]
    fault_disk_full: bool,
    /// Number of worker threads (default: one per CPU core).
    #[arg(long, env = "COS_LOCAL_WORKERS")]
    workers: Option<usize>,
}

/// The heading of the fault-injection options in `--help`.
const FAULTS: &str = "Fault injection (for testing clients)";

/// `90`, `90s`, `15m`, `24h`, `7d`: seconds, or a whole number with a unit.
fn parse_ttl(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let (digits, unit) = match value.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => value.split_at(i),
        None => (value, "s"),
    };
    let scale = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 60 * 60,
        "d" => 24 * 60 * 60,
        other => return Err(format!("unknown unit {other:?}: use s, m, h or d")),
    };
    let n: u64 = digits.parse().map_err(|_| {
        format!("{value:?} is not a whole number of seconds, minutes, hours or days")
    })?;
    match n.checked_mul(scale) {
        Some(0) => Err("must be at least one second".to_owned()),
        Some(secs) => Ok(Duration::from_secs(secs)),
        None => Err(format!("{value:?} is too long")),
    }
}

/// Wraps the SecretKey as clap parses it, so `Args` never holds it as a plain `String`.
fn parse_secret(value: &str) -> Result<SecretKey, std::convert::Infallible> {
    Ok(SecretKey::new(value))
}

/// The STS token key, if given, checked for length (the error does not show it).
fn token_key(key: Option<SecretKey>) -> anyhow::Result<Option<TokenKey>> {
    key.map(TokenKey::new)
        .transpose()
        .context("--sts-token-key (COS_LOCAL_STS_TOKEN_KEY)")
}

/// Whether the log (on stderr) may use colours: only on a terminal, and
/// never when `NO_COLOR` is set to anything but the empty string
/// (<https://no-color.org>), so log files and pipes get plain text.
fn log_in_colour(stderr_is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(OsStr::is_empty)
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    // The binary's one read of the environment outside its arguments.
    #[allow(clippy::disallowed_methods)]
    let no_color = std::env::var_os("NO_COLOR");
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,cos_local::access=debug")
            }),
        )
        .with_ansi(log_in_colour(
            std::io::stderr().is_terminal(),
            no_color.as_deref(),
        ))
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let scope = match args.fault_scope.as_str() {
        "all" => FaultScope::new(true, true),
        "writes" => FaultScope::new(true, false),
        "reads" => FaultScope::new(false, true),
        other => anyhow::bail!("--fault-scope must be all, writes or reads, not {other:?}"),
    };
    let mut faults = FaultConfig::seeded(args.fault_seed);
    faults.error_rate = args.fault_error_rate;
    faults.drop_rate = args.fault_drop_rate;
    faults.lost_reply_rate = args.fault_lost_reply_rate;
    faults.latency = Duration::from_millis(args.fault_latency_ms);
    faults.latency_rate = args.fault_latency_rate;
    faults.scope = scope;
    faults.disk_full = args.fault_disk_full;
    let mut config = StoreConfig::new(
        &args.data_dir,
        &args.appid,
        &args.bucket,
        vec![Credentials {
            secret_id: args.secret_id,
            secret_key: args.secret_key,
        }],
    );
    config.public_url = args.public_url;
    config.public_read = !args.private;
    config.max_skew_secs = args.max_skew_secs;
    config.max_object_size = args.max_object_size;
    config.max_simple_upload = args.max_simple_upload;
    config.fsync = !args.no_fsync;
    config.upload_ttl = args.upload_ttl;
    config.faults = faults;
    config.region = args.region;
    config.sts_token_key = token_key(args.sts_token_key)?;
    let store = Store::open(config)
        .with_context(|| format!("opening the store in {}", args.data_dir.display()))?;
    let listener =
        TcpListener::bind(&args.bind).with_context(|| format!("binding {}", args.bind))?;
    let addr = listener.local_addr()?;
    let store_for_server = store.clone();
    let mut server = actix_web::HttpServer::new(move || {
        actix_web::App::new().configure(cos_local::configure(store_for_server.clone()))
    });
    if let Some(w) = args.workers {
        server = server.workers(w);
    }
    let server = server.listen(listener)?.run();
    tracing::info!(
        %addr,
        data_dir = %args.data_dir.display(),
        bucket = %store.config().default_bucket_full(),
        "cos-local listening"
    );
    #[allow(clippy::print_stdout)] // The one line scripts read to find the port.
    {
        println!(
            "cos-local listening on http://{addr} (default bucket {})",
            store.config().default_bucket_full()
        );
    }
    server.await.context("server failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_only_on_a_terminal_without_no_color() {
        let set = |v: &'static str| Some(OsStr::new(v));
        assert!(log_in_colour(true, None));
        assert!(log_in_colour(true, set("")), "an empty NO_COLOR is unset");
        assert!(!log_in_colour(true, set("1")));
        assert!(!log_in_colour(false, None));
    }

    /// `--help` speaks to a user: no type names or internals.
    #[test]
    fn help_has_no_internal_jargon() {
        use clap::CommandFactory as _;
        let help = Args::command().render_long_help().to_string();
        for jargon in ["Debug", "Args", "redacted", "SecretKey`", "`"] {
            assert!(!help.contains(jargon), "{jargon:?} in\n{help}");
        }
        for said in [
            "COS_LOCAL_SECRET_KEY",
            "COS_LOCAL_STS_TOKEN_KEY",
            "COS_LOCAL_REGION",
            "Fault injection",
            "--upload-ttl",
            "Example:",
        ] {
            assert!(help.contains(said), "{said:?} not in\n{help}");
        }
    }

    #[test]
    fn upload_ttls_are_seconds_or_have_a_unit() {
        let secs = |v| parse_ttl(v).map(|d| d.as_secs());
        assert_eq!(secs("90"), Ok(90));
        assert_eq!(secs("90s"), Ok(90));
        assert_eq!(secs("15m"), Ok(900));
        assert_eq!(secs("24h"), Ok(86_400));
        assert_eq!(secs("7d"), Ok(604_800));
        for bad in ["", "0", "1.5h", "10w", "h", "-5"] {
            assert!(parse_ttl(bad).is_err(), "{bad:?}: {:?}", parse_ttl(bad));
        }
    }

    /// The arguments with a SecretId and SecretKey and `extra`.
    fn parse_with(extra: &[&str]) -> Args {
        let base = [
            "cos-local",
            "--secret-id",
            "AKIDvisible",
            "--secret-key",
            "TopSecretKeyValue42",
        ];
        Args::try_parse_from(base.iter().chain(extra)).unwrap()
    }

    #[test]
    fn debug_of_the_arguments_redacts_the_secret_key() {
        let args = parse_with(&[]);
        let shown = format!("{args:?}");
        assert!(!shown.contains("TopSecretKeyValue42"), "{shown}");
        assert!(
            shown.contains("<redacted>") && shown.contains("AKIDvisible"),
            "{shown}"
        );
        assert_eq!(args.secret_key.expose_secret(), "TopSecretKeyValue42");
    }

    #[test]
    fn the_sts_token_key_is_redacted_and_must_be_long_enough() {
        let key = "a token key of at least 32 bytes, kept secret";
        let args = parse_with(&["--sts-token-key", key, "--region", "ap-shanghai"]);
        let shown = format!("{args:?}");
        assert!(!shown.contains(key), "{shown}");
        assert_eq!(args.region, "ap-shanghai");
        assert!(token_key(args.sts_token_key).unwrap().is_some());
        let short = format!(
            "{:#}",
            token_key(Some(SecretKey::new("too short"))).unwrap_err()
        );
        assert!(
            short.contains("at least 32") && !short.contains("too short"),
            "{short}"
        );
        assert!(token_key(None).unwrap().is_none());
    }
}
