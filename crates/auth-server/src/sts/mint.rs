//! Minting credentials here, in the embedded token format of
//! [`cos_sign::sts`]: a random TmpSecretId from the OS's CSPRNG, StartTime =
//! now, ExpiredTime = now + `sts.duration_secs`, and the policy inside the
//! MACed token, so the store holding the same key checks them without asking
//! anyone.

use cos_sign::sts::{self, MintError, TmpSecretId, TokenClaims, TokenKey};
use rand::Rng as _;
use rand::distributions::Alphanumeric;
use shared::cam::Policy;

use super::{Issued, Source};

/// Mints credentials with a token key.
#[derive(Debug, Clone)]
pub struct Minter {
    key: TokenKey,
    duration_secs: u64,
}

impl Minter {
    /// A minter whose credentials live `duration_secs`.
    pub fn new(key: TokenKey, duration_secs: u64) -> Self {
        Self { key, duration_secs }
    }

    /// Credentials for `policy`, valid from `now` for the configured duration.
    pub fn mint(&self, policy: &Policy, now: u64) -> Result<Issued, MintError> {
        let claims = TokenClaims {
            id: random_id(),
            start_time: now,
            expired_time: now + self.duration_secs,
            policy: policy.to_json(),
        };
        let minted = sts::mint(&self.key, &claims)?;
        Ok(Issued {
            tmp_secret_id: minted.tmp_secret_id.as_str().to_owned(),
            tmp_secret_key: minted.tmp_secret_key.into_secret_key(),
            security_token: minted.security_token,
            start_time: claims.start_time,
            expired_time: claims.expired_time,
            source: Source::Minted,
        })
    }
}

/// `AKID` + 32 random letters and digits (about 190 bits) from the OS.
pub fn random_id() -> TmpSecretId {
    let random: String = rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    TmpSecretId::parse(&format!("AKID{random}"))
        .unwrap_or_else(|_| unreachable!("AKID and 32 alphanumerics is a TmpSecretId"))
}

#[cfg(test)]
mod tests {
    use cos_sign::SecretKey;
    use shared::ObjectKey;
    use shared::cam::{Bucket, Scope, UploadLimits};

    use super::*;

    #[test]
    fn minted_credentials_open_with_the_key_and_carry_the_policy() {
        let key = TokenKey::new(SecretKey::new("k".repeat(32))).unwrap();
        let bucket = Bucket::new("ap-guangzhou", "1250000000", "metis").unwrap();
        let scope = Scope::Key(ObjectKey::parse("u/1/a.jpg").unwrap());
        let limits = UploadLimits {
            max_size: 10,
            content_types: vec!["image/*".into()],
        };
        let policy = Policy::for_upload(&bucket, &scope, &limits);
        let issued = Minter::new(key.clone(), 1800)
            .mint(&policy, 1_764_680_000)
            .unwrap();
        assert_eq!(issued.source, Source::Minted);
        assert_eq!(
            (issued.start_time, issued.expired_time),
            (1_764_680_000, 1_764_681_800)
        );
        let claims = sts::open(&key, &issued.security_token).unwrap();
        assert_eq!(claims.id.as_str(), issued.tmp_secret_id);
        assert_eq!(Policy::from_json(&claims.policy), Ok(policy));
        let derived = sts::derive_tmp_secret_key(&key, &claims.id);
        assert_eq!(
            derived.expose_to_client(),
            issued.tmp_secret_key.expose_secret()
        );
        // Every id is new.
        assert_ne!(random_id(), random_id());
        assert!(!format!("{issued:?}").contains(issued.tmp_secret_key.expose_secret()));
    }
}
