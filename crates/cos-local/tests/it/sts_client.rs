//! Temporary credentials in tests: minting them as the auth server does
//! (`cos_sign::sts::mint` with a `shared::cam::Policy::for_upload` policy)
//! and sending requests signed with them the ways Tencent's SDKs do.

use cos_sign::sts::{self, TmpSecretId, TokenClaims, TokenKey};
use cos_sign::v5::KeyTime;
use cos_sign::{Credentials, SecretKey};
use shared::cam::{Bucket, Policy, Scope, UploadLimits};
use shared::{DirPath, ObjectKey};

use crate::helpers::*;

/// The key the test stores hold and the tests mint with.
pub const TOKEN_KEY: &str = "cos-local tests: the STS token key, 32 bytes or more";

pub fn token_key() -> TokenKey {
    TokenKey::new(SecretKey::new(TOKEN_KEY)).unwrap()
}

/// A store that accepts temporary credentials minted with [`TOKEN_KEY`].
pub async fn sts_store() -> TestStore {
    TestStore::start_with(|c| c.sts_token_key = Some(token_key())).await
}

pub fn bucket() -> Bucket {
    Bucket::new("ap-guangzhou", APPID, BUCKET).unwrap()
}

/// What the auth server grants: images up to `max_size` bytes.
pub fn limits(max_size: u64) -> UploadLimits {
    UploadLimits {
        max_size,
        content_types: vec!["image/*".to_owned()],
    }
}

/// The upload policy of one key.
pub fn key_policy(key: &str, max_size: u64) -> Policy {
    let scope = Scope::Key(ObjectKey::parse(key).unwrap());
    Policy::for_upload(&bucket(), &scope, &limits(max_size))
}

/// The upload policy of a directory (`u/12/`: no leading slash, as v5 keys).
pub fn prefix_policy(dir: &str, max_size: u64) -> Policy {
    let scope = Scope::Prefix(DirPath::parse(&format!("/{dir}")).unwrap());
    Policy::for_upload(&bucket(), &scope, &limits(max_size))
}

/// TmpSecretId, TmpSecretKey and SecurityToken, as the credentials reply
/// hands them to an app.
#[derive(Debug, Clone)]
pub struct Temp {
    pub creds: Credentials,
    pub token: String,
}

/// Credentials for `policy`, valid from a minute ago for half an hour.
pub fn temp(policy: &Policy) -> Temp {
    mint(&token_key(), policy, now() - 60, now() + 1800)
}

pub fn mint(key: &TokenKey, policy: &Policy, start: u64, end: u64) -> Temp {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let claims = TokenClaims {
        id: TmpSecretId::parse(&format!("AKID{n:032}")).unwrap(),
        start_time: start,
        expired_time: end,
        policy: policy.to_json(),
    };
    let minted = sts::mint(key, &claims).unwrap();
    Temp {
        creds: Credentials::new(
            minted.tmp_secret_id.as_str(),
            minted.tmp_secret_key.expose_to_client(),
        ),
        token: minted.security_token,
    }
}

/// How the token and the signature travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `Authorization` header, token header not signed (wx, js, node SDKs).
    Header,
    /// `Authorization` header over the token header too (the Python SDK).
    SignedTokenHeader,
    /// Presigned URL, the token appended unsigned (`getObjectUrl` of the JS SDKs).
    Presigned,
    /// Presigned URL, the token a signed parameter (Python's
    /// `get_presigned_url(Params={'x-cos-security-token': …})`).
    PresignedSignedToken,
}

