//! Property tests: whatever the keys, hosts, content types, bodies (any bytes)
//! and timestamps, a TC3 signature verifies for exactly the request it was made
//! for, and a change to the body, host, content type or timestamp is refused.

use cos_sign::Credentials;
use cos_sign::tc3::{self, Method, Request, VerifyError};
use proptest::prelude::*;

use super::verify_as_sent;

const SKEW: u64 = 300;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Everything a request is made of, owned.
#[derive(Debug, Clone)]
pub(crate) struct Input {
    pub secret_id: String,
    pub secret_key: String,
    pub service: String,
    pub host: String,
    pub content_type: String,
    /// `Some(query)` for GET, `None` for POST with `payload`.
    pub query: Option<String>,
    pub payload: Vec<u8>,
    pub action: Option<String>,
    pub timestamp: u64,
}

impl Input {
    pub fn creds(&self) -> Credentials {
        Credentials::new(self.secret_id.clone(), self.secret_key.clone())
    }

    /// Runs `f` with the request this input describes.
    pub fn with_request<R>(&self, f: impl FnOnce(&Request<'_>) -> R) -> R {
        let extra: Vec<(&str, &str)> = self
            .action
            .iter()
            .map(|a| ("X-TC-Action", a.as_str()))
            .collect();
        f(&Request {
            service: &self.service,
            host: &self.host,
            method: match &self.query {
                Some(query) => Method::Get { query },
                None => Method::Post {
                    payload: &self.payload,
                },
            },
            content_type: &self.content_type,
            extra_headers: &extra,
            timestamp: self.timestamp,
        })
    }

    pub fn sign(&self) -> tc3::Signature {
        self.with_request(|req| tc3::sign(&self.creds(), req))
            .unwrap()
    }

    /// Verifies `authorization` for this input as received at `now`.
    pub fn verify(
        &self,
        authorization: &str,
        creds: &Credentials,
        now: u64,
    ) -> Result<tc3::Verified, VerifyError> {
        self.with_request(|req| verify_as_sent(authorization, creds, req, now, SKEW))
    }
}

/// Hosts as the SDKs send them: lower-case names, IPs with ports.
pub(crate) fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("sts.tencentcloudapi.com".to_owned()),
        Just("sts.ap-guangzhou.tencentcloudapi.com".to_owned()),
        "[a-z][a-z0-9-]{0,12}(\\.[a-z][a-z0-9-]{0,12}){0,3}",
        "127\\.0\\.0\\.1:[1-9][0-9]{0,4}",
    ]
}

fn content_type() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("application/json".to_owned()),
        Just("application/json; charset=utf-8".to_owned()),
        Just("application/x-www-form-urlencoded".to_owned()),
        "[a-z]{1,11}/[a-z0-9.+-]{1,20}",
    ]
}

/// UNIX seconds, half of them within a minute of a UTC midnight.
pub(crate) fn timestamp() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..4_102_444_800,
        (0u64..47_482, -60i64..60).prop_map(|(day, off)| (day * 86_400).saturating_add_signed(off)),
    ]
}

/// Text bodies (any Unicode, as JSON would carry it) or any bytes.
pub(crate) fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "\\PC{0,64}".prop_map(String::into_bytes),
        "[\\u{0}-\\u{10FFFF}]{0,32}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..128),
    ]
}

pub(crate) fn input() -> impl Strategy<Value = Input> {
    (
        "AKID[A-Za-z0-9]{4,32}",
        "\\PC{1,40}",
        "[a-z]{2,10}",
        host(),
        content_type(),
        prop::option::weighted(0.2, "[A-Za-z0-9=&%._-]{0,40}"),
        payload(),
        prop::option::of("[A-Z][A-Za-z]{1,24}"),
        timestamp(),
    )
        .prop_map(
            |(
                secret_id,
                secret_key,
                service,
                host,
                content_type,
                query,
                payload,
                action,
                timestamp,
            )| Input {
                secret_id,
                secret_key,
                service,
                host,
                content_type,
                payload: if query.is_some() { Vec::new() } else { payload },
                query,
                action,
                timestamp,
            },
        )
}

/// `s` with the character at `at` (modulo its length) replaced by another
/// lower-case letter or digit, so the canonical (lower-cased) value changes too.
fn change_char(s: &str, at: usize, to: char) -> String {
    let chars: Vec<char> = s.chars().collect();
    let i = at % chars.len();
    let replacement = if chars[i] == to {
        if to == 'a' { 'b' } else { 'a' }
    } else {
        to
    };
    chars
        .iter()
        .enumerate()
        .map(|(j, c)| if j == i { replacement } else { *c })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_signature_verifies_for_its_request(input in input(), drift in -300i64..=300) {
        let now = input.timestamp.saturating_add_signed(drift);
        let verified = input.verify(&input.sign().authorization(), &input.creds(), now);
        prop_assert_eq!(verified.map(|v| (v.secret_id, v.timestamp)), Ok((input.secret_id.clone(), input.timestamp)));
    }

    #[test]
    fn a_changed_body_is_refused(input in input(), at in any::<usize>(), flip in 1u8..=255) {
        prop_assume!(input.query.is_none() && !input.payload.is_empty());
        let auth = input.sign().authorization();
        let mut changed = input.clone();
        let i = at % changed.payload.len();
        changed.payload[i] ^= flip;
        let r = changed.verify(&auth, &input.creds(), input.timestamp);
        prop_assert_eq!(r, Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn a_changed_host_or_content_type_is_refused(
        input in input(),
        at in any::<usize>(),
        to in "[a-z0-9]",
        which_header in any::<bool>(),
    ) {
        let auth = input.sign().authorization();
        let to = to.chars().next().unwrap();
        let mut changed = input.clone();
        if which_header {
            changed.host = change_char(&input.host, at, to);
        } else {
            changed.content_type = change_char(&input.content_type, at, to);
        }
        let r = changed.verify(&auth, &input.creds(), input.timestamp);
        prop_assert_eq!(r, Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn a_changed_timestamp_is_refused(input in input(), delta in 1u64..=SKEW, later in any::<bool>()) {
        let auth = input.sign().authorization();
        let mut changed = input.clone();
        changed.timestamp = if later { input.timestamp + delta } else { input.timestamp.saturating_sub(delta) };
        prop_assume!(changed.timestamp != input.timestamp);
        let r = changed.verify(&auth, &input.creds(), changed.timestamp);
        // Across a UTC midnight the scope's date no longer matches; otherwise the MAC fails.
        prop_assert!(
            matches!(r, Err(VerifyError::SignatureMismatch | VerifyError::DateScopeMismatch { .. })),
            "{r:?}"
        );
    }
}
