//! TC3-HMAC-SHA256 (`cos_sign::tc3`): published vectors, one test per
//! verification check, property tests, and a cross-check against Tencent's
//! Python SDK signer.

// Helpers outside `#[test]` functions fail loudly too; clippy.toml's test
// allowances only cover the test functions themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod interop;
mod properties;
mod vectors;
mod verify;

use cos_sign::Credentials;
use cos_sign::tc3::{self, Expect, Method, Received, Request};

/// The keys of Tencent's published example (cloud.tencent.com/document/product/215/36792).
const DOC_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
const DOC_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";

fn doc_creds() -> Credentials {
    Credentials::new(DOC_ID, DOC_KEY)
}

/// The headers a client sends for `req` (with `X-TC-Timestamp`), for verification.
fn sent_headers(req: &Request<'_>) -> Vec<(String, String)> {
    let mut h = vec![
        ("Content-Type".to_owned(), req.content_type.to_owned()),
        ("Host".to_owned(), req.host.to_owned()),
        ("X-TC-Timestamp".to_owned(), req.timestamp.to_string()),
    ];
    h.extend(
        req.extra_headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    h
}

/// Verifies `authorization` for the request `req` describes, at `now` with `max_skew`.
fn verify_as_sent(
    authorization: &str,
    creds: &Credentials,
    req: &Request<'_>,
    now: u64,
    max_skew: u64,
) -> Result<tc3::Verified, tc3::VerifyError> {
    let owned = sent_headers(req);
    let headers: Vec<(&str, &str)> = owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    tc3::verify(
        authorization,
        creds,
        &Received {
            method: req.method,
            headers: &headers,
        },
        &Expect {
            service: req.service,
            now,
            max_skew,
        },
    )
}

fn post<'a>(payload: &'a [u8]) -> Method<'a> {
    Method::Post { payload }
}
