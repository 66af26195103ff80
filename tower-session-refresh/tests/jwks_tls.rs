//! `RemoteJwks` over real TLS on 127.0.0.1 (certificates made here with rcgen): keys
//! fetched over HTTPS, untrusted / wrong-name / expired certificates refused with no keys
//! taken, bounded responses, one shared fetch for a rotated key, and OpenID discovery
//! (the outage test is in `jwks_tls_outage.rs`: it asserts on logs, alone in its process).
#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tower::ServiceExt as _;
use tower_session_refresh::jwks::{
    JwksService, OpenIdDiscoveryService, RemoteJwks, RemoteJwksError,
};
use tower_session_refresh::keys::{KeySet, SigningKey};
use tower_session_refresh::token::{
    AccessTokenClaims, AccessTokenVerifier, InvalidReason, VerifyError,
};
use tower_session_testkit::tls::{serve_tls, serve_tls_on, Leaf, TestCa, TlsServer};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(sub: &str) -> AccessTokenClaims {
    AccessTokenClaims::new(sub, "handle", "ab", now(), 3600)
}

/// A JWKS server over TLS that counts requests and can be slowed down.
struct Jwks {
    server: TlsServer,
    count: Arc<AtomicUsize>,
    slow: Arc<AtomicBool>,
}

