//! Published and independently computed signatures, reproduced byte for byte
//! and then accepted by the matching verifier.
//!
//! Two kinds of vectors:
//! * `DOC-*` and the v4 doc example are Tencent's own worked examples: the v5
//!   request signature (<https://cloud.tencent.com/document/product/436/7778>),
//!   the POST Object policy (<https://cloud.tencent.com/document/product/436/14690>)
//!   and the `Authorization` header of the v4 upload API
//!   (<https://cloud.tencent.com/document/api/436/6066>, whose MAC cannot be
//!   recomputed since its key is not published, so only its decoding is checked).
//! * `V4-*` and `V5-*` were computed for this workspace by a separate Python
//!   implementation of the documented algorithms (`hmac`, `hashlib`, and
//!   `urllib.parse.quote(path, safe="~/")` for the v4 path), with the made-up
//!   credentials below; that implementation reproduces the `DOC-*` values too.
//!
//! The tests are data: one table per signature family and one `check_*` helper
//! that signs, compares every published intermediate value, checks the decoded
//! v4 bytes (MAC then plaintext) and finally verifies the result.

// Helpers outside `#[test]` functions fail loudly too; clippy.toml's test
// allowances only cover the test functions themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cos_sign::policy::{self, Condition, PostPolicy};
use cos_sign::v4::{self, FieldOrder};
use cos_sign::v5::{self, KeyTime, ParsedAuthorization, Request};
use cos_sign::{Credentials, SecretKey};

const APPID: &str = "1250000000";
const SID: &str = "AKIDExampleSecretId0000000000000000";
const SKEY: &str = "ExampleSecretKey0123456789abcdef";
const BUCKET: &str = "metis";
const NOW: u64 = 1_500_000_000;
const RAND: u64 = 123_456_789;

const DOC_ID: &str = "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q";
const DOC_KEY: &str = "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz";

const HOST: &str = "metis-1250000000.cos.ap-shanghai.myqcloud.com";

fn creds() -> Credentials {
    Credentials::new(SID, SKEY)
}

// ---------------------------------------------------------------- v4

enum V4Kind {
    Multi {
        bound: Option<&'static str>,
        expires_at: u64,
        order: FieldOrder,
    },
    Single {
        path: &'static str,
    },
}

struct V4Case {
    name: &'static str,
    kind: V4Kind,
    plain: &'static str,
    /// `None` where the script prints no HMAC line (V4-1b).
    hmac: Option<&'static str>,
    sign: &'static str,
    /// The request path the verifier is asked about.
    verify_path: &'static str,
}

