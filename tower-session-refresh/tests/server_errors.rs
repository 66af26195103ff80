//! Refusals over real HTTP: malformed tokens, a failing store, anti-CSRF, duplicate
//! cookies, missing tokens, claim validation.

use std::sync::Arc;
use std::time::SystemTime;

use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::{Method, StatusCode};
use serde_json::{Map, Value};
use tower_session_cookie::{SessionCookieLayer, SharedDomain};
use tower_session_refresh::keys::{KeySet, SigningKey};
use tower_session_refresh::session::{AntiCsrf, ClaimValidationError, RequireSessionLayer};
use tower_session_refresh::store::{
    NewSession, Presented, PromoteOutcome, RotateOutcome, SessionInfo, SessionStore, StoreError,
    StoreErrorKind, StoreFuture,
};
use tower_session_refresh::token::{refresh_token_hash, AccessTokenClaims};
use tower_session_testkit::auth::*;
use tower_session_testkit::browser::*;
use tower_session_testkit::serve::serve;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Asserts a 401 `unauthorised` that clears nothing.
fn assert_unauthorised_no_clear(reply: &Reply, what: &str) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}: {reply:?}");
    assert_eq!(reply.message(), "unauthorised", "{what}");
    assert!(reply.set_cookies().is_empty(), "{what}: nothing cleared");
    assert_eq!(reply.front_token(), None, "{what}: no front-token");
}

