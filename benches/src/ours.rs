//! Our layers on the shared workload. (Filled in as the crates land.)

use std::{hint::black_box, sync::OnceLock};

use axum::{http::StatusCode, routing::get, Router};
use http::HeaderValue;
use tokio::runtime::Runtime;
use tower::Layer;
use tower_domain_guard::{HostGuardLayer, SharedDomain};
use tower_session_cookie::{SessionCookieConfig, SessionCookieLayer, SessionTokens};

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

/// The cookie-layer configuration every stack of ours uses: shared domain `.example.com`,
/// API on `https://api.example.com`, website on `https://www.example.com`.
pub fn cookie_config() -> SessionCookieConfig {
    SessionCookieConfig::builder()
        .shared_domain(SharedDomain::parse(workload::SHARED_DOMAIN).expect("valid domain"))
        .api_domain(format!("https://{}", workload::HOST))
        .website_domain("https://www.example.com")
        .build()
        .expect("valid cookie config")
}

/// Our `Cookie` header: `sAccessToken=<token>; prefs=<61 B>; _ga=<318 B>`.
pub fn our_cookie_header(access_token: &str) -> HeaderValue {
    workload::cookie_header(&format!("sAccessToken={access_token}"))
}

/// `HostGuardLayer` alone, for the shared domain `.example.com`.
pub fn host_guard_router() -> Router {
    let domain = SharedDomain::parse(workload::SHARED_DOMAIN).expect("valid domain");
    crate::peers::bare_router().layer(HostGuardLayer::new(domain))
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

/// Our token primitives, named `operation/implementation`.
pub const OUR_PRIMITIVES: &[&str] = &[];

/// The Ed25519 key both our signer and `jsonwebtoken` use in this process:
/// (PKCS#8 DER, raw public key).
pub fn ed25519_key_material() -> (Vec<u8>, Vec<u8>) {
    static KEY: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    KEY.get_or_init(tokens::ed25519_key).clone()
}

/// An access token for [`tokens::StClaims::sample`], signed with `alg`.
pub fn sample_token(alg: Alg) -> String {
    let claims = tokens::StClaims::sample();
    match alg {
        Alg::Hs256 => tokens::Jwt::hs256("k1").sign(&claims),
        Alg::EdDsa => {
            let (pkcs8, public) = ed25519_key_material();
            tokens::Jwt::eddsa("k1", &pkcs8, &public).sign(&claims)
        }
        Alg::Rs256 => tokens::Jwt::rs256("k1").sign(&claims),
    }
}

/// Builds our stack called `name`.
pub fn visit_our_stack<V: StackVisitor>(name: &str, rt: &Runtime, visitor: V) -> Option<V::Out> {
    let _ = rt;
    let cookie = our_cookie_header(&sample_token(Alg::Hs256));
    let req = move || workload::get_request(&cookie);
    Some(match name {
        "host_guard" => visitor.visit(host_guard_router(), req),
        "host_guard_outer" => {
            let domain = SharedDomain::parse(workload::SHARED_DOMAIN).expect("valid domain");
            let svc = HostGuardLayer::new(domain).layer(crate::peers::bare_router());
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

/// Builds our primitive called `name`.
pub fn primitive(name: &str) -> Option<Primitive> {
    let _ = name;
    None
}
