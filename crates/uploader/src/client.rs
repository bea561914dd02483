//! The auth server, as the app talks to it: log in, then ask for signatures.

use std::sync::{Arc, RwLock};

use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::DirPath;
use shared::wire::{
    ApiError, DevLoginRequest, LoginRequest, PostPolicyRequest, PostPolicyResponse, SignResponse,
    TokenResponse, V5SignRequest, V5SignResponse,
};

use crate::error::{Error, snippet};
use crate::journal::Destination;
use crate::retry::{Contact, RetryPolicy, Uncounted, retry, retry_after, retryable_status};

const SERVICE: &str = "auth server";

/// How to log in.
#[derive(Clone, PartialEq, Eq)]
pub enum Login {
    /// `POST /v1/auth/dev-login {"user"}` (servers with dev login enabled).
    /// Repeatable, so an expired token is renewed transparently.
    Dev(String),
    /// `POST /v1/auth/login {"code"}` with a `wx.login` code (single use).
    Code(String),
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Login::Dev(u) => f.debug_tuple("Dev").field(u).finish(),
            // A code is a credential: never printed.
            Login::Code(_) => f.write_str("Code(<redacted>)"),
        }
    }
}

/// A login the server refused as bad input (400, 403) is an authentication
/// failure, not a refused signature.
fn refused_login(e: Error) -> Error {
    match e {
        Error::Sign { code, message } => Error::Auth { code, message },
        e => e,
    }
}

/// Who we are logged in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The server's user id.
    pub user_id: String,
    /// The directory this user may upload into, e.g. `/u/7/`.
    pub upload_prefix: DirPath,
    /// UNIX seconds at which the token expires.
    pub expires_at: u64,
}

struct Token {
    jwt: String,
    session: Session,
}

/// A client of the auth server. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct ServerClient {
    http: reqwest::Client,
    base: String,
    retry: RetryPolicy,
    contact: Contact,
    login: RwLock<Option<Login>>,
    token: RwLock<Option<Arc<Token>>>,
}

impl std::fmt::Debug for ServerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl ServerClient {
    /// A client of the server at `base_url` (e.g. `http://127.0.0.1:8080`),
    /// using `http` for every request (share one client for connection reuse).
    pub fn new(http: reqwest::Client, base_url: &str) -> Self {
        Self {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            retry: RetryPolicy::default(),
            contact: Contact::default(),
            login: RwLock::new(None),
            token: RwLock::new(None),
        }
    }

    /// Replaces the retry policy for requests to the auth server.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The HTTP client.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// When the servers last answered this client's requests (the auth
    /// server's and the store's alike).
    pub(crate) fn contact(&self) -> &Contact {
        &self.contact
    }

    /// The current session, once logged in.
    pub fn session(&self) -> Option<Session> {
        self.token
            .read()
            .ok()
            .and_then(|t| t.as_ref().map(|t| t.session.clone()))
    }

    /// Logs in with dev login.
    pub async fn login_dev(&self, user: &str) -> Result<Session, Error> {
        self.login(Login::Dev(user.to_owned())).await
    }

    /// Logs in with a `wx.login` code.
    pub async fn login_code(&self, code: &str) -> Result<Session, Error> {
        self.login(Login::Code(code.to_owned())).await
    }

    /// Logs in and keeps the token for later calls.
    pub async fn login(&self, how: Login) -> Result<Session, Error> {
        let tr: TokenResponse = match &how {
            Login::Dev(user) => self
                .post_json(
                    shared::routes::DEV_LOGIN,
                    &DevLoginRequest { user: user.clone() },
                )
                .await
                .map_err(refused_login)?,
            // A code is single-use: never retried.
            Login::Code(code) => self
                .send_once(
                    self.http
                        .post(format!("{}{}", self.base, shared::routes::LOGIN))
                        .json(&LoginRequest { code: code.clone() }),
                )
                .await
                .map_err(refused_login)?,
        };
        let upload_prefix = DirPath::parse(&tr.upload_prefix).map_err(|e| Error::Protocol {
            service: SERVICE,
            message: format!("bad upload_prefix {:?}: {e}", tr.upload_prefix),
        })?;
        let session = Session {
            user_id: tr.user_id,
            upload_prefix,
            expires_at: shared::clock::unix_now().saturating_add(tr.expires_in),
        };
        if let Ok(mut t) = self.token.write() {
            *t = Some(Arc::new(Token {
                jwt: tr.access_token,
                session: session.clone(),
            }));
        }
        if let Ok(mut l) = self.login.write() {
            *l = Some(how);
        }
        Ok(session)
    }

    fn jwt(&self) -> Result<Arc<Token>, Error> {
        self.token
            .read()
            .ok()
            .and_then(|t| t.clone())
            .ok_or_else(|| Error::Auth {
                code: "not_logged_in".into(),
                message: "log in before asking for signatures".into(),
            })
    }

