//! Every way verification can refuse, each pinned to its exact `VerifyError`,
//! plus the signing-side errors and the secret redaction.

// Helpers outside `#[test]` functions fail loudly too; clippy.toml's test
// allowances only cover the test functions themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cos_sign::policy::{self, Condition, PolicyForm, PostPolicy};
use cos_sign::v4;
use cos_sign::v5::{self, KeyTime, ParsedAuthorization, Request};
use cos_sign::{Credentials, SecretKey, SignError, VerifyError};
use hmac::{Hmac, Mac};
use sha1::Sha1;

const APPID: &str = "1250000000";
const SID: &str = "AKIDExampleSecretId0000000000000000";
const SKEY: &str = "ExampleSecretKey0123456789abcdef";
const BUCKET: &str = "metis";
const NOW: u64 = 1_500_000_000;
const SKEW: u64 = 60;

fn creds() -> Credentials {
    Credentials::new(SID, SKEY)
}

fn signer(creds: &Credentials) -> v4::Signer<'_> {
    v4::Signer {
        appid: APPID,
        bucket: BUCKET,
        credentials: creds,
    }
}

/// A v4 signature over an arbitrary plaintext, with a correct MAC, so that only
/// the plaintext's own defect can make verification fail.
fn forge(plain: &str) -> String {
    let mut m = <Hmac<Sha1> as Mac>::new_from_slice(SKEY.as_bytes()).unwrap();
    m.update(plain.as_bytes());
    let mut raw = m.finalize().into_bytes().to_vec();
    raw.extend_from_slice(plain.as_bytes());
    STANDARD.encode(raw)
}

fn expect(path: &str, now: u64) -> v4::Expect<'_> {
    v4::Expect {
        appid: APPID,
        bucket: BUCKET,
        path,
        now,
        max_skew: SKEW,
    }
}

fn v4_check(sign: &str, path: &str, now: u64) -> Result<v4::Claims, VerifyError> {
    v4::verify(sign, &creds(), &expect(path, now))
}

fn multi(bound: Option<&str>) -> String {
    signer(&creds())
        .multi_effect(bound, NOW + 3600, NOW, 42)
        .unwrap()
}

// ---------------------------------------------------------------- v4 format

#[test]
fn v4_malformed_base64() {
    assert_eq!(
        v4_check("not*base64!", "/a", NOW),
        Err(VerifyError::Malformed("not standard base64"))
    );
    // URL-safe alphabet is not the standard one.
    let urlsafe = multi(None).replace('/', "_").replace('+', "-");
    if urlsafe != multi(None) {
        assert_eq!(
            v4_check(&urlsafe, "/a", NOW),
            Err(VerifyError::Malformed("not standard base64"))
        );
    }
    assert_eq!(
        v4_check(&STANDARD.encode([7u8; 20]), "/a", NOW),
        Err(VerifyError::Malformed("too short"))
    );
}

#[test]
fn v4_missing_field() {
    let sign = forge(
        "a=1250000000&k=AKIDExampleSecretId0000000000000000&e=1500003600&t=1500000000&r=1&f=",
    );
    assert_eq!(
        v4_check(&sign, "/a", NOW),
        Err(VerifyError::Malformed("missing field"))
    );
}

#[test]
fn v4_repeated_field() {
    let sign = forge(
        "a=1250000000&k=AKIDExampleSecretId0000000000000000&e=1500003600&t=1500000000&r=1&f=&b=metis&b=other",
    );
    assert_eq!(
        v4_check(&sign, "/a", NOW),
        Err(VerifyError::Malformed("repeated field"))
    );
}

#[test]
fn v4_unknown_field() {
    let sign = forge(
        "a=1250000000&k=AKIDExampleSecretId0000000000000000&e=1500003600&t=1500000000&r=1&f=&b=metis&x=1",
    );
    assert_eq!(
        v4_check(&sign, "/a", NOW),
        Err(VerifyError::Malformed("unknown field"))
    );
}

#[test]
fn v4_non_numeric_and_backwards_times() {
    let sign = forge(
        "a=1250000000&k=AKIDExampleSecretId0000000000000000&e=soon&t=1500000000&r=1&f=&b=metis",
    );
    assert_eq!(
        v4_check(&sign, "/a", NOW),
        Err(VerifyError::Malformed("e is not a number"))
    );
    let sign = forge(
        "a=1250000000&k=AKIDExampleSecretId0000000000000000&e=1499999999&t=1500000000&r=1&f=&b=metis",
    );
    assert_eq!(
        v4_check(&sign, "/a", NOW),
        Err(VerifyError::Malformed("e is not after t"))
    );
}

