//! Property tests: whatever the keys, names, paths (Unicode, spaces, `!'()*+`,
//! `%`, `&`, `=`), times and nonces, a signature verifies for exactly the
//! request it was made for, and any change to it or to that request is refused.

// Helpers outside `#[test]` functions fail loudly too; clippy.toml's test
// allowances only cover the test functions themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cos_sign::policy::{self, Condition, PolicyForm, PostPolicy};
use cos_sign::v4;
use cos_sign::v5::{self, KeyTime, ParsedAuthorization, Request};
use cos_sign::{Credentials, VerifyError, encode_component};
use proptest::prelude::*;

const SKEW: u64 = 30;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------- strategies

fn secret() -> impl Strategy<Value = String> {
    "\\PC{1,48}"
}

fn secret_id() -> impl Strategy<Value = String> {
    "AKID[A-Za-z0-9]{4,32}"
}

fn appid() -> impl Strategy<Value = String> {
    "[1-9][0-9]{4,11}"
}

fn bucket() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9-]{0,20}"
}

/// One path segment: ASCII, spaces, CJK, emoji and every character the
/// encodings treat specially.
fn segment() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 _.~!'()*+%&=;,@$-]{0,3}[a-zA-Z0-9测试图片😀é ()!'*+]{1,6}"
}

/// `/seg/seg…` with one to four segments.
fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(segment(), 1..5).prop_map(|s| format!("/{}", s.join("/")))
}

fn now() -> impl Strategy<Value = u64> {
    1_000_000_000u64..4_000_000_000
}

fn ttl() -> impl Strategy<Value = u64> {
    1u64..200_000
}

fn nonce() -> impl Strategy<Value = u64> {
    0u64..=9_999_999_999
}

/// Name/value pairs whose canonical names (`lower(enc(name))`) are distinct.
fn pairs(name: &'static str) -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((name, "\\PC{0,16}"), 0..5).prop_map(|v| {
        let mut seen = BTreeMap::new();
        for (k, val) in v {
            if k.to_ascii_lowercase().starts_with("q-") {
                continue;
            }
            seen.entry(encode_component(&k).to_lowercase())
                .or_insert((k, val));
        }
        seen.into_values().collect()
    })
}

fn header_pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    pairs("[A-Za-z][A-Za-z0-9-]{0,15}")
}

fn param_pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    pairs("[a-zA-Z0-9 _.~!*()+图-]{1,10}")
}

fn method() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "GET", "PUT", "POST", "DELETE", "HEAD", "put", "Options",
    ])
}

fn borrow(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, x)| (k.as_str(), x.as_str())).collect()
}

/// Every single-character change to a base64 signature (a replacement drawn
/// from the alphabet, different from the original).
fn flip_char(s: &str, index: usize, replacement: u8) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    let mut bytes = s.as_bytes().to_vec();
    let i = index % bytes.len();
    let mut r = ALPHABET[usize::from(replacement) % ALPHABET.len()];
    if r == bytes[i] {
        r = ALPHABET[(usize::from(replacement) + 1) % ALPHABET.len()];
    }
    bytes[i] = r;
    String::from_utf8(bytes).unwrap()
}

/// A signature whose decoded bytes differ from `s` in exactly one bit.
fn flip_decoded_bit(s: &str, index: usize, bit: u8) -> String {
    let mut raw = STANDARD.decode(s).unwrap();
    let i = index % raw.len();
    raw[i] ^= 1 << (bit % 8);
    STANDARD.encode(raw)
}

/// How a v4 signature changed in one character or bit is refused: it no
/// longer decodes or parses, it names a SecretId the verifier does not know,
/// or its MAC does not match. The MAC is checked before appid, bucket, time
/// and path, so no other refusal is possible.
fn refused_as_tampered(r: &Result<v4::Claims, VerifyError>) -> bool {
    matches!(
        r,
        Err(VerifyError::Malformed(_)
            | VerifyError::UnknownSecretId
            | VerifyError::SignatureMismatch)
    )
}

// ---------------------------------------------------------------- v4

#[derive(Debug)]
struct V4 {
    creds: Credentials,
    appid: String,
    bucket: String,
}