impl Jwks {
    fn url(&self) -> String {
        format!(
            "https://localhost:{}/auth/jwt/jwks.json",
            self.server.addr.port()
        )
    }
    fn fetches(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

fn jwks_router(svc: JwksService, count: Arc<AtomicUsize>, slow: Arc<AtomicBool>) -> axum::Router {
    let counted = tower::service_fn(move |req: http::Request<axum::body::Body>| {
        count.fetch_add(1, Ordering::SeqCst);
        let svc = svc.clone();
        let slow = slow.load(Ordering::SeqCst);
        async move {
            if slow {
                tokio::time::sleep(Duration::from_millis(400)).await;
            }
            svc.oneshot(req).await
        }
    });
    axum::Router::new().fallback_service(counted)
}

async fn serve_jwks(keys: &KeySet, leaf: &Leaf) -> Jwks {
    let count = Arc::new(AtomicUsize::new(0));
    let slow = Arc::new(AtomicBool::new(false));
    let app = jwks_router(JwksService::new(keys.clone()), count.clone(), slow.clone());
    Jwks {
        server: serve_tls(app, leaf).await,
        count,
        slow,
    }
}

/// Trusting only `ca` (no system roots), so the test does not depend on the machine.
fn remote(url: &str, ca: &TestCa) -> tower_session_refresh::jwks::RemoteJwksBuilder {
    RemoteJwks::builder(url)
        .system_roots(false)
        .ca_pem(ca.pem())
}

#[tokio::test]
async fn keys_are_fetched_over_tls_and_verify() {
    let ca = TestCa::new("test CA");
    let issuer = KeySet::new(SigningKey::generate_ed25519("k1").unwrap());
    let jwks = serve_jwks(&issuer, &ca.leaf(&["localhost", "127.0.0.1"])).await;

    let remote_jwks = remote(&jwks.url(), &ca).build().unwrap();
    let verifier = AccessTokenVerifier::new(remote_jwks.clone());
    let token = issuer.sign(&claims("alice")).unwrap();
    assert_eq!(verifier.verify(&token).await.unwrap().sub, "alice");
    assert_eq!(remote_jwks.kids(), ["k1"]);
    assert_eq!(jwks.fetches(), 1);

    // The CA from a PEM file, and the IP address as the name, work the same.
    let dir = std::env::temp_dir().join(format!("jwks-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let by_ip = format!(
        "https://127.0.0.1:{}/auth/jwt/jwks.json",
        jwks.server.addr.port()
    );
    let from_file = RemoteJwks::builder(by_ip)
        .system_roots(false)
        .ca_file(&ca_file)
        .build()
        .unwrap();
    from_file.refresh().await.unwrap();
    assert_eq!(from_file.kids(), ["k1"]);
    std::fs::remove_dir_all(&dir).unwrap();

    // A CA file that is missing or holds no certificate is refused when building.
    for bad in [
        RemoteJwks::builder(jwks.url())
            .ca_file("/nonexistent/ca.pem")
            .build(),
        RemoteJwks::builder(jwks.url())
            .ca_pem("not a certificate")
            .build(),
    ] {
        assert!(matches!(bad, Err(RemoteJwksError::Ca(_))), "{bad:?}");
    }
    // No roots at all: refused when building, not at the first token.
    assert!(matches!(
        RemoteJwks::builder(jwks.url()).system_roots(false).build(),
        Err(RemoteJwksError::Config(_))
    ));
}

/// Refused certificates: a clear TLS error, no keys taken, tokens get "keys unavailable"
/// (503), never "invalid" (401) nor a verification.
async fn assert_refused(leaf: Leaf, trusted: &TestCa, url_host: &str, needle: &str) {
    let issuer = KeySet::new(SigningKey::generate_ed25519("k1").unwrap());
    let jwks = serve_jwks(&issuer, &leaf).await;
    let url = format!(
        "https://{url_host}:{}/auth/jwt/jwks.json",
        jwks.server.addr.port()
    );
    let r = remote(&url, trusted).build().unwrap();
    let err = r.refresh().await.unwrap_err();
    match &err {
        RemoteJwksError::Tls(msg) => assert!(
            msg.to_ascii_lowercase()
                .contains(&needle.to_ascii_lowercase()),
            "{needle:?} not in {msg:?}"
        ),
        other => panic!("expected a TLS error naming {needle:?}, got {other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("TLS with the JWKS server failed"),
        "{err}"
    );
    assert!(r.kids().is_empty(), "no keys taken");
    assert_eq!(jwks.fetches(), 0, "no request reached the server");
    let verifier = AccessTokenVerifier::new(r);
    tokio::time::sleep(Duration::from_millis(550)).await; // past the cool-down
    let token = issuer.sign(&claims("alice")).unwrap();
    assert!(matches!(
        verifier.verify(&token).await,
        Err(VerifyError::KeysUnavailable(msg)) if msg.contains("TLS")
    ));
}

#[tokio::test]
async fn certificate_from_an_untrusted_ca_is_refused() {
    let trusted = TestCa::new("trusted CA");
    let other = TestCa::new("someone else's CA");
    assert_refused(
        other.leaf(&["localhost"]),
        &trusted,
        "localhost",
        "UnknownIssuer",
    )
    .await;
}

#[tokio::test]
async fn certificate_for_another_host_name_is_refused() {
    let ca = TestCa::new("test CA");
    assert_refused(
        ca.leaf(&["auth.example.test"]),
        &ca,
        "localhost",
        "not valid for name",
    )
    .await;
}

#[tokio::test]
async fn expired_certificate_is_refused() {
    let ca = TestCa::new("test CA");
    assert_refused(ca.expired_leaf(&["localhost"]), &ca, "localhost", "expired").await;
}

#[tokio::test]
async fn oversized_and_malformed_jwks_are_refused() {
    use axum::routing::get;
    let ca = TestCa::new("test CA");
    let big = format!(r#"{{"keys":[],"pad":"{}"}}"#, "x".repeat(100 * 1024));
    let app = axum::Router::new()
        .route("/big", get(move || async move { big }))
        // chunked, no content-length: the cap applies while reading
        .route(
            "/big-stream",
            get(|| async {
                let chunks = (0..40).map(|_| Ok::<_, std::io::Error>(vec![b' '; 4096]));
                axum::body::Body::from_stream(futures_util::stream::iter(chunks))
            }),
        )
        .route("/notjson", get(|| async { "<html>" }))
        .route(
            "/nokeys",
            get(|| async { r#"{"keys":[{"kty":"OKP","kid":"x"}]}"# }),
        );
    let server = serve_tls(app, &ca.leaf(&["localhost"])).await;
    let at = |path: &str| {
        remote(
            &format!("https://localhost:{}{path}", server.addr.port()),
            &ca,
        )
        .build()
        .unwrap()
    };
    for path in ["/big", "/big-stream"] {
        let r = at(path);
        assert_eq!(
            r.refresh().await,
            Err(RemoteJwksError::TooLarge(64 * 1024)),
            "{path}"
        );
        assert!(r.kids().is_empty());
    }
    for path in ["/notjson", "/nokeys"] {
        let r = at(path);
        assert!(
            matches!(r.refresh().await, Err(RemoteJwksError::Parse(_))),
            "{path}"
        );
        assert!(r.kids().is_empty());
    }
}

#[tokio::test]
async fn rotated_key_is_fetched_once_for_its_first_tokens_without_delaying_others() {
    let ca = TestCa::new("test CA");
    let issuer = KeySet::new(SigningKey::generate_ed25519("k1").unwrap());
    let jwks = serve_jwks(&issuer, &ca.leaf(&["localhost"])).await;
    let r = remote(&jwks.url(), &ca).build().unwrap();
    r.refresh().await.unwrap();
    let verifier = AccessTokenVerifier::builder(r.clone())
        .cache_capacity(0)
        .build()
        .unwrap();
    let old = issuer.sign(&claims("alice")).unwrap();
    assert!(verifier.verify(&old).await.is_ok());
    // past the cool-down of the warm-up fetch
    tokio::time::sleep(Duration::from_millis(550)).await;

    issuer
        .rotate(
            SigningKey::rs256_from_pkcs8_pem(
                "k2",
                include_str!("fixtures/rs256-test-only-private.pem"),
            )
            .unwrap(),
        )
        .unwrap();
    jwks.slow.store(true, Ordering::SeqCst); // the fetch takes 400 ms
    let new: Vec<String> = (0..20)
        .map(|i| issuer.sign(&claims(&format!("user{i}"))).unwrap())
        .collect();

    // The first request with the new kid starts the fetch, then gives up (its client went
    // away): the fetch goes on in its own task.
    let first = tokio::time::timeout(Duration::from_millis(20), verifier.verify(&new[0])).await;
    assert!(first.is_err(), "the fetch takes 400 ms");
    // Everyone else with the new kid waits on that same fetch ...
    let started = Instant::now();
    let waiting: Vec<_> = new[1..]
        .iter()
        .map(|t| {
            let v = verifier.clone();
            let t = t.clone();
            tokio::spawn(async move { v.verify(&t).await })
        })
        .collect();
    // ... while a token of a known kid is answered at once.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let t = Instant::now();
    assert_eq!(verifier.verify(&old).await.unwrap().sub, "alice");
    assert!(
        t.elapsed() < Duration::from_millis(100),
        "{:?}",
        t.elapsed()
    );
    for (i, w) in waiting.into_iter().enumerate() {
        assert_eq!(w.await.unwrap().unwrap().sub, format!("user{}", i + 1));
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(jwks.fetches(), 2, "the warm-up and one shared fetch");
    assert_eq!(r.kids(), ["k2", "k1"]);
    assert_eq!(verifier.verify(&new[0]).await.unwrap().sub, "user0");
    // A garbage kid right after is answered from the cool-down, without a fetch.
    let garbage = KeySet::new(SigningKey::generate_ed25519("nope").unwrap())
        .sign(&claims("mallory"))
        .unwrap();
    assert_eq!(
        verifier.verify(&garbage).await,
        Err(VerifyError::Invalid(InvalidReason::UnknownKid))
    );
    assert_eq!(jwks.fetches(), 2);
}

#[tokio::test]
async fn discovery_finds_the_jwks_from_the_issuer() {
    let ca = TestCa::new("test CA");
    let issuer_keys = KeySet::new(SigningKey::generate_ed25519("k1").unwrap());
    let (listener, addr) = tower_session_testkit::serve::listener().await;
    let origin = format!("https://localhost:{}", addr.port());
    let discovery = OpenIdDiscoveryService::builder(origin.clone(), issuer_keys.clone())
        .build()
        .unwrap();
    let jwks = JwksService::new(issuer_keys.clone());
    let lying = OpenIdDiscoveryService::builder("https://elsewhere.example", issuer_keys.clone())
        .api_base_path("/liar")
        .build()
        .unwrap();
    // An https issuer whose document points at a plain http:// JWKS.
    let plain_doc = serde_json::json!({
        "issuer": format!("{origin}/plain"),
        "jwks_uri": format!("http://localhost:{}/auth/jwt/jwks.json", addr.port()),
    })
    .to_string();
    let (jwks_path, lying_path) = (jwks.path().to_owned(), lying.path().to_owned());
    let app = axum::Router::new()
        .route_service(discovery.path(), discovery.clone())
        .route_service(&jwks_path, jwks)
        .route_service(&lying_path, lying)
        .route(
            "/plain/.well-known/openid-configuration",
            axum::routing::get(move || async move { plain_doc }),
        );
    let _server = serve_tls_on(listener, app, &ca.leaf(&["localhost"]));

    let issuer = format!("{origin}/auth");
    let r = remote(&issuer, &ca).discover().await.unwrap();
    assert_eq!(r.jwks_url(), format!("{origin}/auth/jwt/jwks.json"));
    let token = issuer_keys.sign(&claims("alice")).unwrap();
    assert_eq!(
        AccessTokenVerifier::new(r)
            .verify(&token)
            .await
            .unwrap()
            .sub,
        "alice"
    );
    // The discovery document's own URL, a trailing slash: the same.
    for url in [
        format!("{issuer}/.well-known/openid-configuration"),
        format!("{issuer}/"),
    ] {
        let r = remote(&url, &ca).discover().await.unwrap();
        assert_eq!(r.jwks_url(), format!("{origin}/auth/jwt/jwks.json"));
    }
    // build_or_discover takes either kind of URL.
    let r = remote(&issuer, &ca).build_or_discover().await.unwrap();
    assert_eq!(r.jwks_url(), format!("{origin}/auth/jwt/jwks.json"));
    let r = remote(&format!("{origin}/auth/jwt/jwks.json"), &ca)
        .build_or_discover()
        .await
        .unwrap();
    assert_eq!(r.jwks_url(), format!("{origin}/auth/jwt/jwks.json"));

    // A document naming another issuer is refused.
    assert!(matches!(
        remote(&format!("{origin}/liar"), &ca).discover().await,
        Err(RemoteJwksError::Discovery(m)) if m.contains("elsewhere.example")
    ));
    // An https issuer whose document points at an http:// JWKS: refused unless allowed.
    let plain_issuer = format!("{origin}/plain");
    assert!(matches!(
        remote(&plain_issuer, &ca).discover().await,
        Err(RemoteJwksError::InsecureUrl(u)) if u.starts_with("http://")
    ));
    let allowed = remote(&plain_issuer, &ca)
        .allow_insecure_http(true)
        .discover()
        .await
        .unwrap();
    assert!(allowed.jwks_url().starts_with("http://"));
    // Plain http issuers need the same explicit opt-in.
    assert!(matches!(
        RemoteJwks::discover(format!("http://localhost:{}/auth", addr.port())).await,
        Err(RemoteJwksError::InsecureUrl(_))
    ));
    // No discovery document there: its status.
    assert_eq!(
        remote(&format!("{origin}/nothing"), &ca)
            .discover()
            .await
            .unwrap_err(),
        RemoteJwksError::Status(404)
    );

    // The document has supertokens-node's shape.
    let res = discovery
        .oneshot(
            http::Request::get("/auth/.well-known/openid-configuration")
                .body(())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    let body = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["issuer"], issuer);
    assert_eq!(
        doc["subject_types_supported"],
        serde_json::json!(["public"])
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["EdDSA"])
    );
}