    /// Renews a dev-login token after a 401 (or when it is about to expire);
    /// a code login cannot be repeated, so its 401 is final.
    async fn renew(&self, stale: &Arc<Token>) -> Result<bool, Error> {
        let current = self.jwt()?;
        if !Arc::ptr_eq(&current, stale) {
            return Ok(true); // someone else renewed it already
        }
        let how = self.login.read().ok().and_then(|l| l.clone());
        match how {
            Some(how @ Login::Dev(_)) => {
                self.login(how).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Runs the request `build` makes with the token as `Authorization: JWT
    /// <token>`, retried, renewing the token once on 401.
    async fn authed<T, F>(&self, build: F) -> Result<T, Error>
    where
        T: DeserializeOwned,
        F: Fn() -> reqwest::RequestBuilder,
    {
        let mut renewed = false;
        loop {
            let tok = self.jwt()?;
            if tok.session.expires_at <= shared::clock::unix_now() + 5 && !renewed {
                renewed = true;
                self.renew(&tok).await?;
                continue;
            }
            let r = retry(
                &self.retry,
                &self.contact,
                &Uncounted,
                || {
                    let rb = build()
                        .header(reqwest::header::AUTHORIZATION, format!("JWT {}", tok.jwt));
                    self.send_once(rb)
                },
                |e, d| tracing::debug!(error = %e, delay_ms = d.as_millis() as u64, "retrying auth server request"),
            )
            .await;
            match r {
                Err(Error::Auth { .. }) if !renewed && self.renew(&tok).await? => {
                    renewed = true;
                }
                other => return other,
            }
        }
    }

    /// A POST of `body` as JSON without a token (dev login), retried.
    async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        route: &str,
        body: &B,
    ) -> Result<T, Error> {
        retry(
            &self.retry,
            &self.contact,
            &Uncounted,
            || self.send_once(self.http.post(format!("{}{route}", self.base)).json(body)),
            |e, _| tracing::debug!(error = %e, "retrying auth server request"),
        )
        .await
    }

    /// Sends one request and maps the reply.
    async fn send_once<T: DeserializeOwned>(
        &self,
        rb: reqwest::RequestBuilder,
    ) -> Result<T, Error> {
        let resp = rb.send().await.map_err(|e| Error::network(SERVICE, e))?;
        let status = resp.status();
        let ra = retry_after(resp.headers());
        let body = resp.bytes().await.map_err(|e| Error::network(SERVICE, e))?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| Error::Protocol {
                service: SERVICE,
                message: format!("{e}: {}", snippet(&String::from_utf8_lossy(&body))),
            });
        }
        let (code, message) = match serde_json::from_slice::<ApiError>(&body) {
            Ok(api) => (api.error_code, api.message),
            Err(_) => (
                status.as_u16().to_string(),
                snippet(&String::from_utf8_lossy(&body)),
            ),
        };
        Err(match status {
            StatusCode::UNAUTHORIZED => Error::Auth { code, message },
            StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN | StatusCode::PAYLOAD_TOO_LARGE => {
                Error::Sign { code, message }
            }
            StatusCode::INSUFFICIENT_STORAGE => Error::StoreFull {
                service: SERVICE,
                message: format!("{code}: {message}"),
            },
            s if retryable_status(s) => Error::Server {
                service: SERVICE,
                status: s.as_u16(),
                message: format!("{code}: {message}"),
                retry_after: ra,
            },
            s => Error::Protocol {
                service: SERVICE,
                message: format!("HTTP {}: {code}: {message}", s.as_u16()),
            },
        })
    }

    /// Where this client's uploads go, for the journal: the server's base URL,
    /// the store location (the v4 upload URL of the upload directory, without
    /// the directory: `<endpoint>/files/v2/<appid>/<bucket>`) and the user id.
    /// Asks the server for a signature of the upload directory to learn the
    /// store location; nothing is sent to the store.
    pub async fn destination(&self) -> Result<Destination, Error> {
        let session = self.session().ok_or_else(|| Error::Auth {
            code: "not_logged_in".into(),
            message: "log in before asking where uploads go".into(),
        })?;
        let sign = self.sign_v4(&session.upload_prefix).await?;
        let dir = cos_sign::encode_path(&sign.cos_path);
        let store = sign
            .upload_url
            .strip_suffix(dir.as_str())
            .filter(|s| !s.is_empty())
            .unwrap_or(&sign.upload_url)
            .to_owned();
        Ok(Destination {
            server: self.base.clone(),
            store,
            user: session.user_id,
        })
    }

    /// `GET /v1/qc_cos/config?cos_path=<dir>`: a v4 multi-effect signature for `dir`.
    /// The path is sent as the app sends it, without its trailing `/`.
    pub async fn sign_v4(&self, dir: &DirPath) -> Result<SignResponse, Error> {
        let url = format!("{}{}", self.base, shared::routes::V4_SIGN);
        let cos_path = dir.without_trailing_slash().to_owned();
        self.authed(|| {
            self.http
                .get(&url)
                .query(&[("cos_path", cos_path.as_str())])
        })
        .await
    }

    /// `POST /v1/cos/v5/sign`: the Authorization for one v5 request.
    pub async fn sign_v5(&self, req: &V5SignRequest) -> Result<V5SignResponse, Error> {
        let url = format!("{}{}", self.base, shared::routes::V5_SIGN);
        self.authed(|| self.http.post(&url).json(req)).await
    }

    /// `POST /v1/cos/v5/post-policy`: a signed POST Object form.
    pub async fn post_policy(&self, req: &PostPolicyRequest) -> Result<PostPolicyResponse, Error> {
        let url = format!("{}{}", self.base, shared::routes::POST_POLICY);
        self.authed(|| self.http.post(&url).json(req)).await
    }
}
