//! COS v5 (XML API) request signatures: the `q-sign-algorithm=sha1&q-ak=…` Authorization,
//! the same fields as presigned-URL query parameters, and their verification.
//!
//! Algorithm (<https://cloud.tencent.com/document/product/436/7778>, reproduced by
//! the worked examples there):
//! ```text
//! SignKey      = hex(HMAC-SHA1(SecretKey, q-key-time))
//! HttpString   = lower(method) \n decoded-path \n HttpParameters \n HttpHeaders \n
//! StringToSign = "sha1" \n q-sign-time \n hex(SHA1(HttpString)) \n
//! Signature    = hex(HMAC-SHA1(SignKey, StringToSign))
//! ```
//! where parameters and headers are `lower(enc(key))=enc(value)` joined by `&` in
//! key order, and `enc` percent-encodes everything but `A-Z a-z 0-9 - _ . ~`.
//! [`sign`] sets `q-sign-time` and `q-key-time` to the same window, as the SDKs do;
//! [`verify`] accepts them different, as the JS/Node SDKs compute them.

use std::fmt;

use hmac::{Hmac, Mac};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use crate::encode::{decode, encode_component};
use crate::error::{SignError, VerifyError};
use crate::secret::{Credentials, KeyStore, SecretKey};

type HmacSha1 = Hmac<Sha1>;

/// A validity window `start;end` in UNIX seconds (`q-sign-time` / `q-key-time`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyTime {
    /// Start of validity.
    pub start: u64,
    /// End of validity.
    pub end: u64,
}

impl KeyTime {
    /// A window, refusing one that ends before it starts.
    pub fn new(start: u64, end: u64) -> Result<Self, SignError> {
        if end < start {
            return Err(SignError::KeyTimeReversed { start, end });
        }
        Ok(Self { start, end })
    }

    /// Parses `start;end`.
    pub fn parse(s: &str) -> Result<Self, VerifyError> {
        let (a, b) = s
            .split_once(';')
            .ok_or(VerifyError::Malformed("key time is not start;end"))?;
        let num = |x: &str| -> Result<u64, VerifyError> {
            if x.is_empty() || x.len() > 20 || !x.bytes().all(|c| c.is_ascii_digit()) {
                return Err(VerifyError::Malformed("key time is not numeric"));
            }
            x.parse()
                .map_err(|_| VerifyError::Malformed("key time is not numeric"))
        };
        let (start, end) = (num(a)?, num(b)?);
        if end < start {
            return Err(VerifyError::Malformed("key time ends before it starts"));
        }
        Ok(Self { start, end })
    }
}

impl fmt::Display for KeyTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{};{}", self.start, self.end)
    }
}

/// A request to sign or verify. Paths, parameters and header values are decoded
/// (as the application sees them), never percent-encoded.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// HTTP method, any case.
    pub method: &'a str,
    /// Decoded path starting with `/`, e.g. `/exampleobject(腾讯云)`, used as
    /// given: when signing, a validated key's `/`-prefixed form (or `/` for a
    /// bucket request); when verifying, the request's path decoded once by
    /// [`decode_path`], before it is parsed into a key
    /// ([why it is a `&str`](crate#paths-are-str)).
    pub path: &'a str,
    /// Query parameters; a parameter without a value has `""`.
    pub params: &'a [(&'a str, &'a str)],
    /// Headers, any case.
    pub headers: &'a [(&'a str, &'a str)],
}

/// A computed v5 signature, ready to be rendered as a header or query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// `q-ak`.
    pub secret_id: String,
    /// `q-sign-time` and `q-key-time` (the SDKs set both to the same window).
    pub key_time: KeyTime,
    /// `q-header-list`: lower-case encoded names, sorted.
    pub header_list: Vec<String>,
    /// `q-url-param-list`: lower-case encoded names, sorted.
    pub param_list: Vec<String>,
    /// `q-signature`: 40 lower-case hex digits.
    pub signature: String,
}

impl Signature {
    /// The `Authorization` header value.
    pub fn to_authorization(&self) -> String {
        format!(
            "q-sign-algorithm=sha1&q-ak={}&q-sign-time={kt}&q-key-time={kt}&q-header-list={}&q-url-param-list={}&q-signature={}",
            self.secret_id,
            self.header_list.join(";"),
            self.param_list.join(";"),
            self.signature,
            kt = self.key_time,
        )
    }

