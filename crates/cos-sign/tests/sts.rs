//! The embedded security token (`cos_sign::sts`): what minting produces, that
//! opening gives the claims back, and that every kind of damaged, foreign or
//! hostile token is refused with the variant that names it.

// Helpers outside `#[test]` functions fail loudly too; clippy.toml's test
// allowances only cover the test functions themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cos_sign::SecretKey;
use cos_sign::sts::{
    self, InvalidTmpSecretId, MAX_TOKEN_LEN, MintError, TmpSecretId, TokenClaims, TokenError,
    TokenKey, WeakTokenKey,
};
use hmac::{Hmac, Mac};
use proptest::prelude::*;
use sha2::Sha256;

const KEY: &str = "0123456789abcdef0123456789abcdef-token-key";
const ID: &str = "AKIDabcdefghijklmnopqrstuvwxyz012345";
const POLICY: &str = r#"{"version":"2.0","statement":[{"effect":"allow","action":["name/cos:PutObject"],"resource":["qcs::cos:ap-guangzhou:uid/1250000000:metis-1250000000/u/12/a.jpg"]}]}"#;

fn key() -> TokenKey {
    TokenKey::new(SecretKey::new(KEY)).unwrap()
}

fn claims() -> TokenClaims {
    TokenClaims {
        id: TmpSecretId::parse(ID).unwrap(),
        start_time: 1_764_680_000,
        expired_time: 1_764_681_800,
        policy: POLICY.to_owned(),
    }
}

fn token() -> String {
    sts::mint(&key(), &claims()).unwrap().security_token
}

fn hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

/// A token with `payload` as its JSON, MACed with `key` as the format says.
fn forge(key: &str, version: &str, payload: &[u8]) -> String {
    let signed = format!("{version}.{}", URL_SAFE_NO_PAD.encode(payload));
    let mac = hmac(key.as_bytes(), signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(mac))
}

#[test]
fn the_token_is_the_documented_format() {
    let minted = sts::mint(&key(), &claims()).unwrap();
    let payload = format!(
        r#"{{"id":"{ID}","st":1764680000,"exp":1764681800,"policy":{}}}"#,
        serde_json::to_string(POLICY).unwrap()
    );
    assert_eq!(
        minted.security_token,
        forge(KEY, "cul1", payload.as_bytes())
    );
    let expected_key = URL_SAFE_NO_PAD.encode(hmac(
        KEY.as_bytes(),
        format!("cul1-tmp-secret-key\n{ID}").as_bytes(),
    ));
    assert_eq!(minted.tmp_secret_key.expose_to_client(), expected_key);
    assert_eq!(expected_key.len(), 43);
    assert_eq!(minted.tmp_secret_id.as_str(), ID);
    // URL-safe: the token goes unencoded into a presigned URL's query.
    assert!(
        minted
            .security_token
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(&c)),
        "{}",
        minted.security_token
    );
}

#[test]
fn open_returns_the_claims_and_derive_the_key() {
    let minted = sts::mint(&key(), &claims()).unwrap();
    let opened = sts::open(&key(), &minted.security_token).unwrap();
    assert_eq!(opened, claims());
    let derived = sts::derive_tmp_secret_key(&key(), &opened.id);
    assert_eq!(
        derived.expose_to_client(),
        minted.tmp_secret_key.expose_to_client()
    );
    assert_eq!(
        derived.into_secret_key().expose_secret(),
        minted.tmp_secret_key.expose_to_client()
    );
}

#[test]
fn secrets_are_redacted() {
    let minted = sts::mint(&key(), &claims()).unwrap();
    let shown = format!("{:?} {:?} {}", key(), minted, minted.tmp_secret_key);
    assert!(!shown.contains(KEY), "{shown}");
    assert!(
        !shown.contains(minted.tmp_secret_key.expose_to_client()),
        "{shown}"
    );
    assert!(shown.contains("TokenKey(<redacted>)"), "{shown}");
    assert!(shown.contains("TmpSecretKey(<redacted>)"), "{shown}");
}

