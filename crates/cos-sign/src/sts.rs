//! Temporary credentials in the embedded format: the security token carries
//! its own claims under a MAC, so the store that holds the token key needs no
//! shared state with the minter to check them.
//!
//! ```text
//! TmpSecretId   = "AKID" + 32 ASCII letters or digits (random, chosen by the caller)
//! payload       = {"id": TmpSecretId, "st": StartTime, "exp": ExpiredTime, "policy": "<CAM policy JSON text>"}
//! SecurityToken = "cul1." + b64url(payload) + "." + b64url(HMAC-SHA256(token_key, "cul1." + b64url(payload)))
//! TmpSecretKey  = b64url(HMAC-SHA256(token_key, "cul1-tmp-secret-key\n" + TmpSecretId))   (43 characters)
//! ```
//! `b64url` is URL-safe base64 without padding, so a token survives
//! unencoded in a presigned URL's query. The policy travels as a JSON string
//! (its text, byte for byte): this module does not know the policy model
//! (`shared::cam` does), it only checks that the text is JSON.
//!
//! Nothing here reads the clock or a random source: the caller passes the
//! random TmpSecretId, StartTime and ExpiredTime to [`mint`], and compares the
//! times [`open`] returns with its own clock. The TmpSecretKey is never
//! stored: whoever holds the token key re-derives it from the TmpSecretId
//! ([`derive_tmp_secret_key`]) and verifies the request's ordinary COS
//! signature with it.
//!
//! ```
//! use cos_sign::SecretKey;
//! use cos_sign::sts::{self, TmpSecretId, TokenClaims, TokenKey};
//!
//! let key = TokenKey::new(SecretKey::new("a token key of at least 32 bytes!"))?;
//! let claims = TokenClaims {
//!     id: TmpSecretId::parse("AKIDabcdefghijklmnopqrstuvwxyz012345")?,
//!     start_time: 1_764_680_000,
//!     expired_time: 1_764_681_800,
//!     policy: r#"{"version":"2.0","statement":[]}"#.to_owned(),
//! };
//! let minted = sts::mint(&key, &claims)?;
//! assert!(minted.security_token.starts_with("cul1."));
//!
//! // The store opens the token and re-derives the key the client signs with.
//! let opened = sts::open(&key, &minted.security_token)?;
//! assert_eq!(opened, claims);
//! let derived = sts::derive_tmp_secret_key(&key, &opened.id);
//! assert_eq!(derived.expose_to_client(), minted.tmp_secret_key.expose_to_client());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::secret::SecretKey;

type HmacSha256 = Hmac<Sha256>;

/// What every token of this format starts with (version 1).
pub const TOKEN_PREFIX: &str = "cul1.";

/// The longest token [`open`] reads and [`mint`] produces, in bytes. A token
/// arrives in a header, a form field or a query parameter; refusing longer
/// ones up front bounds what a hostile request makes the store decode. A
/// policy of a few statements takes well under 2 KiB.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The shortest token key accepted, in bytes.
pub const MIN_TOKEN_KEY_LEN: usize = 32;

const TMP_SECRET_KEY_LABEL: &str = "cul1-tmp-secret-key\n";
const ID_PREFIX: &str = "AKID";
const ID_RANDOM_LEN: usize = 32;

/// The key that MACs tokens and derives TmpSecretKeys. `Debug` prints
/// `<redacted>`; the bytes are wiped on drop.
#[derive(Clone)]
pub struct TokenKey(SecretKey);

/// A token key shorter than [`MIN_TOKEN_KEY_LEN`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the STS token key is {0} bytes long; at least {MIN_TOKEN_KEY_LEN} are needed")]
pub struct WeakTokenKey(pub usize);

impl TokenKey {
    /// Wraps a key of at least [`MIN_TOKEN_KEY_LEN`] bytes.
    pub fn new(key: SecretKey) -> Result<Self, WeakTokenKey> {
        let len = key.expose_secret().len();
        if len < MIN_TOKEN_KEY_LEN {
            return Err(WeakTokenKey(len));
        }
        Ok(Self(key))
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut m = <HmacSha256 as Mac>::new_from_slice(self.0.expose_secret().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        for part in parts {
            m.update(part);
        }
        m.finalize().into_bytes().into()
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey(<redacted>)")
    }
}

/// A temporary SecretId: `AKID` followed by 32 ASCII letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TmpSecretId(String);

/// A string that is not `AKID` followed by 32 ASCII letters or digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a TmpSecretId is \"AKID\" followed by 32 ASCII letters or digits")]
pub struct InvalidTmpSecretId;

impl TmpSecretId {
    /// Validates a TmpSecretId.
    pub fn parse(s: &str) -> Result<Self, InvalidTmpSecretId> {
        let random = s.strip_prefix(ID_PREFIX).ok_or(InvalidTmpSecretId)?;
        if random.len() != ID_RANDOM_LEN || !random.bytes().all(|c| c.is_ascii_alphanumeric()) {
            return Err(InvalidTmpSecretId);
        }
        Ok(Self(s.to_owned()))
    }

    /// The id, `AKID…`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TmpSecretId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A temporary SecretKey. Unlike a permanent key it is handed to the client,
/// which signs its COS requests with it; [`Self::expose_to_client`] is the
/// one place that reads it for that. `Debug` and `Display` print `<redacted>`.
#[derive(Clone)]
pub struct TmpSecretKey(SecretKey);

impl TmpSecretKey {
    /// The key's text, for the credentials reply to the client.
    pub fn expose_to_client(&self) -> &str {
        self.0.expose_secret()
    }

    /// The key as a signing secret, to verify the client's requests with.
    pub fn into_secret_key(self) -> SecretKey {
        self.0
    }
}

impl fmt::Debug for TmpSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TmpSecretKey(<redacted>)")
    }
}