    /// The same fields as query parameters for a presigned URL (names and raw
    /// values; the caller URL-encodes them when building the URL).
    pub fn to_query_pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("q-sign-algorithm", "sha1".to_owned()),
            ("q-ak", self.secret_id.clone()),
            ("q-sign-time", self.key_time.to_string()),
            ("q-key-time", self.key_time.to_string()),
            ("q-header-list", self.header_list.join(";")),
            ("q-url-param-list", self.param_list.join(";")),
            ("q-signature", self.signature.clone()),
        ]
    }
}

/// The names that a presigned URL's own parameters use; they are never signed.
pub const SIGNATURE_PARAMS: [&str; 7] = [
    "q-sign-algorithm",
    "q-ak",
    "q-sign-time",
    "q-key-time",
    "q-header-list",
    "q-url-param-list",
    "q-signature",
];

/// `hex(HMAC-SHA1(secret, key_time))`.
pub fn sign_key(secret: &SecretKey, key_time: KeyTime) -> String {
    hex::encode(hmac_sha1(
        secret.expose_secret().as_bytes(),
        key_time.to_string().as_bytes(),
    ))
}

pub(crate) fn hmac_sha1(key: &[u8], msg: &[u8]) -> [u8; 20] {
    let mut m = <HmacSha1 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    m.update(msg);
    m.finalize().into_bytes().into()
}

/// Sorted `(lower(enc(key)), enc(value))` pairs.
fn canonical(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (encode_component(k).to_lowercase(), encode_component(v)))
        .collect();
    out.sort();
    out
}

fn join(pairs: &[(String, String)]) -> String {
    let mut s = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push('&');
        }
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}

/// The `HttpString` of a request whose parameters and headers are all signed.
pub fn http_string(req: &Request<'_>) -> String {
    format!(
        "{}\n{}\n{}\n{}\n",
        req.method.to_lowercase(),
        req.path,
        join(&canonical(req.params)),
        join(&canonical(req.headers)),
    )
}

/// `sha1\n<key_time>\n<hex(sha1(http_string))>\n`.
pub fn string_to_sign(key_time: KeyTime, http_string: &str) -> String {
    format!(
        "sha1\n{key_time}\n{}\n",
        hex::encode(Sha1::digest(http_string.as_bytes()))
    )
}

/// Signs `req`, covering every header and parameter it lists. Pass only the
/// headers that should be bound (the SDKs sign `host`, `content-type`,
/// `content-length`, `content-md5` and `x-cos-*`).
pub fn sign(credentials: &Credentials, req: &Request<'_>, key_time: KeyTime) -> Signature {
    let params = canonical(req.params);
    let headers = canonical(req.headers);
    let signature = compute(
        &credentials.secret_key,
        req.method,
        req.path,
        &params,
        &headers,
        key_time,
        key_time,
    );
    Signature {
        secret_id: credentials.secret_id.clone(),
        key_time,
        header_list: headers.into_iter().map(|(k, _)| k).collect(),
        param_list: params.into_iter().map(|(k, _)| k).collect(),
        signature,
    }
}

fn compute(
    secret: &SecretKey,
    method: &str,
    path: &str,
    params: &[(String, String)],
    headers: &[(String, String)],
    sign_time: KeyTime,
    key_time: KeyTime,
) -> String {
    let http = format!(
        "{}\n{}\n{}\n{}\n",
        method.to_lowercase(),
        path,
        join(params),
        join(headers)
    );
    // As the SDKs compute it: the key from `q-key-time`, the string to sign
    // from `q-sign-time` (equal when this crate signs, but both are covered).
    let sts = string_to_sign(sign_time, &http);
    let key = sign_key(secret, key_time);
    hex::encode(hmac_sha1(key.as_bytes(), sts.as_bytes()))
}

/// The fields of a v5 Authorization, as received. Nothing here is trusted
/// until [`verify`] accepts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    /// `q-ak`.
    pub secret_id: String,
    /// `q-sign-time`.
    pub sign_time: KeyTime,
    /// `q-key-time`.
    pub key_time: KeyTime,
    /// `q-header-list`, lower-cased.
    pub header_list: Vec<String>,
    /// `q-url-param-list`, lower-cased.
    pub param_list: Vec<String>,
    /// `q-signature`.
    pub signature: String,
}

