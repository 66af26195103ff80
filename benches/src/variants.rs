//! Every variant by name, so the criterion benches and the callgrind driver build exactly
//! the same stacks and requests.

use std::{fmt::Debug, hint::black_box};

use axum::body::Body;
use http::{Request, Response};
use tokio::runtime::Runtime;

use crate::{peers, tokens, workload};

/// Receives one stack (a `Service` plus a request factory) and measures it.
pub trait StackVisitor {
    /// What the measurement returns.
    type Out;
    /// Measures `svc`; `make_req` builds one request of the workload (call it outside the
    /// measured region).
    fn visit<S, B, F>(self, svc: S, make_req: F) -> Self::Out
    where
        S: tower::Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send,
        S::Error: Debug,
        B: Send + 'static,
        F: FnMut() -> Request<Body>;
}

/// The peers' stacks, in the baseline's order (a0, a, b, c, d, e).
pub const PEER_STACKS: &[&str] = &[
    "service_fn",
    "bare",
    "tower_cookies",
    "cookie_jar",
    "tower_sessions",
    "host_predicate",
    "host_predicate_outer",
    "noop_layer",
];

/// Every stack variant: the peers, then ours.
pub fn stack_names() -> Vec<&'static str> {
    let mut v = PEER_STACKS.to_vec();
    v.extend_from_slice(crate::ours::OUR_STACKS);
    v
}

/// Builds the stack called `name` and hands it to `visitor`; `None` for an unknown name.
pub fn visit_stack<V: StackVisitor>(name: &str, rt: &Runtime, visitor: V) -> Option<V::Out> {
    let peer_cookie = workload::peer_cookie_header(workload::PEER_SESSION_ID);
    let peer_req = move || workload::get_request(&peer_cookie);
    Some(match name {
        "service_fn" => visitor.visit(peers::service_fn_floor(), peer_req),
        "bare" => visitor.visit(peers::bare_router(), peer_req),
        "tower_cookies" => visitor.visit(peers::tower_cookies_router(), peer_req),
        "cookie_jar" => visitor.visit(peers::cookie_jar_router(), peer_req),
        "tower_sessions" => {
            let (router, cookie) = rt.block_on(peers::tower_sessions_router());
            visitor.visit(router, move || workload::get_request(&cookie))
        }
        "host_predicate" => visitor.visit(peers::host_predicate_router(), peer_req),
        "host_predicate_outer" => visitor.visit(peers::host_predicate_outer(), peer_req),
        "noop_layer" => visitor.visit(
            peers::bare_router().layer(tower::layer::util::Identity::new()),
            peer_req,
        ),
        other => return crate::ours::visit_our_stack(other, rt, visitor),
    })
}

/// A token primitive: one call of the closure is one operation.
pub type Primitive = Box<dyn FnMut()>;

/// The peers' token primitives, named `operation/implementation`.
pub const PEER_PRIMITIVES: &[&str] = &[
    "hs256_mac/raw_hmac_ring",
    "hs256_sign/jsonwebtoken",
    "hs256_verify/jsonwebtoken",
    "eddsa_sign/jsonwebtoken",
    "eddsa_verify/jsonwebtoken",
    "rs256_verify/jsonwebtoken",
    "rs256_sign/jsonwebtoken",
];

/// Every primitive: the peers', then ours.
pub fn primitive_names() -> Vec<&'static str> {
    let mut v = PEER_PRIMITIVES.to_vec();
    v.extend_from_slice(crate::ours::OUR_PRIMITIVES);
    v
}

/// Builds the primitive called `name`; `None` for an unknown name.
///
/// Verify primitives verify the token our signer produced for the same claims and key, so
/// both implementations check the very same bytes.
pub fn primitive(name: &str) -> Option<Primitive> {
    let claims = tokens::StClaims::sample();
    Some(match name {
        "hs256_mac/raw_hmac_ring" => {
            let token = crate::ours::sample_token(crate::ours::Alg::Hs256);
            let signing_input = token.rsplit_once('.').map_or("", |(a, _)| a).to_owned();
            let mac = tokens::RawHmac::default();
            Box::new(move || {
                black_box(mac.mac(black_box(signing_input.as_bytes())));
            })
        }
        "hs256_sign/jsonwebtoken" => {
            let jwt = tokens::Jwt::hs256("k1");
            Box::new(move || {
                black_box(jwt.sign(black_box(&claims)));
            })
        }
        "hs256_verify/jsonwebtoken" => {
            let jwt = tokens::Jwt::hs256("k1");
            let token = crate::ours::sample_token(crate::ours::Alg::Hs256);
            assert!(
                jwt.verify(&token).is_some(),
                "jsonwebtoken verifies our HS256 token"
            );
            Box::new(move || {
                black_box(jwt.verify(black_box(&token)));
            })
        }
        "eddsa_sign/jsonwebtoken" => {
            let jwt = crate::ours::jwt(crate::ours::Alg::EdDsa);
            Box::new(move || {
                black_box(jwt.sign(black_box(&claims)));
            })
        }
        "eddsa_verify/jsonwebtoken" => {
            let jwt = crate::ours::jwt(crate::ours::Alg::EdDsa);
            let token = crate::ours::sample_token(crate::ours::Alg::EdDsa);
            assert!(
                jwt.verify(&token).is_some(),
                "jsonwebtoken verifies our EdDSA token"
            );
            Box::new(move || {
                black_box(jwt.verify(black_box(&token)));
            })
        }
        "rs256_verify/jsonwebtoken" => {
            let jwt = tokens::Jwt::rs256("k1");
            let token = crate::ours::sample_token(crate::ours::Alg::Rs256);
            assert!(
                jwt.verify(&token).is_some(),
                "jsonwebtoken verifies our RS256 token"
            );
            Box::new(move || {
                black_box(jwt.verify(black_box(&token)));
            })
        }
        "rs256_sign/jsonwebtoken" => {
            let jwt = tokens::Jwt::rs256("k1");
            Box::new(move || {
                black_box(jwt.sign(black_box(&claims)));
            })
        }
        other => return crate::ours::primitive(other),
    })
}