#[tokio::test]
async fn malformed_access_tokens_get_401_without_clearing() {
    let auth = auth_server(AuthOptions::default()).await;
    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    let good = browser.access_token().expect("access");
    let parts: Vec<&str> = good.split('.').collect();
    let payload = parts[1];

    let header = |json: &str| b64(json.as_bytes());
    let alg_none = format!(
        "{}.{payload}.",
        header(r#"{"alg":"none","typ":"JWT","kid":"k1","version":"5"}"#)
    );
    let alg_none_sig = format!(
        "{}.{payload}.{}",
        header(r#"{"alg":"none","typ":"JWT","kid":"k1","version":"5"}"#),
        b64(b"sig")
    );
    let alg_mismatch = format!(
        "{}.{payload}.{}",
        header(r#"{"alg":"HS256","typ":"JWT","kid":"k1","version":"5"}"#),
        b64(&[7u8; 32])
    );
    let other_keys = KeySet::new(SigningKey::generate_ed25519("k9").expect("key"));
    let unknown_kid = other_keys
        .sign(&AccessTokenClaims::new("user-1", "h", "ab", now(), 3600))
        .expect("sign");
    let mut signature = parts[2].as_bytes().to_vec();
    let i = signature.len() / 2;
    signature[i] = if signature[i] == b'A' { b'B' } else { b'A' };
    let bad_signature = format!(
        "{}.{payload}.{}",
        parts[0],
        String::from_utf8(signature).expect("ascii")
    );
    let forged_payload = format!("{}.{}.{}", parts[0], b64(br#"{"sub":"admin"}"#), parts[2]);
    let oversize = format!("{}.{}.{}", parts[0], "a".repeat(12_000), parts[2]);

    let cases: Vec<(&str, String)> = vec![
        ("alg none", alg_none),
        ("alg none with signature", alg_none_sig),
        ("alg mismatch", alg_mismatch),
        ("unknown kid", unknown_kid),
        ("bad signature", bad_signature),
        ("forged payload", forged_payload),
        ("two parts", "abc.def".to_owned()),
        ("four parts", format!("{good}.x")),
        ("empty parts", "..".to_owned()),
        ("not base64", "a~b.c~d.e~f".to_owned()),
        ("oversize", oversize),
    ];
    for header_mode in [false, true] {
        for (what, token) in &cases {
            // (In cookie mode the oversize token exceeds the Cookie header limit and is not
            // even read: 431, which says so and clears nothing either.)
            let mut b = if header_mode {
                Browser::header_mode(auth.addr)
            } else {
                Browser::cookie_mode(auth.addr)
            };
            b.set_access_token(token);
            for method in [Method::GET, Method::POST] {
                let reply = b.send(method.clone(), "/me").await;
                if !header_mode && *what == "oversize" {
                    assert_eq!(reply.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
                    assert!(reply.set_cookies().is_empty());
                    assert_eq!(reply.front_token(), None);
                    continue;
                }
                assert_unauthorised_no_clear(
                    &reply,
                    &format!("{what} ({method}, header={header_mode})"),
                );
            }
        }
    }
    // The server survived all of it.
    assert_eq!(browser.me().await.status, StatusCode::OK);
}

#[tokio::test]
async fn missing_refresh_token_clears_and_removes_front_token() {
    let auth = auth_server(AuthOptions::default()).await;
    let mut fresh = Browser::cookie_mode(auth.addr);
    let reply = fresh.refresh().await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.message(), "unauthorised");
    assert_eq!(reply.front_token(), Some("remove"));
    assert_eq!(reply.clearing_cookies().len(), 2);

    // A lone access cookie is cleared too (supertokens-node#790).
    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    browser.cookies.remove("sRefreshToken");
    let reply = browser.refresh().await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(!browser.cookies.contains_key("sAccessToken"));

    // Garbage and unknown refresh tokens: 401 + clear, never a 500.
    for token in [
        "garbage",
        "a.b",
        "x.yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy",
    ] {
        let mut b = Browser::cookie_mode(auth.addr);
        b.set_refresh_token(token);
        let reply = b.refresh().await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(reply.front_token(), Some("remove"), "{token}");
    }

    // Only POST.
    let reply = fresh.send(Method::GET, "/auth/session/refresh").await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
}

/// A store whose every operation fails.
struct FailingStore;

fn fail<'a, T: Send + 'a>() -> StoreFuture<'a, T> {
    Box::pin(async { Err(StoreError::from_kind(StoreErrorKind::Unavailable)) })
}

impl SessionStore for FailingStore {
    fn create(&self, _: NewSession) -> StoreFuture<'_, ()> {
        fail()
    }
    fn get<'a>(&'a self, _: &'a str) -> StoreFuture<'a, Option<SessionInfo>> {
        fail()
    }
    fn rotate<'a>(
        &'a self,
        _: &'a str,
        _: Presented<'a>,
        _: &'a str,
        _: SystemTime,
    ) -> StoreFuture<'a, RotateOutcome> {
        fail()
    }
    fn promote<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: &'a str,
    ) -> StoreFuture<'a, PromoteOutcome> {
        fail()
    }
    fn revoke<'a>(&'a self, _: &'a str) -> StoreFuture<'a, bool> {
        fail()
    }
    fn revoke_all<'a>(&'a self, _: &'a str) -> StoreFuture<'a, Vec<String>> {
        fail()
    }
    fn list<'a>(&'a self, _: &'a str) -> StoreFuture<'a, Vec<SessionInfo>> {
        fail()
    }
    fn update_payload<'a>(&'a self, _: &'a str, _: Map<String, Value>) -> StoreFuture<'a, bool> {
        fail()
    }
    fn update_session_data<'a>(
        &'a self,
        _: &'a str,
        _: Map<String, Value>,
    ) -> StoreFuture<'a, bool> {
        fail()
    }
}

fn assert_503_nothing_cleared(reply: &Reply, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {reply:?}"
    );
    assert!(!reply.message().is_empty(), "{what}: JSON message");
    assert!(reply.set_cookies().is_empty(), "{what}: no Set-Cookie");
    assert_eq!(reply.front_token(), None, "{what}: no front-token");
    assert_eq!(reply.header("st-access-token"), None, "{what}");
}

