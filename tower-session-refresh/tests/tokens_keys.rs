//! Key loading: PEM (PKCS#8, PKCS#1, SPKI) and JWK for each key type, kids, JWKS documents.
#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use base64::Engine as _;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde_json::{json, Value};
use tower_session_refresh::keys::{
    generate_ed25519_pem, parse_jwks, Algorithm, KeyError, KeySet, SigningKey, VerifyingKey,
};
use tower_session_refresh::token::{AccessTokenClaims, AccessTokenVerifier};

const RSA_PKCS8: &str = include_str!("fixtures/rs256-test-only-private.pem");
const RSA_PKCS1: &str = include_str!("fixtures/rs256-test-only-private-pkcs1.pem");
const RSA_JWK: &str = include_str!("fixtures/rs256-test-only-private.jwk.json");
const RSA_SPKI: &str = include_str!("fixtures/rs256-test-only-public.pem");
const ED_OPENSSL: &str = include_str!("fixtures/ed25519-test-only-openssl.pem");
const ED_OPENSSL_SPKI: &str = include_str!("fixtures/ed25519-test-only-openssl-public.pem");

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let body: Vec<_> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        body.join("\n")
    )
}

fn ed25519_spki_pem(public: &[u8]) -> String {
    let mut der = hex("302a300506032b6570032100");
    der.extend_from_slice(public);
    pem("PUBLIC KEY", &der)
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Signs with `signing`, verifies with a key set holding only `verifying`.
fn assert_pair(signing: &SigningKey, verifying: &VerifyingKey) {
    assert_eq!(signing.kid(), verifying.kid());
    assert_eq!(signing.algorithm(), verifying.algorithm());
    let token = KeySet::new(signing.clone())
        .sign(&AccessTokenClaims::new("u", "h", "ab", 1, 3600))
        .unwrap();
    let verifier = AccessTokenVerifier::new(KeySet::verify_only(vec![verifying.clone()]).unwrap());
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(2);
    assert_eq!(verifier.verify_sync_at(&token, at).unwrap().sub, "u");
}

#[test]
fn ed25519_pem_generated_with_ring() {
    let rng = ring::rand::SystemRandom::new();
    let doc = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(doc.as_ref()).unwrap();
    let signing = SigningKey::from_pem(&pem("PRIVATE KEY", doc.as_ref())).unwrap();
    assert_eq!(signing.algorithm(), Algorithm::EdDSA);
    let public = VerifyingKey::from_pem(&ed25519_spki_pem(pair.public_key().as_ref())).unwrap();
    // kid defaults to the RFC 7638 thumbprint: the same for the private and public halves
    assert_eq!(signing.kid(), public.thumbprint());
    assert_pair(&signing, &public);
    // and the helper produces a loadable key
    let generated = SigningKey::from_pem(&generate_ed25519_pem().unwrap()).unwrap();
    assert_ne!(generated.kid(), signing.kid());
}

#[test]
fn ed25519_pem_written_by_openssl() {
    // PKCS#8 v1 (no embedded public key), as `openssl genpkey` writes it.
    let signing = SigningKey::from_pem(ED_OPENSSL).unwrap();
    let public = VerifyingKey::from_pem(ED_OPENSSL_SPKI).unwrap();
    assert_pair(&signing, &public);
    // The public JWK of the signing key loads back to the same key.
    let jwk = signing.verifying_key().to_public_jwk().unwrap();
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["crv"], "Ed25519");
    assert_eq!(jwk["alg"], "EdDSA");
    assert_eq!(jwk["use"], "sig");
    assert!(jwk.get("d").is_none());
    assert_pair(&signing, &VerifyingKey::from_jwk(&jwk.to_string()).unwrap());
}

#[test]
fn ed25519_private_jwk() {
    let rng = ring::rand::SystemRandom::new();
    let doc = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let der = doc.as_ref();
    // ring's PKCS#8 v2 layout: seed at 16..48, public key at the end.
    let seed = &der[16..48];
    let public = &der[der.len() - 32..];
    let jwk = json!({"kty": "OKP", "crv": "Ed25519", "kid": "ed-jwk",
        "d": B64.encode(seed), "x": B64.encode(public)});
    let signing = SigningKey::from_jwk(&jwk.to_string()).unwrap();
    assert_eq!(signing.kid(), "ed-jwk");
    let verifying = VerifyingKey::from_jwk(&jwk.to_string()).unwrap();
    assert_pair(&signing, &verifying);
    // same key from PEM, renamed
    let from_pem = SigningKey::from_pem(&pem("PRIVATE KEY", der))
        .unwrap()
        .with_kid("ed-jwk")
        .unwrap();
    assert_pair(&from_pem, &verifying);
    // a public key that does not match the seed is refused
    let mut wrong = jwk.clone();
    wrong["x"] = json!(B64.encode([9u8; 32]));
    assert!(matches!(
        SigningKey::from_jwk(&wrong.to_string()),
        Err(KeyError::Rejected(_))
    ));
}

