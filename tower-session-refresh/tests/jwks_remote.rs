//! `RemoteJwks` against a real `JwksService` on 127.0.0.1: verification with no secret,
//! rotation picked up through the unknown-kid refetch, the cool-down, failures.
#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tower::ServiceExt as _;
use tower_session_refresh::jwks::{JwksService, RemoteJwks, RemoteJwksError};
use tower_session_refresh::keys::{KeySet, SigningKey};
use tower_session_refresh::token::{
    AccessTokenClaims, AccessTokenVerifier, InvalidReason, VerifyError,
};

const RSA_PKCS8: &str = include_str!("fixtures/rs256-test-only-private.pem");

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(sub: &str) -> AccessTokenClaims {
    AccessTokenClaims::new(sub, "handle", "ab", now(), 3600)
}

/// Serves `svc` on 127.0.0.1, counting requests.
async fn serve_counted(svc: JwksService) -> (SocketAddr, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&count);
    let counted = tower::service_fn(move |req: http::Request<axum::body::Body>| {
        counter.fetch_add(1, Ordering::SeqCst);
        svc.clone().oneshot(req)
    });
    let addr =
        tower_session_testkit::serve::serve(axum::Router::new().fallback_service(counted)).await;
    (addr, count)
}

fn url(addr: SocketAddr) -> String {
    format!("http://{addr}/auth/jwt/jwks.json")
}

#[tokio::test]
async fn verifies_with_no_secret_and_follows_rotation() {
    let issuer = KeySet::new(SigningKey::generate_ed25519("k1").unwrap());
    let (addr, count) = serve_counted(JwksService::new(issuer.clone())).await;

    let cooldown = Duration::from_millis(200);
    let remote = RemoteJwks::builder(url(addr))
        .allow_insecure_http(true)
        .cooldown(cooldown)
        .build()
        .unwrap();
    let verifier = AccessTokenVerifier::new(remote.clone());

    // The first token triggers the first fetch.
    let t1 = issuer.sign(&claims("alice")).unwrap();
    assert_eq!(verifier.verify(&t1).await.unwrap().sub, "alice");
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(remote.kids(), ["k1"]);
    // More tokens with a known kid: no fetch (and the sync path works too).
    let t1b = issuer.sign(&claims("bob")).unwrap();
    assert_eq!(verifier.verify_sync(&t1b).unwrap().sub, "bob");
    assert_eq!(verifier.verify(&t1b).await.unwrap().sub, "bob");
    assert_eq!(count.load(Ordering::SeqCst), 1);

    // The issuer rotates to an RSA key (as a SuperTokens core would).
    issuer
        .rotate(SigningKey::rs256_from_pkcs8_pem("k2", RSA_PKCS8).unwrap())
        .unwrap();
    let t2 = issuer.sign(&claims("carol")).unwrap();
    // verify_sync never fetches
    assert_eq!(
        verifier.verify_sync(&t2),
        Err(VerifyError::Invalid(InvalidReason::UnknownKid))
    );
    tokio::time::sleep(cooldown + Duration::from_millis(50)).await;
    assert_eq!(verifier.verify(&t2).await.unwrap().sub, "carol");
    assert_eq!(
        count.load(Ordering::SeqCst),
        2,
        "one refetch for the new kid"
    );
    assert_eq!(remote.kids(), ["k2", "k1"]);
    // Tokens of the old key still verify.
    assert_eq!(verifier.verify(&t1).await.unwrap().sub, "alice");
    assert_eq!(count.load(Ordering::SeqCst), 2);

    // Within the cool-down a new kid is not fetched: unknown.
    issuer
        .rotate(SigningKey::generate_ed25519("k3").unwrap())
        .unwrap();
    let t3 = issuer.sign(&claims("dave")).unwrap();
    assert_eq!(
        verifier.verify(&t3).await,
        Err(VerifyError::Invalid(InvalidReason::UnknownKid))
    );
    assert_eq!(count.load(Ordering::SeqCst), 2);
    tokio::time::sleep(cooldown + Duration::from_millis(50)).await;
    assert_eq!(verifier.verify(&t3).await.unwrap().sub, "dave");
    assert_eq!(count.load(Ordering::SeqCst), 3);

    // The issuer retires k1: after a refetch its tokens stop verifying, even cached ones.
    assert!(issuer.remove_key("k1").unwrap());
    remote.refresh().await.unwrap();
    assert_eq!(
        verifier.verify(&t1).await,
        Err(VerifyError::Invalid(InvalidReason::UnknownKid))
    );
}

#[tokio::test]
async fn cooldown_stops_a_flood_of_garbage_kids() {
    let issuer = KeySet::new(SigningKey::generate_ed25519("real").unwrap());
    let (addr, count) = serve_counted(JwksService::new(issuer.clone())).await;
    let cooldown = Duration::from_millis(500);
    let remote = RemoteJwks::builder(url(addr))
        .allow_insecure_http(true)
        .cooldown(cooldown)
        .build()
        .unwrap();
    let verifier = AccessTokenVerifier::new(remote);

    let started = std::time::Instant::now();
    // 200 tokens, each with a fresh unknown kid, 50 at a time concurrently.
    let mut garbage = Vec::new();
    for i in 0..200 {
        let keys = KeySet::new(SigningKey::hs256(&format!("garbage-{i}"), &[i as u8; 32]).unwrap());
        garbage.push(keys.sign(&claims("mallory")).unwrap());
    }
    for chunk in garbage.chunks(50) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|t| {
                let v = verifier.clone();
                let t = t.clone();
                tokio::spawn(async move { v.verify(&t).await })
            })
            .collect();
        for task in tasks {
            assert_eq!(
                task.await.unwrap(),
                Err(VerifyError::Invalid(InvalidReason::UnknownKid))
            );
        }
    }
    let elapsed = started.elapsed();
    let fetches = count.load(Ordering::SeqCst);
    // One fetch per started cool-down window at most.
    let allowed = 1 + (elapsed.as_millis() / cooldown.as_millis()) as usize;
    assert!(
        fetches >= 1 && fetches <= allowed,
        "{fetches} fetches in {elapsed:?}"
    );
    assert!(fetches <= 3, "{fetches} fetches for 200 garbage kids");

    // The real key is known, and verifies without any further fetch.
    let before = count.load(Ordering::SeqCst);
    let good = issuer.sign(&claims("alice")).unwrap();
    assert_eq!(verifier.verify(&good).await.unwrap().sub, "alice");
    assert_eq!(count.load(Ordering::SeqCst), before);
}