const V4_CASES: &[V4Case] = &[
    V4Case {
        name: "V4-1",
        kind: V4Kind::Multi {
            bound: None,
            expires_at: NOW + 3600,
            order: FieldOrder::Akvtrfb,
        },
        plain: "a=1250000000&k=AKIDExampleSecretId0000000000000000&e=1500003600&t=1500000000&r=123456789&f=&b=metis",
        hmac: Some("8e8d67d1890b04affb6637ffd6c9daee5bf01bd4"),
        sign: "jo1n0YkLBK/7Zjf/1sna7lvwG9RhPTEyNTAwMDAwMDAmaz1BS0lERXhhbXBsZVNlY3JldElkMDAwMDAwMDAwMDAwMDAwMCZlPTE1MDAwMDM2MDAmdD0xNTAwMDAwMDAwJnI9MTIzNDU2Nzg5JmY9JmI9bWV0aXM=",
        verify_path: "/anywhere/in/the/bucket.jpg",
    },
    V4Case {
        name: "V4-2",
        kind: V4Kind::Multi {
            bound: Some("/xrzeti"),
            expires_at: NOW + 3600,
            order: FieldOrder::Akvtrfb,
        },
        plain: "a=1250000000&k=AKIDExampleSecretId0000000000000000&e=1500003600&t=1500000000&r=123456789&f=/1250000000/metis/xrzeti&b=metis",
        hmac: Some("bd7edfb6f3470877f4533304272be0d3dbe3d4b6"),
        sign: "vX7ftvNHCHf0UzMEJyvg09vj1LZhPTEyNTAwMDAwMDAmaz1BS0lERXhhbXBsZVNlY3JldElkMDAwMDAwMDAwMDAwMDAwMCZlPTE1MDAwMDM2MDAmdD0xNTAwMDAwMDAwJnI9MTIzNDU2Nzg5JmY9LzEyNTAwMDAwMDAvbWV0aXMveHJ6ZXRpJmI9bWV0aXM=",
        verify_path: "/xrzeti/a.jpg",
    },
    V4Case {
        name: "V4-3",
        kind: V4Kind::Single {
            path: "/xrzeti/测试 图片.jpg",
        },
        plain: "a=1250000000&k=AKIDExampleSecretId0000000000000000&e=0&t=1500000000&r=123456789&f=/1250000000/metis/xrzeti/%E6%B5%8B%E8%AF%95%20%E5%9B%BE%E7%89%87.jpg&b=metis",
        hmac: Some("6fad1b1f0aaa7ca4c651aa4f187628e2c32da8b1"),
        sign: "b60bHwqqfKTGUapPGHYo4sMtqLFhPTEyNTAwMDAwMDAmaz1BS0lERXhhbXBsZVNlY3JldElkMDAwMDAwMDAwMDAwMDAwMCZlPTAmdD0xNTAwMDAwMDAwJnI9MTIzNDU2Nzg5JmY9LzEyNTAwMDAwMDAvbWV0aXMveHJ6ZXRpLyVFNiVCNSU4QiVFOCVBRiU5NSUyMCVFNSU5QiVCRSVFNyU4OSU4Ny5qcGcmYj1tZXRpcw==",
        verify_path: "/xrzeti/测试 图片.jpg",
    },
    V4Case {
        name: "V4-1b",
        kind: V4Kind::Multi {
            bound: None,
            expires_at: NOW + 3600,
            order: FieldOrder::Abketrf,
        },
        plain: "a=1250000000&b=metis&k=AKIDExampleSecretId0000000000000000&e=1500003600&t=1500000000&r=123456789&f=",
        hmac: None,
        sign: "ZIpVWaRbWR4c37ElJcMvBlbRJVphPTEyNTAwMDAwMDAmYj1tZXRpcyZrPUFLSURFeGFtcGxlU2VjcmV0SWQwMDAwMDAwMDAwMDAwMDAwJmU9MTUwMDAwMzYwMCZ0PTE1MDAwMDAwMDAmcj0xMjM0NTY3ODkmZj0=",
        verify_path: "/xrzeti/a.jpg",
    },
];

fn check_v4(case: &V4Case) {
    let creds = creds();
    let signer = v4::Signer {
        appid: APPID,
        bucket: BUCKET,
        credentials: &creds,
    };
    let sign = match case.kind {
        V4Kind::Multi {
            bound,
            expires_at,
            order,
        } => signer.multi_effect_with_order(bound, expires_at, NOW, RAND, order),
        V4Kind::Single { path } => signer.single_effect(path, NOW, RAND),
    }
    .unwrap_or_else(|e| panic!("{}: signing failed: {e}", case.name));
    assert_eq!(sign, case.sign, "{}: sign", case.name);

    // The decoded bytes are the 20-byte MAC followed by the plaintext.
    let raw = STANDARD.decode(&sign).unwrap();
    assert_eq!(
        raw.len(),
        20 + case.plain.len(),
        "{}: decoded length",
        case.name
    );
    assert_eq!(
        &raw[20..],
        case.plain.as_bytes(),
        "{}: plaintext",
        case.name
    );
    if let Some(hmac) = case.hmac {
        assert_eq!(hex::encode(&raw[..20]), hmac, "{}: hmac", case.name);
    }

    // `parse` agrees with the bytes.
    let (claims, mac, plain) = v4::parse(&sign).unwrap();
    assert_eq!(mac.as_slice(), &raw[..20], "{}: parsed mac", case.name);
    assert_eq!(plain, case.plain.as_bytes(), "{}: parsed plain", case.name);
    assert_eq!(claims.appid, APPID);
    assert_eq!(claims.secret_id, SID);
    assert_eq!(claims.bucket, BUCKET);
    assert_eq!(claims.issued_at, NOW);
    assert_eq!(claims.nonce, RAND);

    // And the verifier accepts it for the request it was made for.
    let expect = v4::Expect {
        appid: APPID,
        bucket: BUCKET,
        path: case.verify_path,
        now: NOW + 100,
        max_skew: 0,
    };
    let verified = v4::verify(&sign, &creds, &expect)
        .unwrap_or_else(|e| panic!("{}: verify failed: {e}", case.name));
    assert_eq!(verified, claims, "{}: verified claims", case.name);
}

