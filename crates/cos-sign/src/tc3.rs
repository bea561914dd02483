//! TC3-HMAC-SHA256, the request signature of Tencent Cloud API 3.0 (the API
//! that STS `GetFederationToken` is called through), and its verification.
//!
//! Algorithm (<https://cloud.tencent.com/document/product/215/36792>, the
//! "签名方法 v3" page every product repeats; reproduced by its worked examples):
//! ```text
//! CanonicalRequest = Method \n "/" \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n hex(SHA256(payload))
//!   CanonicalQuery   = the query string after '?' for GET (as sent), "" for POST
//!   CanonicalHeaders = lower(name) ":" lower(trim(value)) "\n" for each signed header, sorted by name
//!   SignedHeaders    = the lower-case names joined by ';' (at least content-type;host)
//!   payload          = the body for POST, "" for GET
//! StringToSign     = "TC3-HMAC-SHA256" \n timestamp \n date "/" service "/tc3_request" \n hex(SHA256(CanonicalRequest))
//!   date             = the UTC date of timestamp, YYYY-MM-DD
//! SecretSigning    = HMAC(HMAC(HMAC("TC3" + SecretKey, date), service), "tc3_request")
//! Signature        = hex(HMAC(SecretSigning, StringToSign))   (every HMAC is HMAC-SHA256)
//! Authorization    = "TC3-HMAC-SHA256 Credential=" id "/" date "/" service "/tc3_request, SignedHeaders=" SignedHeaders ", Signature=" Signature
//! ```
//! Header values are trimmed and lower-cased as the documentation says (its
//! current example signs `x-tc-action:describeinstances`). Tencent's SDKs sign
//! `content-type` and `host` verbatim, which is the same thing for the
//! lower-case values they send.
//!
//! The timestamp is an argument (cos-sign reads no clock); the service checks
//! that it lies within five minutes of its own clock, which [`verify`] does
//! with the window its caller passes.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::secret::{Credentials, SecretKey};

mod verify;

pub use verify::{Expect, ParsedAuthorization, Received, Verified, VerifyError, verify};

type HmacSha256 = Hmac<Sha256>;

/// The algorithm name that opens the `Authorization` header and the string to sign.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";

/// The method and what it carries: API 3.0 takes GET with a query string or
/// POST with a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method<'a> {
    /// `GET`, with the query string exactly as sent after `?` (URL-encoded).
    Get {
        /// The canonical query, e.g. `Limit=10&Offset=0`.
        query: &'a str,
    },
    /// `POST`, with the exact body bytes.
    Post {
        /// The body, e.g. the JSON of the action's parameters.
        payload: &'a [u8],
    },
}

impl Method<'_> {
    fn name(&self) -> &'static str {
        match self {
            Self::Get { .. } => "GET",
            Self::Post { .. } => "POST",
        }
    }

    fn query(&self) -> &str {
        match self {
            Self::Get { query } => query,
            Self::Post { .. } => "",
        }
    }

    fn payload(&self) -> &[u8] {
        match self {
            Self::Get { .. } => b"",
            Self::Post { payload } => payload,
        }
    }
}

/// A request to sign.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The service, e.g. `sts` (part of the credential scope and the key).
    pub service: &'a str,
    /// The `Host` header as sent, e.g. `sts.tencentcloudapi.com` or `127.0.0.1:9000`.
    pub host: &'a str,
    /// Method and query or body.
    pub method: Method<'a>,
    /// The `Content-Type` header exactly as sent (`application/json` and
    /// `application/json; charset=utf-8` sign differently).
    pub content_type: &'a str,
    /// Headers signed besides `content-type` and `host`, e.g.
    /// `("X-TC-Action", "GetFederationToken")`; the request must send them too.
    pub extra_headers: &'a [(&'a str, &'a str)],
    /// `X-TC-Timestamp`, UNIX seconds; the credential scope's date is its UTC date.
    pub timestamp: u64,
}

/// A computed signature with the intermediate strings, for debugging and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The SecretId.
    pub secret_id: String,
    /// The UTC date of the timestamp, `YYYY-MM-DD`.
    pub date: String,
    /// The service.
    pub service: String,
    /// `SignedHeaders`, e.g. `content-type;host`.
    pub signed_headers: String,
    /// The canonical request that was hashed.
    pub canonical_request: String,
    /// The string whose HMAC is the signature.
    pub string_to_sign: String,
    /// 64 lower-case hex digits.
    pub signature: String,
}

impl Signature {
    /// `date/service/tc3_request`.
    pub fn credential_scope(&self) -> String {
        format!("{}/{}/tc3_request", self.date, self.service)
    }

    /// The `Authorization` header value.
    pub fn authorization(&self) -> String {
        format!(
            "{ALGORITHM} Credential={}/{}, SignedHeaders={}, Signature={}",
            self.secret_id,
            self.credential_scope(),
            self.signed_headers,
            self.signature
        )
    }
}

