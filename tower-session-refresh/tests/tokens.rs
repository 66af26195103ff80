//! Access tokens: sign/verify per algorithm, every rejection as its typed error, the
//! verified-token cache, key rotation.
#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use proptest::prelude::*;
use serde_json::{json, Value};
use tower_session_refresh::keys::{Algorithm, KeySet, SigningKey, VerifyingKey};
use tower_session_refresh::token::{
    refresh_token_hash, AccessTokenClaims, AccessTokenVerifier, InvalidReason, TokenError,
    VerifierConfigError, VerifyError, PROTECTED_CLAIMS,
};

const RSA_PEM: &str = include_str!("fixtures/rs256-test-only-private.pem");
const RSA_PUBLIC_PEM: &str = include_str!("fixtures/rs256-test-only-public.pem");
const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-only";
const T0: u64 = 1_700_000_000;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn claims() -> AccessTokenClaims {
    let mut c = AccessTokenClaims::new("user-1", "handle-1", refresh_token_hash("rt-1"), T0, 3600);
    c.iss = Some("http://api.example.com/auth".into());
    c.payload.insert("role".into(), json!("admin"));
    c.payload.insert("nested".into(), json!({"a": [1, 2, 3]}));
    c
}

fn ed_keys() -> KeySet {
    KeySet::new(SigningKey::generate_ed25519("ed-1").unwrap())
}
fn rsa_keys() -> KeySet {
    KeySet::new(SigningKey::rs256_from_pkcs8_pem("rsa-1", RSA_PEM).unwrap())
}
fn hs_keys() -> KeySet {
    KeySet::new(SigningKey::hs256("hs-1", SECRET).unwrap())
}

fn uncached(keys: &KeySet) -> AccessTokenVerifier {
    AccessTokenVerifier::builder(keys.clone())
        .cache_capacity(0)
        .build()
        .unwrap()
}

fn invalid(reason: InvalidReason) -> Result<(), VerifyError> {
    Err(VerifyError::Invalid(reason))
}

fn check(verifier: &AccessTokenVerifier, token: &str) -> Result<(), VerifyError> {
    verifier.verify_sync_at(token, at(T0 + 10)).map(|_| ())
}

fn check_at(verifier: &AccessTokenVerifier, token: &str, secs: u64) -> Result<(), VerifyError> {
    verifier.verify_sync_at(token, at(secs)).map(|_| ())
}

fn parts(token: &str) -> (Value, Value, String) {
    let mut it = token.split('.');
    let h = serde_json::from_slice(&B64.decode(it.next().unwrap()).unwrap()).unwrap();
    let p = serde_json::from_slice(&B64.decode(it.next().unwrap()).unwrap()).unwrap();
    (h, p, it.next().unwrap().to_owned())
}

fn enc(v: &Value) -> String {
    B64.encode(v.to_string())
}

/// A token with arbitrary header and payload, HMAC-signed with `secret`.
fn hs_token(header: &Value, payload: &Value, secret: &[u8]) -> String {
    let input = format!("{}.{}", enc(header), enc(payload));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let sig = ring::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", B64.encode(sig))
}

fn hs_header() -> Value {
    json!({"alg": "HS256", "typ": "JWT", "kid": "hs-1", "version": "5"})
}

#[tokio::test]
async fn round_trip_each_algorithm() {
    for (keys, alg, kid) in [
        (ed_keys(), "EdDSA", "ed-1"),
        (rsa_keys(), "RS256", "rsa-1"),
        (hs_keys(), "HS256", "hs-1"),
    ] {
        let token = keys.sign(&claims()).unwrap();
        let (header, payload, _) = parts(&token);
        assert_eq!(
            header,
            json!({"alg": alg, "typ": "JWT", "kid": kid, "version": "5"})
        );
        assert_eq!(payload["sub"], "user-1");
        assert_eq!(payload["rsub"], "user-1");
        assert_eq!(payload["tId"], "public");
        assert_eq!(payload["sessionHandle"], "handle-1");
        assert_eq!(payload["refreshTokenHash1"], refresh_token_hash("rt-1"));
        assert_eq!(payload["parentRefreshTokenHash1"], Value::Null);
        assert_eq!(payload["antiCsrfToken"], Value::Null);
        assert_eq!(payload["iat"], T0);
        assert_eq!(payload["exp"], T0 + 3600);
        assert_eq!(payload["role"], "admin", "payload merged at top level");
        assert!(payload.get("payload").is_none());

        let verifier = AccessTokenVerifier::new(keys.clone());
        let verified = verifier.verify_at(&token, at(T0 + 10)).await.unwrap();
        assert_eq!(*verified, claims(), "{alg}");
        assert_eq!(verified.to_json(), payload);
        // again, from the cache: the same Arc
        let again = verifier.verify_at(&token, at(T0 + 11)).await.unwrap();
        assert!(std::sync::Arc::ptr_eq(&verified, &again));
        // and without the cache
        assert_eq!(
            *uncached(&keys).verify_sync_at(&token, at(T0)).unwrap(),
            claims()
        );
    }
}

