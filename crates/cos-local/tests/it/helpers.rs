//! Starting stores and talking to them.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cos_local::{Store, StoreConfig};
use cos_sign::Credentials;
use cos_sign::v5::KeyTime;
use serde_json::Value;

pub const APPID: &str = "1250000000";
pub const BUCKET: &str = "metis";
pub const SECRET_ID: &str = "AKIDLocalTestSecretId000000000000000";
pub const SECRET_KEY: &str = "LocalTestSecretKey0123456789abcdef";

pub fn creds() -> Credentials {
    Credentials::new(SECRET_ID, SECRET_KEY)
}

pub fn now() -> u64 {
    shared::clock::unix_now()
}

/// A running store with its own data directory.
pub struct TestStore {
    pub store: Store,
    pub base: String,
    pub host: String,
    pub client: reqwest::Client,
    dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    handle: actix_web::dev::ServerHandle,
}

impl TestStore {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(f: impl FnOnce(&mut StoreConfig)) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let mut ts = Self::start_in(&dir, f).await;
        ts._tmp = Some(tmp);
        ts
    }

    /// Starts a store on an existing directory (restart tests keep the TempDir).
    pub async fn start_in(dir: &Path, f: impl FnOnce(&mut StoreConfig)) -> Self {
        let mut config = StoreConfig::new(dir, APPID, BUCKET, vec![creds()]);
        config.min_part_size = 1024;
        f(&mut config);
        let store = Store::open(config).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = cos_local::serve(listener, store.clone()).unwrap();
        let handle = server.handle();
        tokio::spawn(server);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        Self {
            store,
            base: format!("http://{addr}"),
            host: addr.to_string(),
            client,
            dir: dir.to_owned(),
            _tmp: None,
            handle,
        }
    }

    pub async fn stop(self) -> (PathBuf, Option<tempfile::TempDir>) {
        self.handle.stop(true).await;
        (self.dir, self._tmp)
    }

    // ---- v4 ----

    pub fn v4_url(&self, path: &str) -> String {
        self.v4_url_in(BUCKET, path)
    }

    pub fn v4_url_in(&self, bucket: &str, path: &str) -> String {
        format!(
            "{}/files/v2/{APPID}/{bucket}{}",
            self.base,
            cos_sign::encode_path(path)
        )
    }

    /// Multi-effect signature valid for an hour, bound to `bound` (or the bucket).
    pub fn sign_more(&self, bound: Option<&str>) -> String {
        sign_more_with(&creds(), BUCKET, bound, now() + 3600, now())
    }

    pub fn sign_once(&self, path: &str) -> String {
        let c = creds();
        let signer = cos_sign::v4::Signer {
            appid: APPID,
            bucket: BUCKET,
            credentials: &c,
        };
        signer.single_effect(path, now(), rand_nonce()).unwrap()
    }

    /// `op=upload` of `body` to `path`, with extra text fields.
    pub async fn v4_upload(
        &self,
        path: &str,
        body: &[u8],
        fields: &[(&str, &str)],
        sign: &str,
    ) -> (u16, Value) {
        let mut form = reqwest::multipart::Form::new().text("op", "upload");
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        form = form.part(
            "filecontent",
            reqwest::multipart::Part::bytes(body.to_vec()).file_name("blob"),
        );
        self.v4_post(path, form, sign).await
    }

    pub async fn v4_post(
        &self,
        path: &str,
        form: reqwest::multipart::Form,
        sign: &str,
    ) -> (u16, Value) {
        let resp = self
            .client
            .post(self.v4_url(path))
            .header("Authorization", sign)
            .multipart(form)
            .send()
            .await
            .unwrap();
        json_reply(resp).await
    }

    pub async fn v4_json(&self, path: &str, body: Value, sign: &str) -> (u16, Value) {
        let resp = self
            .client
            .post(self.v4_url(path))
            .header("Authorization", sign)
            .json(&body)
            .send()
            .await
            .unwrap();
        json_reply(resp).await
    }

    pub async fn v4_get(&self, path: &str, query: &[(&str, &str)], sign: &str) -> (u16, Value) {
        let resp = self
            .client
            .get(self.v4_url(path))
            .query(query)
            .header("Authorization", sign)
            .send()
            .await
            .unwrap();
        json_reply(resp).await
    }

    // ---- v5 ----

    pub fn url(&self, key: &str) -> String {
        format!("{}/{}", self.base, cos_sign::encode_path(key))
    }

    /// A v5 Authorization for `method` on `/key` signing host and the given params.
    pub fn auth(&self, method: &str, path: &str, params: &[(&str, &str)]) -> String {
        auth_with(
            &creds(),
            &self.host,
            method,
            path,
            params,
            now() - 10,
            now() + 600,
        )
    }

    pub async fn put(&self, key: &str, body: Vec<u8>) -> reqwest::Response {
        self.client
            .put(self.url(key))
            .header("Authorization", self.auth("put", &format!("/{key}"), &[]))
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// A v5 request on `path` signed with the store's credentials (host and
    /// `params`), with extra `headers` and a `body`.
    pub async fn signed(
        &self,
        method: &str,
        path: &str,
        params: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> reqwest::Response {
        let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
        let auth = self.auth(&method.as_str().to_ascii_lowercase(), path, params);
        let mut rb = self
            .client
            .request(
                method,
                format!("{}{}", self.base, cos_sign::encode_path(path)),
            )
            .query(params)
            .header("Authorization", auth);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        rb.body(body).send().await.unwrap()
    }

    /// POST Object: `form` sent to the bucket's root.
    pub async fn post_form(&self, form: reqwest::multipart::Form) -> reqwest::Response {
        self.client
            .post(format!("{}/", self.base))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, key: &str) -> reqwest::Response {
        self.client.get(self.url(key)).send().await.unwrap()
    }

    pub async fn get_bytes(&self, key: &str) -> Option<Vec<u8>> {
        let r = self.get(key).await;
        if r.status() == 404 {
            return None;
        }
        assert_eq!(r.status(), 200, "GET {key}");
        Some(r.bytes().await.unwrap().to_vec())
    }

    /// Keys of the default bucket, from the store itself.
    pub fn keys(&self) -> Vec<String> {
        self.store.keys(BUCKET)
    }

    /// Files under `blobs/` and `tmp/`: committed and in-flight bodies.
    pub fn body_files(&self) -> usize {
        let count = |sub: &str| {
            std::fs::read_dir(self.dir.join(sub))
                .map(|d| d.count())
                .unwrap_or(0)
        };
        count("blobs") + count("tmp")
    }

    /// Upload sessions on disk: v5 multipart uploads and v4 slice sessions.
    pub fn upload_sessions(&self) -> usize {
        ["uploads/v4", "uploads/v5"]
            .iter()
            .map(|sub| {
                std::fs::read_dir(self.dir.join(sub))
                    .map(|d| d.count())
                    .unwrap_or(0)
            })
            .sum()
    }

    /// The store's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    /// Nothing was stored: no key, no body, no temp file (waits briefly for
    /// the server to finish cleaning up after a cut connection).
    pub async fn assert_nothing_stored(&self) {
        for _ in 0..100 {
            if self.keys().is_empty() && self.body_files() == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "expected an empty store, found keys {:?} and {} body files",
            self.keys(),
            self.body_files()
        );
    }
}

pub fn rand_nonce() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    N.fetch_add(1, Ordering::Relaxed) * 7919
}

