//! Store configuration.

use std::path::PathBuf;
use std::time::Duration;

use cos_sign::Credentials;

use crate::error::StoreError;
use crate::http;

/// Everything the store needs to know. Build one with [`StoreConfig::new`] and
/// adjust the public fields; every field but the four constructor arguments has
/// a default.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Where objects, metadata and upload sessions live. Created if missing.
    pub data_dir: PathBuf,
    /// Numeric COS APPID, e.g. `1250000000`. Buckets are `<name>-<appid>`.
    pub appid: String,
    /// Short name of the bucket a bare host (`127.0.0.1:port`) addresses, e.g. `metis`.
    pub default_bucket: String,
    /// Keys allowed to sign requests. Any of them may act on any bucket of `appid`.
    pub credentials: Vec<Credentials>,
    /// Base URL of the default bucket's objects for `source_url`/`access_url`
    /// and `Location`, e.g. `https://img.example.com` (a trailing `/` is
    /// ignored). Other buckets get `<name>-<appid>.` put before its host.
    /// Default: `<scheme>://<Host header>`.
    pub public_url: Option<String>,
    /// Clock skew tolerated on every signature time check, both ways (default 60 s).
    pub max_skew_secs: u64,
    /// Largest object, whatever the upload path (default 5 GiB, COS's single-PUT cap).
    pub max_object_size: u64,
    /// Largest v4 `op=upload` (simple upload) body (default 20 MiB, as COS).
    pub max_simple_upload: u64,
    /// Largest v5 multipart part (default 5 GiB).
    pub max_part_size: u64,
    /// Smallest v5 multipart part except the last (default 1 MiB, as COS).
    pub min_part_size: u64,
    /// Objects can be read (GET/HEAD) without a signature (default `true`, like a
    /// typical public-read image bucket, so `source_url` works in an `<image>` tag).
    /// Writes, listings and deletes always need a signature.
    pub public_read: bool,
    /// `fsync` files and directories on commit (default `true`). Turning it off
    /// keeps atomicity against crashes of the process, not of the machine.
    pub fsync: bool,
    /// How long a v5 multipart upload or v4 slice session may go without a
    /// part or slice before it is removed with its data (default 24 hours, as
    /// COS's lifecycle rule for incomplete multipart uploads is usually set).
    /// Swept at open and every quarter of it (at most hourly).
    pub upload_ttl: Duration,
    /// Injected faults for tests (default: none).
    pub faults: FaultConfig,
    /// The region named in CAM resources (`qcs::cos:<region>:uid/<appid>:...`) of the
    /// policies carried by security tokens (default `ap-guangzhou`): lower-case
    /// letters, digits and `-`.
    pub region: String,
    /// The key that MACs security tokens of temporary credentials and derives their
    /// TmpSecretKeys (shared with whoever mints them: the auth server in embedded mode).
    /// `None` (the default): requests carrying `x-cos-security-token` are refused
    /// (see the crate documentation, *Temporary credentials*).
    pub sts_token_key: Option<cos_sign::sts::TokenKey>,
}

impl StoreConfig {
    /// A configuration with defaults for everything else.
    pub fn new(
        data_dir: impl Into<PathBuf>,
        appid: impl Into<String>,
        default_bucket: impl Into<String>,
        credentials: Vec<Credentials>,
    ) -> Self {
        Self {
            data_dir: data_dir.into(),
            appid: appid.into(),
            default_bucket: default_bucket.into(),
            credentials,
            public_url: None,
            max_skew_secs: 60,
            max_object_size: 5 * 1024 * 1024 * 1024,
            max_simple_upload: 20 * 1024 * 1024,
            max_part_size: 5 * 1024 * 1024 * 1024,
            min_part_size: 1024 * 1024,
            public_read: true,
            fsync: true,
            upload_ttl: Duration::from_secs(24 * 60 * 60),
            faults: FaultConfig::default(),
            region: "ap-guangzhou".to_owned(),
            sts_token_key: None,
        }
    }

    /// The default bucket's full v5 name, `<name>-<appid>`.
    pub fn default_bucket_full(&self) -> String {
        format!("{}-{}", self.default_bucket, self.appid)
    }

