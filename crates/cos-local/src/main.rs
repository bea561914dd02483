//! `cos-local`: run the local COS-compatible store on its own.

use std::ffi::OsStr;
use std::io::IsTerminal as _;
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use cos_local::{FaultConfig, FaultScope, Store, StoreConfig};
use cos_sign::{Credentials, SecretKey};

/// A local object store speaking Tencent COS's v4 JSON and v5 XML APIs.
#[derive(Debug, Parser)]
#[command(name = "cos-local", version, about)]
struct Args {
    /// Directory for objects, metadata and upload sessions (created if missing).
    #[arg(long, env = "COS_LOCAL_DATA_DIR", default_value = "./cos-data")]
    data_dir: PathBuf,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "COS_LOCAL_BIND", default_value = "127.0.0.1:9000")]
    bind: String,
    /// Numeric COS APPID; buckets are `<name>-<appid>`.
    #[arg(long, env = "COS_LOCAL_APPID", default_value = "1250000000")]
    appid: String,
    /// Default bucket (short name) for requests on a bare host such as 127.0.0.1:9000.
    #[arg(long, env = "COS_LOCAL_BUCKET", default_value = "metis")]
    bucket: String,
    /// SecretId accepted in signatures.
    #[arg(long, env = "COS_LOCAL_SECRET_ID")]
    secret_id: String,
    /// SecretKey for that SecretId (prefer the environment variable to the flag).
    /// Held as a `SecretKey`: `Debug` of `Args` prints `<redacted>`.
    #[arg(long, env = "COS_LOCAL_SECRET_KEY", hide_env_values = true, value_parser = parse_secret)]
    secret_key: SecretKey,
    /// Base URL for source_url / Location (default: http://<Host of the request>).
    #[arg(long, env = "COS_LOCAL_PUBLIC_URL")]
    public_url: Option<String>,
    /// Require signatures for GET/HEAD too (default: objects are public-read).
    #[arg(long, env = "COS_LOCAL_PRIVATE")]
    private: bool,
    /// Clock skew tolerated on signature times, in seconds.
    #[arg(long, env = "COS_LOCAL_MAX_SKEW_SECS", default_value_t = 60)]
    max_skew_secs: u64,
    /// Largest object in bytes.
    #[arg(long, env = "COS_LOCAL_MAX_OBJECT_SIZE", default_value_t = 5 * 1024 * 1024 * 1024)]
    max_object_size: u64,
    /// Largest v4 simple upload (op=upload) in bytes.
    #[arg(long, env = "COS_LOCAL_MAX_SIMPLE_UPLOAD", default_value_t = 20 * 1024 * 1024)]
    max_simple_upload: u64,
    /// Skip fsync on commit (faster; atomic against process crashes only).
    #[arg(long, env = "COS_LOCAL_NO_FSYNC")]
    no_fsync: bool,
    /// Remove an unfinished multipart or slice upload after this long without a
    /// new part: seconds, or a number with s, m, h or d (e.g. 90m, 7d).
    #[arg(long, env = "COS_LOCAL_UPLOAD_TTL", default_value = "24h", value_parser = parse_ttl)]
    upload_ttl: Duration,
    /// Seed of the fault-injection generator.
    #[arg(long, env = "COS_LOCAL_FAULT_SEED", default_value_t = 0)]
    fault_seed: u64,
    /// Fraction of requests answered 500/503.
    #[arg(long, env = "COS_LOCAL_FAULT_ERROR_RATE", default_value_t = 0.0)]
    fault_error_rate: f64,
    /// Fraction of requests whose connection is dropped mid-body (nothing stored).
    #[arg(long, env = "COS_LOCAL_FAULT_DROP_RATE", default_value_t = 0.0)]
    fault_drop_rate: f64,
    /// Fraction of requests served completely (the upload is stored) whose reply
    /// is then lost: the connection closes before the response. Errors, drops
    /// and lost replies are exclusive: their rates add up to the failing share.
    #[arg(
        long,
        alias = "fault-lost-reply",
        env = "COS_LOCAL_FAULT_LOST_REPLY_RATE",
        default_value_t = 0.0
    )]
    fault_lost_reply_rate: f64,
    /// Latency added to a fraction of requests, in milliseconds.
    #[arg(long, env = "COS_LOCAL_FAULT_LATENCY_MS", default_value_t = 0)]
    fault_latency_ms: u64,
    /// Fraction of requests delayed.
    #[arg(long, env = "COS_LOCAL_FAULT_LATENCY_RATE", default_value_t = 0.0)]
    fault_latency_rate: f64,
    /// Which requests faults apply to: writes, reads or all.
    #[arg(long, env = "COS_LOCAL_FAULT_SCOPE", default_value = "all")]
    fault_scope: String,
    /// Act as if the disk were full: every upload is refused with 507.
    #[arg(long, env = "COS_LOCAL_FAULT_DISK_FULL")]
    fault_disk_full: bool,
    /// Worker threads (default: one per core).
    #[arg(long, env = "COS_LOCAL_WORKERS")]
    workers: Option<usize>,
}

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

    #[test]
    fn debug_of_the_arguments_redacts_the_secret_key() {
        let args = Args::try_parse_from([
            "cos-local",
            "--secret-id",
            "AKIDvisible",
            "--secret-key",
            "TopSecretKeyValue42",
        ])
        .unwrap();
        let shown = format!("{args:?}");
        assert!(!shown.contains("TopSecretKeyValue42"), "{shown}");
        assert!(
            shown.contains("<redacted>") && shown.contains("AKIDvisible"),
            "{shown}"
        );
        assert_eq!(args.secret_key.expose_secret(), "TopSecretKeyValue42");
    }
}