#[tokio::test]
async fn failing_store_gives_503_and_clears_nothing() {
    let auth = auth_server(AuthOptions {
        store: Some(Arc::new(FailingStore)),
        ..AuthOptions::default()
    })
    .await;
    let mut browser = Browser::cookie_mode(auth.addr);

    let reply = browser.send(Method::POST, "/login").await;
    assert_503_nothing_cleared(&reply, "login");

    let handle = "0b7e2c44-5a3c-4b7e-9a55-2f0c8f3e9d11";
    let refresh = format!("{handle}.0.{}.{}", "A".repeat(43), "B".repeat(43));
    browser.set_refresh_token(&refresh);
    let reply = browser.refresh().await;
    assert_503_nothing_cleared(&reply, "refresh");

    // A token that needs promotion: the store is asked and fails, and the call is served
    // with the token as it is (no new token, nothing cleared): the next refresh promotes.
    let mut claims =
        AccessTokenClaims::new("user-1", handle, refresh_token_hash(&refresh), now(), 3600);
    claims.parent_refresh_token_hash1 = Some(refresh_token_hash("parent"));
    let needs_promotion = auth.keys.sign(&claims).expect("sign");
    browser.set_access_token(&needs_promotion);
    let reply = browser.me().await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "promotion deferred: {reply:?}"
    );
    assert!(reply.set_cookies().is_empty(), "promotion: no Set-Cookie");
    assert_eq!(reply.front_token(), None, "promotion: no front-token");

    // Sign-out with a valid token: revoke fails.
    claims.parent_refresh_token_hash1 = None;
    browser.set_access_token(&auth.keys.sign(&claims).expect("sign"));
    assert_eq!(browser.me().await.status, StatusCode::OK, "no store needed");
    let reply = browser.send(Method::POST, "/auth/signout").await;
    assert_503_nothing_cleared(&reply, "sign-out");
}

#[tokio::test]
async fn anti_csrf_via_custom_header() {
    let auth = auth_server(AuthOptions {
        anti_csrf: Some(AntiCsrf::ViaCustomHeader),
        ..AuthOptions::default()
    })
    .await;
    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    browser.rid = false;
    assert_eq!(browser.me().await.status, StatusCode::OK, "GET is exempt");
    let reply = browser.send(Method::POST, "/me").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.message(), "try refresh token");
    assert!(reply.set_cookies().is_empty());

    let mut header_mode = Browser::header_mode(auth.addr);
    header_mode.login().await;
    header_mode.rid = false;
    assert_eq!(
        header_mode.send(Method::POST, "/me").await.status,
        StatusCode::OK,
        "header mode skips anti-CSRF"
    );

    let reply = browser.refresh().await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.message(), "unauthorised");
    assert_eq!(reply.front_token(), Some("remove"));

    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    assert_eq!(
        browser.send(Method::POST, "/me").await.status,
        StatusCode::OK
    );
    assert_eq!(browser.refresh().await.status, StatusCode::OK);
}

#[tokio::test]
async fn anti_csrf_via_token() {
    let auth = auth_server(AuthOptions {
        anti_csrf: Some(AntiCsrf::ViaToken),
        ..AuthOptions::default()
    })
    .await;
    let mut browser = Browser::cookie_mode(auth.addr);
    let login = browser.login().await;
    let token = login
        .header("anti-csrf")
        .expect("anti-csrf on create")
        .to_owned();
    let front = login.front_token_json().expect("front");
    assert_eq!(front["up"]["antiCsrfToken"], token.as_str());

    assert_eq!(
        browser.send(Method::POST, "/me").await.status,
        StatusCode::OK
    );
    browser.anti_csrf = Some("wrong".into());
    let reply = browser.send(Method::POST, "/me").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.message(), "try refresh token");
    assert_eq!(browser.me().await.status, StatusCode::OK, "GET is exempt");

    let reply = browser.refresh().await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "refresh with a wrong anti-csrf"
    );

    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    let reply = browser.refresh().await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let renewed = reply.header("anti-csrf").expect("new anti-csrf on refresh");
    assert_ne!(renewed, token);
    assert_eq!(
        browser.send(Method::POST, "/me").await.status,
        StatusCode::OK
    );
}

