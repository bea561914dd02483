//! The mini-program example (`examples/miniprogram`) and Tencent's `cos-wx-sdk-v5`, run in
//! Node under the `wx` shim (`tests/interop/node/wx-shim.js`) against the server started
//! in-process. The scripts live in `tests/interop/node`; the SDK comes from
//! `$COS_INTEROP_NODE_DIR/node_modules`, which `scripts/test-all.sh` installs.

use std::path::PathBuf;
use std::process::Command;

use crate::harness::{proved, spawn_app};

/// The directory of the Node scripts.
fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("interop")
        .join("node")
}

/// `node <args>` in the scripts' directory.
fn node(args: &[&str]) -> Command {
    let mut cmd = Command::new("node");
    cmd.current_dir(scripts()).args(args);
    cmd
}

/// [`node`] with Tencent's SDKs (`$COS_INTEROP_NODE_DIR/node_modules`) on its module path.
fn node_with_sdks(script: &str) -> Command {
    let Some(dir) = std::env::var_os("COS_INTEROP_NODE_DIR") else {
        panic!(
            "COS_INTEROP_NODE_DIR is not set: run `bash scripts/test-all.sh`, which installs Tencent's SDKs and sets it"
        )
    };
    let dir = PathBuf::from(dir);
    let mut cmd = node(&[script]);
    cmd.env("NODE_PATH", dir.join("node_modules"))
        .env("COS_INTEROP_NODE_DIR", dir);
    cmd
}

/// Runs a script to the end and returns what it proved; fails with its whole output when it
/// exits non-zero or printed a `FAILED` line.
async fn run(label: &'static str, mut cmd: Command) -> Vec<String> {
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{label}: cannot start node: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let failures: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAILED")).collect();
    assert!(
        out.status.success() && failures.is_empty(),
        "{label} failed ({}): {failures:#?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("PROVED: "))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wx_shim_passes_its_self_test() {
    let lines = run("wx-shim self-test", node(&["--test", "wx-shim.test.js"])).await;
    assert!(lines.is_empty(), "{lines:#?}");
    proved(
        "examples",
        "wx shim: multipart framing, upload progress, file ranges, request options (node --test wx-shim.test.js)",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn miniprogram_example_logs_in_chooses_uploads_and_reads_back() {
    let app = spawn_app().await;
    let work = tempfile::tempdir().unwrap();
    let mut cmd = node_with_sdks("miniprogram-example.js");
    cmd.env("SERVER", &app.base_url)
        .env("WX_LOGIN_CODE", "test-mp-alice")
        .env("WORKDIR", work.path());
    let lines = run("examples/miniprogram", cmd).await;
    let has = |prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(
        [
            has("login: wx.login code"),
            has("index page (cos-wx-sdk-v5, STS)"),
            has("index page: the 100 KiB image went up as a postObject form"),
            has("legacy page (v4 sign + wx.uploadFile op=upload)"),
            has("legacy page: GET /v1/qc_cos/config"),
        ],
        [1, 2, 1, 1, 1],
        "{lines:#?}"
    );
    assert_eq!(
        app.wechat_calls.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the login went through the (fake) WeChat jscode2session"
    );
    for l in lines {
        proved("examples", format!("miniprogram: {l}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cos_wx_sdk_on_its_defaults_with_sts_credentials() {
    let app = spawn_app().await;
    let token = app.dev_login("wx-sdk-user").await;
    let work = tempfile::tempdir().unwrap();
    let mut cmd = node_with_sdks("wx-sdk.js");
    cmd.env("SERVER", &app.base_url)
        .env("TOKEN", &token.access_token)
        .env("WORKDIR", work.path());
    let lines = run("cos-wx-sdk-v5", cmd).await;
    assert_eq!(lines.len(), 6, "{lines:#?}");
    for l in lines {
        proved("examples", l);
    }
}