#[test]
fn v4_vectors() {
    for case in V4_CASES {
        check_v4(case);
    }
}

#[test]
fn v4_2_decodes_to_143_bytes() {
    let case = V4_CASES.iter().find(|c| c.name == "V4-2").unwrap();
    assert_eq!(STANDARD.decode(case.sign).unwrap().len(), 143);
}

#[test]
fn v4_doc_example_decodes() {
    let doc = "VKQg5H9I/QMj/tzkk2M3JOljFr9hPTEwMDU1MDA0Jms9QUtJRHpuOHd3S3VYanhpeFFBa1JCQzJEUlhCdFBkN0NybEpRJmU9MTQ3MjY0NjAzOCZ0PTE0NzI2NDU4NTgmcj0xMjUyMDk1MjM5JmY9JmI9YWNjZXNzbG9n";
    let (claims, mac, plain) = v4::parse(doc).unwrap();
    assert_eq!(
        plain,
        b"a=10055004&k=AKIDzn8wwKuXjxixQAkRBC2DRXBtPd7CrlJQ&e=1472646038&t=1472645858&r=1252095239&f=&b=accesslog"
    );
    assert_eq!(hex::encode(mac), "54a420e47f48fd0323fedce493633724e96316bf");
    assert_eq!(
        claims,
        v4::Claims {
            appid: "10055004".into(),
            secret_id: "AKIDzn8wwKuXjxixQAkRBC2DRXBtPd7CrlJQ".into(),
            expires_at: 1_472_646_038,
            issued_at: 1_472_645_858,
            nonce: 1_252_095_239,
            fileid: String::new(),
            bucket: "accesslog".into(),
        }
    );
    assert!(!claims.is_single_effect());
}

#[test]
fn v4_encoding_reference() {
    assert_eq!(
        cos_sign::encode_path("/a/b(1)!'*~ c.jpg"),
        "/a/b%281%29%21%27%2A~%20c.jpg"
    );
}

// ---------------------------------------------------------------- v5

struct V5Case {
    name: &'static str,
    secret_id: &'static str,
    secret_key: &'static str,
    method: &'static str,
    path: &'static str,
    params: &'static [(&'static str, &'static str)],
    headers: &'static [(&'static str, &'static str)],
    key_time: (u64, u64),
    sign_key: Option<&'static str>,
    http_string: Option<&'static str>,
    string_to_sign: Option<&'static str>,
    /// The third line of StringToSign (`hex(sha1(HttpString))`), where only that is published.
    http_string_sha1: Option<&'static str>,
    signature: &'static str,
    authorization: Option<&'static str>,
}

