//! A stand-in for Tencent STS `GetFederationToken` on `127.0.0.1:0`, checked
//! the way STS checks a call and answering in STS's shapes, so the server's
//! real-COS mode (and Tencent's own STS clients) can run against it offline.
//!
//! It accepts both request styles Tencent's clients use
//! (<https://cloud.tencent.com/document/api/1312/48195>):
//! * API 3.0 with TC3-HMAC-SHA256: a JSON body, `X-TC-Action`,
//!   `X-TC-Version`, `X-TC-Region`, `X-TC-Timestamp` and `Authorization`,
//!   verified with [`cos_sign::tc3::verify`] (timestamp within 300 s);
//! * the older form-encoded call of `qcloud-python-sts` and `qcloud-cos-sts`:
//!   `SecretId`, `Timestamp`, `Nonce`, `Action`, `Version`, `Region`,
//!   `DurationSeconds`, `Name`, `Policy`, `Signature`, signed as
//!   `base64(HMAC-SHA1(key, "POST" + Host + "/?" + sorted k=v))` over the
//!   form-decoded values (`SignatureMethod=HmacSHA256` selects SHA-256).
//!
//! In both, `Policy` is the policy JSON URL-encoded once more; the fake
//! decodes it and parses it with [`shared::cam::Policy`]. Every call is
//! recorded ([`FakeSts::calls`]), so a test can assert exactly what was asked
//! for and how it was signed. A good call is answered with credentials
//! minted in the embedded token format with the token key the fake was given,
//! so a store holding the same key accepts them; a bad one with STS's error
//! shape (`AuthFailure.SignatureFailure`, `InvalidParameter.OverTimeError`,
//! …). [`FakeSts::fail_next`] and [`FakeSts::fail_always`] inject failures
//! (an error code, or an HTTP status), and [`FakeSts::stop`] takes it down.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cos_sign::sts::TokenKey;
use cos_sign::{Credentials, KeyStore as _, tc3};
use hmac::{Hmac, Mac};
use serde_json::json;
use shared::cam::Policy;

use crate::sts::mint::Minter;

/// How long a timestamp may be off, either way (STS allows five minutes).
pub const MAX_SKEW_SECS: u64 = 300;
/// The longest `DurationSeconds` STS grants a root account's key.
pub const MAX_DURATION_SECS: u64 = 7200;

/// How a call was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// API 3.0, TC3-HMAC-SHA256, JSON body.
    Tc3,
    /// The form-encoded call, `HmacSHA1` (the default).
    HmacSha1,
    /// The form-encoded call with `SignatureMethod=HmacSHA256`.
    HmacSha256,
    /// Neither: an unknown content type.
    Unknown,
}

/// One call, as the fake understood it.
#[derive(Debug, Clone)]
pub struct StsCall {
    /// How it was signed.
    pub signing: Signing,
    /// `Ok`, or the STS error code it was refused with and why.
    pub verdict: Result<(), String>,
    /// The `Host` header.
    pub host: String,
    /// The SecretId that signed.
    pub secret_id: String,
    /// `X-TC-Action` / `Action`.
    pub action: String,
    /// `X-TC-Version` / `Version`.
    pub version: String,
    /// `X-TC-Region` / `Region`.
    pub region: String,
    /// `Name`.
    pub name: String,
    /// `DurationSeconds` (1800 when absent, as STS defaults it).
    pub duration_seconds: Option<u64>,
    /// The policy JSON, URL-decoded.
    pub policy_text: Option<String>,
    /// The policy, parsed.
    pub policy: Option<Policy>,
}

/// A failure to answer with instead of credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// `{"Response":{"Error":{"Code":<code>,"Message":…},"RequestId":…}}`, HTTP 200.
    Error(String),
    /// This HTTP status with a plain-text body (a gateway in front of STS failing).
    Status(u16),
}

struct State {
    credentials: Credentials,
    token_key: TokenKey,
    calls: Mutex<Vec<StsCall>>,
    next: Mutex<VecDeque<Failure>>,
    always: Mutex<Option<Failure>>,
}

/// The running fake.
pub struct FakeSts {
    /// `127.0.0.1:<port>`, for `sts.endpoint` (with `sts.scheme = http`).
    pub host: String,
    /// `http://127.0.0.1:<port>/`.
    pub url: String,
    state: Arc<State>,
    handle: ServerHandle,
}

