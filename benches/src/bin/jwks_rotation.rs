//! The auth server's JWKS over TLS, rotating every second: `jwks_rotation DIR [SECS]`.
//!
//! For `benches/scripts/wrk-rotation.sh`: makes a CA and a `localhost` certificate (rcgen),
//! writes `DIR/ca.pem` (for the verify-only demo's `--jwks-ca`), `DIR/tokens.txt` (line
//! `i + 1`: an access token signed by key `k{i}`, for SECS keys, default 600) and `DIR/t0`
//! (a Unix second). Key `k0` is published from the start and never retired; key `k{i}` is
//! published at `t0 + i - 0.5 s` and retired 4 s later, so a client that sends the token of
//! line `now - t0 + 1` always sends a kid that is published but that its verifier has not
//! seen yet: one unknown-kid fetch per second. Prints `listening on https://localhost:PORT`
//! and serves until killed (127.0.0.1 only), one stderr line per JWKS request.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tower_session_refresh::jwks::JwksService;
use tower_session_refresh::keys::{KeySet, SigningKey};
use tower_session_refresh::token::AccessTokenClaims;
use tower_session_testkit::tls::{serve_tls, TestCa};

fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(dir), n) = (args.next(), args.next()) else {
        eprintln!("usage: jwks_rotation DIR [SECS]");
        return ExitCode::from(2);
    };
    let n: u64 = match n.map(|n| n.parse()) {
        None => 600,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("SECS must be a positive number");
            return ExitCode::from(2);
        }
    };
    let dir = std::path::PathBuf::from(dir);
    let keys: Vec<SigningKey> = (0..n)
        .map(|i| SigningKey::generate_ed25519(&format!("k{i}")).expect("key"))
        .collect();
    let now = unix_now().as_secs();
    let mut tokens = String::new();
    for key in &keys {
        let claims = AccessTokenClaims::new("bench-user", "bench-handle", "ab", now, 24 * 3600);
        tokens.push_str(&KeySet::new(key.clone()).sign(&claims).expect("sign"));
        tokens.push('\n');
    }
    let ca = TestCa::new("rotation bench CA");
    std::fs::write(dir.join("ca.pem"), ca.pem()).expect("write ca.pem");
    std::fs::write(dir.join("tokens.txt"), tokens).expect("write tokens.txt");

    let published = KeySet::new(keys[0].clone());
    // One stderr line per JWKS request, so the script can count the fetches.
    let jwks = JwksService::new(published.clone());
    let logged = tower::service_fn(move |req: http::Request<axum::body::Body>| {
        eprintln!("jwks request at {:.3}", unix_now().as_secs_f64());
        tower::ServiceExt::oneshot(jwks.clone(), req)
    });
    let server = serve_tls(
        axum::Router::new().fallback_service(logged),
        &ca.leaf(&["localhost"]),
    )
    .await;
    // t0: the second after next, so the client reads it before the first rotation.
    let t0 = now + 2;
    std::fs::write(dir.join("t0"), t0.to_string()).expect("write t0");
    println!("listening on https://localhost:{}", server.addr.port());

    for (i, key) in keys.iter().enumerate().skip(1) {
        let at = Duration::from_millis(t0 * 1000 + i as u64 * 1000 - 500);
        tokio::time::sleep(at.saturating_sub(unix_now())).await;
        published.rotate(key.clone()).expect("rotate");
        if i > 4 {
            let _ = published.remove_key(&format!("k{}", i - 4));
        }
    }
    // Out of keys: keep serving the last set.
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}