#[test]
fn rsa_from_pkcs8_pkcs1_and_jwk() {
    let pkcs8 = SigningKey::from_pem(RSA_PKCS8).unwrap();
    let pkcs1 = SigningKey::from_pem(RSA_PKCS1).unwrap();
    let jwk = SigningKey::from_jwk(RSA_JWK).unwrap();
    let spki = VerifyingKey::from_pem(RSA_SPKI).unwrap();
    assert_eq!(pkcs8.algorithm(), Algorithm::RS256);
    assert_eq!(pkcs8.kid(), spki.kid(), "thumbprint kid");
    assert_eq!(pkcs1.kid(), spki.kid());
    assert_eq!(jwk.kid(), "rsa-jwk-test-only", "the JWK's own kid wins");
    assert_pair(&pkcs8, &spki);
    assert_pair(&pkcs1, &spki);
    assert_pair(&jwk, &spki.with_kid("rsa-jwk-test-only").unwrap());

    let named = SigningKey::rs256_from_pkcs8_pem("s-1", RSA_PKCS8).unwrap();
    assert_eq!(named.kid(), "s-1");
    // The published JWK has exactly the core's members.
    let public = named.verifying_key().to_public_jwk().unwrap();
    let mut members: Vec<_> = public.as_object().unwrap().keys().cloned().collect();
    members.sort();
    assert_eq!(members, ["alg", "e", "kid", "kty", "n", "use"]);
    assert_eq!(public["e"], "AQAB");
    let n = B64.decode(public["n"].as_str().unwrap()).unwrap();
    assert_eq!(n.len(), 256);
    let from_components = VerifyingKey::rs256_from_components("s-1", &n, &[1, 0, 1]).unwrap();
    assert_pair(&named, &from_components);
    assert_pair(
        &named,
        &VerifyingKey::from_jwk(&public.to_string()).unwrap(),
    );
    // rs256_from_pkcs8_pem refuses a non-RSA key
    assert!(matches!(
        SigningKey::rs256_from_pkcs8_pem("x", ED_OPENSSL),
        Err(KeyError::Unsupported(_))
    ));
}

#[test]
fn hs256_from_oct_jwk() {
    let secret = [5u8; 48];
    let jwk = json!({"kty": "oct", "kid": "shared", "alg": "HS256", "k": B64.encode(secret)});
    let signing = SigningKey::from_pem_or_jwk(&jwk.to_string()).unwrap();
    assert_eq!(
        (signing.kid(), signing.algorithm()),
        ("shared", Algorithm::HS256)
    );
    assert_pair(&signing, &VerifyingKey::hs256("shared", &secret).unwrap());
    assert_pair(&signing, &VerifyingKey::from_jwk(&jwk.to_string()).unwrap());
    assert!(signing.verifying_key().to_public_jwk().is_none());
    // without a kid, an id derived without exposing the secret
    let anon = json!({"kty": "oct", "k": B64.encode(secret)});
    let anon = SigningKey::from_jwk(&anon.to_string()).unwrap();
    assert!(anon.kid().starts_with("hs-"));
    // short secrets are refused everywhere
    let short = json!({"kty": "oct", "kid": "s", "k": B64.encode([1u8; 31])});
    assert_eq!(
        SigningKey::from_jwk(&short.to_string()).unwrap_err(),
        KeyError::SecretTooShort(31)
    );
    assert_eq!(
        SigningKey::hs256("s", b"short").unwrap_err(),
        KeyError::SecretTooShort(5)
    );
    assert_eq!(
        VerifyingKey::hs256("s", &[0; 16]).unwrap_err(),
        KeyError::SecretTooShort(16)
    );
}

#[test]
fn from_pem_or_jwk_dispatches() {
    assert_eq!(
        SigningKey::from_pem_or_jwk(RSA_PKCS8).unwrap().kid(),
        SigningKey::from_pem(RSA_PKCS8).unwrap().kid()
    );
    assert_eq!(
        SigningKey::from_pem_or_jwk(&format!("\n  {RSA_JWK}"))
            .unwrap()
            .kid(),
        "rsa-jwk-test-only"
    );
}

