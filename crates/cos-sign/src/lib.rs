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
//!
//! Secrets live in [`SecretKey`], whose `Debug` and `Display` print `<redacted>`.
//!
//! ```
//! use cos_sign::{Credentials, v4};
//! let creds = Credentials::new("AKIDExampleSecretId0000000000000000", "ExampleSecretKey0123456789abcdef");
//! let signer = v4::Signer { appid: "1250000000", bucket: "metis", credentials: &creds };
//! let sign = signer.multi_effect(Some("/u/42/"), 1_500_003_600, 1_500_000_000, 123_456_789).unwrap();
//! let expect = v4::Expect { appid: "1250000000", bucket: "metis", path: "/u/42/a.jpg", now: 1_500_000_100, max_skew: 0 };
//! assert!(v4::verify(&sign, &creds, &expect).is_ok());
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod encode;
mod error;
pub mod policy;
mod secret;
pub mod v4;
pub mod v5;

pub use encode::{decode, encode_component, encode_path};
pub use error::{SignError, VerifyError};
pub use secret::{Credentials, KeyStore, SecretKey};