fn shared_cookies(older: Option<&str>) -> tower_session_cookie::SessionCookieConfig {
    let mut builder = tower_session_cookie::SessionCookieConfig::builder()
        .shared_domain(SharedDomain::parse(".example.com").expect("domain"))
        .api_domain("https://api.example.com")
        .website_domain("https://www.example.com");
    if let Some(older) = older {
        builder = builder.older_cookie_domain(older);
    }
    builder.build().expect("cookie config")
}

#[tokio::test]
async fn duplicate_cookies_with_an_older_domain_are_cleared_and_refreshed() {
    let auth = auth_server(AuthOptions {
        cookies: shared_cookies(Some("")),
        ..AuthOptions::default()
    })
    .await;
    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    // A stale host-only access cookie: the refresh token is unambiguous, so the refresh
    // completes (two refresh cookies are refused: `refusals.rs`).
    let stale = "sAccessToken=old.host.only";

    let reply = browser
        .send_with(Method::GET, "/me", |b| b.header("cookie", stale))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.message(), "try refresh token");

    let reply = browser
        .send_with(Method::POST, "/auth/session/refresh", |b| {
            b.header("cookie", stale)
        })
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert!(
        reply.front_token_json().is_some(),
        "front-token in the same response"
    );
    let cookies = reply.set_cookies();
    let host_only_clears: Vec<_> = cookies
        .iter()
        .filter(|c| c.contains("1970") && !c.contains("Domain="))
        .collect();
    assert_eq!(host_only_clears.len(), 2, "{cookies:#?}");
    assert!(cookies.iter().any(|c| c.starts_with("sRefreshToken=")
        && !c.contains("1970")
        && c.contains("Domain=example.com")));
    assert_eq!(browser.me().await.status, StatusCode::OK);
}

#[tokio::test]
async fn duplicate_refresh_cookies_are_refused_before_the_anti_csrf_check() {
    // As supertokens-node: which of two refresh cookies the anti-CSRF token belongs to is
    // itself ambiguous, so the duplicates answer first (400, nothing cleared), not the
    // anti-CSRF failure (a 401 that clears and signs the SDK out).
    let auth = auth_server(AuthOptions {
        anti_csrf: Some(AntiCsrf::ViaToken),
        ..AuthOptions::default()
    })
    .await;
    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    let kept = browser.anti_csrf.take();
    let reply = browser
        .send_with(Method::POST, "/auth/session/refresh", |b| {
            b.header("cookie", "sRefreshToken=planted.by.a.sibling")
        })
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    assert_eq!(reply.message(), "duplicate refresh token cookies");
    assert!(reply.set_cookies().is_empty(), "nothing cleared: {reply:?}");
    browser.anti_csrf = kept;
    assert_eq!(
        browser.refresh().await.status,
        StatusCode::OK,
        "session kept"
    );
}

#[tokio::test]
async fn claim_validation_failure_is_403() {
    let auth = auth_server(AuthOptions::default()).await;
    let strict = RequireSessionLayer::new(auth.config.clone()).claim_validator(
        |session: &tower_session_refresh::session::Session| {
            if session.payload().get("role") == Some(&Value::from("root")) {
                Ok(())
            } else {
                Err(vec![ClaimValidationError::new(
                    "st-role",
                    serde_json::json!({"message": "wrong value", "expectedToInclude": "root"}),
                )])
            }
        },
    );
    let api = serve(
        Router::new()
            .route("/admin", get(me).post(me))
            .layer(strict)
            .route("/open", post(|| async { "open" }))
            .layer(SessionCookieLayer::new(auth.config.cookies().clone())),
    )
    .await;
    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    let mut at_api = browser.at(api);
    let reply = at_api.send(Method::GET, "/admin").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.message(), "invalid claim");
    assert_eq!(reply.json()["claimValidationErrors"][0]["id"], "st-role");
    assert!(reply.set_cookies().is_empty());

    // CORS preflights pass without a session.
    let reply = at_api.send(Method::OPTIONS, "/admin").await;
    assert_ne!(reply.status, StatusCode::UNAUTHORIZED);
}
