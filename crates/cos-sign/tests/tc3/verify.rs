//! `tc3::verify`: every check refuses what it should, with the variant that
//! names it, and `tc3::sign` refuses inputs that cannot be signed.

use cos_sign::Credentials;
use cos_sign::tc3::{self, Expect, Received, Request, SignError, VerifyError};

use super::{post, sent_headers};

const TS: u64 = 1_764_680_000;
const BODY: &[u8] = br#"{"Name": "cos-upload-kit", "Policy": "%7B%7D", "DurationSeconds": 1800}"#;

fn creds() -> Credentials {
    Credentials::new(
        "AKIDExampleSecretId0000000000000000",
        "ExampleSecretKey0123456789abcdef",
    )
}

fn request() -> Request<'static> {
    Request {
        service: "sts",
        host: "sts.tencentcloudapi.com",
        method: post(BODY),
        content_type: "application/json",
        extra_headers: &[("X-TC-Action", "GetFederationToken")],
        timestamp: TS,
    }
}

/// A request as received, which each case changes in one place.
struct Case {
    authorization: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    service: &'static str,
    now: u64,
}

impl Case {
    fn valid() -> Self {
        let req = request();
        Self {
            authorization: tc3::sign(&creds(), &req).unwrap().authorization(),
            headers: sent_headers(&req),
            body: BODY.to_vec(),
            service: "sts",
            now: TS,
        }
    }

    fn set_header(mut self, name: &str, value: Option<&str>) -> Self {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        if let Some(v) = value {
            self.headers.push((name.to_owned(), v.to_owned()));
        }
        self
    }

    fn auth(mut self, f: impl FnOnce(&str) -> String) -> Self {
        self.authorization = f(&self.authorization);
        self
    }

    fn run(&self) -> Result<tc3::Verified, VerifyError> {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        tc3::verify(
            &self.authorization,
            &creds(),
            &Received {
                method: post(&self.body),
                headers: &headers,
            },
            &Expect {
                service: self.service,
                now: self.now,
                max_skew: 300,
            },
        )
    }
}

fn check(name: &str, case: Case, expected: Result<(), VerifyError>) {
    assert_eq!(
        case.run().map(|_| ()),
        expected,
        "{name}: {}",
        case.authorization
    );
}

#[test]
fn accepts_the_signed_request_within_the_window() {
    let id = creds().secret_id;
    for now in [TS - 300, TS, TS + 300] {
        let case = Case {
            now,
            ..Case::valid()
        };
        assert_eq!(
            case.run(),
            Ok(tc3::Verified {
                secret_id: id.clone(),
                timestamp: TS
            })
        );
    }
    // Header names in any case; the fields of the header in any order.
    let case = Case::valid().set_header("x-tc-action", Some("GetFederationToken"));
    check("lower-case header name", case, Ok(()));
    let case = Case::valid().auth(|a| {
        let (alg, rest) = a.split_once(' ').unwrap();
        let mut parts: Vec<&str> = rest.split(", ").collect();
        parts.reverse();
        format!("{alg} {}", parts.join(", "))
    });
    check("fields reordered", case, Ok(()));
}