#[test]
fn loader_errors_are_typed() {
    // public key where a private key is needed, and garbage
    assert!(matches!(
        SigningKey::from_pem(RSA_SPKI),
        Err(KeyError::Pem(_))
    ));
    assert!(matches!(
        SigningKey::from_pem("hello"),
        Err(KeyError::Pem(_))
    ));
    assert!(matches!(
        SigningKey::from_pem("-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n"),
        Err(KeyError::Pem(_))
    ));
    assert!(matches!(
        SigningKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n"),
        Err(KeyError::Pem(_))
    ));
    assert!(matches!(
        SigningKey::from_pem(&pem("ENCRYPTED PRIVATE KEY", b"x")),
        Err(KeyError::Pem(m)) if m.contains("encrypted")
    ));
    assert!(matches!(
        SigningKey::from_pem(&pem("PRIVATE KEY", b"\x30\x03\x02\x01\x00")),
        Err(KeyError::Pem(_))
    ));
    // JWK: unsupported types, algorithms, uses; public-only where private is needed
    let ec = json!({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "kid": "ec"});
    assert!(matches!(
        VerifyingKey::from_jwk(&ec.to_string()),
        Err(KeyError::Unsupported(_))
    ));
    let x448 = json!({"kty": "OKP", "crv": "X448", "x": "AA"});
    assert!(matches!(
        VerifyingKey::from_jwk(&x448.to_string()),
        Err(KeyError::Unsupported(_))
    ));
    let mut rs512: Value = serde_json::from_str(RSA_JWK).unwrap();
    rs512["alg"] = json!("RS512");
    assert!(matches!(
        SigningKey::from_jwk(&rs512.to_string()),
        Err(KeyError::Unsupported(_))
    ));
    let mut enc: Value = serde_json::from_str(RSA_JWK).unwrap();
    enc["use"] = json!("enc");
    assert!(matches!(
        VerifyingKey::from_jwk(&enc.to_string()),
        Err(KeyError::Unsupported(_))
    ));
    let public = SigningKey::from_pem(RSA_PKCS8)
        .unwrap()
        .verifying_key()
        .to_public_jwk()
        .unwrap();
    assert!(matches!(
        SigningKey::from_jwk(&public.to_string()),
        Err(KeyError::Jwk(_))
    ));
    assert!(matches!(SigningKey::from_jwk("{"), Err(KeyError::Jwk(_))));
    // RSA below 2048 bits
    assert_eq!(
        VerifyingKey::rs256_from_components("k", &[0xC3; 128], &[1, 0, 1]).unwrap_err(),
        KeyError::RsaKeySize(1024)
    );
    // kids
    assert!(matches!(
        SigningKey::generate_ed25519(""),
        Err(KeyError::InvalidKid(_))
    ));
    assert!(matches!(
        SigningKey::generate_ed25519("a\nb"),
        Err(KeyError::InvalidKid(_))
    ));
    assert!(matches!(
        SigningKey::generate_ed25519(&"k".repeat(300)),
        Err(KeyError::InvalidKid(_))
    ));
    // errors display something actionable
    assert_eq!(
        KeyError::SecretTooShort(3).to_string(),
        "HS256 secret must be at least 32 bytes, got 3"
    );
}

#[test]
fn jwks_documents() {
    let ed = SigningKey::generate_ed25519("ed").unwrap();
    let rsa = SigningKey::rs256_from_pkcs8_pem("rsa", RSA_PKCS8).unwrap();
    let hs = SigningKey::hs256("hs", &[1; 32]).unwrap();
    let keys = KeySet::new(ed.clone())
        .with_verification_key(rsa.verifying_key().clone())
        .unwrap()
        .with_verification_key(hs.verifying_key().clone())
        .unwrap();
    let doc: Value = serde_json::from_str(&keys.jwks_json()).unwrap();
    let kids: Vec<_> = doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, ["ed", "rsa"], "HS256 never published");
    let parsed = parse_jwks(&keys.jwks_json()).unwrap();
    assert_eq!(parsed.len(), 2);
    assert_pair(&ed, &parsed[0]);
    assert_pair(&rsa, &parsed[1]);

    // A foreign JWKS: unusable and secret entries are skipped, not fatal.
    let mut mixed = doc.clone();
    let arr = mixed["keys"].as_array_mut().unwrap();
    arr.insert(
        0,
        json!({"kty": "EC", "crv": "P-256", "kid": "ec", "x": "AA", "y": "AA"}),
    );
    arr.insert(
        0,
        json!({"kty": "oct", "kid": "leak", "k": B64.encode([1u8; 32])}),
    );
    arr.push(json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}));
    arr.push(json!("not an object"));
    let mut dup = arr[2].clone();
    dup["x"] = json!(B64.encode([3u8; 32]));
    arr.push(dup);
    let parsed = parse_jwks(&mixed.to_string()).unwrap();
    let kids: Vec<_> = parsed.iter().map(VerifyingKey::kid).collect();
    assert_eq!(kids, ["ed", "rsa"]);
    assert!(parse_jwks("[]").is_err());
    assert!(parse_jwks(r#"{"keys":{}}"#).is_err());
}
