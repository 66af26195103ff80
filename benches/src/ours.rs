//! Our layers and token primitives on the shared workload.

use std::{
    hint::black_box,
    sync::OnceLock,
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{http::StatusCode, routing::get, Router};
use http::HeaderValue;
use tokio::runtime::Runtime;
use tower::Layer;
use tower_domain_guard::{HostGuardLayer, SharedDomain};
use tower_session_cookie::{SessionCookieConfig, SessionCookieLayer, SessionTokens};
use tower_session_refresh::{
    keys::{KeySet, SigningKey},
    token::{AccessTokenClaims, AccessTokenVerifier},
};

use crate::{
    tokens,
    variants::{Primitive, StackVisitor},
    workload,
};

/// The signing algorithms we measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// Ed25519.
    EdDsa,
    /// HMAC-SHA256.
    Hs256,
    /// RSA-2048 PKCS#1 v1.5 SHA-256.
    Rs256,
}

/// Our stack variants.
pub const OUR_STACKS: &[&str] = &[
    "host_guard",
    "host_guard_outer",
    "session_cookie",
    "session_cookie_418b",
];

/// Our token primitives, named `operation/implementation`.
pub const OUR_PRIMITIVES: &[&str] = &[
    "hs256_sign/ours",
    "hs256_verify/ours_uncached",
    "hs256_verify/ours_cached",
    "eddsa_sign/ours",
    "eddsa_verify/ours_uncached",
    "eddsa_verify/ours_cached",
    "rs256_verify/ours_uncached",
    "rs256_verify/ours_cached",
    "rs256_sign/ours",
];

/// The Ed25519 private key (PKCS#8 PEM) both our signer and `jsonwebtoken` use in this
/// process, made once.
pub fn ed25519_pem() -> &'static str {
    static PEM: OnceLock<String> = OnceLock::new();
    PEM.get_or_init(|| {
        tower_session_refresh::keys::generate_ed25519_pem().expect("key generation works")
    })
}

/// The public `x` (base64url) of [`ed25519_pem`], as its JWK publishes it.
pub fn ed25519_public_x() -> String {
    let jwk = key_set(Alg::EdDsa)
        .signing_key()
        .expect("signing key")
        .verifying_key()
        .to_public_jwk()
        .expect("Ed25519 keys are published");
    jwk["x"].as_str().expect("x member").to_owned()
}

/// Our key set for `alg`, kid `k1` (the same key material `jsonwebtoken` gets).
pub fn key_set(alg: Alg) -> KeySet {
    let key = match alg {
        Alg::Hs256 => SigningKey::hs256("k1", tokens::HS256_SECRET),
        Alg::EdDsa => SigningKey::from_pem(ed25519_pem()).and_then(|k| k.with_kid("k1")),
        Alg::Rs256 => SigningKey::rs256_from_pkcs8_pem("k1", tokens::RS256_PRIVATE_PEM),
    };
    KeySet::new(key.expect("valid key"))
}

/// `jsonwebtoken` with the same key as [`key_set`].
pub fn jwt(alg: Alg) -> tokens::Jwt {
    match alg {
        Alg::Hs256 => tokens::Jwt::hs256("k1"),
        Alg::EdDsa => tokens::Jwt::eddsa("k1", ed25519_pem(), &ed25519_public_x()),
        Alg::Rs256 => tokens::Jwt::rs256("k1"),
    }
}

/// Our claims with the same content as [`tokens::StClaims::sample`].
pub fn sample_claims() -> AccessTokenClaims {
    let s = tokens::StClaims::sample();
    let mut c = AccessTokenClaims::new(
        s.sub,
        s.session_handle,
        s.refresh_token_hash1,
        s.iat,
        s.exp - s.iat,
    );
    c.iss = s.iss;
    c
}

/// An access token for [`sample_claims`], signed by our signer with `alg`.
pub fn sample_token(alg: Alg) -> String {
    key_set(alg).sign(&sample_claims()).expect("signing works")
}

