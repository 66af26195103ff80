//! The auth server goes down after the first fetch over TLS: tokens of the keys known keep
//! verifying, unknown kids are "keys unavailable" (503), the outage is logged once, and the
//! keys are fetched again when it is back. Alone in its test binary: it asserts on what is
//! logged, and tracing's per-callsite interest is shared with other tests' threads.
#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tower::ServiceExt as _;
use tower_session_refresh::jwks::{JwksService, RemoteJwks, RemoteJwksError};
use tower_session_refresh::keys::{KeySet, SigningKey};
use tower_session_refresh::token::{AccessTokenClaims, AccessTokenVerifier, VerifyError};
use tower_session_testkit::tls::{serve_tls_on, TestCa};

fn claims(sub: &str) -> AccessTokenClaims {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    AccessTokenClaims::new(sub, "handle", "ab", now, 3600)
}

fn jwks_router(svc: JwksService, count: Arc<AtomicUsize>) -> axum::Router {
    let counted = tower::service_fn(move |req: http::Request<axum::body::Body>| {
        count.fetch_add(1, Ordering::SeqCst);
        svc.clone().oneshot(req)
    });
    axum::Router::new().fallback_service(counted)
}

#[tokio::test]
async fn auth_server_down_after_first_fetch_keeps_last_good_keys() {
    let (logs, _guard) = tower_session_testkit::logs::capture_logs();
    let ca = TestCa::new("test CA");
    let issuer = KeySet::new(SigningKey::generate_ed25519("k1").unwrap());
    let leaf = ca.leaf(&["localhost"]);
    let (listener, addr) = tower_session_testkit::serve::listener().await;
    let count = Arc::new(AtomicUsize::new(0));
    let app = jwks_router(JwksService::new(issuer.clone()), count.clone());
    let server = serve_tls_on(listener, app.clone(), &leaf);
    let url = format!("https://localhost:{}/auth/jwt/jwks.json", addr.port());
    let r = RemoteJwks::builder(&url)
        .system_roots(false)
        .ca_pem(ca.pem())
        .cooldown(Duration::from_millis(50))
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    r.refresh().await.unwrap();
    let verifier = AccessTokenVerifier::builder(r.clone())
        .cache_capacity(0) // every verification looks the key up
        .build()
        .unwrap();
    let t1 = issuer.sign(&claims("alice")).unwrap();
    assert!(verifier.verify(&t1).await.is_ok());

    server.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Refetches fail (several times over the outage) ...
    for _ in 0..3 {
        assert!(matches!(
            r.refresh().await,
            Err(RemoteJwksError::Request(_))
        ));
    }
    // ... a token of an unknown kid is "keys unavailable" (503), not "invalid" ...
    issuer
        .rotate(SigningKey::generate_ed25519("k2").unwrap())
        .unwrap();
    tokio::time::sleep(Duration::from_millis(60)).await;
    let t2 = issuer.sign(&claims("bob")).unwrap();
    assert!(matches!(
        verifier.verify(&t2).await,
        Err(VerifyError::KeysUnavailable(_))
    ));
    // ... and tokens of the keys known before the outage still verify.
    for _ in 0..10 {
        assert_eq!(verifier.verify(&t1).await.unwrap().sub, "alice");
    }
    assert_eq!(r.kids(), ["k1"]);
    let warned = logs.text();
    assert_eq!(
        warned.matches("JWKS fetch failed").count(),
        1,
        "logged once per outage:\n{warned}"
    );

    // The auth server comes back on the same port: the new kid is fetched.
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let _back = serve_tls_on(listener, app, &leaf);
    tokio::time::sleep(Duration::from_millis(60)).await;
    let before = count.load(Ordering::SeqCst);
    assert_eq!(verifier.verify(&t2).await.unwrap().sub, "bob");
    assert_eq!(count.load(Ordering::SeqCst), before + 1);
    assert_eq!(r.kids(), ["k2", "k1"]);
    assert!(r.last_error().is_none());
}
