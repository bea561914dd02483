//! Tencent's own clients against the system: `cos-python-sdk-v5` and `coscmd` (which sign
//! with the store's key, as a server-side tool would), and `cos-nodejs-sdk-v5` whose every
//! request is signed by the auth server through the SDK's official `getAuthorization`
//! callback. `scripts/test-all.sh` installs them and sets the variables read here.

use std::path::PathBuf;
use std::process::Command;

use crate::harness::procs::interop_tool as tool;
use crate::harness::{TestApp, proved, spawn_app};

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop")
}

/// Runs a command, echoes its `PROVED`/`FAILED` lines, and asserts it succeeded.
fn run(label: &str, cmd: &mut Command) -> Vec<String> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{label}: cannot start: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{label} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    stdout.lines().map(str::to_owned).collect()
}

fn python(app: &TestApp, script: &str, work: &std::path::Path) -> Command {
    let mut cmd = Command::new(tool("COS_INTEROP_PYTHON"));
    cmd.arg(interop_dir().join("python").join(script))
        .args(["--endpoint", &format!("127.0.0.1:{}", app.port)])
        .args(["--appid", &app.appid, "--bucket", &app.bucket])
        .arg("--workdir")
        .arg(work)
        .env("COS_SECRET_ID", &app.creds.secret_id)
        .env("COS_SECRET_KEY", app.creds.secret_key.expose_secret());
    if let Some(coscmd) = std::env::var_os("COS_INTEROP_COSCMD") {
        cmd.env("COSCMD", coscmd);
    }
    cmd
}

/// `node <script>` from `$COS_INTEROP_NODE_DIR` with Tencent's Node SDKs on its module path,
/// pointed at `app` with `token`, working in `work`.
fn node_sdk(app: &TestApp, script: &str, token: &str, work: &std::path::Path) -> Command {
    let node_dir = tool("COS_INTEROP_NODE_DIR");
    let mut cmd = Command::new("node");
    cmd.arg(node_dir.join(script))
        .env("NODE_PATH", node_dir.join("node_modules"))
        .env("SERVER", &app.base_url)
        .env("TOKEN", token)
        .env("WORKDIR", work);
    cmd
}

/// Runs a Node driver to the end: its output lines and the JSON check lines among them.
async fn node_checks(
    label: &'static str,
    mut cmd: Command,
) -> (Vec<String>, Vec<serde_json::Value>) {
    let lines = tokio::task::spawn_blocking(move || run(label, &mut cmd))
        .await
        .unwrap();
    let checks = lines
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    (lines, checks)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_and_coscmd_against_the_embedded_store() {
    let app = spawn_app().await;
    let work = tempfile::tempdir().unwrap();
    let app_ref = &app;
    let work_path = work.path().to_owned();
    for sub in ["sdk", "coscmd"] {
        std::fs::create_dir_all(work_path.join(sub)).unwrap();
    }
    let lines = tokio::task::spawn_blocking({
        let mut sdk = python(app_ref, "sdk_v5.py", &work_path.join("sdk"));
        let mut coscmd = python(app_ref, "coscmd_upload.py", &work_path.join("coscmd"));
        move || {
            let mut l = run("cos-python-sdk-v5", &mut sdk);
            l.extend(run("coscmd", &mut coscmd));
            l
        }
    })
    .await
    .unwrap();
    let proofs: Vec<_> = lines.iter().filter(|l| l.starts_with("PROVED")).collect();
    assert!(proofs.len() >= 2, "the scripts proved nothing: {lines:#?}");
    for p in proofs {
        proved(
            "official",
            format!("python: {}", p.trim_start_matches("PROVED: ")),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodejs_sdk_signs_through_get_authorization() {
    let app = spawn_app().await;
    let token = app.dev_login("node-user").await;
    let work = tempfile::tempdir().unwrap();
    let mut cmd = node_sdk(&app, "upload.js", &token.access_token, work.path());
    cmd.env("DOMAIN", format!("127.0.0.1:{}", app.port))
        .env("BUCKET", app.bucket_full())
        .env("REGION", "local")
        .env("PREFIX", token.upload_prefix.trim_start_matches('/'));
    let (lines, checks) = node_checks("cos-nodejs-sdk-v5", cmd).await;
    let names: Vec<&str> = checks.iter().filter_map(|c| c["check"].as_str()).collect();
    assert_eq!(
        names,
        [
            "putObject+getObject",
            "uploadFile(multipart)+getObject",
            "headObject",
            "outside-prefix-refused",
            "done"
        ],
        "{lines:#?}"
    );
    let sign_calls = checks
        .last()
        .and_then(|c| c["sign_calls"].as_u64())
        .unwrap_or(0);
    assert!(
        sign_calls >= 8,
        "every request should be signed by the server, saw {sign_calls}"
    );
    proved(
        "official",
        format!(
            "cos-nodejs-sdk-v5 via getAuthorization: putObject/getObject, 6 MiB multipart uploadFile, headObject read back equal; outside-prefix refused; {sign_calls} server signatures"
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodejs_sdk_on_its_defaults_with_temporary_credentials() {
    let app = spawn_app().await;
    let token = app.dev_login("node-sts").await;
    let work = tempfile::tempdir().unwrap();
    let cmd = node_sdk(&app, "node-sts.js", &token.access_token, work.path());
    let (lines, checks) = node_checks("cos-nodejs-sdk-v5 (STS)", cmd).await;
    let names: Vec<&str> = checks.iter().filter_map(|c| c["check"].as_str()).collect();
    assert_eq!(
        names,
        [
            "uploadFile(put+multipart)+getObject",
            "getBucket(prefix)",
            "outside-prefix-refused",
            "static-security-token",
            "done"
        ],
        "{lines:#?}"
    );
    // Two credentials for the whole run: the SDK signed every request itself.
    assert_eq!(checks.last().unwrap()["credential_calls"], 2, "{lines:#?}");
    proved(
        "official",
        "cos-nodejs-sdk-v5 on its defaults with temporary credentials (getAuthorization and the static SecurityToken form): 100 KiB and 12 MiB uploadFile read back equal, its prefix listed, outside-prefix and over-size puts refused 403, 2 credential requests in all",
    );
}