impl V4 {
    fn signer(&self) -> v4::Signer<'_> {
        v4::Signer {
            appid: &self.appid,
            bucket: &self.bucket,
            credentials: &self.creds,
        }
    }

    fn verify(&self, sign: &str, path: &str, now: u64) -> Result<v4::Claims, VerifyError> {
        self.verify_with(sign, &self.creds, path, now)
    }

    fn verify_with(
        &self,
        sign: &str,
        creds: &Credentials,
        path: &str,
        now: u64,
    ) -> Result<v4::Claims, VerifyError> {
        let expect = v4::Expect {
            appid: &self.appid,
            bucket: &self.bucket,
            path,
            now,
            max_skew: SKEW,
        };
        v4::verify(sign, creds, &expect)
    }
}

fn v4_setup() -> impl Strategy<Value = V4> {
    (secret_id(), secret(), appid(), bucket()).prop_map(|(id, key, appid, bucket)| V4 {
        creds: Credentials::new(id, key),
        appid,
        bucket,
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn v4_multi_effect_bound(
        s in v4_setup(),
        dir in path(),
        leaf in segment(),
        t in now(),
        ttl in ttl(),
        r in nonce(),
        elapsed in 0u64..1_000_000,
        other_secret in secret(),
        index in any::<usize>(),
        replacement in any::<u8>(),
        bit in any::<u8>(),
    ) {
        let e = t + ttl;
        let sign = s.signer().multi_effect(Some(&dir), e, t, r).unwrap();
        let file = format!("{dir}/{leaf}");
        let at = t + elapsed % (ttl + 1);

        // Accepted for the directory and everything below it, while valid.
        let claims = s.verify(&sign, &file, at).unwrap();
        prop_assert_eq!(claims.expires_at, e);
        prop_assert_eq!(claims.issued_at, t);
        prop_assert_eq!(claims.nonce, r);
        prop_assert_eq!(s.verify(&sign, &dir, at).map(|_| ()), Ok(()));
        prop_assert_eq!(s.verify(&sign, &file, e + SKEW).map(|_| ()), Ok(()));

        // A sibling sharing the prefix but not the segment, and the parent.
        let sibling = format!("{dir}x/{leaf}");
        prop_assert_eq!(s.verify(&sign, &sibling, at), Err(VerifyError::PathNotAllowed));
        let parent = &dir[..dir.rfind('/').unwrap() + 1];
        prop_assert_eq!(s.verify(&sign, parent, at), Err(VerifyError::PathNotAllowed));

        // Out of its time window.
        prop_assert_eq!(
            s.verify(&sign, &file, e + SKEW + 1 + elapsed),
            Err(VerifyError::Expired { expired_at: e, now: e + SKEW + 1 + elapsed })
        );
        let early = t - SKEW - 1 - elapsed % 1000;
        prop_assert_eq!(
            s.verify(&sign, &file, early),
            Err(VerifyError::NotYetValid { valid_from: t, now: early })
        );

        // Another secret under the same SecretId.
        prop_assume!(other_secret != s.creds.secret_key.expose_secret());
        let wrong = Credentials::new(s.creds.secret_id.clone(), other_secret);
        prop_assert_eq!(
            s.verify_with(&sign, &wrong, &file, at),
            Err(VerifyError::SignatureMismatch)
        );

        // Any changed character or bit.
        let r = s.verify(&flip_char(&sign, index, replacement), &file, at);
        prop_assert!(refused_as_tampered(&r), "{:?}", r);
        let r = s.verify(&flip_decoded_bit(&sign, index, bit), &file, at);
        prop_assert!(refused_as_tampered(&r), "{:?}", r);
    }

    #[test]
    fn v4_multi_effect_unbound(
        s in v4_setup(),
        p in path(),
        t in now(),
        ttl in ttl(),
        r in nonce(),
        index in any::<usize>(),
        bit in any::<u8>(),
    ) {
        let sign = s.signer().multi_effect(None, t + ttl, t, r).unwrap();
        prop_assert_eq!(s.verify(&sign, &p, t).map(|_| ()), Ok(()));
        prop_assert_eq!(s.verify(&sign, "/", t + ttl).map(|_| ()), Ok(()));
        let r = s.verify(&flip_decoded_bit(&sign, index, bit), &p, t);
        prop_assert!(refused_as_tampered(&r), "{:?}", r);
        let late = s.verify(&sign, &p, t + ttl + SKEW + 1);
        prop_assert!(matches!(late, Err(VerifyError::Expired { .. })), "{:?}", late);
    }

    #[test]
    fn v4_single_effect(
        s in v4_setup(),
        p in path(),
        extra in segment(),
        t in now(),
        r in nonce(),
        later in 0u64..10_000_000,
        other_secret in secret(),
        index in any::<usize>(),
        replacement in any::<u8>(),
        bit in any::<u8>(),
    ) {
        let sign = s.signer().single_effect(&p, t, r).unwrap();
        let claims = s.verify(&sign, &p, t + later).unwrap();
        prop_assert!(claims.is_single_effect());
        // The fileid is the percent-encoded path, exactly.
        prop_assert_eq!(claims.fileid, v4::fileid(&s.appid, &s.bucket, &p));

        prop_assert_eq!(s.verify(&sign, &format!("{p}{extra}"), t), Err(VerifyError::PathNotAllowed));
        prop_assert_eq!(s.verify(&sign, &format!("{p}/{extra}"), t), Err(VerifyError::PathNotAllowed));
        prop_assert_eq!(
            s.verify(&sign, &p, t - SKEW - 1),
            Err(VerifyError::NotYetValid { valid_from: t, now: t - SKEW - 1 })
        );
        prop_assume!(other_secret != s.creds.secret_key.expose_secret());
        let wrong = Credentials::new(s.creds.secret_id.clone(), other_secret);
        prop_assert_eq!(s.verify_with(&sign, &wrong, &p, t), Err(VerifyError::SignatureMismatch));
        let r = s.verify(&flip_char(&sign, index, replacement), &p, t);
        prop_assert!(refused_as_tampered(&r), "{:?}", r);
        let r = s.verify(&flip_decoded_bit(&sign, index, bit), &p, t);
        prop_assert!(refused_as_tampered(&r), "{:?}", r);
    }
}

// ---------------------------------------------------------------- v5

#[derive(Debug)]
struct V5Case {
    creds: Credentials,
    method: &'static str,
    path: String,
    headers: Vec<(String, String)>,
    params: Vec<(String, String)>,
    start: u64,
    ttl: u64,
}

fn v5_case() -> impl Strategy<Value = V5Case> {
    (
        (secret_id(), secret()),
        method(),
        path(),
        header_pairs(),
        param_pairs(),
        now(),
        ttl(),
    )
        .prop_map(
            |((id, key), method, path, headers, params, start, ttl)| V5Case {
                creds: Credentials::new(id, key),
                method,
                path,
                headers,
                params,
                start,
                ttl,
            },
        )
}

impl V5Case {
    fn key_time(&self) -> KeyTime {
        KeyTime::new(self.start, self.start + self.ttl).unwrap()
    }

    fn check(
        &self,
        auth: &str,
        creds: &Credentials,
        headers: &[(String, String)],
        params: &[(String, String)],
        path: &str,
        now: u64,
    ) -> Result<(), VerifyError> {
        let parsed = ParsedAuthorization::from_header(auth)?;
        let (h, p) = (borrow(headers), borrow(params));
        let req = Request {
            method: self.method,
            path,
            params: &p,
            headers: &h,
        };
        v5::verify(&parsed, creds, &req, now, SKEW)
    }
}

/// Changes the value at `index` (mod len) to something else.
fn change_value(pairs: &[(String, String)], index: usize) -> Vec<(String, String)> {
    let mut out = pairs.to_vec();
    let i = index % out.len();
    out[i].1.push('x');
    out
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn v5_header_form(
        c in v5_case(),
        elapsed in any::<u64>(),
        other_secret in secret(),
        extra in segment(),
        index in any::<usize>(),
        replacement in 0u8..16,
    ) {
        let kt = c.key_time();
        let (h, p) = (borrow(&c.headers), borrow(&c.params));
        let req = Request { method: c.method, path: &c.path, params: &p, headers: &h };
        let sig = v5::sign(&c.creds, &req, kt);
        let auth = sig.to_authorization();
        let at = c.start + elapsed % (c.ttl + 1);

        prop_assert_eq!(c.check(&auth, &c.creds, &c.headers, &c.params, &c.path, at), Ok(()));
        // Case of header names does not matter, and the lists are what was signed.
        let upper: Vec<(String, String)> =
            c.headers.iter().map(|(k, v)| (k.to_ascii_uppercase(), v.clone())).collect();
        prop_assert_eq!(c.check(&auth, &c.creds, &upper, &c.params, &c.path, at), Ok(()));
        prop_assert_eq!(sig.header_list.len(), c.headers.len());
        prop_assert_eq!(sig.param_list.len(), c.params.len());

        // Another path, time, secret.
        let moved = format!("{}{extra}x", c.path);
        prop_assert_eq!(
            c.check(&auth, &c.creds, &c.headers, &c.params, &moved, at),
            Err(VerifyError::SignatureMismatch)
        );
        let late = kt.end + SKEW + 1 + elapsed % 1_000_000;
        prop_assert_eq!(
            c.check(&auth, &c.creds, &c.headers, &c.params, &c.path, late),
            Err(VerifyError::Expired { expired_at: kt.end, now: late })
        );
        let early = kt.start - SKEW - 1;
        prop_assert_eq!(
            c.check(&auth, &c.creds, &c.headers, &c.params, &c.path, early),
            Err(VerifyError::NotYetValid { valid_from: kt.start, now: early })
        );
        if other_secret != c.creds.secret_key.expose_secret() {
            let wrong = Credentials::new(c.creds.secret_id.clone(), other_secret);
            prop_assert_eq!(
                c.check(&auth, &wrong, &c.headers, &c.params, &c.path, at),
                Err(VerifyError::SignatureMismatch)
            );
        }

        // A signed header or parameter value changed, or one dropped.
        if !c.headers.is_empty() {
            prop_assert_eq!(
                c.check(&auth, &c.creds, &change_value(&c.headers, index), &c.params, &c.path, at),
                Err(VerifyError::SignatureMismatch)
            );
            let mut fewer = c.headers.clone();
            let (gone, _) = fewer.remove(index % fewer.len());
            prop_assert_eq!(
                c.check(&auth, &c.creds, &fewer, &c.params, &c.path, at),
                Err(VerifyError::SignedHeaderMissing(encode_component(&gone).to_lowercase()))
            );
        }
        if !c.params.is_empty() {
            prop_assert_eq!(
                c.check(&auth, &c.creds, &c.headers, &change_value(&c.params, index), &c.path, at),
                Err(VerifyError::SignatureMismatch)
            );
            let mut fewer = c.params.clone();
            let (gone, _) = fewer.remove(index % fewer.len());
            prop_assert_eq!(
                c.check(&auth, &c.creds, &c.headers, &fewer, &c.path, at),
                Err(VerifyError::SignedParamMissing(encode_component(&gone).to_lowercase()))
            );
        }

        // Any changed character of q-signature.
        let hex = sig.signature.as_bytes();
        let i = index % hex.len();
        let mut flipped = hex.to_vec();
        let r = b"0123456789abcdef"[usize::from(replacement)];
        flipped[i] = if r == hex[i] { b'g' } else { r };
        // A digit that is not hex is refused as it is parsed; any other change
        // is a MAC mismatch.
        let want = if flipped[i] == b'g' {
            VerifyError::Malformed("q-signature is not 40 hex digits")
        } else {
            VerifyError::SignatureMismatch
        };
        let mut bad = sig.clone();
        bad.signature = String::from_utf8(flipped).unwrap();
        prop_assert_eq!(
            c.check(&bad.to_authorization(), &c.creds, &c.headers, &c.params, &c.path, at),
            Err(want)
        );
    }

    #[test]
    fn v5_query_form(
        c in v5_case(),
        unsigned in param_pairs(),
        index in any::<usize>(),
    ) {
        let kt = c.key_time();
        let (h, p) = (borrow(&c.headers), borrow(&c.params));
        let req = Request { method: c.method, path: &c.path, params: &p, headers: &h };
        let sig = v5::sign(&c.creds, &req, kt);
        let q = sig.to_query_pairs();

        // The URL carries the signed parameters, the q-* ones, and perhaps
        // parameters that were not signed (a name not already present).
        let mut url: Vec<(String, String)> = c.params.clone();
        let signed: Vec<String> = c.params.iter().map(|(k, _)| encode_component(k).to_lowercase()).collect();
        url.extend(
            unsigned
                .into_iter()
                .filter(|(k, _)| !signed.contains(&encode_component(k).to_lowercase())),
        );
        url.extend(q.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        let url_ref = borrow(&url);

        let parsed = ParsedAuthorization::from_query(&url_ref).unwrap().unwrap();
        prop_assert_eq!(&parsed.param_list, &sig.param_list);
        prop_assert!(parsed.param_list.iter().all(|n| !n.starts_with("q-")));
        let full = Request { method: c.method, path: &c.path, params: &url_ref, headers: &h };
        prop_assert_eq!(v5::verify(&parsed, &c.creds, &full, c.start, SKEW), Ok(()));

        if !c.params.is_empty() {
            let i = index % c.params.len();
            let mut changed = url.clone();
            changed[i].1.push('x');
            let changed_ref = borrow(&changed);
            let req2 = Request { params: &changed_ref, ..full };
            prop_assert_eq!(
                v5::verify(&parsed, &c.creds, &req2, c.start, SKEW),
                Err(VerifyError::SignatureMismatch)
            );
        }
    }
}

// ---------------------------------------------------------------- POST policy

fn policy_fields(form: &PolicyForm, key: &str) -> Vec<(String, String)> {
    vec![
        ("policy".into(), form.policy.clone()),
        ("q-sign-algorithm".into(), form.q_sign_algorithm.into()),
        ("q-ak".into(), form.q_ak.clone()),
        ("q-key-time".into(), form.q_key_time.clone()),
        ("q-signature".into(), form.q_signature.clone()),
        ("key".into(), key.to_owned()),
    ]
}

fn policy_verify(
    fields: &[(String, String)],
    creds: &Credentials,
    bucket: &str,
    now: u64,
) -> Result<policy::Accepted, VerifyError> {
    let lookup = |name: &str| -> Option<String> {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    policy::verify(creds, &lookup, bucket, now, SKEW)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn policy_sign_then_verify(
        (id, key) in (secret_id(), secret()),
        bucket in "[a-z0-9][a-z0-9-]{0,20}-[1-9][0-9]{4,11}",
        prefix in path(),
        leaf in segment(),
        start in now(),
        ttl in ttl(),
        max in 1u64..u64::MAX,
        other_secret in secret(),
        index in any::<usize>(),
        bit in any::<u8>(),
    ) {
        let creds = Credentials::new(id, key);
        let kt = KeyTime::new(start, start + ttl).unwrap();
        let dir = format!("{}/", &prefix[1..]);
        let pol = PostPolicy::for_upload(
            &creds,
            &bucket,
            kt,
            vec![
                Condition::StartsWith("key".into(), dir.clone()),
                Condition::ContentLengthRange(1, max),
            ],
        );
        // The policy text survives a parse.
        prop_assert_eq!(PostPolicy::from_json(pol.to_json().as_bytes()).unwrap(), pol.clone());

        let form = policy::sign(&creds, kt, &pol).unwrap();
        let object = format!("{dir}{leaf}");
        let fields = policy_fields(&form, &object);
        let accepted = policy_verify(&fields, &creds, &bucket, start).unwrap();
        prop_assert_eq!(accepted.content_length_range, Some((1, max)));
        prop_assert_eq!(accepted.check_size(max), Ok(()));
        if let Some(over) = max.checked_add(1) {
            let r = accepted.check_size(over);
            prop_assert!(matches!(r, Err(VerifyError::PolicyCondition(_))), "{:?}", r);
        }
        let r = accepted.check_size(0);
        prop_assert!(matches!(r, Err(VerifyError::PolicyCondition(_))), "{:?}", r);

        // Key outside the prefix, other bucket, late, other secret.
        let outside = format!("{}x/{leaf}", &prefix[1..]);
        prop_assert_eq!(
            policy_verify(&policy_fields(&form, &outside), &creds, &bucket, start).map(|_| ()),
            Err(VerifyError::PathNotAllowed)
        );
        prop_assert_eq!(
            policy_verify(&fields, &creds, &format!("x{bucket}"), start).map(|_| ()),
            Err(VerifyError::BucketMismatch)
        );
        let late = policy_verify(&fields, &creds, &bucket, kt.end + SKEW + 1);
        prop_assert!(matches!(late, Err(VerifyError::Expired { .. })), "{:?}", late);
        if other_secret != creds.secret_key.expose_secret() {
            let wrong = Credentials::new(creds.secret_id.clone(), other_secret);
            prop_assert_eq!(
                policy_verify(&fields, &wrong, &bucket, start).map(|_| ()),
                Err(VerifyError::SignatureMismatch)
            );
        }

        // One bit of the policy text changed.
        let mut text = STANDARD.decode(&form.policy).unwrap();
        let i = index % text.len();
        text[i] ^= 1 << (bit % 8);
        let mut tampered = fields.clone();
        tampered[0].1 = STANDARD.encode(&text);
        // Refused when its MAC is checked, or before if the bytes are no longer UTF-8.
        let r = policy_verify(&tampered, &creds, &bucket, start);
        prop_assert!(
            matches!(
                r,
                Err(VerifyError::SignatureMismatch | VerifyError::Malformed("policy is not UTF-8"))
            ),
            "{:?}",
            r
        );
    }
}