pub fn sign_more_with(
    c: &Credentials,
    bucket: &str,
    bound: Option<&str>,
    expires: u64,
    issued: u64,
) -> String {
    let signer = cos_sign::v4::Signer {
        appid: APPID,
        bucket,
        credentials: c,
    };
    signer
        .multi_effect(bound, expires, issued, rand_nonce())
        .unwrap()
}

pub fn auth_with(
    c: &Credentials,
    host: &str,
    method: &str,
    path: &str,
    params: &[(&str, &str)],
    start: u64,
    end: u64,
) -> String {
    let headers = [("host", host)];
    let req = cos_sign::v5::Request {
        method,
        path,
        params,
        headers: &headers,
    };
    cos_sign::v5::sign(c, &req, KeyTime::new(start, end).unwrap()).to_authorization()
}

pub async fn json_reply(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let v: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("reply is not JSON ({e}): {text}"));
    (status, v)
}

/// `<Code>` of a COS XML error body.
pub async fn xml_code(resp: reqwest::Response) -> (u16, String, String) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, tag(&text, "Code").unwrap_or_default(), text)
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Text of the first `<name>` element.
pub fn tag(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&close)? + start;
    Some(unescape(&xml[start..end]))
}

/// Sends raw bytes (for paths an HTTP client would normalise) and returns the
/// status and the whole response text. The request must say `Connection: close`.
pub async fn raw_request(ts: &TestStore, request: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut s = tokio::net::TcpStream::connect(&ts.host).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text)
}

/// Sends `request` (a head and perhaps the start of a body) on a new
/// connection and reads the answer, without sending anything more.
pub async fn answer_to(ts: &TestStore, request: &str) -> String {
    use tokio::io::AsyncWriteExt as _;
    let stream = tokio::net::TcpStream::connect(&ts.host).await.unwrap();
    let (rx, mut tx) = stream.into_split();
    tx.write_all(request.as_bytes()).await.unwrap();
    // A hang guard only: a store that waited for the body would never answer.
    let answer = tokio::time::timeout(std::time::Duration::from_secs(60), read_answer(rx))
        .await
        .expect("the store waited for a body it should not read");
    drop(tx);
    answer
}

/// Reads one HTTP/1.1 answer (head and `Content-Length` body) off a connection.
pub async fn read_answer(mut rx: tokio::net::tcp::OwnedReadHalf) -> String {
    use tokio::io::AsyncReadExt as _;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&answer).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
        match rx.read(&mut buf).await {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&answer).into_owned(),
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
}

/// Texts of every `<name>` element.
pub fn tags(xml: &str, name: &str) -> Vec<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(unescape(&after[..j]));
        rest = &after[j + close.len()..];
    }
    out
}

pub fn md5_hex(b: &[u8]) -> String {
    use md5::Digest as _;
    hex::encode(md5::Md5::digest(b))
}

pub fn sha1_hex(b: &[u8]) -> String {
    use sha1::Digest as _;
    hex::encode(sha1::Sha1::digest(b))
}

/// Deterministic test content.
pub fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u64)
                .wrapping_mul(2_654_435_761)
                .wrapping_add(u64::from(seed)) as u8
                ^ seed
        })
        .collect()
}