// ---------------------------------------------------------------- v4 checks

#[test]
fn v4_unknown_secret_id() {
    let other = Credentials::new("AKIDSomebodyElse", SKEY);
    assert_eq!(
        v4::verify(&multi(None), &other, &expect("/a", NOW)),
        Err(VerifyError::UnknownSecretId)
    );
}

#[test]
fn v4_mac_mismatch() {
    let wrong = Credentials::new(SID, "AnotherSecretKey");
    let sign = signer(&wrong)
        .multi_effect(None, NOW + 3600, NOW, 42)
        .unwrap();
    assert_eq!(
        v4_check(&sign, "/a", NOW),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn v4_key_store_slice_finds_the_right_secret() {
    let keys = vec![Credentials::new("AKIDOther", "x"), creds()];
    assert_eq!(
        v4::verify(&multi(None), &keys, &expect("/a", NOW)).map(|_| ()),
        Ok(())
    );
    assert_eq!(
        v4::verify(&multi(None), keys.as_slice(), &expect("/a", NOW)).map(|_| ()),
        Ok(())
    );
}

#[test]
fn v4_appid_and_bucket_mismatch() {
    let sign = multi(None);
    let mut e = expect("/a", NOW);
    e.appid = "1250000001";
    assert_eq!(
        v4::verify(&sign, &creds(), &e),
        Err(VerifyError::AppIdMismatch)
    );
    let mut e = expect("/a", NOW);
    e.bucket = "metis2";
    assert_eq!(
        v4::verify(&sign, &creds(), &e),
        Err(VerifyError::BucketMismatch)
    );
}

#[test]
fn v4_expired_and_accepted_within_skew() {
    let sign = multi(None);
    let e = NOW + 3600;
    assert_eq!(v4_check(&sign, "/a", e).map(|_| ()), Ok(()));
    assert_eq!(v4_check(&sign, "/a", e + SKEW).map(|_| ()), Ok(()));
    assert_eq!(
        v4_check(&sign, "/a", e + SKEW + 1),
        Err(VerifyError::Expired {
            expired_at: e,
            now: e + SKEW + 1
        })
    );
}

#[test]
fn v4_not_yet_valid() {
    let sign = multi(None);
    assert_eq!(v4_check(&sign, "/a", NOW - SKEW).map(|_| ()), Ok(()));
    assert_eq!(
        v4_check(&sign, "/a", NOW - SKEW - 1),
        Err(VerifyError::NotYetValid {
            valid_from: NOW,
            now: NOW - SKEW - 1
        })
    );
    let once = signer(&creds()).single_effect("/a", NOW, 1).unwrap();
    assert_eq!(
        v4_check(&once, "/a", NOW - SKEW - 1),
        Err(VerifyError::NotYetValid {
            valid_from: NOW,
            now: NOW - SKEW - 1
        })
    );
}

#[test]
fn v4_single_effect_is_bound_to_exactly_one_path() {
    let once = signer(&creds())
        .single_effect("/u/12/a.jpg", NOW, 1)
        .unwrap();
    let claims = v4_check(&once, "/u/12/a.jpg", NOW).unwrap();
    assert!(claims.is_single_effect());
    for other in ["/u/12/b.jpg", "/u/12/a.jpg/x", "/u/12/", "/u/12/a.jpg2"] {
        assert_eq!(
            v4_check(&once, other, NOW),
            Err(VerifyError::PathNotAllowed),
            "{other}"
        );
    }
    // A single-effect signature without a fileid binds nothing, so it allows nothing.
    let unbound =
        forge("a=1250000000&k=AKIDExampleSecretId0000000000000000&e=0&t=1500000000&r=1&f=&b=metis");
    assert_eq!(
        v4_check(&unbound, "/u/12/a.jpg", NOW),
        Err(VerifyError::PathNotAllowed)
    );
}

#[test]
fn v4_multi_effect_prefix_is_matched_on_whole_segments() {
    let sign = multi(Some("/u/12"));
    for ok in ["/u/12", "/u/12/", "/u/12/x", "/u/12/x/y.jpg"] {
        assert_eq!(v4_check(&sign, ok, NOW).map(|_| ()), Ok(()), "{ok}");
    }
    for refused in ["/u/123/x", "/u/123", "/u/1", "/u/", "/", "/v/12/x"] {
        assert_eq!(
            v4_check(&sign, refused, NOW),
            Err(VerifyError::PathNotAllowed),
            "{refused}"
        );
    }
    // A directory bound with a trailing slash covers what is below it.
    let dir = multi(Some("/u/12/"));
    assert_eq!(v4_check(&dir, "/u/12/x", NOW).map(|_| ()), Ok(()));
    assert_eq!(
        v4_check(&dir, "/u/123/x", NOW),
        Err(VerifyError::PathNotAllowed)
    );
}

#[test]
fn v4_dot_segments_never_escape_the_bound() {
    let sign = multi(Some("/u/12"));
    for sneaky in ["/u/12/../13/x", "/u/12/./x", "/u/12/..", "/u/12/a/../../13"] {
        assert_eq!(
            v4_check(&sign, sneaky, NOW),
            Err(VerifyError::PathNotAllowed),
            "{sneaky}"
        );
    }
    assert!(v4::path_within("/u/12/a..b/x", "/u/12"));
    assert!(v4::path_within("/u/12/x", "/u/12/"));
    assert!(!v4::path_within("/u/12/../x", "/u/12/"));
}

#[test]
fn v4_fileid_naming_another_bucket_or_appid_is_refused() {
    // `b=metis` but `f` points into bucket `metis2`, which merely shares a prefix.
    let sign = forge(
        "a=1250000000&k=AKIDExampleSecretId0000000000000000&e=1500003600&t=1500000000&r=1&f=/1250000000/metis2/u/12&b=metis",
    );
    assert_eq!(
        v4_check(&sign, "/u/12/x", NOW),
        Err(VerifyError::PathNotAllowed)
    );
    let sign = forge(
        "a=1250000000&k=AKIDExampleSecretId0000000000000000&e=1500003600&t=1500000000&r=1&f=/1250000001/metis/u/12&b=metis",
    );
    assert_eq!(
        v4_check(&sign, "/u/12/x", NOW),
        Err(VerifyError::PathNotAllowed)
    );
}

#[test]
fn v4_fileid_bound_to_bucket_root_allows_everything() {
    let sign = multi(Some("/"));
    assert_eq!(v4_check(&sign, "/anything/at/all", NOW).map(|_| ()), Ok(()));
}

#[test]
fn v4_js_style_fileid_is_accepted() {
    // `encodeURIComponent(path).replace(/%2F/g, '/')` leaves `!'()*` raw.
    let sign = forge(
        "a=1250000000&k=AKIDExampleSecretId0000000000000000&e=0&t=1500000000&r=1&f=/1250000000/metis/u/a(1)!'*%20%E5%9B%BE.jpg&b=metis",
    );
    assert_eq!(
        v4_check(&sign, "/u/a(1)!'* 图.jpg", NOW).map(|_| ()),
        Ok(())
    );
    assert_eq!(
        v4_check(&sign, "/u/a(1)!'* 图.png", NOW),
        Err(VerifyError::PathNotAllowed)
    );
}

#[test]
fn v4_node_style_fileid_with_encoded_slashes_is_accepted() {
    // `encodeURIComponent('/' + appid + '/' + bucket + '/' + folder)`.
    let sign = forge(
        "a=1250000000&k=AKIDExampleSecretId0000000000000000&e=1500003600&t=1500000000&r=1&f=%2F1250000000%2Fmetis%2Fu%2F12&b=metis",
    );
    assert_eq!(v4_check(&sign, "/u/12/x.jpg", NOW).map(|_| ()), Ok(()));
    assert_eq!(
        v4_check(&sign, "/u/123/x.jpg", NOW),
        Err(VerifyError::PathNotAllowed)
    );
}

#[test]
fn v4_fileid_that_is_not_utf8_is_malformed() {
    let sign = forge(
        "a=1250000000&k=AKIDExampleSecretId0000000000000000&e=0&t=1500000000&r=1&f=/1250000000/metis/%FF&b=metis",
    );
    assert_eq!(
        v4_check(&sign, "/x", NOW),
        Err(VerifyError::Malformed("f is not UTF-8"))
    );
}

// ---------------------------------------------------------------- v4 signing errors

#[test]
fn v4_sign_errors() {
    let c = creds();
    let s = signer(&c);
    assert_eq!(
        s.multi_effect(None, NOW, NOW, 1),
        Err(SignError::ExpiryNotAfterNow {
            expires_at: NOW,
            now: NOW
        })
    );
    assert_eq!(
        s.multi_effect(None, NOW + 1, NOW, 10_000_000_000),
        Err(SignError::NonceTooLarge(10_000_000_000))
    );
    assert_eq!(
        s.multi_effect(None, NOW + 1, NOW, 9_999_999_999)
            .map(|_| ()),
        Ok(())
    );
    assert_eq!(
        s.single_effect("a.jpg", NOW, 1),
        Err(SignError::RelativePath("a.jpg".into()))
    );
    let bad = v4::Signer {
        bucket: "me&b=tis",
        ..s
    };
    assert_eq!(
        bad.multi_effect(None, NOW + 1, NOW, 1),
        Err(SignError::BadField { field: "bucket" })
    );
    let bad = v4::Signer { appid: "", ..s };
    assert_eq!(
        bad.multi_effect(None, NOW + 1, NOW, 1),
        Err(SignError::BadField { field: "appid" })
    );
    let sneaky = Credentials::new("AKID=x", SKEY);
    assert_eq!(
        signer(&sneaky).multi_effect(None, NOW + 1, NOW, 1),
        Err(SignError::BadField { field: "secret_id" })
    );
}

// ---------------------------------------------------------------- v5

const HOST: &str = "metis-1250000000.cos.ap-shanghai.myqcloud.com";

fn kt() -> KeyTime {
    KeyTime::new(NOW, NOW + 3600).unwrap()
}

fn put_request<'a>(
    headers: &'a [(&'a str, &'a str)],
    params: &'a [(&'a str, &'a str)],
) -> Request<'a> {
    Request {
        method: "PUT",
        path: "/u/12/a b.jpg",
        params,
        headers,
    }
}