    /// Refuses a configuration the store cannot work with.
    pub(crate) fn check(&self) -> Result<(), StoreError> {
        if self.appid.is_empty() || !self.appid.bytes().all(|c| c.is_ascii_digit()) {
            return Err(StoreError::Config(format!(
                "appid {:?} must be the numeric COS APPID",
                self.appid
            )));
        }
        if !http::valid_bucket_name(&self.default_bucket) {
            return Err(StoreError::Config(format!(
                "default bucket {:?} must be a short bucket name (a-z, 0-9, '-'), without the appid",
                self.default_bucket
            )));
        }
        if self.credentials.is_empty() {
            return Err(StoreError::Config(
                "at least one SecretId/SecretKey pair is required".to_owned(),
            ));
        }
        if self
            .credentials
            .iter()
            .any(|c| c.secret_id.is_empty() || c.secret_key.expose_secret().is_empty())
        {
            return Err(StoreError::Config("empty SecretId or SecretKey".to_owned()));
        }
        if let Err(e) = shared::cam::Bucket::new(&self.region, &self.appid, &self.default_bucket) {
            return Err(StoreError::Config(format!(
                "region {:?} cannot name CAM resources ({e}): use a region such as ap-guangzhou",
                self.region
            )));
        }
        if self.upload_ttl < Duration::from_secs(1) {
            return Err(StoreError::Config(format!(
                "upload_ttl {:?} must be at least one second",
                self.upload_ttl
            )));
        }
        self.faults.check()
    }
}

/// Fault injection: which faults, how often, for which requests. Every request
/// subject to faults draws from one random generator seeded with `seed`, in a
/// fixed order, so a given sequence of requests sees the same faults for the
/// same seed. The three failures are mutually exclusive slices of one draw: the
/// fraction of requests that fail is exactly `error_rate + drop_rate +
/// lost_reply_rate` (at most 1); latency is drawn independently. See the crate
/// documentation, *Fault injection*.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    /// Seed of the generator.
    pub seed: u64,
    /// Fraction of requests answered with 500 (InternalError) or 503 (SlowDown),
    /// half each, before anything is read or written.
    pub error_rate: f64,
    /// Fraction of requests whose connection is dropped after part of the body
    /// was read (a seeded fraction of `Content-Length`, never all of a non-empty
    /// body), without a response. Nothing is stored.
    pub drop_rate: f64,
    /// Fraction of requests served completely (an upload is committed) whose
    /// connection is then dropped before the response is sent: the client sees
    /// a failure although the request took effect, and must retry idempotently.
    pub lost_reply_rate: f64,
    /// Delay added to a request picked at `latency_rate`.
    pub latency: Duration,
    /// Fraction of requests delayed by `latency`, independently of the failures
    /// (a delayed request may also fail).
    pub latency_rate: f64,
    /// Which requests are subject to faults.
    pub scope: FaultScope,
    /// Simulate a full disk: every write of a body, metadata sidecar, upload
    /// session or the used-signature log fails as `ENOSPC` would, so requests
    /// that store anything answer 507 (see the crate documentation, *Storage*).
    /// Applies to every request, whatever the scope.
    pub disk_full: bool,
}

impl FaultConfig {
    /// No faults, with this seed (set the rates afterwards).
    pub fn seeded(seed: u64) -> Self {
        Self {
            seed,
            ..Self::default()
        }
    }

    /// True when no fault can ever fire.
    pub fn is_off(&self) -> bool {
        self.draws_nothing() && !self.disk_full
    }

    /// True when no request draws a fault (no failure or latency rate): the
    /// full disk is no draw.
    pub(crate) fn draws_nothing(&self) -> bool {
        self.error_rate <= 0.0
            && self.drop_rate <= 0.0
            && self.lost_reply_rate <= 0.0
            && self.latency_rate <= 0.0
    }

    /// Fraction of requests in scope that fail (errors, drops and lost replies).
    pub fn failure_rate(&self) -> f64 {
        self.error_rate + self.drop_rate + self.lost_reply_rate
    }

    /// Refuses rates outside `[0, 1]` and failure shares that add up to more than 1.
    fn check(&self) -> Result<(), StoreError> {
        for rate in [
            self.error_rate,
            self.drop_rate,
            self.lost_reply_rate,
            self.latency_rate,
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(StoreError::Config(format!(
                    "fault rate {rate} is not between 0 and 1"
                )));
            }
        }
        if self.failure_rate() > 1.0 {
            return Err(StoreError::Config(format!(
                "fault rates add up to more than 1: error {} + drop {} + lost reply {} = {} \
                 (they are exclusive shares of the requests)",
                self.error_rate,
                self.drop_rate,
                self.lost_reply_rate,
                self.failure_rate()
            )));
        }
        Ok(())
    }
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            error_rate: 0.0,
            drop_rate: 0.0,
            lost_reply_rate: 0.0,
            latency: Duration::ZERO,
            latency_rate: 0.0,
            scope: FaultScope::default(),
            disk_full: false,
        }
    }
}

/// Which requests faults apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultScope {
    /// Uploads, deletes, multipart and slice operations (default `true`).
    pub writes: bool,
    /// `GET` of objects and listings (default `true`). `HEAD` is never faulted.
    pub reads: bool,
}

impl FaultScope {
    /// Builds a scope.
    pub fn new(writes: bool, reads: bool) -> Self {
        Self { writes, reads }
    }
}

impl Default for FaultScope {
    fn default() -> Self {
        Self {
            writes: true,
            reads: true,
        }
    }
}
