//! The `cos-local` binary as a user runs it.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

/// Logged into a pipe (a log file, `| tee`), the binary writes plain text:
/// no ANSI colour codes.
#[test]
fn logs_to_a_pipe_have_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cos-local"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--bind", "127.0.0.1:0", "--secret-id", "AKIDbinary"])
        .env("COS_LOCAL_SECRET_KEY", "binary-test-secret")
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The line scripts wait for: by then the start has been logged.
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        line.starts_with("cos-local listening on http://127.0.0.1:"),
        "{line:?}\n{stderr}"
    );
    assert!(stderr.contains("cos-local listening"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "colour codes in a pipe: {stderr:?}"
    );
}
