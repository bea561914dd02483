//! COS v4 (JSON API) signatures: `base64(HMAC-SHA1(secret_key, plain) ‖ plain)` with
//! `plain = a=<appid>&k=<secret_id>&e=<expiry>&t=<now>&r=<nonce>&f=<fileid>&b=<bucket>`.
//!
//! Multi-effect signatures carry `e > t` and an empty `f` (the whole bucket) or an
//! `f` bound to a path prefix. Single-effect signatures carry `e = 0` and an `f`
//! naming exactly one file or directory; remembering that one was used is the
//! store's job, since this crate keeps no state.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

use crate::encode::{decode, encode_path};
use crate::error::{SignError, VerifyError};
use crate::secret::{Credentials, KeyStore, SecretKey};

type HmacSha1 = Hmac<Sha1>;

const MAC_LEN: usize = 20;
const MAX_NONCE: u64 = 9_999_999_999;

/// The order of the plaintext fields. Both orders are official; verification
/// accepts either, since the plaintext travels inside the signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FieldOrder {
    /// `a,k,e,t,r,f,b`: the Python, JS and Node SDKs and the example header of
    /// Tencent's v4 upload doc (<https://cloud.tencent.com/document/api/436/6066>).
    #[default]
    Akvtrfb,
    /// `a,b,k,e,t,r,f`: the PHP SDK and the text of Tencent's v4 signature doc
    /// (<https://cloud.tencent.com/document/product/436/6054>).
    Abketrf,
}

/// Who signs: the APPID and short bucket name plus the credentials.
#[derive(Debug, Clone, Copy)]
pub struct Signer<'a> {
    /// Numeric COS APPID (not the WeChat appid).
    pub appid: &'a str,
    /// Short bucket name (v4 has no `-appid` suffix).
    pub bucket: &'a str,
    /// The key pair.
    pub credentials: &'a Credentials,
}

/// The v4 fileid of a path: `/<appid>/<bucket><pct(path)>`. `cos_path` is
/// encoded as given, never normalised ([why it is a `&str`](crate#paths-are-str)).
pub fn fileid(appid: &str, bucket: &str, cos_path: &str) -> String {
    format!("/{appid}/{bucket}{}", encode_path(cos_path))
}

impl Signer<'_> {
    /// A multi-effect signature valid until `expires_at`. `bound_path` is `None`
    /// for the whole bucket, or a path (starting with `/`) the signature is
    /// bound to by whole-segment prefix: signed as given, so pass a path
    /// already validated, such as `shared::DirPath::as_str()`
    /// ([why it is a `&str`](crate#paths-are-str)).
    pub fn multi_effect(
        &self,
        bound_path: Option<&str>,
        expires_at: u64,
        now: u64,
        nonce: u64,
    ) -> Result<String, SignError> {
        self.multi_effect_with_order(bound_path, expires_at, now, nonce, FieldOrder::default())
    }

    /// [`Signer::multi_effect`] with an explicit plaintext field order.
    pub fn multi_effect_with_order(
        &self,
        bound_path: Option<&str>,
        expires_at: u64,
        now: u64,
        nonce: u64,
        order: FieldOrder,
    ) -> Result<String, SignError> {
        if expires_at <= now {
            return Err(SignError::ExpiryNotAfterNow { expires_at, now });
        }
        let f = match bound_path {
            None => String::new(),
            Some(p) => self.bound_fileid(p)?,
        };
        self.sign(expires_at, now, nonce, &f, order)
    }

    /// A single-effect signature (`e=0`) bound to exactly `path`, signed as
    /// given (a validated key's `shared::ObjectKey::v4_path()`; see
    /// [why it is a `&str`](crate#paths-are-str)).
    pub fn single_effect(&self, path: &str, now: u64, nonce: u64) -> Result<String, SignError> {
        let f = self.bound_fileid(path)?;
        self.sign(0, now, nonce, &f, FieldOrder::default())
    }

    fn bound_fileid(&self, path: &str) -> Result<String, SignError> {
        if !path.starts_with('/') {
            return Err(SignError::RelativePath(path.to_owned()));
        }
        Ok(fileid(self.appid, self.bucket, path))
    }

    fn sign(
        &self,
        e: u64,
        t: u64,
        r: u64,
        f: &str,
        order: FieldOrder,
    ) -> Result<String, SignError> {
        if r > MAX_NONCE {
            return Err(SignError::NonceTooLarge(r));
        }
        check_field("appid", self.appid)?;
        check_field("bucket", self.bucket)?;
        check_field("secret_id", &self.credentials.secret_id)?;
        let (a, k, b) = (self.appid, &self.credentials.secret_id, self.bucket);
        let plain = match order {
            FieldOrder::Akvtrfb => format!("a={a}&k={k}&e={e}&t={t}&r={r}&f={f}&b={b}"),
            FieldOrder::Abketrf => format!("a={a}&b={b}&k={k}&e={e}&t={t}&r={r}&f={f}"),
        };
        Ok(encode(&self.credentials.secret_key, &plain))
    }
}

