//! Hostile JWTs: the classic attacks on a token verifier, built by hand.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Sha256, Sha384};

fn part(v: &Value) -> String {
    B64.encode(v.to_string().as_bytes())
}

fn hs256(secret: &[u8], msg: &str) -> String {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("any key length");
    m.update(msg.as_bytes());
    B64.encode(m.finalize().into_bytes())
}

fn hs384(secret: &[u8], msg: &str) -> String {
    let mut m = <Hmac<Sha384> as Mac>::new_from_slice(secret).expect("any key length");
    m.update(msg.as_bytes());
    B64.encode(m.finalize().into_bytes())
}

/// Header and claims of a valid token, as JSON values to tamper with.
pub fn split(token: &str) -> (Value, Value, String) {
    let mut it = token.split('.');
    let h = it.next().expect("header");
    let c = it.next().expect("claims");
    let s = it.next().expect("signature");
    let dec =
        |x: &str| -> Value { serde_json::from_slice(&B64.decode(x).expect("b64")).expect("json") };
    (dec(h), dec(c), s.to_owned())
}

/// Signs `header.claims` with HS256 and `secret` (a correctly signed token with chosen claims).
pub fn sign_hs256(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let msg = format!("{}.{}", part(header), part(claims));
    let sig = hs256(secret, &msg);
    format!("{msg}.{sig}")
}

/// The battery: (name, token) pairs that a correct verifier must all refuse.
/// `valid` is a token the server issued; `secret` is the server's JWT secret (the attacker
/// does not have it, except to show that even correctly signed bad claims are refused).
pub fn battery(valid: &str, secret: &[u8], now: u64) -> Vec<(&'static str, String)> {
    let (header, claims, sig) = split(valid);
    let mut out = Vec::new();

    // alg none, with and without a signature.
    let none = serde_json::json!({"alg": "none", "typ": "JWT"});
    out.push((
        "alg none, empty signature",
        format!("{}.{}.", part(&none), part(&claims)),
    ));
    out.push((
        "alg none, original signature",
        format!("{}.{}.{sig}", part(&none), part(&claims)),
    ));
    // Another HMAC algorithm with the right secret: algorithm not allowed.
    let h384 = serde_json::json!({"alg": "HS384", "typ": "JWT"});
    let msg = format!("{}.{}", part(&h384), part(&claims));
    out.push(("alg HS384", format!("{msg}.{}", hs384(secret, &msg))));
    // Algorithm confusion: RS256 header, HMAC signature.
    let rs = serde_json::json!({"alg": "RS256", "typ": "JWT"});
    let msg = format!("{}.{}", part(&rs), part(&claims));
    out.push((
        "alg RS256 header with HMAC signature",
        format!("{msg}.{}", hs256(secret, &msg)),
    ));
    // Tampered payload, original signature.
    let mut c2 = claims.clone();
    c2["sub"] = Value::String("1".into());
    out.push((
        "tampered sub",
        format!("{}.{}.{sig}", part(&header), part(&c2)),
    ));
    // Tampered signature.
    let mut bad_sig = sig.clone().into_bytes();
    bad_sig[0] = if bad_sig[0] == b'A' { b'B' } else { b'A' };
    out.push((
        "tampered signature",
        format!(
            "{}.{}.{}",
            part(&header),
            part(&claims),
            String::from_utf8(bad_sig).expect("ascii")
        ),
    ));
    // Signed with another secret.
    out.push((
        "wrong secret",
        sign_hs256(&header, &claims, b"another-secret-another-secret-123"),
    ));
    // Correctly signed, bad claims.
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = claims.clone();
        f(&mut c);
        sign_hs256(&header, &c, secret)
    };
    out.push((
        "expired an hour ago",
        with(&|c| {
            c["iat"] = (now - 7200).into();
            c["exp"] = (now - 3600).into();
        }),
    ));
    out.push((
        "issued in the future",
        with(&|c| {
            c["iat"] = (now + 3600).into();
            c["exp"] = (now + 7200).into();
        }),
    ));
    out.push((
        "exp as a string",
        with(&|c| c["exp"] = Value::String("never".into())),
    ));
    out.push((
        "wrong issuer",
        with(&|c| c["iss"] = Value::String("evil".into())),
    ));
    out.push((
        "wrong audience",
        with(&|c| c["aud"] = Value::String("evil".into())),
    ));
    out.push((
        "no sub",
        with(&|c| {
            c.as_object_mut().expect("object").remove("sub");
        }),
    ));
    out.push((
        "no exp",
        with(&|c| {
            c.as_object_mut().expect("object").remove("exp");
        }),
    ));
    out.push(("garbage", "not.a.token".to_owned()));
    out.push(("two parts", format!("{}.{}", part(&header), part(&claims))));
    out
}
