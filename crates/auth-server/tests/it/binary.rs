//! The `auth-server` binary as a process, as someone following the README runs
//! it: its output through a pipe, the embedded-mode banner, `--help`, and the
//! data directory it creates.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::Path;
use std::process::{Command, Stdio};

/// What the binary printed from its start up to its "listening" log line.
struct Printed {
    stdout: String,
    stderr: String,
    /// `http://127.0.0.1:<port>`, from the "listening" line.
    base_url: String,
}

/// Starts the binary in embedded mode on a free port with its data in
/// `data_dir` and a clean environment (no `AUTH_*`, no `NO_COLOR`), output
/// piped; reads until it logs that it listens, then kills it.
fn start_and_stop(data_dir: &Path) -> Printed {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auth-server"))
        .args(["--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env_clear()
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = String::new();
    let mut lines = BufReader::new(child.stderr.take().unwrap());
    let mut listening = None;
    while listening.is_none() {
        let mut line = String::new();
        if lines.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if line.contains("auth server listening") {
            listening = Some(line.clone());
        }
        stderr.push_str(&line);
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let line = listening
        .unwrap_or_else(|| panic!("the server never listened; stderr: {stderr}\nstdout: {stdout}"));
    let port: String = line
        .split("http://127.0.0.1:")
        .nth(1)
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Printed {
        stdout,
        stderr,
        base_url: format!("http://127.0.0.1:{port}"),
    }
}

#[test]
fn piped_output_has_no_colour_codes() {
    let data = tempfile::tempdir().unwrap();
    let printed = start_and_stop(&data.path().join("data"));
    for (name, text) in [("stderr", &printed.stderr), ("stdout", &printed.stdout)] {
        assert!(!text.contains("\x1b["), "{name} has colour codes: {text:?}");
    }
    assert!(printed.stderr.contains("INFO"), "{}", printed.stderr);
}

#[test]
fn the_banner_shows_release_builds_and_the_bound_address() {
    let data = tempfile::tempdir().unwrap();
    let printed = start_and_stop(&data.path().join("data"));
    let banner = &printed.stdout;
    let url = &printed.base_url;
    for part in [
        format!("embedded COS store on {url} "),
        "cargo build --release".to_owned(),
        format!("./target/release/cos-upload --server {url} --dev-user alice"),
        format!("{url}/v1/auth/dev-login"),
        format!("{url}/v1/qc_cos/config?cos_path=${{PREFIX}}photos"),
        "--bind ADDR".to_owned(),
        "127.0.0.1:8080".to_owned(),
    ] {
        assert!(
            banner.contains(&part),
            "{part:?} not in the banner:\n{banner}"
        );
    }
    // No debug builds, no JSON tool beyond python3, no user id guessed.
    for absent in ["cargo run", "jq", "/u/1/"] {
        assert!(
            !banner.contains(absent),
            "{absent:?} in the banner:\n{banner}"
        );
    }
}

#[test]
fn help_names_the_bind_flag_and_the_default_address() {
    let out = Command::new(env!("CARGO_BIN_EXE_auth-server"))
        .arg("--help")
        .env_clear()
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{help}");
    for part in ["--bind <ADDR>", "127.0.0.1:8080", "AUTH_BIND", "--data-dir"] {
        assert!(help.contains(part), "{part:?} not in --help:\n{help}");
    }
}

#[test]
fn a_data_dir_created_inside_a_git_checkout_stays_out_of_git() {
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(repo.path())
            .output()
            .expect("git must be installed to run this test");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    git(&["init", "-q"]);
    let data = repo.path().join("data");
    start_and_stop(&data);
    assert!(data.join("dev-secrets.toml").exists());
    let status = git(&["status", "--porcelain", "--untracked-files=all"]);
    assert_eq!(status, "", "git would add these");
    let ignore = std::fs::read_to_string(data.join(".gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "*"), "{ignore}");
}