#[test]
fn optional_claims_round_trip() {
    let keys = hs_keys();
    let mut c = claims();
    c.parent_refresh_token_hash1 = Some(refresh_token_hash("rt-0"));
    c.anti_csrf_token = Some("csrf".into());
    c.t_id = "tenant-7".into();
    c.rsub = "recipe-user".into();
    c.iss = None;
    let token = keys.sign(&c).unwrap();
    let v = uncached(&keys).verify_sync_at(&token, at(T0)).unwrap();
    assert_eq!(*v, c);
    assert!(v.needs_promotion());
    assert!(parts(&token).1.get("iss").is_none());
}

#[test]
fn protected_claims_are_refused() {
    let keys = hs_keys();
    for name in PROTECTED_CLAIMS {
        let mut c = claims();
        c.payload.insert((*name).to_owned(), json!("x"));
        assert_eq!(
            keys.sign(&c),
            Err(TokenError::ProtectedClaim((*name).to_owned())),
            "{name}"
        );
    }
    for name in [
        "sub",
        "iat",
        "exp",
        "sessionHandle",
        "parentRefreshTokenHash1",
        "refreshTokenHash1",
        "antiCsrfToken",
        "rsub",
        "tId",
        "stt",
        "iss",
    ] {
        assert!(PROTECTED_CLAIMS.contains(&name));
    }
}

#[test]
fn alg_none_is_refused() {
    let keys = hs_keys();
    let v = uncached(&keys);
    let payload = parts(&keys.sign(&claims()).unwrap()).1;
    for alg in ["none", "None", "NONE"] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": "hs-1", "version": "5"});
        let token = format!("{}.{}.", enc(&header), enc(&payload));
        assert_eq!(check(&v, &token), invalid(InvalidReason::AlgNone));
        let token = format!("{}.{}.c2ln", enc(&header), enc(&payload));
        assert_eq!(check(&v, &token), invalid(InvalidReason::AlgNone));
    }
}

#[test]
fn alg_is_fixed_by_the_key() {
    // The classic confusion: an RS256 kid with an HS256 header, HMAC-keyed with the public key.
    let keys = rsa_keys();
    let payload = parts(&keys.sign(&claims()).unwrap()).1;
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": "rsa-1", "version": "5"});
    for secret in [RSA_PUBLIC_PEM.as_bytes(), SECRET] {
        let forged = hs_token(&header, &payload, secret);
        assert_eq!(
            check(&uncached(&keys), &forged),
            invalid(InvalidReason::AlgMismatch {
                key: Algorithm::RS256
            })
        );
    }
    // An EdDSA kid with another alg, keeping the genuine signature.
    let keys = ed_keys();
    let token = keys.sign(&claims()).unwrap();
    let (_, payload, sig) = parts(&token);
    for alg in ["RS256", "HS256", "ES256", "Ed25519", "eddsa"] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": "ed-1", "version": "5"});
        let forged = format!("{}.{}.{sig}", enc(&header), enc(&payload));
        assert_eq!(
            check(&uncached(&keys), &forged),
            invalid(InvalidReason::AlgMismatch {
                key: Algorithm::EdDSA
            }),
            "{alg}"
        );
    }
    // An HS256 kid with an EdDSA header.
    let keys = hs_keys();
    let forged_header = json!({"alg": "EdDSA", "typ": "JWT", "kid": "hs-1", "version": "5"});
    let forged = hs_token(&forged_header, &payload, SECRET);
    assert_eq!(
        check(&uncached(&keys), &forged),
        invalid(InvalidReason::AlgMismatch {
            key: Algorithm::HS256
        })
    );
}

