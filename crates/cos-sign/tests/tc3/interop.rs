//! Cross-check against the official signer: tencentcloud-sdk-python-common,
//! run offline by `tests/interop/python/tc3_sign.py`, signs ~200 generated
//! requests (fixed seed: Unicode and binary bodies, GET queries, hosts with
//! ports, timestamps around UTC midnights) and builds STS
//! `GetFederationToken` calls the way a real SDK call does; cos-sign must
//! produce the same `Authorization` for every one and accept the SDK's.
//!
//! Needs a Python with the packages of `tests/interop/python/requirements.txt`,
//! named by `COS_INTEROP_PYTHON`; without it this test fails and says so.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cos_sign::Credentials;
use cos_sign::tc3::{self, Expect, Method, Received, Request};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};

use super::properties::{Input, host, input, timestamp};

const RAW_CASES: usize = 200;
const CLIENT_CASES: usize = 40;

fn python() -> String {
    #[allow(clippy::disallowed_methods)] // Test configuration, read in this one place.
    let var = std::env::var("COS_INTEROP_PYTHON");
    match var {
        Ok(p) if !p.is_empty() => p,
        _ => panic!(
            "COS_INTEROP_PYTHON is not set. This test checks cos-sign's TC3 signer against \
             tencentcloud-sdk-python-common. From the workspace root, set it up with\n  \
             python3 -m venv .venv && .venv/bin/pip install -r tests/interop/python/requirements.txt\n\
             then run\n  COS_INTEROP_PYTHON=$PWD/.venv/bin/python cargo test -p cos-sign"
        ),
    }
}

/// Runs the SDK script on `lines` (one JSON object each) and returns its answers.
fn run_sdk(lines: &[Value]) -> Vec<Value> {
    let python = python();
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop/python/tc3_sign.py");
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    // Written from another thread so that a full stdout pipe cannot block us both.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{} failed ({}):\n--- stderr\n{}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let answers: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        answers.len(),
        lines.len(),
        "one answer per input line:\n{stdout}"
    );
    answers
}

