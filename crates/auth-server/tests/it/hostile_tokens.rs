//! Every malformed, forged or stale token is refused with 401.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::*;

fn hs256(secret: &str, header: &Value, claims: &Value) -> String {
    let h = B64.encode(header.to_string());
    let c = B64.encode(claims.to_string());
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{h}.{c}").as_bytes());
    format!("{h}.{c}.{}", B64.encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn hostile_tokens_are_401() {
    let app = spawn_app().await;
    let (good, id) = app.token("alice").await;
    let now = now();
    let claims = |f: &dyn Fn(&mut Value)| {
        let mut c = json!({"sub": id.to_string(), "iss": "metis-auth", "aud": "metis-upload",
                           "iat": now, "exp": now + 600});
        f(&mut c);
        c
    };
    let secret = app.jwt_secret.clone();
    let hs384 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS384),
        &claims(&|_| {}),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    let none = format!(
        "{}.{}.",
        B64.encode(json!({"alg": "none", "typ": "JWT"}).to_string()),
        B64.encode(claims(&|_| {}).to_string())
    );
    // RS256 header, HMAC-SHA256 body keyed with the secret: algorithm confusion.
    let rs256 = hs256(
        &secret,
        &json!({"alg": "RS256", "typ": "JWT"}),
        &claims(&|_| {}),
    );
    let parts: Vec<&str> = good.split('.').collect();
    let other_payload = B64.encode(claims(&|c| c["sub"] = json!("999")).to_string());
    let tampered_payload = format!("{}.{}.{}", parts[0], other_payload, parts[2]);
    let mut sig = B64.decode(parts[2]).unwrap();
    sig[0] ^= 1;
    let tampered_sig = format!("{}.{}.{}", parts[0], parts[1], B64.encode(sig));
    let forge = |f: &dyn Fn(&mut Value)| app.forge(&claims(f));
    let cases: Vec<(&str, String, &str)> = vec![
        ("alg none", format!("JWT {none}"), "invalid_token"),
        ("HS384", format!("JWT {hs384}"), "invalid_token"),
        ("RS256 confusion", format!("JWT {rs256}"), "invalid_token"),
        (
            "tampered payload",
            format!("JWT {tampered_payload}"),
            "invalid_token",
        ),
        (
            "tampered signature",
            format!("JWT {tampered_sig}"),
            "invalid_token",
        ),
        (
            "other secret",
            format!(
                "JWT {}",
                hs256(
                    "another-secret-another-secret-xx",
                    &json!({"alg":"HS256","typ":"JWT"}),
                    &claims(&|_| {})
                )
            ),
            "invalid_token",
        ),
        (
            "expired beyond leeway",
            format!(
                "JWT {}",
                forge(&|c| {
                    c["iat"] = json!(now - 1000);
                    c["exp"] = json!(now - 31);
                })
            ),
            "token_expired",
        ),
        (
            "future iat",
            format!("JWT {}", forge(&|c| c["iat"] = json!(now + 120))),
            "invalid_token",
        ),
        (
            "iat an hour ahead",
            format!("JWT {}", forge(&|c| c["iat"] = json!(now + 3600))),
            "invalid_token",
        ),
        (
            "nbf an hour ahead",
            format!("JWT {}", forge(&|c| c["nbf"] = json!(now + 3600))),
            "invalid_token",
        ),
        (
            "nbf beyond the leeway",
            format!("JWT {}", forge(&|c| c["nbf"] = json!(now + 120))),
            "invalid_token",
        ),
        (
            "nbf as string",
            format!("JWT {}", forge(&|c| c["nbf"] = json!("later"))),
            "invalid_token",
        ),
        (
            "wrong iss",
            format!("JWT {}", forge(&|c| c["iss"] = json!("evil"))),
            "invalid_token",
        ),
        (
            "wrong aud",
            format!("JWT {}", forge(&|c| c["aud"] = json!("other"))),
            "invalid_token",
        ),
        (
            "missing sub",
            format!(
                "JWT {}",
                forge(&|c| {
                    c.as_object_mut().unwrap().remove("sub");
                })
            ),
            "invalid_token",
        ),
        (
            "missing iat",
            format!(
                "JWT {}",
                forge(&|c| {
                    c.as_object_mut().unwrap().remove("iat");
                })
            ),
            "invalid_token",
        ),
        (
            "missing exp",
            format!(
                "JWT {}",
                forge(&|c| {
                    c.as_object_mut().unwrap().remove("exp");
                })
            ),
            "invalid_token",
        ),
        (
            "exp as string",
            format!("JWT {}", forge(&|c| c["exp"] = json!("never"))),
            "invalid_token",
        ),
        (
            "sub not a user id",
            format!("JWT {}", forge(&|c| c["sub"] = json!("../1"))),
            "invalid_token",
        ),
        (
            "sub zero-padded",
            format!("JWT {}", forge(&|c| c["sub"] = json!(format!("0{id}")))),
            "invalid_token",
        ),
        ("garbage", "JWT garbage".into(), "invalid_token"),
        ("empty", String::new(), "invalid_token"),
        ("missing scheme", good.clone(), "invalid_token"),
        ("lowercase jwt", format!("jwt {good}"), "invalid_token"),
        (
            "lowercase bearer",
            format!("bearer {good}"),
            "invalid_token",
        ),
        ("double space", format!("JWT  {good}"), "invalid_token"),
        ("trailing garbage", format!("JWT {good} x"), "invalid_token"),
        ("Basic", format!("Basic {good}"), "invalid_token"),
    ];
    for (name, header, code) in cases {
        let r = app.v4(Some(&header), None).await;
        assert!(r.headers().contains_key("www-authenticate"), "{name}");
        let v = expect_error(r, 401, code).await;
        assert!(!v.to_string().contains(&secret), "{name}");
    }
    // Missing header.
    let r = app.v4(None, None).await;
    assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"metis\"");
    expect_error(r, 401, "missing_token").await;
    // Two Authorization headers.
    let r = app
        .http
        .get(app.url(shared::routes::V4_SIGN))
        .header("Authorization", format!("JWT {good}"))
        .header("Authorization", format!("JWT {good}"))
        .send()
        .await
        .unwrap();
    expect_error(r, 401, "invalid_token").await;

    // A token that is not valid yet says so (clock skew is its likely cause).
    for early in [
        forge(&|c| c["nbf"] = json!(now + 3600)),
        forge(&|c| c["iat"] = json!(now + 3600)),
    ] {
        let v = expect_error(
            app.v4(Some(&format!("JWT {early}")), None).await,
            401,
            "invalid_token",
        )
        .await;
        assert!(
            v["message"].as_str().unwrap().contains("not valid yet"),
            "{v}"
        );
    }

    // Inside the leeway is still fine (exp just passed, nbf or iat a little
    // ahead, as a clock skewed by seconds makes them); Bearer works too.
    for within in [
        forge(&|c| {
            c["iat"] = json!(now - 1000);
            c["exp"] = json!(now - 5);
        }),
        forge(&|c| c["nbf"] = json!(now + 10)),
        forge(&|c| c["iat"] = json!(now + 10)),
        forge(&|c| {
            c["iat"] = json!(now + 10);
            c["nbf"] = json!(now + 10);
        }),
        forge(&|c| c["nbf"] = json!(now - 10)),
    ] {
        let r = app.v4(Some(&format!("JWT {within}")), None).await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    assert_eq!(
        app.v4(Some(&format!("Bearer {good}")), None).await.status(),
        200
    );
    // Every signing endpoint checks the token first, even with a bad body.
    for path in [shared::routes::V5_SIGN, shared::routes::POST_POLICY] {
        let r = app
            .http
            .post(app.url(path))
            .body("not json")
            .send()
            .await
            .unwrap();
        expect_error(r, 401, "missing_token").await;
    }
}