#[test]
fn mint_refuses_bad_claims() {
    let reversed = TokenClaims {
        start_time: 10,
        expired_time: 9,
        ..claims()
    };
    assert_eq!(
        sts::mint(&key(), &reversed).map(|_| ()),
        Err(MintError::ExpiryBeforeStart {
            start_time: 10,
            expired_time: 9
        })
    );
    let not_json = TokenClaims {
        policy: "{\"version\":".to_owned(),
        ..claims()
    };
    assert_eq!(
        sts::mint(&key(), &not_json).map(|_| ()),
        Err(MintError::PolicyNotJson)
    );
    let huge = TokenClaims {
        policy: serde_json::to_string(&"x".repeat(MAX_TOKEN_LEN)).unwrap(),
        ..claims()
    };
    let r = sts::mint(&key(), &huge).map(|_| ());
    assert!(
        matches!(r, Err(MintError::TooLong(n)) if n > MAX_TOKEN_LEN),
        "{r:?}"
    );
    // The largest policy that fits is still opened.
    let mut len = 12_500;
    let fits = loop {
        let c = TokenClaims {
            policy: serde_json::to_string(&"x".repeat(len)).unwrap(),
            ..claims()
        };
        match sts::mint(&key(), &c) {
            Ok(m) => break m,
            Err(MintError::TooLong(_)) => len -= 100,
            Err(e) => panic!("{e}"),
        }
    };
    assert!(fits.security_token.len() > MAX_TOKEN_LEN - 200);
    assert_eq!(
        sts::open(&key(), &fits.security_token).map(|c| c.policy.len()),
        Ok(len + 2)
    );
}

#[test]
fn keys_and_ids_are_validated() {
    assert_eq!(
        TokenKey::new(SecretKey::new("short")).map(|_| ()),
        Err(WeakTokenKey(5))
    );
    assert_eq!(
        TokenKey::new(SecretKey::new("x".repeat(32))).map(|_| ()),
        Ok(())
    );
    for bad in [
        "",
        "AKID",
        "akidabcdefghijklmnopqrstuvwxyz012345",
        "AKIDabcdefghijklmnopqrstuvwxyz01234",
        "AKIDabcdefghijklmnopqrstuvwxyz0123456",
        "AKIDabcdefghijklmnopqrstuvwxyz01234-",
        "AKIDabcdefghijklmnopqrstuvwxyz01234é",
    ] {
        assert_eq!(TmpSecretId::parse(bad), Err(InvalidTmpSecretId), "{bad:?}");
    }
}

