//! The rule a JWT secret meets when the server signs for real COS: at least
//! [`MIN_JWT_SECRET_BYTES`] bytes and an estimated [`MIN_JWT_SECRET_BITS`]
//! bits of entropy, and no part shared with the COS or WeChat credentials.
//!
//! The estimate is the secret's Shannon entropy per byte (from how often each
//! byte occurs in it) times the number of bytes that do not follow from the
//! ones before: a byte that repeats the previous one (`aaaa`), continues its
//! step (`1234`, `abcd`, `9753`) or ends three bytes seen earlier in the
//! secret (`abcabc`) counts for nothing. Output of `openssl rand -hex 32` or
//! `-base64 32` scores 165 bits or more (about 210 on average); `abcdefgh`
//! four times scores 12; 32 hex digits (16 random bytes, 128 bits at best)
//! score about 105 and are refused, as the estimate stays on the safe side.

use super::MIN_JWT_SECRET_BYTES;

/// Least estimated entropy of an accepted JWT secret, in bits.
pub const MIN_JWT_SECRET_BITS: f64 = 128.0;

/// Shortest value the reuse check looks for inside another (shorter values
/// are no credentials, and would match by chance).
const MIN_SHARED_BYTES: usize = 8;

/// Why a JWT secret is refused. It never holds the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Weakness {
    /// Shorter than [`MIN_JWT_SECRET_BYTES`], or below [`MIN_JWT_SECRET_BITS`].
    TooWeak,
    /// Equal to, containing or contained in the credential with this file key.
    Shares(&'static str),
}

/// The one-sentence rule, for error messages and documentation.
pub(super) const RULE: &str = "a JWT secret needs at least 32 bytes and an estimated 128 bits of \
    entropy (bits per character times the characters that do not repeat or continue a pattern \
    such as aaaa, 1234 or abcabc); generate one with `openssl rand -base64 48`";