#[test]
fn unknown_kid_and_missing_kid() {
    let keys = hs_keys();
    let payload = parts(&keys.sign(&claims()).unwrap()).1;
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": "nope", "version": "5"});
    let token = hs_token(&header, &payload, SECRET);
    assert_eq!(
        check(&uncached(&keys), &token),
        invalid(InvalidReason::UnknownKid)
    );
    let header = json!({"alg": "HS256", "typ": "JWT", "version": "5"});
    let token = hs_token(&header, &payload, SECRET);
    assert_eq!(
        check(&uncached(&keys), &token),
        invalid(InvalidReason::Header("missing kid"))
    );
}

#[test]
fn bad_signature_and_tampered_payload() {
    for keys in [ed_keys(), rsa_keys(), hs_keys()] {
        let v = uncached(&keys);
        let token = keys.sign(&claims()).unwrap();
        // flip a character inside the signature
        let (head, sig) = token.rsplit_once('.').unwrap();
        let mut sig = sig.as_bytes().to_vec();
        sig[3] = if sig[3] == b'A' { b'B' } else { b'A' };
        let bad = format!("{head}.{}", String::from_utf8(sig).unwrap());
        assert_eq!(check(&v, &bad), invalid(InvalidReason::BadSignature));
        // a signature from another key of the same algorithm
        let other = match keys.signing_key().unwrap().algorithm() {
            Algorithm::EdDSA => SigningKey::generate_ed25519("ed-1").unwrap(),
            Algorithm::HS256 => SigningKey::hs256("hs-1", &[42u8; 32]).unwrap(),
            _ => continue,
        };
        let forged = KeySet::new(other).sign(&claims()).unwrap();
        assert_eq!(check(&v, &forged), invalid(InvalidReason::BadSignature));
        // tampered payload, genuine header and signature
        let (header, mut payload, sig) = parts(&token);
        payload["sub"] = json!("admin");
        let tampered = format!("{}.{}.{sig}", enc(&header), enc(&payload));
        assert_eq!(check(&v, &tampered), invalid(InvalidReason::BadSignature));
        // empty signature
        let empty = format!("{head}.");
        assert_eq!(check(&v, &empty), invalid(InvalidReason::BadSignature));
    }
}

