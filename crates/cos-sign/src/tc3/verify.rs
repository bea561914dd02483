//! Checking a received TC3 `Authorization` header, as a stand-in for a Tencent
//! Cloud API 3.0 service does.

use subtle::ConstantTimeEq;

use super::{ALGORITHM, Method, canonical_header, compute, utc_date};
use crate::secret::KeyStore;

/// Why a TC3 signature was refused. The variant names the failed check and
/// never carries the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The header or the request does not have the shape TC3 needs (missing or
    /// repeated field, bad date, no `X-TC-Timestamp`, `SignedHeaders` without
    /// `content-type` or `host`, …).
    #[error("malformed TC3 request: {0}")]
    Malformed(&'static str),
    /// The header names another algorithm than `TC3-HMAC-SHA256`.
    #[error("unsupported signature algorithm")]
    UnsupportedAlgorithm,
    /// The credential scope names another service than the one called.
    #[error("the credential scope is for service {scope:?}, not {expected:?}")]
    ServiceMismatch {
        /// The service in the credential scope.
        scope: String,
        /// The service that was called.
        expected: String,
    },
    /// The SecretId is not one this verifier knows.
    #[error("unknown SecretId")]
    UnknownSecretId,
    /// `X-TC-Timestamp` is further from the verifier's clock than the window allows.
    #[error("timestamp {timestamp} is outside the allowed window around {now}")]
    TimestampSkew {
        /// `X-TC-Timestamp`.
        timestamp: u64,
        /// The verifier's clock.
        now: u64,
    },
    /// The credential scope's date is not the UTC date of `X-TC-Timestamp`.
    #[error("the credential scope's date {scope} is not the UTC date {expected} of the timestamp")]
    DateScopeMismatch {
        /// The date in the credential scope.
        scope: String,
        /// The UTC date of the timestamp.
        expected: String,
    },
    /// A header named in `SignedHeaders` is absent from the request.
    #[error("signed header {0:?} is missing from the request")]
    SignedHeaderMissing(String),
    /// The MAC does not match: wrong secret, or the signed content was changed.
    #[error("signature does not match")]
    SignatureMismatch,
}

/// The fields of a TC3 `Authorization` header, as received. Nothing here is
/// trusted until [`verify`] accepts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    /// The SecretId of `Credential=`.
    pub secret_id: String,
    /// The date of the credential scope, `YYYY-MM-DD`.
    pub date: String,
    /// The service of the credential scope.
    pub service: String,
    /// `SignedHeaders`, lower-case, sorted, without repeats.
    pub signed_headers: Vec<String>,
    /// `Signature`, 64 lower-case hex digits.
    pub signature: String,
}

impl ParsedAuthorization {
    /// Parses `TC3-HMAC-SHA256 Credential=…/…/…/tc3_request, SignedHeaders=…, Signature=…`.
    pub fn parse(header: &str) -> Result<Self, VerifyError> {
        let header = header.trim();
        let (algorithm, rest) = header
            .split_once(' ')
            .ok_or(VerifyError::Malformed("no space after the algorithm"))?;
        if algorithm != ALGORITHM {
            return Err(VerifyError::UnsupportedAlgorithm);
        }
        let mut fields: [Option<&str>; 3] = [None; 3];
        for part in rest.split(',') {
            let (name, value) = part
                .trim()
                .split_once('=')
                .ok_or(VerifyError::Malformed("field without '='"))?;
            let slot = ["Credential", "SignedHeaders", "Signature"]
                .iter()
                .position(|n| *n == name)
                .ok_or(VerifyError::Malformed("unknown field"))?;
            if fields[slot].replace(value).is_some() {
                return Err(VerifyError::Malformed("repeated field"));
            }
        }
        let [Some(credential), Some(signed), Some(signature)] = fields else {
            return Err(VerifyError::Malformed("missing field"));
        };
        let mut scope = credential.rsplitn(4, '/');
        let (Some("tc3_request"), Some(service), Some(date), Some(secret_id)) =
            (scope.next(), scope.next(), scope.next(), scope.next())
        else {
            return Err(VerifyError::Malformed(
                "Credential is not id/date/service/tc3_request",
            ));
        };
        if secret_id.is_empty() || service.is_empty() {
            return Err(VerifyError::Malformed("empty SecretId or service"));
        }
        let date_shape = date.len() == 10
            && date.bytes().enumerate().all(|(i, c)| match i {
                4 | 7 => c == b'-',
                _ => c.is_ascii_digit(),
            });
        if !date_shape {
            return Err(VerifyError::Malformed("credential date is not YYYY-MM-DD"));
        }
        let signed_headers: Vec<String> = signed.split(';').map(str::to_owned).collect();
        let canonical = signed_headers
            .iter()
            .all(|h| !h.is_empty() && h.bytes().all(|c| !c.is_ascii_uppercase()))
            && signed_headers.windows(2).all(|w| w[0] < w[1]);
        if !canonical {
            return Err(VerifyError::Malformed(
                "SignedHeaders is not lower-case, sorted and without repeats",
            ));
        }
        if !["content-type", "host"]
            .iter()
            .all(|h| signed_headers.iter().any(|s| s == h))
        {
            return Err(VerifyError::Malformed(
                "SignedHeaders must include content-type and host",
            ));
        }
        if signature.len() != 64 || !signature.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(VerifyError::Malformed("Signature is not 64 hex digits"));
        }
        Ok(Self {
            secret_id: secret_id.to_owned(),
            date: date.to_owned(),
            service: service.to_owned(),
            signed_headers,
            signature: signature.to_ascii_lowercase(),
        })
    }
}

