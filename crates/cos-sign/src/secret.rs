//! Credentials whose secret half never shows up in logs.

use std::fmt;

use zeroize::Zeroizing;

/// A COS SecretKey (or any HMAC key). `Debug` and `Display` print `<redacted>`;
/// the bytes are wiped from memory when the value is dropped.
#[derive(Clone)]
pub struct SecretKey(Zeroizing<String>);

impl SecretKey {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(Zeroizing::new(secret.into()))
    }

    /// The secret itself. Call this only where the bytes are fed to an HMAC.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A SecretId / SecretKey pair.
#[derive(Clone)]
pub struct Credentials {
    /// The public half (`AKID…`), sent on the wire as `k=` (v4) or `q-ak=` (v5).
    pub secret_id: String,
    /// The private half, never sent anywhere.
    pub secret_key: SecretKey,
}

impl Credentials {
    /// Builds a pair.
    pub fn new(secret_id: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self {
            secret_id: secret_id.into(),
            secret_key: SecretKey::new(secret_key),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &self.secret_id)
            .finish_non_exhaustive()
    }
}

/// Where a verifier finds the secret for a SecretId named in a signature.
pub trait KeyStore {
    /// The secret for `secret_id`, if this store knows it.
    fn secret_for(&self, secret_id: &str) -> Option<&SecretKey>;
}

impl KeyStore for Credentials {
    fn secret_for(&self, secret_id: &str) -> Option<&SecretKey> {
        (self.secret_id == secret_id).then_some(&self.secret_key)
    }
}

impl KeyStore for [Credentials] {
    fn secret_for(&self, secret_id: &str) -> Option<&SecretKey> {
        self.iter().find_map(|c| c.secret_for(secret_id))
    }
}

impl KeyStore for Vec<Credentials> {
    fn secret_for(&self, secret_id: &str) -> Option<&SecretKey> {
        self.as_slice().secret_for(secret_id)
    }
}