#[test]
fn wrong_structure() {
    let keys = hs_keys();
    let v = uncached(&keys);
    let token = keys.sign(&claims()).unwrap();
    let (h, rest) = token.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    for bad in [
        "".to_owned(),
        "abc".to_owned(),
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}.{p}.{s}."),
        format!(".{p}.{s}"),
        format!("{h}..{s}"),
    ] {
        assert_eq!(check(&v, &bad), invalid(InvalidReason::Malformed), "{bad}");
    }
    assert_eq!(
        check(&v, &format!("{h}!.{p}.{s}")),
        invalid(InvalidReason::Base64("header"))
    );
    assert_eq!(
        check(&v, &format!("{h}=.{p}.{s}")),
        invalid(InvalidReason::Base64("header")),
        "padding is not allowed"
    );
    assert_eq!(
        check(&v, &format!("{h}.{p}.{s}*")),
        invalid(InvalidReason::Base64("signature"))
    );
    // header not JSON / not an object / wrong member types
    for header in ["not json", "[1,2]", r#"{"alg":5}"#] {
        let t = format!("{}.{p}.{s}", B64.encode(header));
        assert_eq!(
            check(&v, &t),
            invalid(InvalidReason::Header(
                "not a JSON object with string members"
            )),
            "{header}"
        );
    }
    let payload = parts(&token).1;
    let header_cases = [
        (
            json!({"alg": "HS256", "kid": "hs-1", "version": "5"}),
            InvalidReason::Header("typ is not JWT"),
        ),
        (
            json!({"alg": "HS256", "typ": "JWT", "kid": "hs-1"}),
            InvalidReason::Header("missing version"),
        ),
        (
            json!({"alg": "HS256", "typ": "JWT", "kid": "hs-1", "version": "4"}),
            InvalidReason::UnsupportedVersion,
        ),
        (
            json!({"typ": "JWT", "kid": "hs-1", "version": "5"}),
            InvalidReason::Header("missing alg"),
        ),
    ];
    for (header, reason) in header_cases {
        assert_eq!(
            check(&v, &hs_token(&header, &payload, SECRET)),
            invalid(reason)
        );
    }
    // correctly signed, but the payload is not JSON / not the claims object
    let input = format!("{}.{}", enc(&hs_header()), B64.encode("not json"));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET);
    let t = format!(
        "{input}.{}",
        B64.encode(ring::hmac::sign(&key, input.as_bytes()))
    );
    assert_eq!(
        check(&v, &t),
        invalid(InvalidReason::Claims("payload is not JSON".into()))
    );
    let base = parts(&token).1;
    for (mutate, what) in [
        (
            &(|p: &mut Value| drop(p.as_object_mut().unwrap().remove("sub")))
                as &dyn Fn(&mut Value),
            "missing sub",
        ),
        (
            &|p: &mut Value| drop(p.as_object_mut().unwrap().remove("parentRefreshTokenHash1")),
            "missing parent",
        ),
        (
            &|p: &mut Value| drop(p.as_object_mut().unwrap().remove("tId")),
            "missing tId",
        ),
        (&|p: &mut Value| p["exp"] = json!("soon"), "string exp"),
        (&|p: &mut Value| p["exp"] = json!(-5), "negative exp"),
        (&|p: &mut Value| p["sub"] = json!(42), "number sub"),
        (&|p: &mut Value| p["stt"] = json!(1), "stt 1"),
    ] {
        let mut p = base.clone();
        mutate(&mut p);
        let r = check(&v, &hs_token(&hs_header(), &p, SECRET));
        assert!(
            matches!(r, Err(VerifyError::Invalid(InvalidReason::Claims(_)))),
            "{what}: {r:?}"
        );
    }
    // stt 0 is accepted, and not part of the payload
    let mut p = base.clone();
    p["stt"] = json!(0);
    let ok = v
        .verify_sync_at(&hs_token(&hs_header(), &p, SECRET), at(T0))
        .unwrap();
    assert!(!ok.payload.contains_key("stt"));
    // duplicate claims
    let dup = format!(
        r#"{{"sub":"a","sub":"b","exp":{},"iat":1,"tId":"public","rsub":"a","sessionHandle":"h","refreshTokenHash1":"x","parentRefreshTokenHash1":null,"antiCsrfToken":null}}"#,
        T0 + 100
    );
    let input = format!("{}.{}", enc(&hs_header()), B64.encode(dup));
    let t = format!(
        "{input}.{}",
        B64.encode(ring::hmac::sign(&key, input.as_bytes()))
    );
    assert!(matches!(
        check(&v, &t),
        Err(VerifyError::Invalid(InvalidReason::Claims(m))) if m.contains("duplicate")
    ));
}

#[test]
fn oversize_token() {
    let keys = hs_keys();
    let mut c = claims();
    c.payload.insert("blob".into(), json!("x".repeat(9000)));
    let token = keys.sign(&c).unwrap();
    assert!(token.len() > 8192);
    let v = AccessTokenVerifier::new(keys.clone());
    assert_eq!(
        check(&v, &token),
        invalid(InvalidReason::TooLarge {
            len: token.len(),
            max: 8192
        })
    );
    let big = AccessTokenVerifier::builder(keys.clone())
        .max_token_bytes(64 * 1024)
        .build()
        .unwrap();
    assert!(check(&big, &token).is_ok());
    let small = AccessTokenVerifier::builder(keys.clone())
        .max_token_bytes(256)
        .build()
        .unwrap();
    let normal = keys.sign(&claims()).unwrap();
    assert!(matches!(
        check(&small, &normal),
        Err(VerifyError::Invalid(InvalidReason::TooLarge {
            max: 256,
            ..
        }))
    ));
    // huge garbage is refused before any parsing
    assert!(matches!(
        check(&v, &"a".repeat(1 << 20)),
        Err(VerifyError::Invalid(InvalidReason::TooLarge { .. }))
    ));
}

#[test]
fn expiry_with_and_without_leeway() {
    let keys = hs_keys();
    let token = keys.sign(&claims()).unwrap();
    let exp = T0 + 3600;
    for cache in [0, 128] {
        let strict = AccessTokenVerifier::builder(keys.clone())
            .cache_capacity(cache)
            .build()
            .unwrap();
        assert!(
            strict.verify_sync_at(&token, at(exp)).is_ok(),
            "valid up to exp"
        );
        let just_after = at(exp) + Duration::from_millis(1);
        assert_eq!(
            strict.verify_sync_at(&token, just_after),
            Err(VerifyError::Expired)
        );
        assert_eq!(
            strict.verify_sync_at(&token, at(exp + 10)),
            Err(VerifyError::Expired)
        );
        let lenient = AccessTokenVerifier::builder(keys.clone())
            .leeway(Duration::from_secs(30))
            .cache_capacity(cache)
            .build()
            .unwrap();
        assert!(lenient.verify_sync_at(&token, at(exp + 10)).is_ok());
        assert!(lenient.verify_sync_at(&token, at(exp + 30)).is_ok());
        assert_eq!(
            lenient.verify_sync_at(&token, at(exp + 31)),
            Err(VerifyError::Expired)
        );
    }
    // an expired token with a bad signature is Invalid, not Expired
    let (head, _) = token.rsplit_once('.').unwrap();
    let forged = format!("{head}.{}", B64.encode([0u8; 32]));
    assert_eq!(
        check_at(&uncached(&keys), &forged, exp + 10),
        invalid(InvalidReason::BadSignature)
    );
}

