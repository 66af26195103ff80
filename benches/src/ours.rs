//! Our layers on the shared workload. (Filled in as the crates land.)

use std::sync::OnceLock;

use tokio::runtime::Runtime;

use crate::{
    tokens,
    variants::{Primitive, StackVisitor},
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
pub const OUR_STACKS: &[&str] = &[];

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
    let _ = (name, rt, visitor);
    None
}

/// Builds our primitive called `name`.
pub fn primitive(name: &str) -> Option<Primitive> {
    let _ = name;
    None
}