#[tokio::test]
async fn unreachable_jwks_is_keys_unavailable() {
    let issuer = KeySet::new(SigningKey::generate_ed25519("k1").unwrap());
    // Nothing listens on this port: KeysUnavailable (a 503, not a 401).
    let unused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let remote = RemoteJwks::builder(url(unused))
        .allow_insecure_http(true)
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let verifier = AccessTokenVerifier::new(remote.clone());
    let token = issuer.sign(&claims("alice")).unwrap();
    assert!(matches!(
        verifier.verify(&token).await,
        Err(VerifyError::KeysUnavailable(_))
    ));
    assert!(matches!(
        remote.last_error(),
        Some(RemoteJwksError::Request(_))
    ));
    // within the cool-down: still unavailable, without another attempt
    assert!(matches!(
        verifier.verify(&token).await,
        Err(VerifyError::KeysUnavailable(_))
    ));
}

#[tokio::test]
async fn oversize_slow_and_bad_responses() {
    use axum::routing::get;
    let big = "x".repeat(100 * 1024);
    let app = axum::Router::new()
        .route("/big", get(move || async move { big }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                r#"{"keys":[]}"#
            }),
        )
        .route(
            "/status",
            get(|| async { (http::StatusCode::BAD_GATEWAY, "") }),
        )
        .route("/notjson", get(|| async { "<html>" }));
    let addr = tower_session_testkit::serve::serve(app).await;

    let at = |path: &str| {
        RemoteJwks::builder(format!("http://{addr}{path}"))
            .allow_insecure_http(true)
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap()
    };
    assert_eq!(
        at("/big").refresh().await,
        Err(RemoteJwksError::TooLarge(64 * 1024))
    );
    assert!(matches!(
        at("/slow").refresh().await,
        Err(RemoteJwksError::Timeout(_))
    ));
    assert_eq!(
        at("/status").refresh().await,
        Err(RemoteJwksError::Status(502))
    );
    assert!(matches!(
        at("/notjson").refresh().await,
        Err(RemoteJwksError::Parse(_))
    ));
}

#[tokio::test]
async fn keys_refresh_periodically_in_the_background() {
    let issuer = KeySet::new(SigningKey::generate_ed25519("k1").unwrap());
    let (addr, count) = serve_counted(JwksService::new(issuer.clone())).await;
    let remote = RemoteJwks::builder(url(addr))
        .allow_insecure_http(true)
        .refresh_interval(Duration::from_secs(1))
        .cooldown(Duration::from_millis(100))
        .build()
        .unwrap();
    remote.refresh().await.unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 1);
    let verifier = AccessTokenVerifier::builder(remote.clone())
        .cache_capacity(0)
        .build()
        .unwrap();
    let token = issuer.sign(&claims("alice")).unwrap();
    assert!(verifier.verify(&token).await.is_ok());

    // After the refresh interval, a verification starts a background refetch that picks up
    // the rotated key without any unknown kid.
    issuer
        .rotate(SigningKey::generate_ed25519("k2").unwrap())
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(verifier.verify_sync(&token).is_ok());
    for _ in 0..50 {
        if remote.kids().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(remote.kids(), ["k2", "k1"]);
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[test]
fn config_is_validated() {
    for bad in ["/relative", "not a url", "ftp://x/y"] {
        assert!(
            matches!(RemoteJwks::new(bad), Err(RemoteJwksError::InvalidUrl(_))),
            "{bad}"
        );
    }
    // plain http only when asked for
    assert!(matches!(
        RemoteJwks::new("http://127.0.0.1:1/j"),
        Err(RemoteJwksError::InsecureUrl(_))
    ));
    let err = RemoteJwks::new("http://127.0.0.1:1/j")
        .unwrap_err()
        .to_string();
    assert!(err.contains("allow_insecure_http"), "{err}");
    // https with a CA of our own (the system store may be empty on a bare machine)
    let ca = tower_session_testkit::tls::TestCa::new("config CA");
    assert!(RemoteJwks::builder("https://example.com/jwks.json")
        .system_roots(false)
        .ca_pem(ca.pem())
        .build()
        .is_ok());
    assert!(matches!(
        RemoteJwks::builder("http://127.0.0.1:1/j")
            .allow_insecure_http(true)
            .timeout(Duration::ZERO)
            .build(),
        Err(RemoteJwksError::Config(_))
    ));
    assert!(matches!(
        RemoteJwks::builder("http://127.0.0.1:1/j")
            .allow_insecure_http(true)
            .max_response_bytes(1)
            .build(),
        Err(RemoteJwksError::Config(_))
    ));
    let ok = RemoteJwks::builder("http://127.0.0.1:1/auth/jwt/jwks.json")
        .allow_insecure_http(true)
        .build()
        .unwrap();
    assert!(format!("{ok:?}").contains("127.0.0.1"));
}