/// Checks `secret` against the rule and against `credentials`, the
/// `(file key, value)` of the other credentials the server holds.
pub(super) fn check_jwt_secret(
    secret: &str,
    credentials: &[(&'static str, &str)],
) -> Result<(), Weakness> {
    for &(key, value) in credentials {
        let shared = secret == value
            || (value.len() >= MIN_SHARED_BYTES && secret.contains(value))
            || (secret.len() >= MIN_SHARED_BYTES && value.contains(secret));
        if shared {
            return Err(Weakness::Shares(key));
        }
    }
    if jwt_secret_is_strong(secret) {
        Ok(())
    } else {
        Err(Weakness::TooWeak)
    }
}

/// True when a JWT secret is long enough and its estimated entropy reaches
/// [`MIN_JWT_SECRET_BITS`].
pub fn jwt_secret_is_strong(secret: &str) -> bool {
    secret.len() >= MIN_JWT_SECRET_BYTES && estimated_bits(secret.as_bytes()) >= MIN_JWT_SECRET_BITS
}

/// The estimated entropy of `secret` in bits (see the module documentation).
pub fn estimated_bits(secret: &[u8]) -> f64 {
    let mut counts = [0usize; 256];
    for &b in secret {
        counts[usize::from(b)] += 1;
    }
    let len = secret.len() as f64;
    let per_byte: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum();
    let counted = (0..secret.len()).filter(|&i| !follows(secret, i)).count();
    per_byte * counted as f64
}

/// True when byte `i` follows from the bytes before it: it repeats the
/// previous byte, continues the step between the two before it, or ends a
/// three-byte sequence that occurred earlier.
fn follows(s: &[u8], i: usize) -> bool {
    if i >= 1 && s[i] == s[i - 1] {
        return true;
    }
    if i < 2 {
        return false;
    }
    let step = s[i].wrapping_sub(s[i - 1]);
    step == s[i - 1].wrapping_sub(s[i - 2]) || s[..i].windows(3).any(|w| w == &s[i - 2..=i])
}

/// A secret that meets the rule, for tests of the configuration.
#[cfg(test)]
pub(super) const STRONG_TEST_SECRET: &str = "k8Vq2xN7rT4wLz9mB3pY6cH1dF5gJ0sA";

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use rand::RngCore as _;

    use super::*;

    fn random_bytes(n: usize) -> Vec<u8> {
        let mut b = vec![0u8; n];
        rand::rngs::OsRng.fill_bytes(&mut b);
        b
    }

    const COS_KEY: &str = "Q3vX9pLk2mZr8TfW4yHc6NbJ1sGd7UaE";
    const WECHAT_SECRET: &str = "4f1c9a2e7b3d8065c1e2f3a4b5c6d7e8";

    fn credentials() -> [(&'static str, &'static str); 4] {
        [
            ("cos.secret_id", "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA"),
            ("cos.secret_key", COS_KEY),
            ("wechat.appid", "wx1234567890abcdef"),
            ("wechat.secret", WECHAT_SECRET),
        ]
    }

    #[test]
    fn strong_secrets_are_accepted_and_weak_or_shared_ones_refused() {
        let hex32 = hex::encode(random_bytes(32));
        let b64_32 = base64::engine::general_purpose::STANDARD.encode(random_bytes(32));
        let b64_48 = base64::engine::general_purpose::STANDARD.encode(random_bytes(48));
        let generated = super::super::dev_secrets::random_text(48);
        let accepted: [(&str, &str); 6] = [
            ("openssl rand -hex 32", &hex32),
            ("openssl rand -base64 32", &b64_32),
            ("openssl rand -base64 48", &b64_48),
            ("embedded mode's generated secret", &generated),
            (
                "a long passphrase",
                "correct horse battery staple orbit lantern velvet quiz",
            ),
            ("fixed random text", STRONG_TEST_SECRET),
        ];
        for (name, secret) in accepted {
            let r = check_jwt_secret(secret, &credentials());
            assert_eq!(
                r,
                Ok(()),
                "{name}: {secret} scores {} bits",
                estimated_bits(secret.as_bytes())
            );
        }
        let abcdefgh4 = "abcdefgh".repeat(4);
        let a32 = "a".repeat(32);
        let a_half = format!("{}{}", &STRONG_TEST_SECRET[..16], "a".repeat(16));
        let twice = STRONG_TEST_SECRET[..24].repeat(2);
        let with_key = format!("prefix-{COS_KEY}");
        let refused: [(&str, &str, Weakness); 14] = [
            ("abcdefgh x4", &abcdefgh4, Weakness::TooWeak),
            ("32 x a", &a32, Weakness::TooWeak),
            ("a run of a", &a_half, Weakness::TooWeak),
            (
                "digits and letters in order",
                "0123456789abcdefghijklmnopqrstuvwxyzABCD",
                Weakness::TooWeak,
            ),
            (
                "digits over and over",
                "01234567890123456789012345678901",
                Weakness::TooWeak,
            ),
            (
                "descending",
                "zyxwvutsrqponmlkjihgfedcba9876543210",
                Weakness::TooWeak,
            ),
            ("a random half, twice", &twice, Weakness::TooWeak),
            (
                "16 random bytes in hex",
                "3f9a1c7e52b8d04e6a91f2c35b7d8e10",
                Weakness::TooWeak,
            ),
            (
                "a short passphrase",
                "correct horse battery staple xyz",
                Weakness::TooWeak,
            ),
            ("too short", &STRONG_TEST_SECRET[..28], Weakness::TooWeak),
            (
                "the COS secret key",
                COS_KEY,
                Weakness::Shares("cos.secret_key"),
            ),
            (
                "containing the COS key",
                &with_key,
                Weakness::Shares("cos.secret_key"),
            ),
            (
                "the COS secret id",
                "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA",
                Weakness::Shares("cos.secret_id"),
            ),
            (
                "the WeChat secret",
                WECHAT_SECRET,
                Weakness::Shares("wechat.secret"),
            ),
        ];
        for (name, secret, why) in refused {
            let r = check_jwt_secret(secret, &credentials());
            assert_eq!(
                r,
                Err(why),
                "{name}: {secret} scores {} bits",
                estimated_bits(secret.as_bytes())
            );
        }
    }

    #[test]
    fn the_rule_names_the_limits_it_applies() {
        assert!(RULE.contains(&format!("at least {MIN_JWT_SECRET_BYTES} bytes")));
        assert!(RULE.contains(&format!("{MIN_JWT_SECRET_BITS} bits")));
    }

    #[test]
    fn random_secrets_of_the_recommended_sizes_always_pass() {
        // The estimate must not refuse what the documentation tells people to
        // generate, whatever the draw.
        for _ in 0..2000 {
            let hex = hex::encode(random_bytes(32));
            let b64 = base64::engine::general_purpose::STANDARD.encode(random_bytes(32));
            let generated = super::super::dev_secrets::random_text(48);
            for secret in [&hex, &b64, &generated] {
                assert!(
                    jwt_secret_is_strong(secret),
                    "{secret} scores {} bits",
                    estimated_bits(secret.as_bytes())
                );
            }
        }
    }

    #[test]
    fn a_short_credential_is_not_looked_for_inside_the_secret() {
        // Test configurations use one-letter keys; "k" inside a random secret
        // is chance, not reuse.
        let r = check_jwt_secret(STRONG_TEST_SECRET, &[("cos.secret_key", "k")]);
        assert_eq!(r, Ok(()));
    }
}