#[test]
fn cache_never_lets_a_different_token_pass() {
    let keys = hs_keys();
    let v = AccessTokenVerifier::new(keys.clone());
    let token = keys.sign(&claims()).unwrap();
    assert!(check(&v, &token).is_ok());
    // Same tail (signature), different head: must be checked, and fail.
    let (header, mut payload, sig) = parts(&token);
    payload["sub"] = json!("admin");
    let forged = format!("{}.{}.{sig}", enc(&header), enc(&payload));
    assert_eq!(check(&v, &forged), invalid(InvalidReason::BadSignature));
    // A prefix of a cached token
    assert!(check(&v, &token[..token.len() - 1]).is_err());
    // The genuine one still passes, many times over.
    for _ in 0..10 {
        assert!(check(&v, &token).is_ok());
    }
    // Fill a tiny cache well past capacity: all still verify correctly.
    let small = AccessTokenVerifier::builder(keys.clone())
        .cache_capacity(4)
        .build()
        .unwrap();
    let tokens: Vec<_> = (0..50)
        .map(|i| {
            let mut c = claims();
            c.sub = format!("user-{i}");
            keys.sign(&c).unwrap()
        })
        .collect();
    for _ in 0..2 {
        for (i, t) in tokens.iter().enumerate() {
            assert_eq!(
                small.verify_sync_at(t, at(T0)).unwrap().sub,
                format!("user-{i}")
            );
        }
    }
}

fn user_tokens(keys: &KeySet, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let mut c = claims();
            c.sub = format!("user-{i}");
            keys.sign(&c).unwrap()
        })
        .collect()
}

#[test]
fn cache_keeps_thousands_of_tokens_used_in_turn() {
    // 5,000 users in turn through an 8,192-entry cache: a direct-mapped cache of that size
    // loses about a quarter of them to slot collisions on every round; a set-associative one
    // keeps nearly all (only sets holding more than 16 of the tokens lose any).
    let keys = hs_keys();
    let verifier = AccessTokenVerifier::builder(keys.clone())
        .cache_capacity(8192)
        .build()
        .unwrap();
    let tokens = user_tokens(&keys, 5000);
    let first: Vec<_> = tokens
        .iter()
        .map(|t| verifier.verify_sync_at(t, at(T0)).unwrap())
        .collect();
    let mut served_from_cache = 0;
    for (i, (t, c)) in tokens.iter().zip(&first).enumerate() {
        let again = verifier.verify_sync_at(t, at(T0)).unwrap();
        assert_eq!(again.sub, format!("user-{i}"));
        served_from_cache += usize::from(std::sync::Arc::ptr_eq(c, &again));
    }
    assert!(
        served_from_cache >= 4900,
        "{served_from_cache} of 5000 tokens served from the cache"
    );
}

