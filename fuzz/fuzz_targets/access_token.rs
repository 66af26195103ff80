//! `AccessTokenVerifier::verify_sync_at` on valid tokens mutated byte-wise and part-wise
//! (header/payload/signature swapped between tokens), and on raw input. Tokens come from
//! the configured keys (HS256, EdDSA, RS256), from attacker keys that reuse the configured
//! kids, and from `alg` confusion (HS256 keyed with the RSA public key PEM or the Ed25519
//! public key bytes, under the asymmetric kids). Property: **a token that verifies was
//! signed by a configured key**: checked here independently with `ring` on the token's
//! bytes (the header's `kid` names a configured key, `alg` is that key's algorithm, the
//! signature over `header.payload` verifies with it), and its claims are the payload's.
//! The verifier with a cache and the one without always agree.
#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine as _};
use libfuzzer_sys::fuzz_target;
use ring::{hmac, signature};
use serde_json::Value;
use tower_session_refresh::keys::{KeySet, SigningKey, VerifyingKey};
use tower_session_refresh::token::{AccessTokenClaims, AccessTokenVerifier};

const IAT: u64 = 1_700_000_000;
const HS_SECRET: [u8; 32] = [7; 32];
const ED_PEM: &str =
    include_str!("../../tower-session-refresh/tests/fixtures/ed25519-test-only-openssl.pem");
const RS_PEM: &str =
    include_str!("../../tower-session-refresh/tests/fixtures/rs256-test-only-private.pem");
const RS_PUB_PEM: &str =
    include_str!("../../tower-session-refresh/tests/fixtures/rs256-test-only-public.pem");

struct World {
    cached: AccessTokenVerifier,
    uncached: AccessTokenVerifier,
    tokens: Vec<String>,
    ed_public: Vec<u8>,
    rs_n: Vec<u8>,
    rs_e: Vec<u8>,
}

fn jwk_bytes(key: &VerifyingKey, member: &str) -> Vec<u8> {
    let jwk = key.to_public_jwk().expect("public key");
    B64.decode(jwk[member].as_str().expect("member"))
        .expect("base64url")
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let hs = SigningKey::hs256("hs-1", &HS_SECRET).expect("hs");
        let ed = SigningKey::from_pem(ED_PEM)
            .expect("ed")
            .with_kid("ed-1")
            .expect("kid");
        let rs = SigningKey::rs256_from_pkcs8_pem("rs-1", RS_PEM).expect("rs");
        let ed_public = jwk_bytes(ed.verifying_key(), "x");
        let (rs_n, rs_e) = (
            jwk_bytes(rs.verifying_key(), "n"),
            jwk_bytes(rs.verifying_key(), "e"),
        );
        let configured = KeySet::verify_only(vec![
            hs.verifying_key().clone(),
            ed.verifying_key().clone(),
            rs.verifying_key().clone(),
        ])
        .expect("key set");
        let attackers = [
            SigningKey::hs256("hs-1", &[8; 32]).expect("attacker hs"),
            SigningKey::generate_ed25519("ed-1").expect("attacker ed"),
            SigningKey::hs256("rs-1", RS_PUB_PEM.as_bytes()).expect("confusion rs"),
            SigningKey::hs256("ed-1", &ed_public).expect("confusion ed"),
            SigningKey::hs256("unknown", &HS_SECRET).expect("unknown kid"),
        ];
        let mut claims = AccessTokenClaims::new("user-1", "handle-1", "ab".repeat(32), IAT, 3600);
        claims.parent_refresh_token_hash1 = Some("cd".repeat(32));
        claims.payload.insert("role".into(), Value::from("admin"));
        let mut tokens = Vec::new();
        for key in [hs, ed, rs].into_iter().chain(attackers) {
            tokens.push(KeySet::new(key).sign(&claims).expect("sign"));
        }
        let uncached = AccessTokenVerifier::builder(configured.clone())
            .cache_capacity(0)
            .build()
            .expect("verifier");
        let cached = AccessTokenVerifier::builder(configured)
            .cache_capacity(64)
            .build()
            .expect("verifier");
        let at = UNIX_EPOCH + Duration::from_secs(IAT + 10);
        for t in &tokens[..3] {
            assert!(
                uncached.verify_sync_at(t, at).is_ok(),
                "configured token must verify"
            );
        }
        for t in &tokens[3..] {
            assert!(
                uncached.verify_sync_at(t, at).is_err(),
                "attacker token must not verify"
            );
        }
        World {
            cached,
            uncached,
            tokens,
            ed_public,
            rs_n,
            rs_e,
        }
    })
}