/// `n` values of `strategy`, always the same ones.
fn generate<S: Strategy>(strategy: S, n: usize, seed: u8) -> Vec<S::Value> {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

#[test]
fn signatures_match_tencentcloud_sdk_python_common() {
    // The SDK signs exactly content-type;host, and signs their values verbatim,
    // which equals the documented lower-casing for the lower-case values sent.
    let inputs: Vec<Input> = generate(input(), RAW_CASES, 12)
        .into_iter()
        .map(|i| Input { action: None, ..i })
        .collect();
    let covered = [
        inputs.iter().any(|i| i.query.is_some()),
        inputs
            .iter()
            .any(|i| std::str::from_utf8(&i.payload).is_err()),
        inputs
            .iter()
            .any(|i| !i.payload.is_ascii() && std::str::from_utf8(&i.payload).is_ok()),
        inputs.iter().any(|i| i.host.contains(':')),
        inputs.iter().any(|i| i.timestamp % 86_400 < 60),
        inputs.iter().any(|i| i.timestamp % 86_400 > 86_400 - 60),
    ];
    assert_eq!(
        covered, [true; 6],
        "GET, binary body, Unicode body, host:port, just after and just before midnight"
    );
    let lines: Vec<Value> = inputs
        .iter()
        .map(|i| {
            let mut line = json!({
                "mode": "raw",
                "secret_id": i.secret_id,
                "secret_key": i.secret_key,
                "service": i.service,
                "host": i.host,
                "timestamp": i.timestamp,
                "content_type": i.content_type,
            });
            match &i.query {
                Some(q) => {
                    line["method"] = json!("GET");
                    line["query"] = json!(q);
                }
                None => {
                    line["method"] = json!("POST");
                    line["payload_b64"] = json!(STANDARD.encode(&i.payload));
                }
            }
            line
        })
        .collect();
    let answers = run_sdk(&lines);
    for (i, (input, sdk)) in inputs.iter().zip(&answers).enumerate() {
        let ours = input.sign();
        assert_eq!(
            Some(ours.authorization().as_str()),
            sdk["authorization"].as_str(),
            "case {i}: {input:?}\ncanonical request:\n{}",
            ours.canonical_request
        );
        let verified = input.verify(
            sdk["authorization"].as_str().unwrap(),
            &input.creds(),
            input.timestamp,
        );
        assert_eq!(
            verified.map(|v| v.secret_id),
            Ok(input.secret_id.clone()),
            "case {i}"
        );
    }
}

/// A `GetFederationToken` call as the auth server makes it.
#[derive(Debug, Clone)]
struct Call {
    secret_id: String,
    secret_key: String,
    token: Option<String>,
    region: String,
    host: String,
    timestamp: u64,
    name: String,
    policy: String,
    duration: u64,
}

fn call() -> impl Strategy<Value = Call> {
    (
        "AKID[A-Za-z0-9]{32}",
        "[A-Za-z0-9]{32}",
        prop::option::of("[A-Za-z0-9_-]{16,64}"),
        prop_oneof![
            Just("ap-guangzhou".to_owned()),
            Just("ap-shanghai".to_owned()),
            "[a-z]{2}-[a-z]{4,10}"
        ],
        host(),
        timestamp(),
        "[A-Za-z]{1,32}",
        "\\PC{0,40}",
        60u64..=7200,
    )
        .prop_map(
            |(secret_id, secret_key, token, region, host, timestamp, name, key, duration)| Call {
                secret_id,
                secret_key,
                token,
                region,
                host,
                timestamp,
                name,
                // The URL-encoded policy JSON the STS API takes; its exact encoding
                // does not matter here, only that it is signed as sent.
                policy: serde_json::to_string(
                    &json!({"version": "2.0", "statement": [{"resource": [key]}]}),
                )
                .unwrap()
                .bytes()
                .map(|b| format!("%{b:02X}"))
                .collect(),
                duration,
            },
        )
}

#[test]
fn sdk_built_sts_calls_sign_the_same() {
    let calls = generate(call(), CLIENT_CASES, 13);
    let lines: Vec<Value> = calls
        .iter()
        .map(|c| {
            json!({
                "mode": "client",
                "secret_id": c.secret_id,
                "secret_key": c.secret_key,
                "token": c.token,
                "service": "sts",
                "version": "2018-08-13",
                "action": "GetFederationToken",
                "region": c.region,
                "host": c.host,
                "timestamp": c.timestamp,
                "params": {"Name": c.name, "Policy": c.policy, "DurationSeconds": c.duration},
            })
        })
        .collect();
    let answers = run_sdk(&lines);
    for (i, (call, sdk)) in calls.iter().zip(&answers).enumerate() {
        let headers: Vec<(&str, &str)> = sdk["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
            .collect();
        let header = |name: &str| headers.iter().find(|(k, _)| *k == name).unwrap().1;
        let body = sdk["body"].as_str().unwrap().as_bytes();
        let creds = Credentials::new(call.secret_id.clone(), call.secret_key.clone());
        let ours = tc3::sign(
            &creds,
            &Request {
                service: "sts",
                host: header("Host"),
                method: Method::Post { payload: body },
                content_type: header("Content-Type"),
                extra_headers: &[],
                timestamp: call.timestamp,
            },
        )
        .unwrap();
        assert_eq!(
            ours.authorization(),
            header("Authorization"),
            "case {i}: {call:?}"
        );
        let verified = tc3::verify(
            header("Authorization"),
            &creds,
            &Received {
                method: Method::Post { payload: body },
                headers: &headers,
            },
            &Expect {
                service: "sts",
                now: call.timestamp,
                max_skew: 300,
            },
        );
        assert_eq!(
            verified.map(|v| v.secret_id),
            Ok(call.secret_id.clone()),
            "case {i}"
        );
    }
}