fn check_field(field: &'static str, value: &str) -> Result<(), SignError> {
    if value.is_empty()
        || value
            .chars()
            .any(|c| c == '&' || c == '=' || c.is_control())
    {
        return Err(SignError::BadField { field });
    }
    Ok(())
}

fn mac(secret: &SecretKey, plain: &[u8]) -> [u8; MAC_LEN] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m = <HmacSha1 as Mac>::new_from_slice(secret.expose_secret().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    m.update(plain);
    m.finalize().into_bytes().into()
}

fn encode(secret: &SecretKey, plain: &str) -> String {
    let mut raw = Vec::with_capacity(MAC_LEN + plain.len());
    raw.extend_from_slice(&mac(secret, plain.as_bytes()));
    raw.extend_from_slice(plain.as_bytes());
    STANDARD.encode(raw)
}

/// The decoded fields of a v4 signature. Nothing here is trusted until
/// [`verify`] has checked the MAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// `a`: APPID.
    pub appid: String,
    /// `k`: SecretId.
    pub secret_id: String,
    /// `e`: expiry, `0` for single-effect.
    pub expires_at: u64,
    /// `t`: issue time.
    pub issued_at: u64,
    /// `r`: nonce.
    pub nonce: u64,
    /// `f`: the fileid as written in the signature (percent-encoded), possibly empty.
    pub fileid: String,
    /// `b`: bucket.
    pub bucket: String,
}

impl Claims {
    /// `e = 0`: a single-effect signature, good for one request on one path.
    pub fn is_single_effect(&self) -> bool {
        self.expires_at == 0
    }
}

/// Decodes a signature without checking it. Use [`verify`] to accept one.
pub fn parse(sign: &str) -> Result<(Claims, [u8; MAC_LEN], Vec<u8>), VerifyError> {
    let raw = STANDARD
        .decode(sign.trim())
        .map_err(|_| VerifyError::Malformed("not standard base64"))?;
    if raw.len() <= MAC_LEN {
        return Err(VerifyError::Malformed("too short"));
    }
    let (mac_bytes, plain) = raw.split_at(MAC_LEN);
    let mut mac_arr = [0u8; MAC_LEN];
    mac_arr.copy_from_slice(mac_bytes);
    let text =
        std::str::from_utf8(plain).map_err(|_| VerifyError::Malformed("plaintext is not UTF-8"))?;

    let mut fields: [Option<&str>; 7] = [None; 7];
    for pair in text.split('&') {
        let (key, value) = pair
            .split_once('=')
            .ok_or(VerifyError::Malformed("field without '='"))?;
        let slot = match key {
            "a" => 0,
            "k" => 1,
            "e" => 2,
            "t" => 3,
            "r" => 4,
            "f" => 5,
            "b" => 6,
            _ => return Err(VerifyError::Malformed("unknown field")),
        };
        if fields[slot].replace(value).is_some() {
            return Err(VerifyError::Malformed("repeated field"));
        }
    }
    let [
        Some(a),
        Some(k),
        Some(e),
        Some(t),
        Some(r),
        Some(f),
        Some(b),
    ] = fields
    else {
        return Err(VerifyError::Malformed("missing field"));
    };
    let number = |s: &str, what: &'static str| -> Result<u64, VerifyError> {
        if s.is_empty() || s.len() > 20 || !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(VerifyError::Malformed(what));
        }
        s.parse().map_err(|_| VerifyError::Malformed(what))
    };
    let claims = Claims {
        appid: a.to_owned(),
        secret_id: k.to_owned(),
        expires_at: number(e, "e is not a number")?,
        issued_at: number(t, "t is not a number")?,
        nonce: number(r, "r is not a number")?,
        fileid: f.to_owned(),
        bucket: b.to_owned(),
    };
    Ok((claims, mac_arr, plain.to_vec()))
}