#[test]
fn refuses_malformed_headers() {
    let m = |why| Err(VerifyError::Malformed(why));
    let cases: Vec<(&str, Case, Result<(), VerifyError>)> = vec![
        (
            "empty",
            Case::valid().auth(|_| String::new()),
            m("no space after the algorithm"),
        ),
        (
            "algorithm alone",
            Case::valid().auth(|_| "TC3-HMAC-SHA256".into()),
            m("no space after the algorithm"),
        ),
        (
            "missing Signature",
            Case::valid().auth(|a| a.split(", Signature=").next().unwrap().to_owned()),
            m("missing field"),
        ),
        (
            "repeated SignedHeaders",
            Case::valid().auth(|a| format!("{a}, SignedHeaders=content-type;host")),
            m("repeated field"),
        ),
        (
            "unknown field",
            Case::valid().auth(|a| format!("{a}, Nonce=1")),
            m("unknown field"),
        ),
        (
            "field without =",
            Case::valid().auth(|a| format!("{a}, Nonce")),
            m("field without '='"),
        ),
        (
            "scope without tc3_request",
            Case::valid().auth(|a| a.replace("/tc3_request", "/tc4_request")),
            m("Credential is not id/date/service/tc3_request"),
        ),
        (
            "scope without date",
            Case::valid().auth(|a| a.replace("2025-12-02/", "")),
            m("Credential is not id/date/service/tc3_request"),
        ),
        (
            "date not YYYY-MM-DD",
            Case::valid().auth(|a| a.replace("2025-12-02", "2025-12-2x")),
            m("credential date is not YYYY-MM-DD"),
        ),
        (
            "SignedHeaders upper-case",
            Case::valid().auth(|a| {
                a.replace(
                    "content-type;host;x-tc-action",
                    "Content-Type;host;x-tc-action",
                )
            }),
            m("SignedHeaders is not lower-case, sorted and without repeats"),
        ),
        (
            "SignedHeaders unsorted",
            Case::valid().auth(|a| {
                a.replace(
                    "content-type;host;x-tc-action",
                    "host;content-type;x-tc-action",
                )
            }),
            m("SignedHeaders is not lower-case, sorted and without repeats"),
        ),
        (
            "SignedHeaders without host",
            Case::valid()
                .auth(|a| a.replace("content-type;host;x-tc-action", "content-type;x-tc-action")),
            m("SignedHeaders must include content-type and host"),
        ),
        (
            "short signature",
            Case::valid().auth(|a| a[..a.len() - 1].to_owned()),
            m("Signature is not 64 hex digits"),
        ),
        (
            "no X-TC-Timestamp",
            Case::valid().set_header("X-TC-Timestamp", None),
            m("X-TC-Timestamp header is missing"),
        ),
        (
            "X-TC-Timestamp not a number",
            Case::valid().set_header("X-TC-Timestamp", Some("1764680000.5")),
            m("X-TC-Timestamp is not a number"),
        ),
        (
            "repeated signed header",
            Case::valid()
                .set_header("X-TC-Action", Some("GetFederationToken"))
                .set_header_twice("x-tc-action"),
            m("a signed header or X-TC-Timestamp is repeated"),
        ),
        (
            "control character in a signed header",
            Case::valid().set_header("X-TC-Action", Some("GetFederationToken\nhost:evil")),
            m("a signed header cannot be canonicalised (bad name or control character)"),
        ),
    ];
    for (name, case, expected) in cases {
        check(name, case, expected);
    }
}

impl Case {
    fn set_header_twice(mut self, name: &str) -> Self {
        let value = self
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap();
        self.headers.push((name.to_ascii_uppercase(), value));
        self
    }
}