/// Why a TC3 signature could not be produced. Each variant names the bad input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The timestamp's date is past the year 9999.
    #[error("timestamp {0} is out of range")]
    TimestampOutOfRange(u64),
    /// A field that is written into the `Authorization` header or the
    /// credential scope is empty or holds a character that would break it
    /// (`/`, `,`, `;`, `=`, whitespace or a control character).
    #[error("{0} is empty or contains a character that cannot appear in the Authorization header")]
    BadField(&'static str),
    /// A header name is not an HTTP token.
    #[error("header name {0:?} is not a valid HTTP header name")]
    BadHeaderName(String),
    /// A header value contains a control character (a line break would forge
    /// another canonical header).
    #[error("the value of header {0:?} contains a control character")]
    BadHeaderValue(String),
    /// A header is listed twice (or is `content-type` or `host` among the extra headers).
    #[error("header {0:?} is signed twice")]
    DuplicateHeader(String),
}

/// Signs `req` with `credentials`.
pub fn sign(credentials: &Credentials, req: &Request<'_>) -> Result<Signature, SignError> {
    check_field("secret id", &credentials.secret_id)?;
    check_field("service", req.service)?;
    let date = utc_date(req.timestamp).ok_or(SignError::TimestampOutOfRange(req.timestamp))?;
    let mut headers = vec![
        canonical_header("content-type", req.content_type)?,
        canonical_header("host", req.host)?,
    ];
    for (name, value) in req.extra_headers {
        headers.push(canonical_header(name, value)?);
    }
    headers.sort();
    if let Some(w) = headers.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(SignError::DuplicateHeader(w[0].0.clone()));
    }
    let computed = compute(
        &credentials.secret_key,
        req.service,
        &date,
        req.timestamp,
        &req.method,
        &headers,
    );
    Ok(Signature {
        secret_id: credentials.secret_id.clone(),
        date,
        service: req.service.to_owned(),
        signed_headers: computed.signed_headers,
        canonical_request: computed.canonical_request,
        string_to_sign: computed.string_to_sign,
        signature: computed.signature,
    })
}

/// `SecretSigning`, the key the string to sign is MACed with.
pub fn signing_key(secret: &SecretKey, date: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(
        format!("TC3{}", secret.expose_secret()).as_bytes(),
        date.as_bytes(),
    );
    let k_service = hmac_sha256(&k_date, service.as_bytes());
    hmac_sha256(&k_service, b"tc3_request")
}

/// `hex(HMAC-SHA256(signing_key, string_to_sign))`.
pub fn signature_with_key(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(signing_key, string_to_sign.as_bytes()))
}

/// The UTC date of a UNIX timestamp as `YYYY-MM-DD`, or `None` past the year 9999.
pub fn utc_date(timestamp: u64) -> Option<String> {
    let t = OffsetDateTime::from_unix_timestamp(i64::try_from(timestamp).ok()?).ok()?;
    Some(format!(
        "{:04}-{:02}-{:02}",
        t.year(),
        u8::from(t.month()),
        t.day()
    ))
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut m = <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    m.update(msg);
    m.finalize().into_bytes().into()
}

/// Refuses what would break `Credential=id/date/service/tc3_request, …`.
fn check_field(what: &'static str, value: &str) -> Result<(), SignError> {
    let bad = |c: char| matches!(c, '/' | ',' | ';' | '=') || c.is_whitespace() || c.is_control();
    if value.is_empty() || value.contains(bad) {
        return Err(SignError::BadField(what));
    }
    Ok(())
}

/// `(lower(name), lower(trim(value)))`, refusing names that are not HTTP
/// tokens and values with control characters.
fn canonical_header(name: &str, value: &str) -> Result<(String, String), SignError> {
    let token = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
    if name.is_empty() || !name.bytes().all(token) {
        return Err(SignError::BadHeaderName(name.to_owned()));
    }
    if value.contains(char::is_control) {
        return Err(SignError::BadHeaderValue(name.to_owned()));
    }
    Ok((name.to_ascii_lowercase(), value.trim().to_lowercase()))
}

struct Computed {
    signed_headers: String,
    canonical_request: String,
    string_to_sign: String,
    signature: String,
}

/// The canonical request, string to sign and signature over `headers`
/// (canonical, sorted by name, names unique).
fn compute(
    secret: &SecretKey,
    service: &str,
    date: &str,
    timestamp: u64,
    method: &Method<'_>,
    headers: &[(String, String)],
) -> Computed {
    let mut canonical_headers = String::new();
    for (name, value) in headers {
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(value);
        canonical_headers.push('\n');
    }
    let signed_headers = headers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "{}\n/\n{}\n{canonical_headers}\n{signed_headers}\n{}",
        method.name(),
        method.query(),
        hex::encode(Sha256::digest(method.payload())),
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{timestamp}\n{date}/{service}/tc3_request\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let signature = signature_with_key(&signing_key(secret, date, service), &string_to_sign);
    Computed {
        signed_headers,
        canonical_request,
        string_to_sign,
        signature,
    }
}