/// Independent check that `token` is signed by a configured key.
fn signed_by_configured_key(w: &World, token: &str) -> Result<(), String> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not three parts".into());
    };
    let header: Value = serde_json::from_slice(&B64.decode(h).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let sig = B64.decode(s).map_err(|e| e.to_string())?;
    let input = &token.as_bytes()[..h.len() + 1 + p.len()];
    let ok = match (header["kid"].as_str(), header["alg"].as_str()) {
        (Some("hs-1"), Some("HS256")) => {
            hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, &HS_SECRET), input, &sig).is_ok()
        }
        (Some("ed-1"), Some("EdDSA")) => {
            signature::UnparsedPublicKey::new(&signature::ED25519, &w.ed_public)
                .verify(input, &sig)
                .is_ok()
        }
        (Some("rs-1"), Some("RS256")) => signature::RsaPublicKeyComponents {
            n: &w.rs_n,
            e: &w.rs_e,
        }
        .verify(&signature::RSA_PKCS1_2048_8192_SHA256, input, &sig)
        .is_ok(),
        (kid, alg) => return Err(format!("kid {kid:?} alg {alg:?} is no configured key")),
    };
    if !ok {
        return Err("signature does not verify with the configured key".into());
    }
    let payload: Value = serde_json::from_slice(&B64.decode(p).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    if payload["sub"].as_str().is_none() || payload["sessionHandle"].as_str().is_none() {
        return Err("payload lacks sub/sessionHandle".into());
    }
    Ok(())
}

fn part(token: &str, i: usize) -> &str {
    token.split('.').nth(i).unwrap_or("")
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let token: String = if first & 0x80 != 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        let mut t = w.tokens[usize::from(first) % w.tokens.len()]
            .clone()
            .into_bytes();
        for op in rest.chunks_exact(4) {
            let pos = usize::from(u16::from_le_bytes([op[1], op[2]]));
            let val = op[3];
            match op[0] % 8 {
                0 if !t.is_empty() => {
                    let i = pos % t.len();
                    t[i] = val;
                }
                1 => {
                    let i = pos % (t.len() + 1);
                    t.insert(i, val);
                }
                2 if !t.is_empty() => {
                    let i = pos % t.len();
                    t.remove(i);
                }
                3 => t.truncate(pos % (t.len() + 1)),
                4 | 5 | 6 => {
                    // replace header (4), payload (5) or signature (6) with another token's
                    let idx = usize::from(op[0] % 8 - 4);
                    let other = &w.tokens[usize::from(val) % w.tokens.len()];
                    let cur = String::from_utf8_lossy(&t).into_owned();
                    let mut ps: Vec<&str> = cur.split('.').collect();
                    if ps.len() == 3 {
                        ps[idx] = part(other, idx);
                        t = ps.join(".").into_bytes();
                    }
                }
                7 if !t.is_empty() => {
                    let i = pos % t.len();
                    t[i] ^= 1 << (val % 8);
                }
                _ => {}
            }
        }
        String::from_utf8_lossy(&t).into_owned()
    };
    let at = UNIX_EPOCH + Duration::from_secs(IAT + 10);
    let a = w.uncached.verify_sync_at(&token, at);
    let b = w.cached.verify_sync_at(&token, at);
    assert_eq!(
        a.is_ok(),
        b.is_ok(),
        "cache changed the answer: {a:?} vs {b:?}"
    );
    if let (Ok(a), Ok(b)) = (&a, &b) {
        assert_eq!(a, b);
    }
    if let Ok(claims) = a {
        if let Err(why) = signed_by_configured_key(w, &token) {
            panic!("verified but not signed by a configured key ({why}): {token}");
        }
        let payload: Value =
            serde_json::from_slice(&B64.decode(part(&token, 1)).expect("b64")).expect("json");
        assert_eq!(payload["sub"].as_str(), Some(claims.sub.as_str()));
        assert_eq!(
            payload["sessionHandle"].as_str(),
            Some(claims.session_handle.as_str())
        );
    }
});
