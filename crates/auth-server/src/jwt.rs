//! Access tokens: HS256 JWTs with `sub`, `iss`, `aud`, `iat`, `exp`.
//!
//! One algorithm is allowed (`Validation::new(HS256)`), the leeway is explicit,
//! `exp`/`sub`/`iss`/`aud` are required and `iss`/`aud` checked by the crate,
//! as are `exp` and an optional `nbf` (with the leeway, against the system
//! clock); `iat` is required by the claim type and checked here with the same
//! leeway. A token that is not valid yet (`nbf` or `iat` in the future) is
//! refused.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::JwtConfig;

/// The claims the server writes and requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id (SQLite row id, decimal).
    pub sub: String,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Issued at (UNIX seconds).
    pub iat: u64,
    /// Expires at (UNIX seconds).
    pub exp: u64,
}

/// Why a token was refused (logged; the client sees one generic message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// `exp` passed (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// `iat` lies in the future (beyond the leeway).
    #[error("token issued in the future")]
    IssuedInFuture,
    /// `nbf` lies in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// `sub` is not a user id.
    #[error("token subject is not a user id")]
    BadSubject,
    /// Anything else: signature, algorithm, format, claims, issuer, audience.
    #[error("token invalid: {0}")]
    Invalid(String),
    /// Signing failed (should not happen with an HMAC key).
    #[error("cannot sign token: {0}")]
    Sign(String),
}

/// Precomputed keys and validation rules.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    header: Header,
    issuer: String,
    audience: String,
    ttl_secs: u64,
    leeway_secs: u64,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    /// Builds the keys from the configuration.
    pub fn new(config: &JwtConfig) -> Self {
        let secret = config.secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = config.leeway_secs;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            header: Header::new(Algorithm::HS256),
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            ttl_secs: config.ttl_secs,
            leeway_secs: config.leeway_secs,
        }
    }

    /// Token lifetime in seconds.
    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    /// Issues a token for `user_id` at `now`.
    pub fn issue(&self, user_id: u64, now: u64) -> Result<String, TokenError> {
        let claims = Claims {
            sub: user_id.to_string(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now.saturating_add(self.ttl_secs),
        };
        jsonwebtoken::encode(&self.header, &claims, &self.encoding)
            .map_err(|e| TokenError::Sign(e.to_string()))
    }

    /// Verifies a token and returns its user id. `now` is used for the `iat`
    /// check; `exp` and `nbf` are checked by the crate against the system clock.
    /// All three allow the configured leeway.
    pub fn verify(&self, token: &str, now: u64) -> Result<u64, TokenError> {
        use jsonwebtoken::errors::ErrorKind;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                _ => TokenError::Invalid(e.to_string()),
            })?;
        let claims = data.claims;
        if claims.iat > now.saturating_add(self.leeway_secs) {
            return Err(TokenError::IssuedInFuture);
        }
        parse_user_id(&claims.sub).ok_or(TokenError::BadSubject)
    }
}

/// A canonical decimal user id (`1`..), no sign, no leading zeros.
pub fn parse_user_id(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || s.starts_with('0') || !s.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use cos_sign::SecretKey;

    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(&JwtConfig {
            secret: SecretKey::new("0123456789abcdefghijklmnopqrstuvwxyz"),
            issuer: "iss".into(),
            audience: "aud".into(),
            ttl_secs: 7200,
            leeway_secs: 30,
        })
    }

    #[test]
    fn round_trip_with_the_rust_crypto_backend() {
        // jsonwebtoken 10 panics at run time without a crypto backend; this
        // catches a missing `rust_crypto` feature.
        let k = keys();
        let now = shared::clock::unix_now();
        let t = k.issue(42, now).unwrap();
        assert_eq!(k.verify(&t, now).unwrap(), 42);
        assert_eq!(t.split('.').count(), 3);
    }

    #[test]
    fn future_iat_beyond_leeway_is_refused() {
        let k = keys();
        let now = shared::clock::unix_now();
        let t = k.issue(1, now + 31).unwrap();
        assert_eq!(k.verify(&t, now), Err(TokenError::IssuedInFuture));
        let t = k.issue(1, now + 29).unwrap();
        assert_eq!(k.verify(&t, now), Ok(1));
    }

    #[test]
    fn nbf_beyond_leeway_is_refused_and_within_it_accepted() {
        let k = keys();
        let now = shared::clock::unix_now();
        let token = |nbf: serde_json::Value| {
            let claims = serde_json::json!({"sub": "1", "iss": "iss", "aud": "aud",
                "iat": now, "exp": now + 7200, "nbf": nbf});
            jsonwebtoken::encode(&k.header, &claims, &k.encoding).unwrap()
        };
        assert_eq!(
            k.verify(&token(serde_json::json!(now + 3600)), now),
            Err(TokenError::NotYetValid)
        );
        assert_eq!(k.verify(&token(serde_json::json!(now + 10)), now), Ok(1));
        assert_eq!(k.verify(&token(serde_json::json!(now - 10)), now), Ok(1));
        let r = k.verify(&token(serde_json::json!("later")), now);
        assert!(matches!(r, Err(TokenError::Invalid(_))), "{r:?}");
    }

    #[test]
    fn user_ids_are_canonical() {
        assert_eq!(parse_user_id("12"), Some(12));
        for bad in [
            "",
            "0",
            "012",
            "-1",
            "+1",
            "1a",
            " 1",
            "99999999999999999999",
        ] {
            assert_eq!(parse_user_id(bad), None, "{bad:?}");
        }
    }
}