impl fmt::Display for TmpSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What a token says: who, when, and what the credentials may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    /// The TmpSecretId the client signs with (`q-ak`).
    pub id: TmpSecretId,
    /// StartTime, UNIX seconds.
    pub start_time: u64,
    /// ExpiredTime, UNIX seconds.
    pub expired_time: u64,
    /// The CAM policy, JSON text.
    pub policy: String,
}

/// A freshly minted credential set, as the credentials reply hands it out.
#[derive(Debug, Clone)]
pub struct Minted {
    /// TmpSecretId (the caller's, returned for convenience).
    pub tmp_secret_id: TmpSecretId,
    /// TmpSecretKey, derived from the id.
    pub tmp_secret_key: TmpSecretKey,
    /// SecurityToken.
    pub security_token: String,
}

/// Why a token was not minted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MintError {
    /// ExpiredTime is before StartTime.
    #[error("ExpiredTime {expired_time} is before StartTime {start_time}")]
    ExpiryBeforeStart {
        /// StartTime.
        start_time: u64,
        /// ExpiredTime.
        expired_time: u64,
    },
    /// The policy text is not JSON.
    #[error("the policy is not JSON")]
    PolicyNotJson,
    /// The token would be longer than [`MAX_TOKEN_LEN`] (the policy is too large).
    #[error("the token would be {0} bytes long; the limit is {MAX_TOKEN_LEN}")]
    TooLong(usize),
}

/// Why a token was refused. Never carries the token key or the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a token of this format: wrong prefix, bad base64, wrong number of
    /// parts, longer than [`MAX_TOKEN_LEN`], or (after the MAC held) a payload
    /// that is not the expected JSON.
    #[error("malformed security token: {0}")]
    Malformed(&'static str),
    /// A later version of this format (`cul2.` …) than this build reads.
    #[error("unsupported security token version")]
    UnsupportedVersion,
    /// The MAC does not match: made with another key, or changed.
    #[error("security token MAC does not match")]
    BadMac,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    id: String,
    st: u64,
    exp: u64,
    policy: String,
}

/// Mints a token for `claims` and derives the TmpSecretKey that goes with it.
pub fn mint(key: &TokenKey, claims: &TokenClaims) -> Result<Minted, MintError> {
    if claims.expired_time < claims.start_time {
        return Err(MintError::ExpiryBeforeStart {
            start_time: claims.start_time,
            expired_time: claims.expired_time,
        });
    }
    if serde_json::from_str::<serde::de::IgnoredAny>(&claims.policy).is_err() {
        return Err(MintError::PolicyNotJson);
    }
    let payload = Payload {
        id: claims.id.0.clone(),
        st: claims.start_time,
        exp: claims.expired_time,
        policy: claims.policy.clone(),
    };
    let json = serde_json::to_vec(&payload)
        .unwrap_or_else(|_| unreachable!("a struct of strings and numbers serialises"));
    let mut token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(json));
    let mac = key.mac(&[token.as_bytes()]);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(mac));
    if token.len() > MAX_TOKEN_LEN {
        return Err(MintError::TooLong(token.len()));
    }
    Ok(Minted {
        tmp_secret_id: claims.id.clone(),
        tmp_secret_key: derive_tmp_secret_key(key, &claims.id),
        security_token: token,
    })
}

/// Checks a token's format and MAC (in constant time) and returns its claims.
/// Whether they are still valid is the caller's check, with its clock.
pub fn open(key: &TokenKey, token: &str) -> Result<TokenClaims, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed("longer than 16 KiB"));
    }
    let Some(body) = token.strip_prefix(TOKEN_PREFIX) else {
        return Err(version_error(token));
    };
    let (payload_b64, mac_b64) = body
        .split_once('.')
        .ok_or(TokenError::Malformed("no MAC part"))?;
    let mac = URL_SAFE_NO_PAD
        .decode(mac_b64)
        .map_err(|_| TokenError::Malformed("MAC is not base64url"))?;
    let signed = &token[..TOKEN_PREFIX.len() + payload_b64.len()];
    let expected = key.mac(&[signed.as_bytes()]);
    if !bool::from(expected.as_slice().ct_eq(&mac)) {
        return Err(TokenError::BadMac);
    }
    let json = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| TokenError::Malformed("payload is not base64url"))?;
    let payload: Payload = serde_json::from_slice(&json)
        .map_err(|_| TokenError::Malformed("payload is not the expected JSON"))?;
    let id = TmpSecretId::parse(&payload.id)
        .map_err(|_| TokenError::Malformed("payload holds an invalid TmpSecretId"))?;
    if payload.exp < payload.st {
        return Err(TokenError::Malformed("ExpiredTime is before StartTime"));
    }
    Ok(TokenClaims {
        id,
        start_time: payload.st,
        expired_time: payload.exp,
        policy: payload.policy,
    })
}

/// `cul<digits>.` of another version is a newer format; anything else is not one of ours.
fn version_error(token: &str) -> TokenError {
    let version = token.split_once('.').map(|(v, _)| v).unwrap_or_default();
    match version.strip_prefix("cul") {
        Some(n) if !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()) => {
            TokenError::UnsupportedVersion
        }
        _ => TokenError::Malformed("not a cul security token"),
    }
}

/// The TmpSecretKey that belongs to `id` under `key`.
pub fn derive_tmp_secret_key(key: &TokenKey, id: &TmpSecretId) -> TmpSecretKey {
    let mac = key.mac(&[TMP_SECRET_KEY_LABEL.as_bytes(), id.0.as_bytes()]);
    TmpSecretKey(SecretKey::new(URL_SAFE_NO_PAD.encode(mac)))
}
