//! `auth-server`: run the login and signing server.
//!
//! With no configuration it starts the embedded default (local COS store on the
//! same port, dev login on) on 127.0.0.1:8080 with data in `./data`.

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Login (WeChat jscode2session, JWT) and COS upload signing server.
/// Settings come from --config, then AUTH_* environment variables, then these flags.
#[derive(Debug, Parser)]
#[command(name = "auth-server", version)]
struct Cli {
    /// TOML configuration file (see config.example.toml).
    #[arg(long, env = "AUTH_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Listen address, e.g. 127.0.0.1:9090 (default 127.0.0.1:8080; overrides AUTH_BIND /
    /// server.bind).
    #[arg(long, value_name = "ADDR")]
    bind: Option<SocketAddr>,
    /// Data directory (default ./data; overrides AUTH_DATA_DIR / server.data_dir).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Log as JSON lines instead of text (RUST_LOG sets the level, default info).
    /// Text has colours only when stderr is a terminal and NO_COLOR is unset.
    #[arg(long, env = "AUTH_LOG_JSON")]
    log_json: bool,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let mut builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Colour codes only on a terminal: a log file or a pipe gets plain text.
    // On a terminal, tracing-subscriber's default already honours NO_COLOR
    // (https://no-color.org/: set and not empty, no colours).
    if !std::io::stderr().is_terminal() {
        builder = builder.with_ansi(false);
    }
    if cli.log_json {
        builder.json().init();
    } else {
        builder.init();
    }

    let mut overrides = Vec::new();
    if let Some(bind) = cli.bind {
        overrides.push(("server.bind", bind.to_string()));
    }
    if let Some(dir) = &cli.data_dir {
        let dir = dir
            .to_str()
            .context("--data-dir must be valid UTF-8")?
            .to_owned();
        overrides.push(("server.data_dir", dir));
    }
    let config = auth_server::Config::from_env_with(cli.config.as_deref(), &overrides)
        .context("invalid configuration")?;
    actix_web::rt::System::new().block_on(async move {
        let app = auth_server::Application::build(config)
            .await
            .context("cannot start the server")?;
        app.run_until_stopped().await.context("server error")
    })
}
