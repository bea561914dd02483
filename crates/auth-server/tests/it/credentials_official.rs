//! Tencent's official STS client, `qcloud-python-sts` (`from sts.sts import
//! Sts`), pointed at the fake STS with the policy and duration our server
//! asked for: the fake decodes the same policy and DurationSeconds from both,
//! and both signatures (ours TC3, the official client's form-encoded
//! HmacSHA1) verify. The driver is `qcloud_sts.py` beside this file.
//!
//! Needs a Python with qcloud-python-sts installed, named by
//! `COS_INTEROP_PYTHON` (the venv `bash scripts/test-all.sh` sets up holds it).
//! Without it this test fails and says so.

use std::path::PathBuf;
use std::process::Command;

use auth_server::testing::fake_sts::Signing;
use cos_sign::sts;
use serde_json::{Value, json};
use shared::cam::Policy;

use crate::helpers::*;

fn python() -> String {
    #[allow(clippy::disallowed_methods)] // Test configuration, read in this one place.
    let var = std::env::var("COS_INTEROP_PYTHON");
    match var {
        Ok(p) if !p.is_empty() => p,
        _ => panic!(
            "COS_INTEROP_PYTHON is not set. This test runs Tencent's qcloud-python-sts against \
             the fake STS. From the workspace root, set it up with\n  \
             python3 -m venv .venv && .venv/bin/pip install -r tests/interop/python/requirements.txt\n\
             then run\n  COS_INTEROP_PYTHON=$PWD/.venv/bin/python cargo test -p auth-server\n\
             (scripts/test-all.sh does both)."
        ),
    }
}

#[tokio::test]
async fn the_official_python_sts_client_asks_for_the_same_policy() {
    let python = python();
    let (app, fake) = spawn_sts_app(|_| {}).await;
    let (token, _) = app.token("alice").await;
    let r = app
        .credentials(
            &token,
            &json!({"scope": "prefix", "dir": "album", "content_type": "image/png"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let ours = fake.calls().remove(0);
    assert_eq!((ours.signing, ours.verdict.clone()), (Signing::Tc3, Ok(())));
    let policy = ours.policy.clone().unwrap();

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/qcloud_sts.py");
    let creds = test_creds();
    let args = [
        "--url".to_owned(),
        fake.url.clone(),
        "--domain".to_owned(),
        fake.host.clone(),
        "--region".to_owned(),
        ours.region.clone(),
        "--duration".to_owned(),
        ours.duration_seconds.unwrap().to_string(),
        "--policy".to_owned(),
        policy.to_json(),
    ];
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&python)
            .arg(&script)
            .args(&args)
            .env("STS_SECRET_ID", &creds.secret_id)
            .env("STS_SECRET_KEY", creds.secret_key.expose_secret())
            // Talk to 127.0.0.1 directly whatever the environment sets.
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
    assert!(
        output.status.success(),
        "qcloud_sts.py failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );

    let calls = fake.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    let official = &calls[1];
    assert_eq!(official.signing, Signing::HmacSha1, "{official:?}");
    assert_eq!(official.verdict, Ok(()), "{official:?}");
    assert_eq!(official.action, ours.action);
    assert_eq!(official.version, ours.version);
    assert_eq!(official.region, ours.region);
    assert_eq!(official.duration_seconds, ours.duration_seconds);
    assert_eq!(official.policy.as_ref(), Some(&policy));
    assert_eq!(official.name, "cos-sts-python");
    // The official client reads the fake's answer as it reads Tencent's.
    let result: Value = serde_json::from_str(stdout.trim()).unwrap();
    let token = result["credentials"]["sessionToken"].as_str().unwrap();
    let claims = sts::open(&sts_token_key(), token).unwrap();
    assert_eq!(claims.id.as_str(), result["credentials"]["tmpSecretId"]);
    assert_eq!(Policy::from_json(&claims.policy).unwrap(), policy);
    assert_eq!(
        result["expiredTime"].as_u64().unwrap() - result["startTime"].as_u64().unwrap(),
        ours.duration_seconds.unwrap()
    );
    println!(
        "PROVED: qcloud-python-sts and auth-server asked the STS stand-in for the same policy \
         ({} statements) and DurationSeconds {}, signed HmacSHA1 and TC3, both verified",
        policy.statement.len(),
        ours.duration_seconds.unwrap()
    );
}
