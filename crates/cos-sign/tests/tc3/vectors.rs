//! Tencent's worked examples of TC3-HMAC-SHA256, reproduced byte for byte.
//!
//! * V1: the POST example of <https://cloud.tencent.com/document/product/215/36792>
//!   (CVM `DescribeInstances`, `SignedHeaders=content-type;host`), with every
//!   intermediate value the page prints.
//! * V2: the GET example of the common-parameters page
//!   <https://cloud.tencent.com/document/api/270/35296>.
//! * V3: V1 sent with `Content-Type: application/json` (no charset, what the
//!   Python SDK sends). Not published: computed here and by
//!   tencentcloud-sdk-python-common's signer, which agree. A verifier that
//!   normalised the content type would accept V1's signature for it.
//! * The `x-tc-action` variant: the current version of the page
//!   (<https://cloud.tencent.com/document/api/213/30654>) signs
//!   `content-type;host;x-tc-action` with a masked key, printing its
//!   `SecretSigning` and signature, so the step from the string to sign on is
//!   checked with them; with the example key above that request signs to
//!   `644be983…` (computed, like V3).

use cos_sign::tc3::{self, Method, Request};

use super::{DOC_ID, doc_creds, post, verify_as_sent};

/// V1's body: ASCII, with the `\u` escapes Python's `json.dumps` writes.
const V1_BODY: &[u8] =
    br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
const V1_TS: u64 = 1_551_113_065;
const CVM: &str = "cvm.tencentcloudapi.com";

fn v1(
    content_type: &'static str,
    extra_headers: &'static [(&'static str, &'static str)],
) -> Request<'static> {
    Request {
        service: "cvm",
        host: CVM,
        method: post(V1_BODY),
        content_type,
        extra_headers,
        timestamp: V1_TS,
    }
}

struct Vector {
    name: &'static str,
    request: Request<'static>,
    canonical_request: Option<&'static str>,
    /// hex(SHA256(canonical request)), when the source prints it.
    hashed_canonical_request: Option<&'static str>,
    /// SecretSigning, when the source prints it.
    signing_key: Option<&'static str>,
    date: &'static str,
    signature: &'static str,
}

fn vectors() -> Vec<Vector> {
    vec![
        Vector {
            name: "V1",
            request: v1("application/json; charset=utf-8", &[]),
            canonical_request: Some(concat!(
                "POST\n/\n\n",
                "content-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n",
                "content-type;host\n",
                "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064",
            )),
            hashed_canonical_request: Some(
                "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031",
            ),
            signing_key: Some("ac658d5dde49e9bfdd14e04e062f66b05d9f637d44b8a8d845327d4a77f666b1"),
            date: "2019-02-25",
            signature: "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
        },
        Vector {
            name: "V2",
            request: Request {
                service: "cvm",
                host: CVM,
                method: Method::Get {
                    query: "Limit=10&Offset=0",
                },
                content_type: "application/x-www-form-urlencoded",
                extra_headers: &[],
                timestamp: 1_539_084_154,
            },
            canonical_request: Some(concat!(
                "GET\n/\nLimit=10&Offset=0\n",
                "content-type:application/x-www-form-urlencoded\nhost:cvm.tencentcloudapi.com\n\n",
                "content-type;host\n",
                // SHA256 of the empty payload.
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            )),
            hashed_canonical_request: None,
            signing_key: None,
            date: "2018-10-09",
            signature: "5da7a33f6993f0614b047e5df4582db9e9bf4672ba50567dba16c6ccf174c474",
        },
        Vector {
            name: "V3",
            request: v1("application/json", &[]),
            canonical_request: None,
            hashed_canonical_request: Some(
                "df142fa7176428137ac6a6b25b5efcb6b4c08a91fc30d75ecebe47877d3143d8",
            ),
            signing_key: None,
            date: "2019-02-25",
            signature: "683bd0b53659853c39699162253251192320a09b3937e27bf8e08a559b1465b8",
        },
        Vector {
            name: "x-tc-action with the example key",
            request: v1(
                "application/json; charset=utf-8",
                &[("X-TC-Action", "DescribeInstances")],
            ),
            canonical_request: Some(concat!(
                "POST\n/\n\n",
                "content-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n",
                "x-tc-action:describeinstances\n\n",
                "content-type;host;x-tc-action\n",
                "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064",
            )),
            hashed_canonical_request: Some(
                "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84",
            ),
            signing_key: None,
            date: "2019-02-25",
            signature: "644be983de9a8a3f00db8eadaba61467c3b429e2215758ba897b738ca469fd26",
        },
    ]
}

