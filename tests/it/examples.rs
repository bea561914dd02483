//! The examples a developer copies, run as they are against the server started in-process:
//! the mini-program (`examples/miniprogram`) and Tencent's `cos-wx-sdk-v5` in Node under the
//! `wx` shim (`tests/interop/node/wx-shim.js`; the SDK comes from
//! `$COS_INTEROP_NODE_DIR/node_modules`, which `scripts/test-all.sh` installs), and the
//! scripts in `examples/script` (cos-python-sdk-v5 with temporary credentials; curl with the
//! 2017 v4 signature).

use std::path::PathBuf;
use std::process::Command;

use crate::harness::procs::interop_tool;
use crate::harness::{bytes, proved, spawn_app};

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

/// `examples/script/<name>`.
fn example_script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("examples")
        .join("script")
        .join(name)
}

/// Runs a command to the end: (success, stdout, stderr).
async fn output(mut cmd: Command) -> (bool, String, String) {
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot start {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_script_example_uploads_with_temporary_credentials() {
    let app = spawn_app().await;
    let work = tempfile::tempdir().unwrap();
    // A small photo (a simple PUT) and one above the SDK's 1 MiB part size (multipart).
    let files = [
        ("cat.jpg", bytes(41, 100 * 1024)),
        ("pano.png", bytes(42, 3 << 20)),
    ];
    for (name, content) in &files {
        std::fs::write(work.path().join(name), content).unwrap();
    }
    let mut cmd = Command::new(interop_tool("COS_INTEROP_PYTHON"));
    cmd.arg(example_script("upload.py"))
        .args(["--server", &app.base_url, "--dev-user", "script-alice"])
        .args(["--dir", "photos", "cat.jpg", "pano.png"])
        .current_dir(work.path());
    let (ok, stdout, stderr) = output(cmd).await;
    assert!(ok, "upload.py failed:\n{stdout}\n{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    let user = app.dev_login("script-alice").await;
    let prefix = format!("{}photos/", user.upload_prefix.trim_start_matches('/'));
    for ((name, content), line) in files.iter().zip(&lines) {
        assert_eq!(line["file"], *name, "{line}");
        let key = line["key"].as_str().unwrap();
        assert!(key.starts_with(&prefix), "{key} is not under {prefix}");
        let etag = line["etag"].as_str().unwrap();
        assert!(etag.len() >= 32, "the store's ETag: {line}");
        let ext = name.rsplit('.').next().unwrap();
        assert!(key.ends_with(&format!(".{ext}")), "{key}");
        assert_eq!(
            app.get_object(key).await.as_deref(),
            Some(&content[..]),
            "{key} reads back equal"
        );
    }
    // A refused credential: exit 1 with the server's message, nothing uploaded.
    std::fs::write(work.path().join("tool.exe"), b"MZ").unwrap();
    let mut cmd = Command::new(interop_tool("COS_INTEROP_PYTHON"));
    cmd.arg(example_script("upload.py"))
        .args(["--server", &app.base_url, "--dev-user", "script-alice"])
        .arg("tool.exe")
        .current_dir(work.path());
    let (ok, stdout, stderr) = output(cmd).await;
    assert_eq!((ok, stdout.as_str()), (false, ""), "{stderr}");
    assert!(stderr.contains(".exe"), "the server's message: {stderr}");
    assert_eq!(
        app.list_keys(user.upload_prefix.trim_start_matches('/'))
            .await
            .len(),
        2
    );
    proved(
        "examples",
        "examples/script/upload.py: cos-python-sdk-v5 with a key credential uploaded a 100 KiB photo (PUT) and a 3 MiB one (multipart), read back equal; a refused .exe exits 1 with the server's message",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_script_example_uploads_with_the_v4_signature() {
    let app = spawn_app().await;
    let work = tempfile::tempdir().unwrap();
    let content = bytes(43, 64 * 1024);
    std::fs::write(work.path().join("cat.jpg"), &content).unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg(example_script("upload-v4.sh"))
        .args([&app.base_url, "script-bob", "photos", "cat.jpg"])
        .current_dir(work.path());
    let (ok, stdout, stderr) = output(cmd).await;
    assert!(ok, "upload-v4.sh failed:\n{stdout}\n{stderr}");
    let reply: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(reply["code"], 0, "{reply}");
    let url = reply["data"]["source_url"].as_str().unwrap();
    let body = app.http.get(url).send().await.unwrap();
    assert_eq!(body.status(), 200, "{url}");
    assert_eq!(
        body.bytes().await.unwrap(),
        content,
        "{url} reads back equal"
    );
    proved(
        "examples",
        format!(
            "examples/script/upload-v4.sh: curl's 2017 flow (dev login, v4 sign, op=upload) stored {url}"
        ),
    );
}