/// A received request.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// Method and query or body, exactly as received.
    pub method: Method<'a>,
    /// Every header of the request, any case (only the signed ones and
    /// `X-TC-Timestamp` are read).
    pub headers: &'a [(&'a str, &'a str)],
}

/// What the verifier expects: the service called and its clock.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    /// The service this endpoint is, e.g. `sts`.
    pub service: &'a str,
    /// The verifier's clock, UNIX seconds.
    pub now: u64,
    /// How far `X-TC-Timestamp` may be from `now`, either way (Tencent allows 300 s).
    pub max_skew: u64,
}

/// What an accepted signature proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The SecretId that signed.
    pub secret_id: String,
    /// `X-TC-Timestamp`.
    pub timestamp: u64,
}

/// Accepts the TC3 `authorization` header for `req`, or says which check
/// failed: the header's shape, the service, the SecretId (looked up in
/// `keys`), the timestamp's distance from `expect.now`, the scope's date, the
/// signed headers' presence, and finally the MAC (compared in constant time).
pub fn verify<K: KeyStore + ?Sized>(
    authorization: &str,
    keys: &K,
    req: &Received<'_>,
    expect: &Expect<'_>,
) -> Result<Verified, VerifyError> {
    let auth = ParsedAuthorization::parse(authorization)?;
    if auth.service != expect.service {
        return Err(VerifyError::ServiceMismatch {
            scope: auth.service,
            expected: expect.service.to_owned(),
        });
    }
    let secret = keys
        .secret_for(&auth.secret_id)
        .ok_or(VerifyError::UnknownSecretId)?;
    let raw_timestamp = single_header(req.headers, "x-tc-timestamp")?
        .ok_or(VerifyError::Malformed("X-TC-Timestamp header is missing"))?;
    let timestamp = parse_timestamp(raw_timestamp)?;
    if timestamp.abs_diff(expect.now) > expect.max_skew {
        return Err(VerifyError::TimestampSkew {
            timestamp,
            now: expect.now,
        });
    }
    let date = utc_date(timestamp).ok_or(VerifyError::Malformed("timestamp out of range"))?;
    if date != auth.date {
        return Err(VerifyError::DateScopeMismatch {
            scope: auth.date,
            expected: date,
        });
    }
    let mut headers = Vec::with_capacity(auth.signed_headers.len());
    for name in &auth.signed_headers {
        let value = single_header(req.headers, name)?
            .ok_or_else(|| VerifyError::SignedHeaderMissing(name.clone()))?;
        headers.push(canonical_header(name, value).map_err(|_| {
            VerifyError::Malformed(
                "a signed header cannot be canonicalised (bad name or control character)",
            )
        })?);
    }
    let expected = compute(
        secret,
        &auth.service,
        &auth.date,
        timestamp,
        &req.method,
        &headers,
    );
    if !bool::from(
        expected
            .signature
            .as_bytes()
            .ct_eq(auth.signature.as_bytes()),
    ) {
        return Err(VerifyError::SignatureMismatch);
    }
    Ok(Verified {
        secret_id: auth.secret_id,
        timestamp,
    })
}

/// The value of header `name` (any case), refusing a repeated header: two
/// values would leave it open which one was signed.
fn single_header<'a>(
    headers: &[(&'a str, &'a str)],
    name: &str,
) -> Result<Option<&'a str>, VerifyError> {
    let mut found = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v);
    let first = found.next();
    if found.next().is_some() {
        return Err(VerifyError::Malformed(
            "a signed header or X-TC-Timestamp is repeated",
        ));
    }
    Ok(first)
}

fn parse_timestamp(s: &str) -> Result<u64, VerifyError> {
    let s = s.trim();
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return Err(VerifyError::Malformed("X-TC-Timestamp is not a number"));
    }
    s.parse()
        .map_err(|_| VerifyError::Malformed("X-TC-Timestamp is not a number"))
}
