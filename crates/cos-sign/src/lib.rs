//! Tencent COS signatures, sans I/O.
//!
//! Every function here is pure: the clock (`now`, UNIX seconds) and any nonce are
//! arguments, nothing reads the environment, the clock, a random source or the
//! network. That makes every signature reproducible in a test and lets the same
//! code sign (auth-server) and verify (the local store).
//!
//! * [`v4`]: the JSON API's multi-effect and single-effect signatures.
//! * [`v5`]: the XML API's `q-sign-algorithm=sha1&…` Authorization and presigned URLs.
//! * [`policy`]: POST Object form policies.
//! * [`tc3`]: TC3-HMAC-SHA256, the signature of Tencent Cloud API 3.0 calls
//!   such as STS `GetFederationToken`, and its verification (for a local STS
//!   stand-in); the timestamp is an argument.
//! * [`sts`]: the embedded security token of locally minted temporary
//!   credentials (mint, open, derive the TmpSecretKey); StartTime,
//!   ExpiredTime and the random TmpSecretId are arguments.
//!
//! Secrets live in [`SecretKey`], whose `Debug` and `Display` print
//! `<redacted>`; so do [`sts::TokenKey`] and [`sts::TmpSecretKey`] (which the
//! client is given, through the one method that exposes it).
//!
//! A v4 multi-effect signature for one directory, made at a fixed time with a
//! fixed nonce, then checked as the store checks an upload:
//!
//! ```
//! use cos_sign::{Credentials, VerifyError, v4};
//!
//! let creds = Credentials::new("AKIDExampleSecretId0000000000000000", "ExampleSecretKey0123456789abcdef");
//! let signer = v4::Signer { appid: "1250000000", bucket: "metis", credentials: &creds };
//! let (now, nonce) = (1_500_000_000, 123_456_789);
//! let sign = signer.multi_effect(Some("/u/42/"), now + 3600, now, nonce)?;
//!
//! // Accepted for a file in the directory while it is valid...
//! let expect = v4::Expect { appid: "1250000000", bucket: "metis", path: "/u/42/a.jpg", now: now + 100, max_skew: 0 };
//! let claims = v4::verify(&sign, &creds, &expect)?;
//! assert_eq!((claims.expires_at, claims.nonce), (now + 3600, nonce));
//!
//! // ...refused for a directory that merely shares the prefix, and once expired.
//! let sibling = v4::Expect { path: "/u/421/a.jpg", ..expect };
//! assert_eq!(v4::verify(&sign, &creds, &sibling), Err(VerifyError::PathNotAllowed));
//! let late = v4::Expect { now: now + 3601, ..expect };
//! assert_eq!(
//!     v4::verify(&sign, &creds, &late),
//!     Err(VerifyError::Expired { expired_at: now + 3600, now: now + 3601 })
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Paths are `&str`
//!
//! cos-sign signs and verifies the exact bytes that go on the wire: a v4
//! signature carries its path in the signed plaintext (`f=`, percent-encoded
//! by [`encode_path`]), a v5 signature hashes the request path into its
//! `HttpString`, and a policy's `key` condition is compared with the form
//! field byte for byte. So a path is taken as the `&str` it is and is never
//! parsed, normalised or re-rendered here: any rewriting would sign, or check,
//! bytes other than the ones sent.
//!
//! Which paths may be signed is the caller's decision, made with the
//! workspace's validated types before it calls in. The auth server signs only
//! paths it has parsed as `shared::ObjectKey` or `shared::DirPath` inside the
//! caller's prefix (passing `ObjectKey::v4_path()` or `DirPath::as_str()`).
//! A verifier (the local store) passes the path the request carried,
//! percent-decoded once ([`decode`], [`v5::decode_path`]), and checks the
//! signature against it byte for byte *before* it parses that path into a key,
//! so the key it then acts on is exactly what the signature covered (the
//! parser refuses, it never rewrites). cos-sign does not depend on `shared`:
//! it stays small and I/O-free, a change to the key rules changes which paths
//! reach it but never how they are signed, and it also signs paths that are no
//! object key, such as the bucket root `/` of a v5 bucket request.
//!
//! The checks cos-sign does make on paths are the ones a signature needs:
//! v4 signing refuses a path without a leading `/` ([`SignError::RelativePath`]),
//! and [`v4::verify`] matches a bound directory on whole segments and refuses
//! a `.` or `..` segment below it ([`v4::path_within`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod encode;
mod error;
pub mod policy;
mod secret;
pub mod sts;
pub mod tc3;
pub mod v4;
pub mod v5;

pub use encode::{decode, encode_component, encode_path};
pub use error::{SignError, VerifyError};
pub use secret::{Credentials, KeyStore, SecretKey};
