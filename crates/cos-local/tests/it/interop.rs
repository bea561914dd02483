//! Tencent's own clients against the store: cos-python-sdk-v5 and coscmd.
//!
//! Needs a Python with both installed, named by `COS_INTEROP_PYTHON`:
//! `python3 -m venv .venv && .venv/bin/pip install -r tests/interop/python/requirements.txt`,
//! then `COS_INTEROP_PYTHON=$PWD/.venv/bin/python cargo test -p cos-local`.
//! CI sets it; without it this test fails and says so.

use std::path::PathBuf;
use std::process::Command;

use crate::helpers::*;

fn python() -> String {
    #[allow(clippy::disallowed_methods)] // Test configuration, read in this one place.
    let var = std::env::var("COS_INTEROP_PYTHON");
    match var {
        Ok(p) if !p.is_empty() => p,
        _ => panic!(
            "COS_INTEROP_PYTHON is not set. The interop test runs Tencent's Python SDK and coscmd \
             against the store. From the workspace root, set them up with\n  \
             python3 -m venv .venv && .venv/bin/pip install -r tests/interop/python/requirements.txt\n\
             then run\n  COS_INTEROP_PYTHON=$PWD/.venv/bin/python cargo test -p cos-local\n\
             (scripts/test-all.sh does both)."
        ),
    }
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/interop/python")
        .join(name)
}

async fn run(name: &str) {
    let ts = TestStore::start().await;
    let args = [
        "--endpoint",
        ts.host.as_str(),
        "--appid",
        APPID,
        "--bucket",
        BUCKET,
    ];
    let env = [("COS_SECRET_ID", SECRET_ID), ("COS_SECRET_KEY", SECRET_KEY)];
    run_script(&ts, name, script(name), &args, &env).await;
}

/// Runs a Python script against `ts` with `--workdir` added to `args`,
/// passes on its `PROVED:` lines and fails with its output if it fails.
async fn run_script(
    ts: &TestStore,
    name: &str,
    script: PathBuf,
    args: &[&str],
    env: &[(&str, &str)],
) {
    let python = python();
    let work = tempfile::tempdir().unwrap();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let workdir = work.path().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&python)
            .arg(&script)
            .args(&args)
            .arg("--workdir")
            .arg(&workdir)
            .envs(env)
            // Talk to 127.0.0.1 directly whatever the CI environment sets.
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .env_remove("ALL_PROXY")
            .env_remove("all_proxy")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {python}: {e}"))
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for line in stdout.lines().filter(|l| l.starts_with("PROVED:")) {
        println!("{name}: {line}");
    }
    assert!(
        output.status.success(),
        "{name} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    assert_eq!(ts.store.temp_file_count(), 0);
}

#[tokio::test]
async fn python_sdk_v5_put_get_list_delete_multipart() {
    run("sdk_v5.py").await;
}

#[tokio::test]
async fn coscmd_uploads_a_directory() {
    run("coscmd_upload.py").await;
}

/// cos-python-sdk-v5 with temporary credentials for `u/12/` (images up to
/// 20 MiB), as the auth server mints them: `CosConfig(..., Token=...)`.
#[tokio::test]
async fn python_sdk_v5_with_temporary_credentials() {
    use crate::sts_client::{prefix_policy, sts_store, temp};
    let ts = sts_store().await;
    let t = temp(&prefix_policy("u/12/", 20 << 20));
    let port = ts.host.rsplit_once(':').unwrap().1.to_owned();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/sdk_v5_sts.py");
    let args = [
        "--port",
        port.as_str(),
        "--appid",
        APPID,
        "--bucket",
        BUCKET,
        "--region",
        "ap-guangzhou",
        "--prefix",
        "u/12/",
    ];
    let env = [
        ("COS_TMP_SECRET_ID", t.creds.secret_id.as_str()),
        ("COS_TMP_SECRET_KEY", t.creds.secret_key.expose_secret()),
        ("COS_SECURITY_TOKEN", t.token.as_str()),
    ];
    run_script(&ts, "sdk_v5_sts.py", script, &args, &env).await;
    assert!(
        ts.keys().iter().all(|k| k.starts_with("u/12/sts/")),
        "{:?}",
        ts.keys()
    );
}