#[test]
fn cache_shared_by_threads_gives_each_token_its_own_claims() {
    let keys = hs_keys();
    let verifier = AccessTokenVerifier::builder(keys.clone())
        .cache_capacity(512)
        .build()
        .unwrap();
    let tokens = std::sync::Arc::new(user_tokens(&keys, 1500));
    let threads: Vec<_> = (0..4)
        .map(|k| {
            let (verifier, tokens) = (verifier.clone(), tokens.clone());
            std::thread::spawn(move || {
                for round in 0..3 {
                    for j in 0..tokens.len() {
                        let i = (j * (k + 1) + round * 7) % tokens.len();
                        let c = verifier.verify_sync_at(&tokens[i], at(T0)).unwrap();
                        assert_eq!(c.sub, format!("user-{i}"));
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn key_rotation_keeps_old_tokens_valid() {
    let keys = KeySet::new(SigningKey::generate_ed25519("k1").unwrap());
    let verifier = AccessTokenVerifier::new(keys.clone());
    let old = keys.sign(&claims()).unwrap();
    assert!(check(&verifier, &old).is_ok());

    keys.rotate(SigningKey::rs256_from_pkcs8_pem("k2", RSA_PEM).unwrap())
        .unwrap();
    let new = keys.sign(&claims()).unwrap();
    assert_eq!(parts(&new).0["kid"], "k2");
    assert_eq!(parts(&new).0["alg"], "RS256");
    assert!(check(&verifier, &old).is_ok(), "old key still verifies");
    assert!(check(&verifier, &new).is_ok());
    assert_eq!(keys.kids(), ["k2", "k1"]);

    // A duplicate kid is refused; the signing key cannot be removed.
    assert!(keys
        .rotate(SigningKey::generate_ed25519("k1").unwrap())
        .is_err());
    assert!(keys.remove_key("k2").is_err());

    // Retiring k1 revokes its tokens at once, cached or not.
    assert!(keys.remove_key("k1").unwrap());
    assert_eq!(check(&verifier, &old), invalid(InvalidReason::UnknownKid));
    assert!(check(&verifier, &new).is_ok());
}

#[test]
fn verify_only_key_set() {
    let signing = SigningKey::rs256_from_pkcs8_pem("rsa-1", RSA_PEM).unwrap();
    let token = KeySet::new(signing).sign(&claims()).unwrap();
    let public = VerifyingKey::from_pem(RSA_PUBLIC_PEM)
        .unwrap()
        .with_kid("rsa-1")
        .unwrap();
    let verify_only = KeySet::verify_only(vec![public]).unwrap();
    assert!(check(&uncached(&verify_only), &token).is_ok());
    assert_eq!(verify_only.sign(&claims()), Err(TokenError::NoSigningKey));
    let dup = VerifyingKey::from_pem(RSA_PUBLIC_PEM).unwrap();
    assert!(KeySet::verify_only(vec![dup.clone(), dup]).is_err());
}

#[test]
fn refresh_token_hash_is_hex_sha256() {
    assert_eq!(
        refresh_token_hash(""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let h = refresh_token_hash("handle.secret");
    assert_eq!(h.len(), 64);
    assert!(h
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let secret = [0xABu8; 32];
    let key = SigningKey::hs256("hs", &secret).unwrap();
    let keys = KeySet::new(key.clone());
    let mut c = claims();
    c.anti_csrf_token = Some("csrf-secret-value".into());
    let all = format!(
        "{key:?} {:?} {keys:?} {:?} {c:?}",
        key.verifying_key(),
        AccessTokenVerifier::new(keys.clone())
    );
    for needle in ["171, 171", "abab", "q6ur", "csrf-secret-value"] {
        assert!(!all.to_lowercase().contains(needle), "{needle} in {all}");
    }
    assert!(all.contains("hs"));
    // HS256 keys are never published.
    assert_eq!(keys.jwks_json(), r#"{"keys":[]}"#);
}

#[test]
fn verifier_config_is_validated() {
    let keys = hs_keys();
    assert_eq!(
        AccessTokenVerifier::builder(keys.clone())
            .max_token_bytes(10)
            .build()
            .unwrap_err(),
        VerifierConfigError::MaxTokenBytes(10)
    );
    assert!(matches!(
        AccessTokenVerifier::builder(keys.clone())
            .leeway(Duration::from_secs(3600))
            .build(),
        Err(VerifierConfigError::Leeway(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary input and byte-level mutations of a valid token never panic and never pass.
    #[test]
    fn garbage_and_mutations_are_refused(s in ".{0,300}", pos in 0usize..400, byte in any::<u8>()) {
        let keys = hs_keys();
        let v = AccessTokenVerifier::new(keys.clone());
        prop_assert!(v.verify_sync_at(&s, at(T0)).is_err());
        let token = keys.sign(&claims()).unwrap();
        let mut bytes = token.clone().into_bytes();
        let i = pos % bytes.len();
        if bytes[i] != byte {
            bytes[i] = byte;
            if let Ok(mutated) = String::from_utf8(bytes) {
                prop_assert!(v.verify_sync_at(&mutated, at(T0)).is_err());
            }
        }
        prop_assert!(v.verify_sync_at(&token, at(T0)).is_ok());
    }
}