const V5_CASES: &[V5Case] = &[
    V5Case {
        name: "DOC-PUT",
        secret_id: DOC_ID,
        secret_key: DOC_KEY,
        method: "PUT",
        path: "/exampleobject(腾讯云)",
        params: &[],
        headers: &[
            ("Date", "Thu, 16 May 2019 06:45:51 GMT"),
            (
                "Host",
                "examplebucket-1250000000.cos.ap-beijing.myqcloud.com",
            ),
            ("Content-Type", "text/plain"),
            ("Content-Length", "13"),
            ("Content-MD5", "mQ/fVh815F3k6TAUm8m0eg=="),
            ("x-cos-acl", "private"),
            ("x-cos-grant-read", "uin=\"100000000011\""),
        ],
        key_time: (1_557_989_151, 1_557_996_351),
        sign_key: Some("eb2519b498b02ac213cb1f3d1a3d27a3b3c9bc5f"),
        http_string: None,
        string_to_sign: None,
        http_string_sha1: Some("8b2751e77f43a0995d6e9eb9477f4b685cca4172"),
        signature: "3b8851a11a569213c17ba8fa7dcf2abec6935172",
        authorization: None,
    },
    V5Case {
        name: "DOC-GET",
        secret_id: DOC_ID,
        secret_key: DOC_KEY,
        method: "GET",
        path: "/exampleobject(腾讯云)",
        params: &[
            ("response-content-type", "application/octet-stream"),
            ("response-cache-control", "max-age=600"),
        ],
        headers: &[
            ("Date", "Thu, 16 May 2019 06:55:53 GMT"),
            (
                "Host",
                "examplebucket-1250000000.cos.ap-beijing.myqcloud.com",
            ),
        ],
        key_time: (1_557_989_753, 1_557_996_953),
        sign_key: None,
        http_string: None,
        string_to_sign: None,
        http_string_sha1: None,
        signature: "01681b8c9d798a678e43b685a9f1bba0f6c0e012",
        authorization: None,
    },
    V5Case {
        name: "V5-1",
        secret_id: SID,
        secret_key: SKEY,
        method: "PUT",
        path: "/xrzeti/测试 图片.jpg",
        params: &[],
        headers: &[("Host", HOST)],
        key_time: (1_500_000_000, 1_500_003_600),
        sign_key: Some("5d4a1bea42caf5baa8dda8fcc76c719d0cc0dd93"),
        http_string: Some(
            "put\n/xrzeti/测试 图片.jpg\n\nhost=metis-1250000000.cos.ap-shanghai.myqcloud.com\n",
        ),
        string_to_sign: Some(
            "sha1\n1500000000;1500003600\n84f16dd53fa042ad7ddf18e0ea77648718eafa56\n",
        ),
        http_string_sha1: None,
        signature: "a67dfb8d94fea36604a19ab2b65ec9a71491c4b8",
        authorization: Some(
            "q-sign-algorithm=sha1&q-ak=AKIDExampleSecretId0000000000000000&q-sign-time=1500000000;1500003600&q-key-time=1500000000;1500003600&q-header-list=host&q-url-param-list=&q-signature=a67dfb8d94fea36604a19ab2b65ec9a71491c4b8",
        ),
    },
    V5Case {
        name: "V5-2",
        secret_id: SID,
        secret_key: SKEY,
        method: "POST",
        path: "/",
        params: &[],
        headers: &[("Host", HOST), ("Content-Type", "image/jpeg")],
        key_time: (1_500_000_000, 1_500_003_600),
        sign_key: Some("5d4a1bea42caf5baa8dda8fcc76c719d0cc0dd93"),
        http_string: Some(
            "post\n/\n\ncontent-type=image%2Fjpeg&host=metis-1250000000.cos.ap-shanghai.myqcloud.com\n",
        ),
        string_to_sign: Some(
            "sha1\n1500000000;1500003600\nd073dfb75c477a49f08ae5d27b9320f6109abda8\n",
        ),
        http_string_sha1: None,
        signature: "de45c0e0771cc4476786192e623a81169fd35783",
        authorization: Some(
            "q-sign-algorithm=sha1&q-ak=AKIDExampleSecretId0000000000000000&q-sign-time=1500000000;1500003600&q-key-time=1500000000;1500003600&q-header-list=content-type;host&q-url-param-list=&q-signature=de45c0e0771cc4476786192e623a81169fd35783",
        ),
    },
];

fn check_v5(case: &V5Case) {
    let creds = Credentials::new(case.secret_id, case.secret_key);
    let kt = KeyTime::new(case.key_time.0, case.key_time.1).unwrap();
    let req = Request {
        method: case.method,
        path: case.path,
        params: case.params,
        headers: case.headers,
    };

    let http = v5::http_string(&req);
    if let Some(expected) = case.http_string {
        assert_eq!(http, expected, "{}: HttpString", case.name);
    }
    let sts = v5::string_to_sign(kt, &http);
    if let Some(expected) = case.string_to_sign {
        assert_eq!(sts, expected, "{}: StringToSign", case.name);
    }
    if let Some(expected) = case.http_string_sha1 {
        assert_eq!(
            sts.split('\n').nth(2),
            Some(expected),
            "{}: StringToSign sha1 line",
            case.name
        );
    }
    if let Some(expected) = case.sign_key {
        assert_eq!(
            v5::sign_key(&SecretKey::new(case.secret_key), kt),
            expected,
            "{}: SignKey",
            case.name
        );
    }

    let sig = v5::sign(&creds, &req, kt);
    assert_eq!(sig.signature, case.signature, "{}: Signature", case.name);
    let auth = sig.to_authorization();
    if let Some(expected) = case.authorization {
        assert_eq!(auth, expected, "{}: Authorization", case.name);
    }

    // Header form verifies inside the window.
    let now = case.key_time.0 + 10;
    let parsed = ParsedAuthorization::from_header(&auth).unwrap();
    v5::verify(&parsed, &creds, &req, now, 0)
        .unwrap_or_else(|e| panic!("{}: header verify failed: {e}", case.name));

    // So does the presigned-URL form, with the q-* parameters among the request's own.
    let q = sig.to_query_pairs();
    let mut all: Vec<(&str, &str)> = case.params.to_vec();
    all.extend(q.iter().map(|(k, v)| (*k, v.as_str())));
    let parsed_q = ParsedAuthorization::from_query(&all).unwrap().unwrap();
    assert_eq!(
        parsed_q, parsed,
        "{}: query and header parse alike",
        case.name
    );
    let req_q = Request {
        params: &all,
        ..req
    };
    v5::verify(&parsed_q, &creds, &req_q, now, 0)
        .unwrap_or_else(|e| panic!("{}: query verify failed: {e}", case.name));
}

