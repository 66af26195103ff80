//! Resource limits of the verifier, probed exactly at and one byte past each bound.

use std::time::{Duration, UNIX_EPOCH};

use tower_session_refresh::keys::{KeySet, SigningKey};
use tower_session_refresh::token::{
    AccessTokenClaims, AccessTokenVerifier, InvalidReason, VerifyError, DEFAULT_MAX_TOKEN_BYTES,
};

const IAT: u64 = 1_700_000_000;

fn keys() -> KeySet {
    KeySet::new(SigningKey::hs256("k", &[3u8; 32]).expect("key"))
}

/// A token of exactly `len` bytes (padding in a payload claim; base64 grows in steps of
/// 4 per 3 bytes, so the kid-free remainder is adjusted with the user id).
fn token_of_len(keys: &KeySet, len: usize) -> String {
    let base = keys
        .sign(&AccessTokenClaims::new("u", "h", "ab", IAT, 3600))
        .expect("sign");
    for pad in 0..len {
        let mut claims = AccessTokenClaims::new("u", "h", "ab", IAT, 3600);
        claims.payload.insert("pad".into(), "x".repeat(pad).into());
        let t = keys.sign(&claims).expect("sign");
        if t.len() >= len {
            // Fine-tune with the user id (one char = 4/3 base64 chars): try shorter ids.
            for sub in 1..8 {
                let mut c = AccessTokenClaims::new("u".repeat(sub), "h", "ab", IAT, 3600);
                c.payload
                    .insert("pad".into(), "x".repeat(pad.saturating_sub(3)).into());
                let t = keys.sign(&c).expect("sign");
                if t.len() == len {
                    return t;
                }
            }
            if t.len() == len {
                return t;
            }
        }
    }
    panic!("no token of {len} bytes (base {})", base.len())
}

#[test]
fn token_size_limit_is_exact() {
    let keys = keys();
    let verifier = AccessTokenVerifier::builder(keys.clone())
        .cache_capacity(0)
        .build()
        .expect("verifier");
    let at = UNIX_EPOCH + Duration::from_secs(IAT + 1);
    let max = DEFAULT_MAX_TOKEN_BYTES;
    let at_limit = token_of_len(&keys, max);
    assert!(verifier.verify_sync_at(&at_limit, at).is_ok());
    let past = token_of_len(&keys, max + 1);
    assert_eq!(
        verifier.verify_sync_at(&past, at),
        Err(VerifyError::Invalid(InvalidReason::TooLarge {
            len: max + 1,
            max
        }))
    );
    // Garbage past the limit is refused by size before any parsing.
    let junk = "a".repeat(max + 1);
    assert_eq!(
        verifier.verify_sync_at(&junk, at),
        Err(VerifyError::Invalid(InvalidReason::TooLarge {
            len: max + 1,
            max
        }))
    );
}