impl std::fmt::Debug for FakeSts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeSts")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl FakeSts {
    /// Starts the fake (inside a Tokio runtime). It accepts calls signed by
    /// `credentials` and mints with `token_key`.
    pub fn start(credentials: Credentials, token_key: TokenKey) -> FakeSts {
        let state = Arc::new(State {
            credentials,
            token_key,
            calls: Mutex::new(Vec::new()),
            next: Mutex::new(VecDeque::new()),
            always: Mutex::new(None),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the fake STS");
        let port = listener
            .local_addr()
            .expect("the fake STS's address")
            .port();
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(64 * 1024))
                .default_service(web::to(handle))
        })
        .workers(1)
        .listen(listener)
        .expect("listen for the fake STS")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        FakeSts {
            host: format!("127.0.0.1:{port}"),
            url: format!("http://127.0.0.1:{port}/"),
            state,
            handle,
        }
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<StsCall> {
        lock(&self.state.calls).clone()
    }

    /// Answers the next calls that pass the checks with these failures, one each.
    pub fn fail_next(&self, failures: impl IntoIterator<Item = Failure>) {
        lock(&self.state.next).extend(failures);
    }

    /// Answers every call that passes the checks with `failure` (`None`: mint again).
    pub fn fail_always(&self, failure: Option<Failure>) {
        *lock(&self.state.always) = failure;
    }

    /// Stops listening: calls then fail to connect.
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn handle(req: HttpRequest, body: web::Bytes, state: web::Data<Arc<State>>) -> HttpResponse {
    let now = shared::clock::unix_now();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let content_type = header("content-type");
    let mut call = StsCall {
        signing: Signing::Unknown,
        verdict: Ok(()),
        host: header("host"),
        secret_id: String::new(),
        action: String::new(),
        version: String::new(),
        region: String::new(),
        name: String::new(),
        duration_seconds: None,
        policy_text: None,
        policy: None,
    };
    let mut params = Params::default();
    let checked = if content_type.starts_with("application/json") {
        tc3_call(&req, &body, &state, now, &mut call, &mut params)
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        form_call(&body, &state, now, &mut call, &mut params)
    } else {
        Err(refuse("InvalidParameter", "unsupported Content-Type"))
    }
    .and_then(|()| check_call(&mut call, &params));
    call.verdict = checked
        .as_ref()
        .map(|_| ())
        .map_err(|(code, why)| format!("{code}: {why}"));
    lock(&state.calls).push(call.clone());
    if let Err((code, message)) = checked {
        return error_reply(code, &message);
    }
    let injected = lock(&state.next)
        .pop_front()
        .or_else(|| lock(&state.always).clone());
    match injected {
        Some(Failure::Error(code)) => error_reply(&code, "injected failure"),
        Some(Failure::Status(status)) => {
            let status = actix_web::http::StatusCode::from_u16(status)
                .unwrap_or(actix_web::http::StatusCode::BAD_GATEWAY);
            HttpResponse::build(status).body("fake STS: injected failure")
        }
        None => mint_reply(&state, &call, now),
    }
}

/// The parameters both styles carry, as received.
#[derive(Default)]
struct Params {
    name: Option<String>,
    policy: Option<String>,
    duration: Option<String>,
}

type Refusal = (&'static str, String);

fn refuse(code: &'static str, why: impl Into<String>) -> Refusal {
    (code, why.into())
}

/// API 3.0: the TC3 signature, and the JSON body's parameters.
fn tc3_call(
    req: &HttpRequest,
    body: &[u8],
    state: &State,
    now: u64,
    call: &mut StsCall,
    params: &mut Params,
) -> Result<(), Refusal> {
    call.signing = Signing::Tc3;
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    call.action = get("x-tc-action");
    call.version = get("x-tc-version");
    call.region = get("x-tc-region");
    let authorization = get("authorization");
    if let Ok(parsed) = tc3::ParsedAuthorization::parse(&authorization) {
        call.secret_id = parsed.secret_id;
    }
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    tc3::verify(
        &authorization,
        &state.credentials,
        &tc3::Received {
            method: tc3::Method::Post { payload: body },
            headers: &pairs,
        },
        &tc3::Expect {
            service: "sts",
            now,
            max_skew: MAX_SKEW_SECS,
        },
    )
    .map_err(|e| match e {
        tc3::VerifyError::UnknownSecretId => refuse("AuthFailure.SecretIdNotFound", e.to_string()),
        tc3::VerifyError::TimestampSkew { .. } => {
            refuse("AuthFailure.SignatureExpire", e.to_string())
        }
        other => refuse("AuthFailure.SignatureFailure", other.to_string()),
    })?;
    let json: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| refuse("InvalidParameter", "the body is not JSON"))?;
    let text = |k: &str| json.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    params.name = text("Name");
    params.policy = text("Policy");
    params.duration = json.get("DurationSeconds").map(|v| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    Ok(())
}

/// The form-encoded call: its HmacSHA1/HmacSHA256 signature and parameters.
fn form_call(
    body: &[u8],
    state: &State,
    now: u64,
    call: &mut StsCall,
    params: &mut Params,
) -> Result<(), Refusal> {
    call.signing = Signing::HmacSha1;
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| refuse("InvalidParameter", "the form does not decode"))?;
    pairs.sort();
    if pairs.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(refuse("InvalidParameter", "a parameter is repeated"));
    }
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    call.action = get("Action").unwrap_or_default();
    call.version = get("Version").unwrap_or_default();
    call.region = get("Region").unwrap_or_default();
    call.secret_id = get("SecretId").unwrap_or_default();
    params.name = get("Name");
    params.policy = get("Policy");
    params.duration = get("DurationSeconds");
    let method = get("SignatureMethod");
    if method.as_deref() == Some("HmacSHA256") {
        call.signing = Signing::HmacSha256;
    } else if method.is_some_and(|m| m != "HmacSHA1") {
        return Err(refuse("InvalidParameter", "unknown SignatureMethod"));
    }
    let secret = state
        .credentials
        .secret_for(&call.secret_id)
        .ok_or_else(|| refuse("AuthFailure.SecretIdNotFound", "unknown SecretId"))?;
    let timestamp: u64 = get("Timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| refuse("MissingParameter", "Timestamp"))?;
    if timestamp.abs_diff(now) > MAX_SKEW_SECS {
        return Err(refuse(
            "AuthFailure.SignatureExpire",
            format!("Timestamp {timestamp} is more than {MAX_SKEW_SECS} s from {now}"),
        ));
    }
    let signature = get("Signature").ok_or_else(|| refuse("MissingParameter", "Signature"))?;
    let signed = pairs
        .iter()
        .filter(|(k, _)| k != "Signature")
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!("POST{}/?{signed}", call.host);
    let key = secret.expose_secret().as_bytes();
    let mac = match call.signing {
        Signing::HmacSha256 => hmac_base64::<Hmac<sha2::Sha256>>(key, &to_sign),
        _ => hmac_base64::<Hmac<sha1::Sha1>>(key, &to_sign),
    };
    if mac != signature {
        return Err(refuse(
            "AuthFailure.SignatureFailure",
            format!("the signature is not that of {to_sign:?}"),
        ));
    }
    Ok(())
}