fn v5_check(auth: &str, req: &Request<'_>, now: u64) -> Result<(), VerifyError> {
    let parsed = ParsedAuthorization::from_header(auth)?;
    v5::verify(&parsed, &creds(), req, now, SKEW)
}

#[test]
fn v5_header_round_trip_and_time_window() {
    let headers = [("Host", HOST), ("x-cos-meta-a", "1")];
    let req = put_request(&headers, &[]);
    let auth = v5::sign(&creds(), &req, kt()).to_authorization();
    assert_eq!(v5_check(&auth, &req, NOW), Ok(()));
    assert_eq!(v5_check(&auth, &req, NOW - SKEW), Ok(()));
    assert_eq!(v5_check(&auth, &req, NOW + 3600 + SKEW), Ok(()));
    assert_eq!(
        v5_check(&auth, &req, NOW + 3600 + SKEW + 1),
        Err(VerifyError::Expired {
            expired_at: NOW + 3600,
            now: NOW + 3600 + SKEW + 1
        })
    );
    assert_eq!(
        v5_check(&auth, &req, NOW - SKEW - 1),
        Err(VerifyError::NotYetValid {
            valid_from: NOW,
            now: NOW - SKEW - 1
        })
    );
}

#[test]
fn v5_malformed_authorizations() {
    let headers = [("Host", HOST)];
    let req = put_request(&headers, &[]);
    let auth = v5::sign(&creds(), &req, kt()).to_authorization();
    let cases = [
        (
            auth.replace("&q-ak=", "&q-ak"),
            VerifyError::Malformed("field without '='"),
        ),
        (
            format!("{auth}&q-extra=1"),
            VerifyError::Malformed("unknown field"),
        ),
        (
            format!("{auth}&q-ak=AKID"),
            VerifyError::Malformed("repeated field"),
        ),
        (
            auth.replace("&q-url-param-list=", "&q-ignored="),
            VerifyError::Malformed("unknown field"),
        ),
        (
            auth.split("&q-signature=").next().unwrap().to_owned(),
            VerifyError::Malformed("missing field"),
        ),
        (
            auth.replace("q-sign-algorithm=sha1", "q-sign-algorithm=sha256"),
            VerifyError::UnsupportedAlgorithm,
        ),
        (
            auth.replace(&format!("q-key-time={}", kt()), "q-key-time=later"),
            VerifyError::Malformed("key time is not start;end"),
        ),
        (
            auth.replace(
                &format!("q-key-time={}", kt()),
                &format!("q-key-time={};{}", NOW + 5, NOW),
            ),
            VerifyError::Malformed("key time ends before it starts"),
        ),
        (
            format!("{}0", auth),
            VerifyError::Malformed("q-signature is not 40 hex digits"),
        ),
    ];
    for (text, err) in cases {
        assert_eq!(v5_check(&text, &req, NOW), Err(err), "{text}");
    }
}