/// One v5 request: every given header is sent and signed, with `host`.
#[derive(Debug, Clone)]
pub struct Req<'a> {
    pub method: &'a str,
    pub path: String,
    pub params: Vec<(&'a str, String)>,
    pub headers: Vec<(&'a str, String)>,
    pub body: Vec<u8>,
    /// The `Host` sent and signed (default: the store's address).
    pub host: Option<String>,
}

impl<'a> Req<'a> {
    pub fn new(method: &'a str, path: &str) -> Self {
        Self {
            method,
            path: path.to_owned(),
            params: Vec::new(),
            headers: Vec::new(),
            body: Vec::new(),
            host: None,
        }
    }

    pub fn param(mut self, name: &'a str, value: &str) -> Self {
        self.params.push((name, value.to_owned()));
        self
    }

    pub fn header(mut self, name: &'a str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn host(mut self, host: &str) -> Self {
        self.host = Some(host.to_owned());
        self
    }

    /// Sends the request signed with `temp`'s TmpSecretKey, its token as `via` says.
    pub async fn send(&self, ts: &TestStore, temp: &Temp, via: Via) -> reqwest::Response {
        self.send_as(ts, &temp.creds, Some(&temp.token), via).await
    }

    /// Sends the request signed with `creds`, presenting `token` if any.
    pub async fn send_as(
        &self,
        ts: &TestStore,
        creds: &Credentials,
        token: Option<&str>,
        via: Via,
    ) -> reqwest::Response {
        let host = self.host.clone().unwrap_or_else(|| ts.host.clone());
        let mut headers: Vec<(&str, &str)> = vec![("host", host.as_str())];
        headers.extend(self.headers.iter().map(|(k, v)| (*k, v.as_str())));
        let mut params: Vec<(&str, &str)> =
            self.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        match (via, token) {
            (Via::SignedTokenHeader, Some(token)) => headers.push(("x-cos-security-token", token)),
            (Via::PresignedSignedToken, Some(token)) => {
                params.push(("x-cos-security-token", token));
            }
            _ => {}
        }
        let request = cos_sign::v5::Request {
            method: self.method,
            path: &self.path,
            params: &params,
            headers: &headers,
        };
        let signature = cos_sign::v5::sign(
            creds,
            &request,
            KeyTime::new(now() - 10, now() + 600).unwrap(),
        );
        let method =
            reqwest::Method::from_bytes(self.method.to_ascii_uppercase().as_bytes()).unwrap();
        let mut query: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let presigned = matches!(via, Via::Presigned | Via::PresignedSignedToken);
        if presigned {
            query.extend(
                signature
                    .to_query_pairs()
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v)),
            );
            if let (Via::Presigned, Some(token)) = (via, token) {
                query.push(("x-cos-security-token".to_owned(), token.to_owned()));
            }
        }
        let mut rb = ts
            .client
            .request(
                method,
                format!("{}{}", ts.base, cos_sign::encode_path(&self.path)),
            )
            .query(&query)
            .header("Host", host.as_str());
        for (k, v) in &self.headers {
            rb = rb.header(*k, v.as_str());
        }
        if !presigned {
            rb = rb.header("Authorization", signature.to_authorization());
            if let Some(token) = token {
                rb = rb.header("x-cos-security-token", token);
            }
        }
        rb.body(self.body.clone()).send().await.unwrap()
    }
}

/// What a refused request must leave as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub keys: Vec<String>,
    pub body_files: usize,
    /// Every file under `uploads/`: sessions and their parts.
    pub upload_files: usize,
    pub listing: String,
}

fn count_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                let path = e.path();
                if path.is_dir() { count_files(&path) } else { 1 }
            })
            .sum()
    })
}

impl TestStore {
    /// The store's keys, bodies, upload sessions and the listing a client sees.
    pub async fn snapshot(&self) -> Snapshot {
        let listing = self
            .signed("get", "/", &[], &[], Vec::new())
            .await
            .text()
            .await
            .unwrap();
        Snapshot {
            keys: self.keys(),
            body_files: self.body_files(),
            upload_files: count_files(&self.data_dir().join("uploads")),
            listing: tags(&listing, "Key").join("\n"),
        }
    }

    /// Nothing changed since `before`: no object, body, temp file, upload
    /// session or part appeared or went, and the listing is the same (waits briefly
    /// for the server to finish cleaning up after a cut-off body).
    pub async fn assert_unchanged(&self, before: &Snapshot, what: &str) {
        let mut now = self.snapshot().await;
        for _ in 0..100 {
            if now == *before && self.store.temp_file_count() == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            now = self.snapshot().await;
        }
        assert_eq!(now, *before, "{what}: the store changed");
        assert_eq!(
            self.store.temp_file_count(),
            0,
            "{what}: a temp file is left"
        );
    }
}

/// Status, `<Code>` and `<Message>` of a refusal.
pub async fn refusal(resp: reqwest::Response) -> (u16, String, String) {
    let (status, code, text) = xml_code(resp).await;
    (status, code, tag(&text, "Message").unwrap_or(text))
}