#[test]
fn published_and_computed_vectors() {
    let creds = doc_creds();
    for v in vectors() {
        let sig = tc3::sign(&creds, &v.request).unwrap();
        if let Some(cr) = v.canonical_request {
            assert_eq!(sig.canonical_request, cr, "{}", v.name);
        }
        if let Some(hashed) = v.hashed_canonical_request {
            assert_eq!(
                sig.string_to_sign.rsplit('\n').next(),
                Some(hashed),
                "{}",
                v.name
            );
        }
        assert_eq!(
            sig.string_to_sign.lines().take(3).collect::<Vec<_>>(),
            [
                "TC3-HMAC-SHA256",
                &v.request.timestamp.to_string(),
                &format!("{}/cvm/tc3_request", v.date)
            ],
            "{}",
            v.name
        );
        if let Some(key) = v.signing_key {
            let derived = tc3::signing_key(&creds.secret_key, v.date, "cvm");
            assert_eq!(hex::encode(derived), key, "{}", v.name);
        }
        assert_eq!(sig.signature, v.signature, "{}", v.name);
        let signed_headers = if v.request.extra_headers.is_empty() {
            "content-type;host"
        } else {
            "content-type;host;x-tc-action"
        };
        assert_eq!(
            sig.authorization(),
            format!(
                "TC3-HMAC-SHA256 Credential={DOC_ID}/{}/cvm/tc3_request, SignedHeaders={signed_headers}, Signature={}",
                v.date, v.signature
            ),
            "{}",
            v.name
        );
        let verified = verify_as_sent(
            &sig.authorization(),
            &creds,
            &v.request,
            v.request.timestamp,
            300,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", v.name));
        assert_eq!(
            (verified.secret_id.as_str(), verified.timestamp),
            (DOC_ID, v.request.timestamp)
        );
    }
}

#[test]
fn the_published_x_tc_action_signature_follows_from_its_signing_key() {
    let req = v1(
        "application/json; charset=utf-8",
        &[("X-TC-Action", "DescribeInstances")],
    );
    let sig = tc3::sign(&doc_creds(), &req).unwrap();
    let published_signing_key: [u8; 32] =
        hex::decode("b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af")
            .unwrap()
            .try_into()
            .unwrap();
    assert_eq!(
        tc3::signature_with_key(&published_signing_key, &sig.string_to_sign),
        "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f"
    );
}

#[test]
fn a_content_type_without_charset_does_not_take_v1s_signature() {
    let creds = doc_creds();
    let v1_auth = tc3::sign(&creds, &v1("application/json; charset=utf-8", &[]))
        .unwrap()
        .authorization();
    let v3 = v1("application/json", &[]);
    assert_eq!(
        verify_as_sent(&v1_auth, &creds, &v3, V1_TS, 300),
        Err(tc3::VerifyError::SignatureMismatch)
    );
}

#[test]
fn header_values_are_trimmed_and_lower_cased() {
    let creds = doc_creds();
    let plain = tc3::sign(&creds, &v1("application/json; charset=utf-8", &[])).unwrap();
    let mut shouting = v1(" Application/JSON; charset=UTF-8 ", &[]);
    shouting.host = "CVM.TencentCloudAPI.com";
    assert_eq!(
        tc3::sign(&creds, &shouting).unwrap().signature,
        plain.signature
    );
}

#[test]
fn the_date_is_the_utc_date_of_the_timestamp() {
    assert_eq!(tc3::utc_date(0).as_deref(), Some("1970-01-01"));
    // The documentation's own example: 1551113065 is 2019-02-25 in UTC (02-26 in Beijing).
    assert_eq!(tc3::utc_date(1_551_113_065).as_deref(), Some("2019-02-25"));
    assert_eq!(tc3::utc_date(1_551_139_199).as_deref(), Some("2019-02-25"));
    assert_eq!(tc3::utc_date(1_551_139_200).as_deref(), Some("2019-02-26"));
    assert_eq!(
        tc3::utc_date(253_402_300_799).as_deref(),
        Some("9999-12-31")
    );
    assert_eq!(tc3::utc_date(253_402_300_800), None);
    assert_eq!(tc3::utc_date(u64::MAX), None);
}
