//! Typed errors. Each variant says which check failed and never carries a secret.

/// Why a signature could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// A multi-effect v4 signature must expire after it is issued.
    #[error("expiry {expires_at} is not after the signing time {now}")]
    ExpiryNotAfterNow {
        /// Requested expiry (UNIX seconds).
        expires_at: u64,
        /// Signing time (UNIX seconds).
        now: u64,
    },
    /// The v4 nonce `r` is at most ten decimal digits.
    #[error("nonce {0} has more than ten digits")]
    NonceTooLarge(u64),
    /// A v5 key time must have `start <= end`.
    #[error("key time {start};{end} ends before it starts")]
    KeyTimeReversed {
        /// Start (UNIX seconds).
        start: u64,
        /// End (UNIX seconds).
        end: u64,
    },
    /// Paths handed to a signer start with `/`.
    #[error("path {0:?} does not start with '/'")]
    RelativePath(String),
    /// A field that ends up inside the v4 plaintext may not contain `&` or `=`.
    #[error(
        "{field} contains a character ('&', '=' or a control character) that cannot appear in a signature"
    )]
    BadField {
        /// Which field.
        field: &'static str,
    },
}

/// Why a signature was refused. The variant names the failed check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The signature does not parse (bad base64, missing or repeated field, bad number).
    #[error("malformed signature: {0}")]
    Malformed(&'static str),
    /// The signature names an algorithm other than `sha1`.
    #[error("unsupported signature algorithm")]
    UnsupportedAlgorithm,
    /// The SecretId in the signature is not one this verifier knows.
    #[error("unknown SecretId")]
    UnknownSecretId,
    /// The MAC does not match: wrong secret, or the signed content was changed.
    #[error("signature does not match")]
    SignatureMismatch,
    /// The signature's validity ended before `now` (beyond the allowed skew).
    #[error("signature expired at {expired_at}, now is {now}")]
    Expired {
        /// When it expired (UNIX seconds).
        expired_at: u64,
        /// The verifier's clock.
        now: u64,
    },
    /// The signature claims to be issued in the future (beyond the allowed skew).
    #[error("signature is not valid before {valid_from}, now is {now}")]
    NotYetValid {
        /// Start of validity (UNIX seconds).
        valid_from: u64,
        /// The verifier's clock.
        now: u64,
    },
    /// The v4 `a=` field names another APPID.
    #[error("signature is for another appid")]
    AppIdMismatch,
    /// The v4 `b=` field (or a policy's bucket condition) names another bucket.
    #[error("signature is for another bucket")]
    BucketMismatch,
    /// The requested path lies outside the path or prefix the signature is bound to.
    #[error("path is outside what the signature allows")]
    PathNotAllowed,
    /// A header named in `q-header-list` is absent from the request.
    #[error("signed header {0:?} is missing from the request")]
    SignedHeaderMissing(String),
    /// A parameter named in `q-url-param-list` is absent from the request.
    #[error("signed query parameter {0:?} is missing from the request")]
    SignedParamMissing(String),
    /// A POST policy condition does not hold for the submitted form.
    #[error("policy condition failed: {0}")]
    PolicyCondition(String),
}