impl ParsedAuthorization {
    /// Parses an `Authorization` header value.
    pub fn from_header(value: &str) -> Result<Self, VerifyError> {
        let mut pairs = Vec::new();
        for part in value.trim().split('&') {
            let (k, v) = part
                .split_once('=')
                .ok_or(VerifyError::Malformed("field without '='"))?;
            pairs.push((k, v));
        }
        Self::from_pairs(pairs)
    }

    /// Parses the `q-*` fields out of decoded query parameters (a presigned URL).
    /// Returns `Ok(None)` when the query carries no signature at all.
    pub fn from_query(params: &[(&str, &str)]) -> Result<Option<Self>, VerifyError> {
        let sig: Vec<(&str, &str)> = params
            .iter()
            .filter(|(k, _)| SIGNATURE_PARAMS.contains(&k.to_ascii_lowercase().as_str()))
            .copied()
            .collect();
        if sig.is_empty() {
            return Ok(None);
        }
        Self::from_pairs(sig).map(Some)
    }

    fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, VerifyError> {
        let mut fields: [Option<&str>; 7] = [None; 7];
        for (k, v) in pairs {
            let slot = SIGNATURE_PARAMS
                .iter()
                .position(|name| name.eq_ignore_ascii_case(k))
                .ok_or(VerifyError::Malformed("unknown field"))?;
            if fields[slot].replace(v).is_some() {
                return Err(VerifyError::Malformed("repeated field"));
            }
        }
        let [
            Some(alg),
            Some(ak),
            Some(st),
            Some(kt),
            Some(hl),
            Some(pl),
            Some(sig),
        ] = fields
        else {
            return Err(VerifyError::Malformed("missing field"));
        };
        if !alg.eq_ignore_ascii_case("sha1") {
            return Err(VerifyError::UnsupportedAlgorithm);
        }
        if ak.is_empty() {
            return Err(VerifyError::Malformed("empty q-ak"));
        }
        let list = |s: &str| -> Vec<String> {
            s.split(';')
                .filter(|x| !x.is_empty())
                .map(str::to_ascii_lowercase)
                .collect()
        };
        if sig.len() != 40 || !sig.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(VerifyError::Malformed("q-signature is not 40 hex digits"));
        }
        Ok(Self {
            secret_id: ak.to_owned(),
            sign_time: KeyTime::parse(st)?,
            key_time: KeyTime::parse(kt)?,
            header_list: list(hl),
            param_list: list(pl),
            signature: sig.to_ascii_lowercase(),
        })
    }
}

/// Accepts `auth` for the actual request `req` (all its headers and parameters;
/// only those named in the lists are used) at time `now`, or says which check failed.
pub fn verify<K: KeyStore + ?Sized>(
    auth: &ParsedAuthorization,
    keys: &K,
    req: &Request<'_>,
    now: u64,
    max_skew: u64,
) -> Result<(), VerifyError> {
    let secret = keys
        .secret_for(&auth.secret_id)
        .ok_or(VerifyError::UnknownSecretId)?;
    for window in [auth.sign_time, auth.key_time] {
        if window.start > now.saturating_add(max_skew) {
            return Err(VerifyError::NotYetValid {
                valid_from: window.start,
                now,
            });
        }
        if now > window.end.saturating_add(max_skew) {
            return Err(VerifyError::Expired {
                expired_at: window.end,
                now,
            });
        }
    }
    let headers = canonical(req.headers);
    let params = canonical(req.params);
    let pick = |all: &[(String, String)], names: &[String], missing: fn(String) -> VerifyError| {
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let found = all
                .iter()
                .find(|(k, _)| k == name)
                .ok_or_else(|| missing(name.clone()))?;
            out.push(found.clone());
        }
        out.sort();
        Ok::<_, VerifyError>(out)
    };
    let signed_headers = pick(
        &headers,
        &auth.header_list,
        VerifyError::SignedHeaderMissing,
    )?;
    let signed_params = pick(&params, &auth.param_list, VerifyError::SignedParamMissing)?;
    let expected = compute(
        secret,
        req.method,
        req.path,
        &signed_params,
        &signed_headers,
        auth.sign_time,
        auth.key_time,
    );
    if !bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
        return Err(VerifyError::SignatureMismatch);
    }
    Ok(())
}

/// Decodes a raw (still percent-encoded) URL path once, for use as [`Request::path`].
pub fn decode_path(raw: &str) -> Result<String, VerifyError> {
    decode(raw).ok_or(VerifyError::Malformed("path is not UTF-8 after decoding"))
}
