//! The two binaries together, as a black box (`spec/demo-contract.md`): `multi-api-demo`
//! with one-second access tokens, and `demo-client` signing in, letting the token expire,
//! then calling api2/api3 concurrently: every call succeeds with exactly one refresh, in
//! both transfer methods. Bad flags exit with status 2 and one line on stderr.
#![allow(missing_docs, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const DEMO: &str = env!("CARGO_BIN_EXE_multi-api-demo");
const CLIENT: &str = env!("CARGO_BIN_EXE_demo-client");

/// The running demo; killed (and reaped) on drop, so a failing test leaves nothing behind.
struct Demo {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Demo {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(DEMO)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start multi-api-demo");
        let stdout = child.stdout.take().unwrap();
        // Guard first: if the line never comes, the demo is still killed.
        let mut demo = Demo {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("multi-api-demo printed no `listening on` line");
        let addr = line
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        demo.addr = addr
            .parse()
            .unwrap_or_else(|_| panic!("bad address in {line:?}"));
        assert_ne!(demo.addr.port(), 0);
        demo
    }
}

fn run_client(demo: &Demo, mode: &str) -> Output {
    let api_domain = format!("http://api.example.test:{}", demo.addr.port());
    let connect = demo.addr.to_string();
    Command::new(CLIENT)
        .args([
            "--api-domain",
            &api_domain,
            "--connect",
            &connect,
            "--mode",
            mode,
            "--calls",
            "40",
            "--concurrency",
            "20",
            "--sleep-before",
            "2",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run demo-client")
}

#[test]
fn forty_concurrent_calls_after_expiry_share_one_refresh_in_both_modes() {
    let demo = Demo::start(&["--listen", "127.0.0.1:0", "--access-token-ttl", "1"]);
    for mode in ["header", "cookie"] {
        let out = run_client(&demo, mode);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{mode}: demo-client failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        let last = stdout.lines().last().unwrap_or_default();
        let summary: serde_json::Value = serde_json::from_str(last)
            .unwrap_or_else(|e| panic!("{mode}: last line {last:?} is not JSON: {e}"));
        assert_eq!(
            summary,
            serde_json::json!({"ok": 40, "failed": 0, "refreshes": 1}),
            "{mode}\nstdout:\n{stdout}"
        );
        // Keys in the contract's order.
        assert_eq!(last, r#"{"ok":40,"failed":0,"refreshes":1}"#, "{mode}");
    }
}

/// Exit 2; the first stderr line names `names`; returns the stderr lines.
fn bad_flag(program: &str, args: &[&str], names: &str) -> Vec<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: stderr {stderr:?}");
    assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    let lines: Vec<String> = stderr.lines().map(str::to_owned).collect();
    assert!(
        lines.first().is_some_and(|l| l.contains(names)),
        "{args:?}: {stderr:?} names {names}"
    );
    lines
}

fn assert_bad_flag(program: &str, args: &[&str], names: &str) {
    let lines = bad_flag(program, args, names);
    assert_eq!(
        lines.len(),
        1,
        "{args:?}: one line on stderr, got {lines:?}"
    );
}

#[test]
fn bad_flags_exit_2_with_one_line_on_stderr() {
    assert_bad_flag(CLIENT, &["--mode", "sideways"], "--mode");
    assert_bad_flag(CLIENT, &["--concurrency", "0"], "--concurrency");
    assert_bad_flag(CLIENT, &["--connect", "api.example.test"], "--connect");
    assert_bad_flag(
        CLIENT,
        &["--api-domain", "http://api.otherdomain.com:3000"],
        "api.otherdomain.com",
    );
    assert_bad_flag(DEMO, &["--cookie-domain", ".co.uk"], "--cookie-domain");
    assert_bad_flag(
        DEMO,
        &[
            "--listen",
            "127.0.0.1:0",
            "--api-domain",
            "http://api.otherdomain.com",
        ],
        "--api-domain",
    );
    // An unknown flag: both binaries add their usage line after the error line.
    for program in [CLIENT, DEMO] {
        let lines = bad_flag(program, &["--no-such-flag", "x"], "--no-such-flag");
        assert!(lines.len() <= 2, "{lines:?}");
    }
}