#[test]
fn refuses_each_failed_check_by_name() {
    let cases: Vec<(&str, Case, Result<(), VerifyError>)> = vec![
        (
            "another algorithm",
            Case::valid().auth(|a| a.replace("TC3-HMAC-SHA256", "TC3-HMAC-SHA1")),
            Err(VerifyError::UnsupportedAlgorithm),
        ),
        (
            "another service",
            Case {
                service: "cvm",
                ..Case::valid()
            },
            Err(VerifyError::ServiceMismatch {
                scope: "sts".into(),
                expected: "cvm".into(),
            }),
        ),
        (
            "unknown SecretId",
            Case::valid().auth(|a| a.replace("AKIDExample", "AKIDExamplf")),
            Err(VerifyError::UnknownSecretId),
        ),
        (
            "timestamp too old",
            Case {
                now: TS + 301,
                ..Case::valid()
            },
            Err(VerifyError::TimestampSkew {
                timestamp: TS,
                now: TS + 301,
            }),
        ),
        (
            "timestamp in the future",
            Case {
                now: TS - 301,
                ..Case::valid()
            },
            Err(VerifyError::TimestampSkew {
                timestamp: TS,
                now: TS - 301,
            }),
        ),
        (
            "scope dated the day before",
            Case::valid().auth(|a| a.replace("2025-12-02", "2025-12-01")),
            Err(VerifyError::DateScopeMismatch {
                scope: "2025-12-01".into(),
                expected: "2025-12-02".into(),
            }),
        ),
        (
            "signed header not sent",
            Case::valid().set_header("X-TC-Action", None),
            Err(VerifyError::SignedHeaderMissing("x-tc-action".into())),
        ),
        (
            "body changed",
            Case {
                body: BODY
                    .iter()
                    .map(|b| if *b == b'8' { b'9' } else { *b })
                    .collect(),
                ..Case::valid()
            },
            Err(VerifyError::SignatureMismatch),
        ),
        (
            "signed header changed",
            Case::valid().set_header("X-TC-Action", Some("AssumeRole")),
            Err(VerifyError::SignatureMismatch),
        ),
        (
            "timestamp changed within the window",
            Case::valid().set_header("X-TC-Timestamp", Some(&(TS + 1).to_string())),
            Err(VerifyError::SignatureMismatch),
        ),
        (
            "signature changed",
            Case::valid().auth(|a| {
                let last = if a.ends_with('0') { '1' } else { '0' };
                format!("{}{last}", &a[..a.len() - 1])
            }),
            Err(VerifyError::SignatureMismatch),
        ),
        (
            "x-tc-action no longer signed",
            Case::valid().auth(|a| a.replace("content-type;host;x-tc-action", "content-type;host")),
            Err(VerifyError::SignatureMismatch),
        ),
    ];
    for (name, case, expected) in cases {
        check(name, case, expected);
    }
}

#[test]
fn an_upper_case_signature_is_the_same_signature() {
    let case = Case::valid().auth(|a| {
        let (head, sig) = a.rsplit_once("Signature=").unwrap();
        format!("{head}Signature={}", sig.to_ascii_uppercase())
    });
    check("upper-case hex", case, Ok(()));
}

#[test]
fn sign_refuses_what_cannot_be_signed() {
    let creds = creds();
    let base = request();
    let cases: Vec<(&str, Request<'_>, SignError)> = vec![
        (
            "timestamp past 9999",
            Request {
                timestamp: 253_402_300_800,
                ..base
            },
            SignError::TimestampOutOfRange(253_402_300_800),
        ),
        (
            "empty service",
            Request {
                service: "",
                ..base
            },
            SignError::BadField("service"),
        ),
        (
            "service with /",
            Request {
                service: "sts/x",
                ..base
            },
            SignError::BadField("service"),
        ),
        (
            "header name with a colon",
            Request {
                extra_headers: &[("x-tc-action:", "a")],
                ..base
            },
            SignError::BadHeaderName("x-tc-action:".into()),
        ),
        (
            "header value with a line break",
            Request {
                extra_headers: &[("x-tc-action", "a\nhost:evil")],
                ..base
            },
            SignError::BadHeaderValue("x-tc-action".into()),
        ),
        (
            "host as an extra header",
            Request {
                extra_headers: &[("Host", "evil")],
                ..base
            },
            SignError::DuplicateHeader("host".into()),
        ),
        (
            "an extra header twice",
            Request {
                extra_headers: &[("X-TC-Action", "a"), ("x-tc-action", "b")],
                ..base
            },
            SignError::DuplicateHeader("x-tc-action".into()),
        ),
    ];
    for (name, req, expected) in cases {
        assert_eq!(tc3::sign(&creds, &req), Err(expected), "{name}");
    }
    let bad_id = Credentials::new("AKID x", "k");
    assert_eq!(
        tc3::sign(&bad_id, &base),
        Err(SignError::BadField("secret id"))
    );
}
