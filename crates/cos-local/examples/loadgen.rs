//! Load generator for `scripts/bench-store.sh`: small-object PUTs per second
//! with concurrency, and one large streamed PUT (MB/s), against a running
//! store, signed like an SDK would (v5 Authorization over host).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::Parser;
use cos_sign::Credentials;
use cos_sign::v5::{KeyTime, Request};

#[derive(Debug, Parser)]
struct Args {
    /// host:port of the store (default bucket).
    #[arg(long)]
    endpoint: String,
    #[arg(long, env = "COS_LOCAL_SECRET_ID")]
    secret_id: String,
    #[arg(long, env = "COS_LOCAL_SECRET_KEY", hide_env_values = true)]
    secret_key: String,
    /// Number of small objects to PUT (0 to skip).
    #[arg(long, default_value_t = 5000)]
    small_count: u64,
    /// Size of each small object in bytes.
    #[arg(long, default_value_t = 4096)]
    small_size: usize,
    /// Concurrent small PUTs.
    #[arg(long, default_value_t = 16)]
    concurrency: u64,
    /// File to PUT as one large object (streamed from disk).
    #[arg(long)]
    large_file: Option<std::path::PathBuf>,
}

fn auth(creds: &Credentials, host: &str, method: &str, path: &str) -> String {
    let now = shared::clock::unix_now();
    let headers = [("host", host)];
    let req = Request {
        method,
        path,
        params: &[],
        headers: &headers,
    };
    match KeyTime::new(now.saturating_sub(60), now + 3600) {
        Ok(kt) => cos_sign::v5::sign(creds, &req, kt).to_authorization(),
        Err(_) => String::new(),
    }
}

#[allow(clippy::print_stdout)] // The figures are the output.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let creds = Arc::new(Credentials::new(&args.secret_id, &args.secret_key));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let base = format!("http://{}", args.endpoint);

    if args.small_count > 0 {
        let body = bytes::Bytes::from(vec![b'x'; args.small_size]);
        let next = Arc::new(AtomicU64::new(0));
        let failures = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..args.concurrency {
            let (client, creds, base, body, next, failures, host) = (
                client.clone(),
                creds.clone(),
                base.clone(),
                body.clone(),
                next.clone(),
                failures.clone(),
                args.endpoint.clone(),
            );
            let count = args.small_count;
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let key = format!("bench/small/{:03}/{i:08}.bin", i % 100);
                    let resp = client
                        .put(format!("{base}/{key}"))
                        .header(
                            "Authorization",
                            auth(&creds, &host, "put", &format!("/{key}")),
                        )
                        .body(body.clone())
                        .send()
                        .await;
                    if !matches!(resp, Ok(ref r) if r.status() == 200) {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        for t in tasks {
            t.await?;
        }
        let secs = started.elapsed().as_secs_f64();
        let failed = failures.load(Ordering::Relaxed);
        println!(
            "small_put: {} objects x {} B, concurrency {}: {:.0} PUT/s ({:.2} s, {} failed)",
            args.small_count,
            args.small_size,
            args.concurrency,
            args.small_count as f64 / secs,
            secs,
            failed
        );
        if failed > 0 {
            bail!("{failed} small PUTs failed");
        }
    }

    if let Some(path) = &args.large_file {
        let file = tokio::fs::File::open(path)
            .await
            .with_context(|| format!("open {}", path.display()))?;
        let len = file.metadata().await?.len();
        let stream = tokio_util::io::ReaderStream::with_capacity(file, 1024 * 1024);
        let key = "bench/large.bin";
        let started = Instant::now();
        let resp = client
            .put(format!("{base}/{key}"))
            .header(
                "Authorization",
                auth(&creds, &args.endpoint, "put", &format!("/{key}")),
            )
            .header("Content-Length", len)
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await?;
        let secs = started.elapsed().as_secs_f64();
        if resp.status() != 200 {
            bail!(
                "large PUT answered {}: {}",
                resp.status(),
                resp.text().await?
            );
        }
        let mib = len as f64 / (1024.0 * 1024.0);
        println!(
            "large_put: {mib:.0} MiB in {secs:.2} s: {:.1} MiB/s",
            mib / secs
        );
        let started = Instant::now();
        let mut resp = client.get(format!("{base}/{key}")).send().await?;
        let mut got = 0u64;
        while let Some(chunk) = resp.chunk().await? {
            got += chunk.len() as u64;
        }
        let secs = started.elapsed().as_secs_f64();
        if got != len {
            bail!("large GET returned {got} of {len} bytes");
        }
        println!(
            "large_get: {mib:.0} MiB in {secs:.2} s: {:.1} MiB/s",
            mib / secs
        );
    }
    Ok(())
}
