//! Access tokens whose header carries `crit`, or whose claims carry an `nbf` in the future
//! (or one that is not a number), are refused, through real HTTP on loopback and by the
//! verifier itself. RFC 7515 §4.1.11: a recipient that does not understand a critical
//! header parameter must reject the JWS, and this verifier understands none; RFC 7519
//! §4.1.5: a token must not be accepted before its `nbf` (jose, which supertokens-node
//! verifies with, enforces it too).

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use http::{Method, StatusCode};
use serde_json::{json, Value};
use tower_session_refresh::keys::{KeySet, SigningKey};
use tower_session_refresh::session::SessionConfig;
use tower_session_refresh::store::MemoryStore;
use tower_session_refresh::token::{AccessTokenClaims, InvalidReason, VerifyError};
use tower_session_testkit::auth::*;
use tower_session_testkit::browser::*;
use tower_session_testkit::serve::serve;

const SECRET: &[u8] = b"a test secret that is long enough for HS256 keys!";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

fn enc(v: &Value) -> String {
    B64.encode(v.to_string())
}

fn hs_token(header: &Value, payload: &Value) -> String {
    let input = format!("{}.{}", enc(header), enc(payload));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET);
    let sig = ring::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", B64.encode(sig))
}

fn header() -> Value {
    json!({"alg": "HS256", "typ": "JWT", "kid": "hs-1", "version": "5"})
}

fn claims() -> Value {
    AccessTokenClaims::new("user-1", "h-1", "ab".repeat(32), now(), 3600).to_json()
}

#[tokio::test]
async fn crit_headers_and_future_nbf_are_refused() {
    let keys = KeySet::new(SigningKey::hs256("hs-1", SECRET).expect("key"));
    let config = SessionConfig::builder(cookie_config())
        .keys(keys.clone())
        .store(MemoryStore::new())
        .build()
        .expect("config");
    let verifier = config.verifier().clone();
    let addr = serve(auth_app(config, keys)).await;

    let with_header = |extra: Value| {
        let mut h = header();
        h.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        hs_token(&h, &claims())
    };
    let with_claims = |extra: Value| {
        let mut c = claims();
        c.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        hs_token(&header(), &c)
    };
    let accepted = [
        ("plain", hs_token(&header(), &claims())),
        ("nbf in the past", with_claims(json!({"nbf": now() - 10}))),
        ("nbf now", with_claims(json!({"nbf": now()}))),
    ];
    let refused = [
        ("crit [exp]", with_header(json!({"crit": ["exp"]})), "crit"),
        ("crit []", with_header(json!({"crit": []})), "crit"),
        ("crit null", with_header(json!({"crit": null})), "crit"),
        (
            "crit [b64]",
            with_header(json!({"crit": ["b64"], "b64": false})),
            "crit",
        ),
        (
            "nbf in an hour",
            with_claims(json!({"nbf": now() + 3600})),
            "nbf",
        ),
        ("nbf a string", with_claims(json!({"nbf": "soon"})), "nbf"),
        ("nbf null", with_claims(json!({"nbf": null})), "nbf"),
    ];
    for (what, token) in &accepted {
        let mut b = Browser::header_mode(addr);
        b.set_access_token(token);
        assert_eq!(b.me().await.status, StatusCode::OK, "{what}");
        assert!(verifier.verify(token).await.is_ok(), "{what}");
    }
    for (what, token, reason) in &refused {
        let mut b = Browser::header_mode(addr);
        b.set_access_token(token);
        for method in [Method::GET, Method::POST] {
            let reply = b.send(method.clone(), "/me").await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what} ({method})");
            assert_eq!(reply.message(), "unauthorised", "{what}");
            assert!(reply.set_cookies().is_empty(), "{what}: nothing cleared");
        }
        match verifier.verify(token).await {
            Err(VerifyError::Invalid(r)) => {
                let text = r.to_string();
                assert!(text.contains(reason), "{what}: {text}");
                if *reason == "nbf" && *what == "nbf in an hour" {
                    assert_eq!(r, InvalidReason::NotYetValid, "{what}");
                }
            }
            other => panic!("{what}: {other:?}"),
        }
        // Refused every time: nothing was cached.
        assert!(verifier.verify(token).await.is_err(), "{what}, again");
    }
}