#[test]
fn v5_vectors() {
    for case in V5_CASES {
        check_v5(case);
    }
}

// ---------------------------------------------------------------- POST policy

struct PolicyCase {
    name: &'static str,
    secret_id: &'static str,
    secret_key: &'static str,
    key_time: (u64, u64),
    /// `None`: the policy text is given as base64 (`policy_b64`) and signed as is.
    built: Option<fn() -> PostPolicy>,
    policy_text: Option<&'static str>,
    policy_b64: Option<&'static str>,
    sign_key: &'static str,
    string_to_sign: &'static str,
    signature: &'static str,
    /// Form fields (besides the signature fields) the verifier sees, and the bucket posted to.
    form: &'static [(&'static str, &'static str)],
    bucket: &'static str,
    now: u64,
}

fn v5_3_policy() -> PostPolicy {
    let kt = KeyTime::new(1_500_000_000, 1_500_003_600).unwrap();
    PostPolicy::for_upload(
        &creds(),
        "metis-1250000000",
        kt,
        vec![Condition::StartsWith("key".into(), "xrzeti/".into())],
    )
}

const DOC_POLICY_B64: &str = "ewogICAgImV4cGlyYXRpb24iOiAiMjAxOS0wOC0zMFQwOTozODoxMi40MTRaIiwKICAgICJjb25kaXRpb25zIjogWwogICAgICAgIHsgImFjbCI6ICJkZWZhdWx0IiB9LAogICAgICAgIHsgImJ1Y2tldCI6ICJleGFtcGxlYnVja2V0LTEyNTAwMDAwMDAiIH0sCiAgICAgICAgWyAic3RhcnRzLXdpdGgiLCAiJGtleSIsICJmb2xkZXIvc3ViZm9sZGVyLyIgXSwKICAgICAgICBbICJzdGFydHMtd2l0aCIsICIkQ29udGVudC1UeXBlIiwgImltYWdlLyIgXSwKICAgICAgICBbICJzdGFydHMtd2l0aCIsICIkc3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiLCAiaHR0cHM6Ly9teS53ZWJzaXRlLyIgXSwKICAgICAgICBbICJlcSIsICIkeC1jb3Mtc2VydmVyLXNpZGUtZW5jcnlwdGlvbiIsICJBRVMyNTYiIF0sCiAgICAgICAgeyAicS1zaWduLWFsZ29yaXRobSI6ICJzaGExIiB9LAogICAgICAgIHsgInEtYWsiOiAiQUtJRFFqejNsdG9tcFZqQm5pNUxpdGtXSEZsRnB3a245VTVxIiB9LAogICAgICAgIHsgInEtc2lnbi10aW1lIjogIjE1NjcxNTA2OTI7MTU2NzE1Nzg5MiIgfQogICAgXQp9";

