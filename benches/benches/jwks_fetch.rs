//! The first token of a rotated key on a verify-only server (issue 21): its verification
//! waits for one JWKS fetch over TLS (rustls, loopback, pooled connection), next to a token
//! whose kid is known (cold verify, cache off) measured in the same run.
//! `cargo bench -p tower-shared-session-benches --bench jwks_fetch`
#![allow(missing_docs)] // `criterion_group!` generates an undocumented `pub fn`
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, Criterion};
use tower_session_refresh::jwks::{JwksService, RemoteJwks};
use tower_session_refresh::keys::{KeySet, SigningKey};
use tower_session_refresh::token::{AccessTokenClaims, AccessTokenVerifier};
use tower_session_testkit::tls::{serve_tls, TestCa};

fn claims() -> AccessTokenClaims {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    AccessTokenClaims::new("bench-user", "bench-handle", "ab", now, 3600)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let ca = TestCa::new("bench CA");
    let issuer = KeySet::new(SigningKey::generate_ed25519("k0").unwrap());
    let (verifier, known) = rt.block_on(async {
        let server = serve_tls(
            axum::Router::new().fallback_service(JwksService::new(issuer.clone())),
            &ca.leaf(&["localhost"]),
        )
        .await;
        let remote = RemoteJwks::builder(format!(
            "https://localhost:{}/auth/jwt/jwks.json",
            server.addr.port()
        ))
        .system_roots(false)
        .ca_pem(ca.pem())
        .cooldown(Duration::ZERO) // every new kid may fetch
        .build()
        .unwrap();
        remote.refresh().await.unwrap();
        let verifier = AccessTokenVerifier::builder(remote)
            .cache_capacity(0)
            .build()
            .unwrap();
        (verifier, issuer.sign(&claims()).unwrap())
    });

    let mut g = c.benchmark_group("jwks_rotation");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("known_kid_cold_verify", |b| {
        b.to_async(&rt)
            .iter(|| async { verifier.verify(&known).await.unwrap() });
    });
    let mut n = 0u64;
    g.bench_function("new_kid_first_token_tls_fetch", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (verifier, issuer) = (verifier.clone(), issuer.clone());
            let start = n;
            n += iters;
            async move {
                let mut total = Duration::ZERO;
                for i in start..start + iters {
                    // Not timed: a new key on the auth server, the oldest retired (the
                    // JWKS stays at k0 + two keys), and a token of the new key.
                    issuer
                        .rotate(SigningKey::generate_ed25519(&format!("r{i}")).unwrap())
                        .unwrap();
                    if i >= 2 {
                        let _ = issuer.remove_key(&format!("r{}", i - 2));
                    }
                    let token = issuer.sign(&claims()).unwrap();
                    let t = Instant::now();
                    verifier.verify(&token).await.unwrap();
                    total += t.elapsed();
                }
                total
            }
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
