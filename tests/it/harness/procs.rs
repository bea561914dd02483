//! The workspace's binaries run as real processes, so a suite can kill them with SIGKILL.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

/// The path of an outside tool `scripts/test-all.sh` installs and names in the environment
/// variable `var` (`COS_INTEROP_PYTHON`, `COS_INTEROP_COSCMD`, …).
pub fn interop_tool(var: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(v) => PathBuf::from(v),
        None => panic!(
            "{var} is not set: run `bash scripts/test-all.sh`, which installs Tencent's SDKs and sets it"
        ),
    }
}

/// The path of a workspace binary, built first if needed (a no-op when `cargo test
/// --workspace` already built it), so this crate's suites also run on their own.
pub fn bin(package: &str, name: &str) -> PathBuf {
    static BUILD: Mutex<()> = Mutex::new(());
    let _one_at_a_time = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let exe = std::env::current_exe().expect("test executable path");
    // <target>/<profile>/deps/it-<hash>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile> directory");
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["build", "--quiet", "-p", package, "--bin", name]);
    if release {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("run cargo build");
    assert!(
        status.success(),
        "cargo build -p {package} --bin {name} failed"
    );
    let path = profile_dir.join(name);
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// A `cos-local` store running as its own process.
pub struct StoreProcess {
    /// The child; `kill()` sends SIGKILL.
    pub child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl StoreProcess {
    /// Starts `cos-local` on a free port with `data_dir` and the given credentials.
    pub fn start(
        data_dir: &Path,
        appid: &str,
        bucket: &str,
        secret_id: &str,
        secret_key: &str,
    ) -> Self {
        let mut child = Command::new(bin("cos-local", "cos-local"))
            .args([
                "--bind",
                "127.0.0.1:0",
                "--appid",
                appid,
                "--bucket",
                bucket,
            ])
            .arg("--data-dir")
            .arg(data_dir)
            .env("COS_LOCAL_SECRET_ID", secret_id)
            .env("COS_LOCAL_SECRET_KEY", secret_key)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start cos-local");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read banner");
        // "cos-local listening on http://127.0.0.1:PORT (default bucket …)"
        let port = line
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected cos-local banner: {line:?}"));
        Self { child, port }
    }

    /// Base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGKILL and reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for StoreProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}