/// What the request being authorised is.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    /// The store's APPID.
    pub appid: &'a str,
    /// The bucket the request addresses (short name).
    pub bucket: &'a str,
    /// The decoded COS path the request touches, starting with `/`
    /// (a directory path ends with `/`): the request's path percent-decoded
    /// once, checked here before it is parsed into a key
    /// ([why it is a `&str`](crate#paths-are-str)).
    pub path: &'a str,
    /// The verifier's clock (UNIX seconds).
    pub now: u64,
    /// Allowed clock skew in seconds, both ways.
    pub max_skew: u64,
}

/// Accepts `sign` for the request described by `expect`, or says which check failed.
///
/// Order of checks: format, known SecretId, MAC (constant time), appid, bucket,
/// time window, path binding. Single-effect signatures (`e = 0`) must name the
/// exact path; multi-effect ones must not have expired and, when `f` is set, the
/// path must equal `f` or lie below it on a `/` boundary (`/u/12` allows
/// `/u/12/x` but not `/u/123`).
pub fn verify<K: KeyStore + ?Sized>(
    sign: &str,
    keys: &K,
    expect: &Expect<'_>,
) -> Result<Claims, VerifyError> {
    let (claims, mac_bytes, plain) = parse(sign)?;
    let secret = keys
        .secret_for(&claims.secret_id)
        .ok_or(VerifyError::UnknownSecretId)?;
    let expected = mac(secret, &plain);
    if !bool::from(expected.ct_eq(&mac_bytes)) {
        return Err(VerifyError::SignatureMismatch);
    }
    if claims.appid != expect.appid {
        return Err(VerifyError::AppIdMismatch);
    }
    if claims.bucket != expect.bucket {
        return Err(VerifyError::BucketMismatch);
    }
    if claims.issued_at > expect.now.saturating_add(expect.max_skew) {
        return Err(VerifyError::NotYetValid {
            valid_from: claims.issued_at,
            now: expect.now,
        });
    }
    if claims.is_single_effect() {
        let bound = bound_path(&claims, expect)?.ok_or(VerifyError::PathNotAllowed)?;
        if bound != expect.path {
            return Err(VerifyError::PathNotAllowed);
        }
    } else {
        if claims.expires_at <= claims.issued_at {
            return Err(VerifyError::Malformed("e is not after t"));
        }
        if expect.now > claims.expires_at.saturating_add(expect.max_skew) {
            return Err(VerifyError::Expired {
                expired_at: claims.expires_at,
                now: expect.now,
            });
        }
        if let Some(bound) = bound_path(&claims, expect)?
            && !path_within(expect.path, &bound)
        {
            return Err(VerifyError::PathNotAllowed);
        }
    }
    Ok(claims)
}

/// The decoded path `f` is bound to, `None` for an unbound signature.
/// Accepts the encodings the SDKs use (Python `quote`, JS `encodeURIComponent`,
/// even an encoded `/`) by decoding once before comparing.
fn bound_path(claims: &Claims, expect: &Expect<'_>) -> Result<Option<String>, VerifyError> {
    if claims.fileid.is_empty() {
        return Ok(None);
    }
    let decoded = decode(&claims.fileid).ok_or(VerifyError::Malformed("f is not UTF-8"))?;
    let head = format!("/{}/{}", expect.appid, expect.bucket);
    let rest = decoded
        .strip_prefix(&head)
        .ok_or(VerifyError::PathNotAllowed)?;
    if rest.is_empty() {
        // Bound to the bucket root.
        return Ok(Some("/".to_owned()));
    }
    if !rest.starts_with('/') {
        // `/1250000000/metis2/...` is not inside bucket `metis`.
        return Err(VerifyError::PathNotAllowed);
    }
    Ok(Some(rest.to_owned()))
}

/// `path` equals `bound` or lies below it on a segment boundary.
///
/// A path with a `.` or `..` segment below the bound is refused: it could name
/// something outside the bound once anything downstream normalises it.
pub fn path_within(path: &str, bound: &str) -> bool {
    let rest = if bound.ends_with('/') {
        path.strip_prefix(bound)
    } else {
        match path.strip_prefix(bound) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => Some(rest),
            _ => None,
        }
    };
    rest.is_some_and(|rest| !rest.split('/').any(|seg| seg == "." || seg == ".."))
}