fn hmac_base64<M: Mac + hmac::digest::KeyInit>(key: &[u8], text: &str) -> String {
    let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    m.update(text.as_bytes());
    STANDARD.encode(m.finalize().into_bytes())
}

/// What STS checks once the signature holds: action, version, region, name,
/// policy and duration.
fn check_call(call: &mut StsCall, params: &Params) -> Result<(), Refusal> {
    if call.action != "GetFederationToken" {
        return Err(refuse("InvalidAction", format!("action {:?}", call.action)));
    }
    if call.version != "2018-08-13" {
        return Err(refuse(
            "NoSuchVersion",
            format!("version {:?}", call.version),
        ));
    }
    let region_ok = !call.region.is_empty()
        && call
            .region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !region_ok {
        return Err(refuse(
            "InvalidParameterValue",
            format!("region {:?}", call.region),
        ));
    }
    call.name = params
        .name
        .clone()
        .ok_or_else(|| refuse("MissingParameter", "Name"))?;
    let encoded = params
        .policy
        .as_deref()
        .ok_or_else(|| refuse("MissingParameter", "Policy"))?;
    let text = cos_sign::decode(encoded).ok_or_else(|| {
        refuse(
            "InvalidParameter.StrategyFormatError",
            "Policy does not URL-decode",
        )
    })?;
    call.policy_text = Some(text.clone());
    call.policy = Some(
        Policy::from_json(&text)
            .map_err(|e| refuse("InvalidParameter.StrategyFormatError", e.to_string()))?,
    );
    let duration = match &params.duration {
        None => 1800,
        Some(d) => d
            .parse()
            .map_err(|_| refuse("InvalidParameter", "DurationSeconds is not a number"))?,
    };
    call.duration_seconds = Some(duration);
    if duration == 0 || duration > MAX_DURATION_SECS {
        return Err(refuse(
            "InvalidParameter.OverTimeError",
            format!("DurationSeconds {duration} is outside 1..={MAX_DURATION_SECS}"),
        ));
    }
    Ok(())
}

fn error_reply(code: &str, message: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({"Response": {
        "Error": {"Code": code, "Message": message},
        "RequestId": uuid::Uuid::new_v4().to_string(),
    }}))
}

fn mint_reply(state: &State, call: &StsCall, now: u64) -> HttpResponse {
    let (Some(policy), Some(duration)) = (&call.policy, call.duration_seconds) else {
        return error_reply("InternalError", "checked call without policy");
    };
    let minted = Minter::new(state.token_key.clone(), duration).mint(policy, now);
    let Ok(issued) = minted else {
        return error_reply("InvalidParameter.PolicyTooLong", "the policy is too long");
    };
    HttpResponse::Ok().json(json!({"Response": {
        "Credentials": {
            "Token": issued.security_token,
            "TmpSecretId": issued.tmp_secret_id,
            "TmpSecretKey": issued.tmp_secret_key.expose_secret(),
        },
        "ExpiredTime": issued.expired_time,
        "Expiration": crate::sts::expiration(issued.expired_time),
        "RequestId": uuid::Uuid::new_v4().to_string(),
    }}))
}