const POLICY_CASES: &[PolicyCase] = &[
    PolicyCase {
        name: "V5-3",
        secret_id: SID,
        secret_key: SKEY,
        key_time: (1_500_000_000, 1_500_003_600),
        built: Some(v5_3_policy),
        policy_text: Some(
            r#"{"expiration":"2017-07-14T03:40:00.000Z","conditions":[{"q-sign-algorithm":"sha1"},{"q-ak":"AKIDExampleSecretId0000000000000000"},{"q-sign-time":"1500000000;1500003600"},{"bucket":"metis-1250000000"},["starts-with","$key","xrzeti/"]]}"#,
        ),
        policy_b64: Some(
            "eyJleHBpcmF0aW9uIjoiMjAxNy0wNy0xNFQwMzo0MDowMC4wMDBaIiwiY29uZGl0aW9ucyI6W3sicS1zaWduLWFsZ29yaXRobSI6InNoYTEifSx7InEtYWsiOiJBS0lERXhhbXBsZVNlY3JldElkMDAwMDAwMDAwMDAwMDAwMCJ9LHsicS1zaWduLXRpbWUiOiIxNTAwMDAwMDAwOzE1MDAwMDM2MDAifSx7ImJ1Y2tldCI6Im1ldGlzLTEyNTAwMDAwMDAifSxbInN0YXJ0cy13aXRoIiwiJGtleSIsInhyemV0aS8iXV19",
        ),
        sign_key: "5d4a1bea42caf5baa8dda8fcc76c719d0cc0dd93",
        string_to_sign: "49083b50276463e5c34ab5f44cc14f94eb02e6ab",
        signature: "1bc34a23255e1014e9314e2a812dfc2811bd24f2",
        form: &[("key", "xrzeti/a.jpg")],
        bucket: "metis-1250000000",
        now: 1_500_000_100,
    },
    PolicyCase {
        name: "DOC-POST",
        secret_id: DOC_ID,
        secret_key: DOC_KEY,
        key_time: (1_567_150_692, 1_567_157_892),
        built: None,
        policy_text: None,
        policy_b64: Some(DOC_POLICY_B64),
        sign_key: "39acc8c9f34ba5b19bce4e965b370cd3f62d2fba",
        string_to_sign: "d5d903b8360468bc81c1311f134989bc8c8b5b89",
        signature: "7758dc9a832e9d301dca704cacbf9d9f8172fdef",
        form: &[
            ("acl", "default"),
            ("key", "folder/subfolder/photo.jpg"),
            ("Content-Type", "image/jpeg"),
            ("success_action_redirect", "https://my.website/done"),
            ("x-cos-server-side-encryption", "AES256"),
        ],
        bucket: "examplebucket-1250000000",
        now: 1_567_150_700,
    },
];

fn check_policy(case: &PolicyCase) {
    let creds = Credentials::new(case.secret_id, case.secret_key);
    let kt = KeyTime::new(case.key_time.0, case.key_time.1).unwrap();
    let text = match case.built {
        Some(build) => build().to_json(),
        None => String::from_utf8(STANDARD.decode(case.policy_b64.unwrap()).unwrap()).unwrap(),
    };
    if let Some(expected) = case.policy_text {
        assert_eq!(text, expected, "{}: policy text", case.name);
    }
    assert_eq!(
        v5::sign_key(&creds.secret_key, kt),
        case.sign_key,
        "{}: SignKey",
        case.name
    );
    assert_eq!(
        hex::encode(<sha1::Sha1 as sha1::Digest>::digest(text.as_bytes())),
        case.string_to_sign,
        "{}: StringToSign",
        case.name
    );
    assert_eq!(
        policy::policy_signature(&creds, kt, &text),
        case.signature,
        "{}: signature",
        case.name
    );

    let form = match case.built {
        Some(build) => policy::sign(&creds, kt, &build()).unwrap(),
        None => policy::sign_text(&creds, kt, &text),
    };
    assert_eq!(
        form.q_signature, case.signature,
        "{}: form signature",
        case.name
    );
    assert_eq!(form.q_ak, case.secret_id);
    assert_eq!(form.q_sign_algorithm, "sha1");
    assert_eq!(form.q_key_time, format!("{};{}", kt.start, kt.end));
    if let Some(expected) = case.policy_b64 {
        assert_eq!(form.policy, expected, "{}: policy base64", case.name);
    }

    // The verifier accepts the form exactly as a client would send it: the
    // signature fields plus the case's own fields, and nothing else.
    let mut fields: Vec<(String, String)> = vec![
        ("policy".into(), form.policy.clone()),
        ("q-sign-algorithm".into(), form.q_sign_algorithm.into()),
        ("q-ak".into(), form.q_ak.clone()),
        ("q-key-time".into(), form.q_key_time.clone()),
        ("q-signature".into(), form.q_signature.clone()),
    ];
    fields.extend(
        case.form
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let lookup = |name: &str| -> Option<String> {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let accepted = policy::verify(&creds, &lookup, case.bucket, case.now, 0)
        .unwrap_or_else(|e| panic!("{}: verify failed: {e}", case.name));
    assert_eq!(
        accepted.policy,
        PostPolicy::from_json(text.as_bytes()).unwrap()
    );
}

#[test]
fn policy_vectors() {
    for case in POLICY_CASES {
        check_policy(case);
    }
}