#[test]
fn refuses_damaged_foreign_and_hostile_tokens() {
    let good = token();
    let (signed, _) = good.rsplit_once('.').unwrap();
    let m = |why| Err(TokenError::Malformed(why));
    let cases: Vec<(&str, String, Result<(), TokenError>)> = vec![
        ("empty", String::new(), m("not a cul security token")),
        (
            "Tencent-style token",
            "6Ft0fQmGe2xDnFqz_ab".repeat(40),
            m("not a cul security token"),
        ),
        (
            "wrong prefix",
            good.replacen("cul1.", "cux1.", 1),
            m("not a cul security token"),
        ),
        (
            "prefix without dot",
            good.replacen("cul1.", "cul1", 1),
            m("not a cul security token"),
        ),
        (
            "later version",
            good.replacen("cul1.", "cul2.", 1),
            Err(TokenError::UnsupportedVersion),
        ),
        ("no MAC", signed.to_owned(), m("no MAC part")),
        ("empty MAC", format!("{signed}."), Err(TokenError::BadMac)),
        (
            "truncated MAC",
            good[..good.len() - 3].to_owned(),
            Err(TokenError::BadMac),
        ),
        (
            "MAC not base64url",
            format!("{signed}.!!!!"),
            m("MAC is not base64url"),
        ),
        ("padded MAC", format!("{good}="), m("MAC is not base64url")),
        (
            "a third part",
            format!("{good}.x"),
            m("MAC is not base64url"),
        ),
        (
            "truncated payload",
            format!(
                "{}.{}",
                &signed[..signed.len() - 3],
                good.rsplit_once('.').unwrap().1
            ),
            Err(TokenError::BadMac),
        ),
        (
            "another key",
            forge(
                "another key of at least thirty-two bytes",
                "cul1",
                signed_payload(&good).as_slice(),
            ),
            Err(TokenError::BadMac),
        ),
        (
            "longer than the limit",
            format!("cul1.{}", "A".repeat(MAX_TOKEN_LEN)),
            m("longer than 16 KiB"),
        ),
        (
            "non-UTF-8 payload",
            forge(KEY, "cul1", b"\xff\xfe{}"),
            m("payload is not the expected JSON"),
        ),
        (
            "garbage payload",
            forge(KEY, "cul1", b"not json"),
            m("payload is not the expected JSON"),
        ),
        (
            "payload with an extra field",
            forge(
                KEY,
                "cul1",
                format!(r#"{{"id":"{ID}","st":1,"exp":2,"policy":"{{}}","admin":true}}"#)
                    .as_bytes(),
            ),
            m("payload is not the expected JSON"),
        ),
        (
            "payload without a policy",
            forge(
                KEY,
                "cul1",
                format!(r#"{{"id":"{ID}","st":1,"exp":2}}"#).as_bytes(),
            ),
            m("payload is not the expected JSON"),
        ),
        (
            "payload with a bad id",
            forge(
                KEY,
                "cul1",
                br#"{"id":"AKID1","st":1,"exp":2,"policy":"{}"}"#,
            ),
            m("payload holds an invalid TmpSecretId"),
        ),
        (
            "payload expiring before it starts",
            forge(
                KEY,
                "cul1",
                format!(r#"{{"id":"{ID}","st":3,"exp":2,"policy":"{{}}"}}"#).as_bytes(),
            ),
            m("ExpiredTime is before StartTime"),
        ),
    ];
    for (name, token, expected) in cases {
        assert_eq!(
            sts::open(&key(), &token).map(|_| ()),
            expected,
            "{name}: {token}"
        );
    }
}

fn signed_payload(token: &str) -> Vec<u8> {
    let payload = token.split('.').nth(1).unwrap();
    URL_SAFE_NO_PAD.decode(payload).unwrap()
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn any_claims() -> impl Strategy<Value = TokenClaims> {
    (
        "AKID[A-Za-z0-9]{32}",
        any::<u64>(),
        any::<u64>(),
        prop_oneof![
            Just(POLICY.to_owned()),
            "\\PC{0,200}".prop_map(|s| serde_json::to_string(&s).unwrap()),
            prop::collection::vec("\\PC{0,20}", 0..8)
                .prop_map(|v| serde_json::to_string(&v).unwrap()),
        ],
    )
        .prop_map(|(id, a, b, policy)| TokenClaims {
            id: TmpSecretId::parse(&id).unwrap(),
            start_time: a.min(b),
            expired_time: a.max(b),
            policy,
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mint_then_open_gives_the_claims_back(claims in any_claims(), key in "[ -~]{32,64}") {
        let key = TokenKey::new(SecretKey::new(key)).unwrap();
        let minted = sts::mint(&key, &claims).unwrap();
        prop_assert_eq!(sts::open(&key, &minted.security_token), Ok(claims.clone()));
        let derived = sts::derive_tmp_secret_key(&key, &claims.id);
        prop_assert_eq!(derived.expose_to_client(), minted.tmp_secret_key.expose_to_client());
    }

    #[test]
    fn any_changed_byte_is_refused(claims in any_claims(), at in any::<usize>(), to in any::<u8>()) {
        let token = sts::mint(&key(), &claims).unwrap().security_token;
        let mut bytes = token.clone().into_bytes();
        let i = at % bytes.len();
        prop_assume!(bytes[i] != to);
        bytes[i] = to;
        let changed = String::from_utf8_lossy(&bytes);
        let r = sts::open(&key(), &changed);
        prop_assert!(
            matches!(r, Err(TokenError::BadMac | TokenError::Malformed(_) | TokenError::UnsupportedVersion)),
            "{r:?}"
        );
    }

    #[test]
    fn truncation_is_refused(claims in any_claims(), keep in any::<usize>()) {
        let token = sts::mint(&key(), &claims).unwrap().security_token;
        let cut = &token[..keep % token.len()];
        let r = sts::open(&key(), cut);
        prop_assert!(matches!(r, Err(TokenError::BadMac | TokenError::Malformed(_))), "{r:?}");
    }

    #[test]
    fn another_key_never_opens(claims in any_claims(), other in "[ -~]{32,64}") {
        prop_assume!(other != KEY);
        let token = sts::mint(&key(), &claims).unwrap().security_token;
        let other = TokenKey::new(SecretKey::new(other)).unwrap();
        prop_assert_eq!(sts::open(&other, &token), Err(TokenError::BadMac));
    }

    #[test]
    fn garbage_never_opens(garbage in "\\PC{0,300}") {
        let r = sts::open(&key(), &garbage);
        prop_assert!(
            matches!(r, Err(TokenError::BadMac | TokenError::Malformed(_) | TokenError::UnsupportedVersion)),
            "{r:?}"
        );
    }
}