#[test]
fn v5_unknown_secret_id_and_mac_mismatch() {
    let headers = [("Host", HOST)];
    let req = put_request(&headers, &[]);
    let auth = v5::sign(&Credentials::new("AKIDNobody", SKEY), &req, kt()).to_authorization();
    assert_eq!(
        v5_check(&auth, &req, NOW),
        Err(VerifyError::UnknownSecretId)
    );
    let auth = v5::sign(&Credentials::new(SID, "wrong"), &req, kt()).to_authorization();
    assert_eq!(
        v5_check(&auth, &req, NOW),
        Err(VerifyError::SignatureMismatch)
    );
    // Another method or path is another request.
    let auth = v5::sign(&creds(), &req, kt()).to_authorization();
    let get = Request {
        method: "GET",
        ..req
    };
    assert_eq!(
        v5_check(&auth, &get, NOW),
        Err(VerifyError::SignatureMismatch)
    );
    let other = Request {
        path: "/u/12/b.jpg",
        ..req
    };
    assert_eq!(
        v5_check(&auth, &other, NOW),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn v5_signed_header_missing() {
    let signed = [("Host", HOST), ("x-cos-meta-a", "1")];
    let req = put_request(&signed, &[]);
    let auth = v5::sign(&creds(), &req, kt()).to_authorization();
    let sent = [("Host", HOST)];
    assert_eq!(
        v5_check(&auth, &put_request(&sent, &[]), NOW),
        Err(VerifyError::SignedHeaderMissing("x-cos-meta-a".into()))
    );
    // Header names compare case-insensitively; unsigned extra headers are ignored.
    let sent = [
        ("HOST", HOST),
        ("X-Cos-Meta-A", "1"),
        ("user-agent", "test"),
    ];
    assert_eq!(v5_check(&auth, &put_request(&sent, &[]), NOW), Ok(()));
    // A changed value is a mismatch.
    let sent = [("Host", HOST), ("x-cos-meta-a", "2")];
    assert_eq!(
        v5_check(&auth, &put_request(&sent, &[]), NOW),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn v5_signed_param_missing() {
    let headers = [("Host", HOST)];
    let params = [("uploadId", "abc"), ("partNumber", "3")];
    let req = put_request(&headers, &params);
    let auth = v5::sign(&creds(), &req, kt()).to_authorization();
    assert!(
        auth.contains("&q-url-param-list=partnumber;uploadid&"),
        "{auth}"
    );
    assert_eq!(
        v5_check(&auth, &put_request(&headers, &[("uploadId", "abc")]), NOW),
        Err(VerifyError::SignedParamMissing("partnumber".into()))
    );
    assert_eq!(
        v5_check(
            &auth,
            &put_request(&headers, &[("uploadId", "abc"), ("partNumber", "4")]),
            NOW
        ),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn v5_presigned_query_form() {
    let headers = [("Host", HOST)];
    let params = [("response-content-type", "image/jpeg")];
    let req = Request {
        method: "GET",
        path: "/u/12/图 1.jpg",
        params: &params,
        headers: &headers,
    };
    let sig = v5::sign(&creds(), &req, kt());
    let pairs = sig.to_query_pairs();
    let mut query: Vec<(&str, &str)> = params.to_vec();
    query.extend(pairs.iter().map(|(k, v)| (*k, v.as_str())));

    let parsed = ParsedAuthorization::from_query(&query).unwrap().unwrap();
    // The q-* parameters are the signature itself, not signed parameters.
    assert_eq!(parsed.param_list, vec!["response-content-type".to_owned()]);
    assert!(parsed.param_list.iter().all(|p| !p.starts_with("q-")));
    let full = Request {
        params: &query,
        ..req
    };
    assert_eq!(v5::verify(&parsed, &creds(), &full, NOW, SKEW), Ok(()));

    // Dropping the signed parameter from the URL is caught.
    let without: Vec<(&str, &str)> = query
        .iter()
        .copied()
        .filter(|(k, _)| *k != "response-content-type")
        .collect();
    let stripped = Request {
        params: &without,
        ..req
    };
    assert_eq!(
        v5::verify(&parsed, &creds(), &stripped, NOW, SKEW),
        Err(VerifyError::SignedParamMissing(
            "response-content-type".into()
        ))
    );

    // No q-* parameters at all: not a presigned URL.
    assert_eq!(ParsedAuthorization::from_query(&params), Ok(None));
    // Only some of them: malformed.
    assert_eq!(
        ParsedAuthorization::from_query(&[("q-ak", SID)]),
        Err(VerifyError::Malformed("missing field"))
    );
}

#[test]
fn v5_key_time_rejects_reversed_window() {
    assert_eq!(
        KeyTime::new(NOW + 1, NOW),
        Err(SignError::KeyTimeReversed {
            start: NOW + 1,
            end: NOW
        })
    );
}

#[test]
fn v5_decode_path() {
    assert_eq!(
        v5::decode_path("/exampleobject(%E8%85%BE%E8%AE%AF%E4%BA%91)").unwrap(),
        "/exampleobject(腾讯云)"
    );
    assert_eq!(
        v5::decode_path("/%FF"),
        Err(VerifyError::Malformed("path is not UTF-8 after decoding"))
    );
}

#[test]
fn v5_sign_time_is_covered_by_the_signature() {
    // The SDKs derive the key from q-key-time and put q-sign-time in the string
    // to sign; a client may send a sign time narrower than its key time.
    let headers = [("Host", HOST)];
    let req = put_request(&headers, &[]);
    let key_time = kt();
    let sign_time = KeyTime::new(NOW + 10, NOW + 600).unwrap();
    let key = v5::sign_key(&SecretKey::new(SKEY), key_time);
    let sts = v5::string_to_sign(sign_time, &v5::http_string(&req));
    let mut m = <Hmac<Sha1> as Mac>::new_from_slice(key.as_bytes()).unwrap();
    m.update(sts.as_bytes());
    let signature = hex::encode(m.finalize().into_bytes());
    let auth = format!(
        "q-sign-algorithm=sha1&q-ak={SID}&q-sign-time={sign_time}&q-key-time={key_time}&q-header-list=host&q-url-param-list=&q-signature={signature}"
    );
    assert_eq!(v5_check(&auth, &req, NOW + 100), Ok(()));
    // The sign time bounds validity too.
    assert_eq!(
        v5_check(&auth, &req, NOW + 600 + SKEW + 1),
        Err(VerifyError::Expired {
            expired_at: NOW + 600,
            now: NOW + 600 + SKEW + 1
        })
    );
    // Widening q-sign-time after the fact breaks the signature.
    let widened = auth.replace(
        &format!("q-sign-time={sign_time}"),
        &format!("q-sign-time={key_time}"),
    );
    assert_eq!(
        v5_check(&widened, &req, NOW + 100),
        Err(VerifyError::SignatureMismatch)
    );
}

// ---------------------------------------------------------------- POST policy

const BUCKET_FULL: &str = "metis-1250000000";

fn signed_policy(extra: Vec<Condition>, expiration: Option<u64>) -> PolicyForm {
    let mut p = PostPolicy::for_upload(&creds(), BUCKET_FULL, kt(), extra);
    if let Some(e) = expiration {
        p.expiration = e;
    }
    policy::sign(&creds(), kt(), &p).unwrap()
}

fn policy_check(
    form: &PolicyForm,
    extra_fields: &[(&str, &str)],
    bucket: &str,
    now: u64,
) -> Result<policy::Accepted, VerifyError> {
    let mut fields: Vec<(String, String)> = vec![
        ("policy".into(), form.policy.clone()),
        ("q-sign-algorithm".into(), form.q_sign_algorithm.into()),
        ("q-ak".into(), form.q_ak.clone()),
        ("q-key-time".into(), form.q_key_time.clone()),
        ("q-signature".into(), form.q_signature.clone()),
    ];
    fields.extend(
        extra_fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let lookup = move |name: &str| -> Option<String> {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    policy::verify(&creds(), &lookup, bucket, now, SKEW)
}

fn key_prefix() -> Condition {
    Condition::StartsWith("key".into(), "u/12/".into())
}

#[test]
fn policy_round_trip() {
    let form = signed_policy(vec![key_prefix()], None);
    let accepted = policy_check(&form, &[("key", "u/12/a.jpg")], BUCKET_FULL, NOW).unwrap();
    assert_eq!(accepted.content_length_range, None);
    assert_eq!(accepted.check_size(u64::MAX), Ok(()));
}

#[test]
fn policy_expired() {
    // The policy's own expiration, earlier than the key time's end.
    let form = signed_policy(vec![key_prefix()], Some(NOW + 600));
    let fields = [("key", "u/12/a.jpg")];
    assert_eq!(
        policy_check(&form, &fields, BUCKET_FULL, NOW + 600 + SKEW).map(|_| ()),
        Ok(())
    );
    assert_eq!(
        policy_check(&form, &fields, BUCKET_FULL, NOW + 601 + SKEW).map(|_| ()),
        Err(VerifyError::Expired {
            expired_at: NOW + 600,
            now: NOW + 601 + SKEW
        })
    );
    // The key time's end.
    let form = signed_policy(vec![key_prefix()], None);
    assert_eq!(
        policy_check(&form, &fields, BUCKET_FULL, NOW + 3601 + SKEW).map(|_| ()),
        Err(VerifyError::Expired {
            expired_at: NOW + 3600,
            now: NOW + 3601 + SKEW
        })
    );
    assert_eq!(
        policy_check(&form, &fields, BUCKET_FULL, NOW - SKEW - 1).map(|_| ()),
        Err(VerifyError::NotYetValid {
            valid_from: NOW,
            now: NOW - SKEW - 1
        })
    );
}

#[test]
fn policy_sign_refuses_expiration_before_key_time() {
    let mut p = PostPolicy::for_upload(&creds(), BUCKET_FULL, kt(), vec![]);
    p.expiration = NOW - 1;
    assert_eq!(
        policy::sign(&creds(), kt(), &p),
        Err(SignError::ExpiryNotAfterNow {
            expires_at: NOW - 1,
            now: NOW
        })
    );
}

#[test]
fn policy_wrong_bucket() {
    let form = signed_policy(vec![key_prefix()], None);
    assert_eq!(
        policy_check(&form, &[("key", "u/12/a.jpg")], "other-1250000000", NOW).map(|_| ()),
        Err(VerifyError::BucketMismatch)
    );
}

#[test]
fn policy_key_outside_prefix() {
    let form = signed_policy(vec![key_prefix()], None);
    for key in ["u/123/a.jpg", "u/1/a.jpg", "x/u/12/a.jpg"] {
        assert_eq!(
            policy_check(&form, &[("key", key)], BUCKET_FULL, NOW).map(|_| ()),
            Err(VerifyError::PathNotAllowed),
            "{key}"
        );
    }
    assert_eq!(
        policy_check(&form, &[], BUCKET_FULL, NOW).map(|_| ()),
        Err(VerifyError::PathNotAllowed),
        "absent key"
    );
}

#[test]
fn policy_eq_and_exact_conditions() {
    let form = signed_policy(
        vec![
            key_prefix(),
            Condition::Eq("Content-Type".into(), "image/jpeg".into()),
            Condition::Exact("success_action_status".into(), "201".into()),
            Condition::StartsWith("x-cos-meta-owner".into(), "u12".into()),
        ],
        None,
    );
    let good = [
        ("key", "u/12/a.jpg"),
        ("content-type", "image/jpeg"),
        ("success_action_status", "201"),
        ("x-cos-meta-owner", "u12-phone"),
    ];
    assert_eq!(
        policy_check(&form, &good, BUCKET_FULL, NOW).map(|_| ()),
        Ok(())
    );
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[
                ("key", "u/12/a.jpg"),
                ("content-type", "image/png"),
                ("success_action_status", "201"),
                ("x-cos-meta-owner", "u12"),
            ],
            "Content-Type must equal \"image/jpeg\"",
        ),
        (
            &[
                ("key", "u/12/a.jpg"),
                ("success_action_status", "201"),
                ("x-cos-meta-owner", "u12"),
            ],
            "Content-Type must equal \"image/jpeg\"",
        ),
        (
            &[
                ("key", "u/12/a.jpg"),
                ("content-type", "image/jpeg"),
                ("success_action_status", "200"),
                ("x-cos-meta-owner", "u12"),
            ],
            "success_action_status must equal \"201\"",
        ),
        (
            &[
                ("key", "u/12/a.jpg"),
                ("content-type", "image/jpeg"),
                ("success_action_status", "201"),
                ("x-cos-meta-owner", "u13"),
            ],
            "x-cos-meta-owner must start with \"u12\"",
        ),
    ];
    for (fields, msg) in cases {
        assert_eq!(
            policy_check(&form, fields, BUCKET_FULL, NOW).map(|_| ()),
            Err(VerifyError::PolicyCondition(msg.into()))
        );
    }
    // The q-ak condition is checked against the form's q-ak.
    let mut forged = form.clone();
    forged.q_ak = "AKIDOther".into();
    assert_eq!(
        policy_check(&forged, &good, BUCKET_FULL, NOW).map(|_| ()),
        Err(VerifyError::UnknownSecretId)
    );
}

#[test]
fn policy_content_length_range() {
    let form = signed_policy(
        vec![key_prefix(), Condition::ContentLengthRange(1, 1024)],
        None,
    );
    let accepted = policy_check(&form, &[("key", "u/12/a.jpg")], BUCKET_FULL, NOW).unwrap();
    assert_eq!(accepted.content_length_range, Some((1, 1024)));
    assert_eq!(accepted.check_size(1), Ok(()));
    assert_eq!(accepted.check_size(1024), Ok(()));
    assert_eq!(
        accepted.check_size(0),
        Err(VerifyError::PolicyCondition(
            "file size 0 is outside content-length-range 1..=1024".into()
        ))
    );
    assert_eq!(
        accepted.check_size(1025),
        Err(VerifyError::PolicyCondition(
            "file size 1025 is outside content-length-range 1..=1024".into()
        ))
    );

    let reversed = signed_policy(vec![Condition::ContentLengthRange(10, 1)], None);
    assert_eq!(
        policy_check(&reversed, &[], BUCKET_FULL, NOW).map(|_| ()),
        Err(VerifyError::Malformed("content-length-range is reversed"))
    );
}

#[test]
fn policy_tampered_text() {
    let form = signed_policy(vec![key_prefix()], None);
    let text = String::from_utf8(STANDARD.decode(&form.policy).unwrap()).unwrap();
    let mut tampered = form.clone();
    tampered.policy = STANDARD.encode(text.replace("u/12/", "u/"));
    assert_eq!(
        policy_check(&tampered, &[("key", "u/99/a.jpg")], BUCKET_FULL, NOW).map(|_| ()),
        Err(VerifyError::SignatureMismatch)
    );
    let mut tampered = form.clone();
    tampered.q_key_time = format!("{};{}", NOW, NOW + 7200);
    assert_eq!(
        policy_check(&tampered, &[("key", "u/12/a.jpg")], BUCKET_FULL, NOW).map(|_| ()),
        Err(VerifyError::SignatureMismatch)
    );
    let mut tampered = form;
    tampered.policy = "%%%".into();
    assert_eq!(
        policy_check(&tampered, &[("key", "u/12/a.jpg")], BUCKET_FULL, NOW).map(|_| ()),
        Err(VerifyError::Malformed("policy is not base64"))
    );
}

#[test]
fn policy_missing_form_fields() {
    let form = signed_policy(vec![key_prefix()], None);
    let lookup = |name: &str| -> Option<String> {
        match name {
            "policy" => Some(form.policy.clone()),
            "q-sign-algorithm" => Some("sha1".into()),
            _ => None,
        }
    };
    assert_eq!(
        policy::verify(&creds(), &lookup, BUCKET_FULL, NOW, SKEW).map(|_| ()),
        Err(VerifyError::Malformed("q-ak"))
    );
}

// ---------------------------------------------------------------- redaction

#[test]
fn secrets_never_print() {
    let secret = "SuperSecretValue123";
    let key = SecretKey::new(secret);
    let c = Credentials::new(SID, secret);
    for text in [
        format!("{key:?}"),
        format!("{key}"),
        format!("{key:#?}"),
        format!("{c:?}"),
        format!("{c:#?}"),
    ] {
        assert!(!text.contains(secret), "{text}");
        assert!(!text.contains("Super"), "{text}");
    }
    assert!(format!("{c:?}").contains(SID));
    assert_eq!(key.expose_secret(), secret);
}

#[test]
fn errors_never_carry_the_secret() {
    let headers = [("Host", HOST)];
    let req = put_request(&headers, &[]);
    let auth = v5::sign(&Credentials::new(SID, "wrong"), &req, kt()).to_authorization();
    let err = v5_check(&auth, &req, NOW).unwrap_err();
    assert!(!format!("{err} {err:?}").contains(SKEY));
}
