//! Verify-only over TLS: `--serve api2 --jwks-url https://… --jwks-ca FILE` verifies the
//! sessions the auth server issued, with keys fetched from a real TLS server on loopback
//! (certificates made here); without the CA it refuses them (503, nothing cleared); an
//! `http://` JWKS URL still works with exactly one warning line; bad values exit 2.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

mod common;

use std::process::{Command, Stdio};

use common::Demo;
use tower_session_refresh::jwks::JwksService;
use tower_session_refresh::keys::{generate_ed25519_pem, KeySet, SigningKey};
use tower_session_testkit::tls::{serve_tls, TestCa};

const DEMO: &str = env!("CARGO_BIN_EXE_multi-api-demo");

struct Files(std::path::PathBuf);
impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn files(tag: &str) -> Files {
    let dir = std::env::temp_dir().join(format!("demo-jwks-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    Files(dir)
}

fn session_info(demo: &Demo, host: &str, access: &str) -> common::Reply {
    demo.request(
        "GET",
        host,
        "/sessioninfo",
        &[
            ("authorization", &format!("Bearer {access}")),
            ("st-auth-mode", "header"),
        ],
        "",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn verify_only_server_fetches_keys_over_tls() {
    let dir = files("tls");
    // The auth server signs with a fixed key; the same key's public half is served over
    // TLS (the auth server itself speaks plain HTTP; in production a TLS front does this).
    let pem = generate_ed25519_pem().unwrap();
    let key_file = dir.0.join("signing.pem");
    std::fs::write(&key_file, &pem).unwrap();
    let keys = KeySet::new(SigningKey::from_pem_or_jwk(&pem).unwrap());
    let ca = TestCa::new("demo test CA");
    let ca_file = dir.0.join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let tls = serve_tls(
        axum::Router::new().fallback_service(JwksService::new(keys)),
        &ca.leaf(&["localhost"]),
    )
    .await;
    let url = format!("https://localhost:{}/auth/jwt/jwks.json", tls.addr.port());

    let auth = tokio::task::spawn_blocking({
        let key = key_file.to_str().unwrap().to_owned();
        move || Demo::start(&["--serve", "api,www", "--signing-key", &key])
    })
    .await
    .unwrap();
    let api2 = tokio::task::spawn_blocking({
        let (url, ca) = (url.clone(), ca_file.to_str().unwrap().to_owned());
        move || Demo::start(&["--serve", "api2", "--jwks-url", &url, "--jwks-ca", &ca])
    })
    .await
    .unwrap();
    // Trusting another CA (and the system roots, which do not know the test CA).
    let other_ca = dir.0.join("other-ca.pem");
    std::fs::write(&other_ca, TestCa::new("another CA").pem()).unwrap();
    let untrusting = tokio::task::spawn_blocking({
        let (url, ca) = (url.clone(), other_ca.to_str().unwrap().to_owned());
        move || Demo::start(&["--serve", "api2", "--jwks-url", &url, "--jwks-ca", &ca])
    })
    .await
    .unwrap();

    let (api2, untrusting, auth) = tokio::task::spawn_blocking(move || {
        let (access, _) = auth.sign_in("alice");
        let ok = session_info(&api2, "api2.example.test", &access);
        assert_eq!(ok.status, 200, "{ok:?}\n{}", api2.stderr());
        let info: serde_json::Value = serde_json::from_str(&ok.body).unwrap();
        assert_eq!(info["userId"], "alice");
        assert_eq!(info["servedBy"], "api2.example.test");

        let refused = session_info(&untrusting, "api2.example.test", &access);
        assert_eq!(refused.status, 503, "{refused:?}");
        assert!(
            refused.headers("set-cookie").is_empty(),
            "an unreachable JWKS never logs anyone out: {refused:?}"
        );
        let log = untrusting.wait_for_stderr(|l| l.contains("UnknownIssuer"));
        assert!(log.contains("UnknownIssuer"), "{log}");
        // https: no insecure-transport warning
        assert!(
            !api2.stderr().contains("plain http://"),
            "{}",
            api2.stderr()
        );
        (api2, untrusting, auth)
    })
    .await
    .unwrap();
    drop((api2, untrusting, auth, tls));
}

#[test]
fn http_jwks_url_works_with_one_warning_line() {
    let auth = Demo::start(&["--serve", "api,www", "--allow-host", "127.0.0.1"]);
    let url = format!("http://127.0.0.1:{}/auth/jwt/jwks.json", auth.port);
    let api3 = Demo::start(&["--serve", "api3", "--jwks-url", &url]);
    let (access, _) = auth.sign_in("bob");
    let ok = session_info(&api3, "api3.example.test", &access);
    assert_eq!(ok.status, 200, "{ok:?}");
    let log = api3.stderr();
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("http://")).collect();
    assert_eq!(warnings.len(), 1, "exactly one warning line:\n{log}");
    assert!(
        warnings[0].contains("WARN") && warnings[0].contains("plain http://"),
        "{log}"
    );

    // The auth server publishes its OpenID discovery document (issuer = api domain + base).
    let doc = auth.request(
        "GET",
        "api.example.test",
        "/auth/.well-known/openid-configuration",
        &[],
        "",
    );
    assert_eq!(doc.status, 200, "{doc:?}");
    let doc: serde_json::Value = serde_json::from_str(&doc.body).unwrap();
    let api_domain = format!("http://api.example.test:{}", auth.port);
    assert_eq!(doc["issuer"], format!("{api_domain}/auth"));
    assert_eq!(doc["jwks_uri"], format!("{api_domain}/auth/jwt/jwks.json"));
}

/// Exit 2, nothing on stdout, one stderr line naming `flag`.
fn bad_flag(args: &[&str], flag: &str) {
    let out = Command::new(DEMO)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr:?}");
    assert!(out.stdout.is_empty(), "{args:?}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: one line: {stderr:?}");
    assert!(
        lines[0].starts_with(&format!("error: {flag}: ")),
        "{args:?}: {stderr:?}"
    );
}

#[test]
fn bad_jwks_flags_exit_2_naming_the_flag() {
    let dir = files("flags");
    let not_pem = dir.0.join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let url = "https://localhost:1/auth/jwt/jwks.json";
    bad_flag(
        &["--serve", "api2", "--jwks-url", "ftp://x/j"],
        "--jwks-url",
    );
    bad_flag(&["--serve", "api2", "--jwks-url", "https://"], "--jwks-url");
    bad_flag(
        &[
            "--serve",
            "api2",
            "--jwks-url",
            url,
            "--jwks-ca",
            "/nonexistent.pem",
        ],
        "--jwks-ca",
    );
    bad_flag(
        &[
            "--serve",
            "api2",
            "--jwks-url",
            url,
            "--jwks-ca",
            not_pem.to_str().unwrap(),
        ],
        "--jwks-ca",
    );
    bad_flag(&["--jwks-ca", not_pem.to_str().unwrap()], "--jwks-ca");
}
