//! Harness for the workspace-level suites: the real servers started in-process on port 0
//! (zero2prod's `spawn_app()`), a client that mimics the mini-program, hostile-input
//! generators, and helpers to look at what the store really holds.
pub mod forge;
pub mod procs;
pub mod wx;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use auth_server::Config;
use cos_sign::v5;
use serde_json::Value;
use sha1::{Digest, Sha1};
use shared::wire::TokenResponse;

/// Lower-case hex SHA-1.
pub fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

/// Deterministic pseudo-random bytes (so failures are reproducible).
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    use rand::{RngCore, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut v = vec![0u8; len];
    rng.fill_bytes(&mut v);
    v
}

/// A running auth server with its embedded store: the shared harness
/// ([`auth_server::testing::TestApp`], whose fields read through this one) and
/// the store handle the suites use.
pub struct TestApp {
    app: auth_server::testing::TestApp,
    /// The embedded store (its fault counters).
    pub store: cos_local::Store,
}

impl std::ops::Deref for TestApp {
    type Target = auth_server::testing::TestApp;

    fn deref(&self) -> &Self::Target {
        &self.app
    }
}

/// Starts the auth server with its embedded store on 127.0.0.1:0.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// [`spawn_app`] with a chance to change the configuration first.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let app = auth_server::testing::spawn_app_with(tweak).await;
    let store = app
        .store
        .clone()
        .expect("spawn_app runs the embedded store");
    TestApp { app, store }
}

impl TestApp {
    /// `<bucket>-<appid>`.
    pub fn bucket_full(&self) -> String {
        format!("{}-{}", self.bucket, self.appid)
    }

    /// The store's data directory.
    pub fn store_dir(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    /// Dev login; panics unless it succeeds.
    pub async fn dev_login(&self, user: &str) -> TokenResponse {
        let res = self
            .http
            .post(format!("{}{}", self.base_url, shared::routes::DEV_LOGIN))
            .json(&serde_json::json!({ "user": user }))
            .send()
            .await
            .expect("dev login request");
        assert!(res.status().is_success(), "dev login: {}", res.status());
        res.json().await.expect("token JSON")
    }

    /// `GET /v1/qc_cos/config?cos_path=<raw>` with a raw `Authorization` header value
    /// (`None` = no header). `raw_query_value` is put in the URL as it is.
    pub async fn v4_config(
        &self,
        authorization: Option<&str>,
        raw_query_value: &str,
    ) -> (u16, Value) {
        let mut req = self.http.get(format!(
            "{}{}?cos_path={raw_query_value}",
            self.base_url,
            shared::routes::V4_SIGN
        ));
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        let res = req.send().await.expect("sign request");
        let status = res.status().as_u16();
        let json = res.json().await.unwrap_or(Value::Null);
        (status, json)
    }

    /// A v4 signature for `dir` (panics unless 200).
    pub async fn sign_v4(&self, token: &str, dir: &str) -> shared::wire::SignResponse {
        let (status, json) = self
            .v4_config(
                Some(&format!("JWT {token}")),
                &cos_sign::encode_component(dir),
            )
            .await;
        assert_eq!(status, 200, "sign for {dir}: {json}");
        serde_json::from_value(json).expect("SignResponse")
    }

    /// POSTs JSON to an auth-server route with a token.
    pub async fn post_json(&self, route: &str, token: &str, body: &Value) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}{route}", self.base_url))
            .header("Authorization", format!("JWT {token}"))
            .json(body)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Every key in the bucket under `prefix`, read through the v5 API (GET Bucket, signed
    /// with the store's credentials, paginated).
    pub async fn list_keys(&self, prefix: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut marker = String::new();
        loop {
            let params = [
                ("prefix", prefix),
                ("marker", marker.as_str()),
                ("max-keys", "1000"),
            ];
            let host = format!("127.0.0.1:{}", self.port);
            let now = shared::clock::unix_now();
            let sig = v5::sign(
                &self.creds,
                &v5::Request {
                    method: "GET",
                    path: "/",
                    params: &params,
                    headers: &[("host", &host)],
                },
                v5::KeyTime::new(now - 60, now + 600).expect("key time"),
            );
            let query = serde_urlencoded_pairs(&params);
            let text = get_with_retries(
                &self.http,
                &format!("{}/?{query}", self.base_url),
                Some(&sig.to_authorization()),
            )
            .await
            .expect("list bucket");
            let text = String::from_utf8(text).expect("utf-8 xml");
            let page = xml_values(&text, "Key");
            keys.extend(page.iter().cloned());
            let truncated =
                xml_values(&text, "IsTruncated").first().map(String::as_str) == Some("true");
            if !truncated {
                break;
            }
            marker = xml_values(&text, "NextMarker")
                .first()
                .cloned()
                .or_else(|| page.last().cloned())
                .expect("a marker to continue from");
        }
        keys
    }

    /// The object's bytes (public read), retrying injected faults.
    pub async fn get_object(&self, key: &str) -> Option<Vec<u8>> {
        let url = format!("{}/{}", self.base_url, cos_sign::encode_path(key));
        get_with_retries(&self.http, &url, None).await
    }
}

fn serde_urlencoded_pairs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                cos_sign::encode_component(k),
                cos_sign::encode_component(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// GET with retries on connection errors and 5xx (the store may inject faults on reads).
/// `None` on 404.
pub async fn get_with_retries(
    http: &reqwest::Client,
    url: &str,
    authorization: Option<&str>,
) -> Option<Vec<u8>> {
    for attempt in 0..30 {
        let mut req = http.get(url);
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        match req.send().await {
            Ok(res) if res.status().is_success() => {
                if let Ok(b) = res.bytes().await {
                    return Some(b.to_vec());
                }
            }
            Ok(res) if res.status().as_u16() == 404 => return None,
            Ok(res) if res.status().is_server_error() => {}
            Ok(res) => panic!(
                "GET {url}: {}: {}",
                res.status(),
                res.text().await.unwrap_or_default()
            ),
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(20 * (attempt + 1))).await;
    }
    panic!("GET {url}: still failing after 30 attempts")
}

/// The text of every `<tag>…</tag>` in an XML document, unescaped.
pub fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(
            after[..j]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
        rest = &after[j + close.len()..];
    }
    out
}

/// Files left in the embedded store's temp directory (where bodies stream before they are
/// committed). A refused or aborted upload must leave none; removal may lag the reply by a
/// moment, so this waits up to two seconds for the directory to empty.
pub fn temp_files(app: &TestApp) -> Vec<PathBuf> {
    let tmp = app.store_dir().join("tmp");
    let list = || -> Vec<PathBuf> {
        std::fs::read_dir(&tmp)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default()
    };
    for _ in 0..40 {
        let files = list();
        if files.is_empty() {
            return files;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    list()
}

/// Writes `count` files of `size` bytes into `dir` and returns name → sha1.
pub fn make_files(dir: &Path, count: usize, size: usize, seed: u64) -> BTreeMap<String, String> {
    std::fs::create_dir_all(dir).expect("mkdir");
    let mut out = BTreeMap::new();
    for i in 0..count {
        let name = format!("f{i:05}.bin");
        let data = bytes(seed + i as u64, size);
        std::fs::write(dir.join(&name), &data).expect("write file");
        out.insert(name, sha1_hex(&data));
    }
    out
}

/// Prints one line saying what a suite proved (shown with `--nocapture`, which
/// `scripts/test-all.sh` passes for this crate).
pub fn proved(suite: &str, what: impl std::fmt::Display) {
    println!("PROVED [{suite}] {what}");
}