/// Our verifier over `keys`, with or without its verified-token cache.
pub fn verifier(keys: KeySet, cached: bool) -> AccessTokenVerifier {
    if cached {
        AccessTokenVerifier::new(keys)
    } else {
        AccessTokenVerifier::builder(keys)
            .cache_capacity(0)
            .build()
            .expect("valid verifier config")
    }
}

/// Seconds since the epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The cookie-layer configuration every stack of ours uses: shared domain `.example.com`,
/// API on `https://api.example.com`, website on `https://www.example.com`.
pub fn cookie_config() -> SessionCookieConfig {
    SessionCookieConfig::builder()
        .shared_domain(shared_domain())
        .api_domain(format!("https://{}", workload::HOST))
        .website_domain("https://www.example.com")
        .build()
        .expect("valid cookie config")
}

/// `.example.com`.
pub fn shared_domain() -> SharedDomain {
    SharedDomain::parse(workload::SHARED_DOMAIN).expect("valid domain")
}

/// Our `Cookie` header: `sAccessToken=<token>; prefs=<61 B>; _ga=<318 B>`.
pub fn our_cookie_header(access_token: &str) -> HeaderValue {
    workload::cookie_header(&format!("sAccessToken={access_token}"))
}

/// `HostGuardLayer` alone, for the shared domain `.example.com`, added with `Router::layer`
/// (as the peer predicate is).
pub fn host_guard_router() -> Router {
    crate::peers::bare_router().layer(HostGuardLayer::new(shared_domain()))
}

/// `SessionCookieLayer` alone: the handler reads the access token, writes nothing.
pub fn session_cookie_router() -> Router {
    async fn handler(tokens: SessionTokens) -> StatusCode {
        black_box(tokens.access_token().map(|t| t.value.len()));
        StatusCode::OK
    }
    Router::new()
        .route("/", get(handler))
        .layer(SessionCookieLayer::new(cookie_config()))
}

/// Builds our stack called `name`.
pub fn visit_our_stack<V: StackVisitor>(name: &str, rt: &Runtime, visitor: V) -> Option<V::Out> {
    let _ = rt;
    let cookie = our_cookie_header(&sample_token(Alg::Hs256));
    let req = move || workload::get_request(&cookie);
    Some(match name {
        "host_guard" => visitor.visit(host_guard_router(), req),
        "host_guard_outer" => {
            let svc = HostGuardLayer::new(shared_domain()).layer(crate::peers::bare_router());
            visitor.visit(svc, req)
        }
        "session_cookie" => visitor.visit(session_cookie_router(), req),
        // the same with a 22-byte token: the peers' 418-byte header plus the longer name
        "session_cookie_418b" => {
            let cookie = our_cookie_header(workload::PEER_SESSION_ID);
            visitor.visit(session_cookie_router(), move || {
                workload::get_request(&cookie)
            })
        }
        _ => return None,
    })
}

fn alg_of(op: &str) -> Option<Alg> {
    match op.split('_').next()? {
        "hs256" => Some(Alg::Hs256),
        "eddsa" => Some(Alg::EdDsa),
        "rs256" => Some(Alg::Rs256),
        _ => None,
    }
}

/// Builds our primitive called `name`.
pub fn primitive(name: &str) -> Option<Primitive> {
    let (op, imp) = name.split_once('/')?;
    let alg = alg_of(op)?;
    let keys = key_set(alg);
    Some(match (op.rsplit('_').next()?, imp) {
        ("sign", "ours") => {
            let claims = sample_claims();
            Box::new(move || {
                black_box(keys.sign(black_box(&claims)).ok());
            })
        }
        ("verify", "ours_uncached" | "ours_cached") => {
            let v = verifier(keys, imp == "ours_cached");
            let token = sample_token(alg);
            assert!(
                v.verify_sync(&token).is_ok(),
                "our verifier accepts our token"
            );
            Box::new(move || {
                black_box(v.verify_sync(black_box(&token)).ok());
            })
        }
        _ => return None,
    })
}
