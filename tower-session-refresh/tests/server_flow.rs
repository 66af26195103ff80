//! End-to-end session flows over real HTTP: create, verify elsewhere via JWKS, expiry and
//! refresh, lost responses, theft, concurrency, sign-out, promotion, both transfer methods.
// The JWKS test needs `remote-jwks`; without it, its imports are unused.
#![cfg_attr(not(feature = "remote-jwks"), allow(unused_imports))]

use std::time::Duration;

use axum::routing::get;
use axum::Router;
use http::{Method, StatusCode};
use tower_session_cookie::SessionCookieLayer;
#[cfg(feature = "remote-jwks")]
use tower_session_refresh::jwks::RemoteJwks;
use tower_session_refresh::session::{RequireSessionLayer, SessionConfig};
use tower_session_refresh::token::AccessTokenVerifier;
use tower_session_testkit::auth::*;
use tower_session_testkit::browser::*;
use tower_session_testkit::serve::serve;

#[cfg(feature = "remote-jwks")]
#[tokio::test]
async fn create_then_verify_on_a_server_with_only_the_public_keys() {
    let auth = auth_server(AuthOptions::default()).await;

    // A second API: no secret, no store; keys fetched as a JWKS over HTTP.
    let jwks = RemoteJwks::builder(format!("http://{}/auth/jwt/jwks.json", auth.addr))
        .allow_insecure_http(true)
        .build()
        .expect("jwks");
    let config = SessionConfig::builder(cookie_config())
        .verifier(AccessTokenVerifier::new(jwks))
        .build()
        .expect("verify-only config");
    let api2 = serve(
        Router::new()
            .route("/me", get(me))
            .layer(RequireSessionLayer::new(config))
            .layer(SessionCookieLayer::new(cookie_config())),
    )
    .await;

    let mut browser = Browser::cookie_mode(auth.addr);
    let login = browser.login().await;
    let front = login.front_token_json().expect("front-token on create");
    assert_eq!(front["uid"], "user-1");
    assert_eq!(front["up"]["role"], "admin");
    assert_eq!(front["up"]["iss"], "http://localhost/auth");
    assert!(front["up"]["parentRefreshTokenHash1"].is_null());
    let ate = front["ate"].as_u64().expect("ate");
    assert_eq!(ate, front["up"]["exp"].as_u64().expect("exp") * 1000);
    assert!(browser.cookies.contains_key("sAccessToken"));
    assert!(browser.cookies.contains_key("sRefreshToken"));

    let mut other = browser.at(api2);
    let reply = other.me().await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json()["user"], "user-1");

    // No token: 401 unauthorised, nothing cleared (spec 2.1).
    let mut stranger = Browser::cookie_mode(api2);
    let reply = stranger.me().await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.message(), "unauthorised");
    assert!(reply.set_cookies().is_empty());
    assert_eq!(reply.front_token(), None);
    assert_eq!(reply.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn expired_token_try_refresh_then_refresh_then_ok() {
    let auth = auth_server(AuthOptions {
        access_lifetime: Duration::from_secs(1),
        ..AuthOptions::default()
    })
    .await;
    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    let old_access = browser.access_token().expect("access");
    tokio::time::sleep(Duration::from_millis(3100)).await;

    let reply = browser.me().await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.message(), "try refresh token");
    assert!(reply.set_cookies().is_empty(), "try refresh clears nothing");

    let reply = browser.refresh().await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.body, "{}");
    assert!(reply.front_token_json().is_some());

    let reply = browser.me().await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");

    browser.set_access_token(&old_access);
    let reply = browser.me().await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.message(), "try refresh token");
}

#[tokio::test]
async fn lost_refresh_response_is_not_theft() {
    let auth = auth_server(AuthOptions::default()).await;
    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    let parent = browser.refresh_token().expect("refresh token");

    let first = browser.refresh().await;
    assert_eq!(first.status, StatusCode::OK);
    // The response never arrived: the browser still holds the parent.
    browser.set_refresh_token(&parent);
    let second = browser.refresh().await;
    assert_eq!(second.status, StatusCode::OK, "{second:?}");
    assert!(second.front_token_json().is_some());

    let reply = browser.me().await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = browser.refresh().await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn older_token_after_promotion_is_theft() {
    let auth = auth_server(AuthOptions::default()).await;
    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    let rt0 = browser.refresh_token().expect("rt0");

    assert_eq!(browser.refresh().await.status, StatusCode::OK);
    let rt1 = browser.refresh_token().expect("rt1");
    assert_ne!(rt0, rt1);
    // First use of the new access token promotes RT1 (and re-issues the access token).
    let reply = browser.me().await;
    assert_eq!(reply.status, StatusCode::OK);
    let front = reply
        .front_token_json()
        .expect("promotion sends a front-token");
    assert!(front["up"]["parentRefreshTokenHash1"].is_null());

    // The stolen RT0 comes back.
    let mut thief = Browser::cookie_mode(auth.addr);
    thief.set_refresh_token(&rt0);
    let reply = thief.refresh().await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.message(), "token theft detected");
    assert_eq!(reply.front_token(), Some("remove"));
    let clears = reply.clearing_cookies();
    let access_clear = clears
        .iter()
        .find(|c| c.starts_with("sAccessToken=;"))
        .expect("access cookie cleared");
    assert!(access_clear.contains("Path=/"), "{access_clear}");
    assert!(
        access_clear.contains("Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
        "{access_clear}"
    );
    assert!(access_clear.contains("HttpOnly"), "{access_clear}");
    assert!(access_clear.contains("SameSite=Lax"), "{access_clear}");
    let refresh_clear = clears
        .iter()
        .find(|c| c.starts_with("sRefreshToken=;"))
        .expect("refresh cookie cleared");
    assert!(
        refresh_clear.contains("Path=/auth/session/refresh"),
        "{refresh_clear}"
    );
    // Theft clears header-mode tokens too.
    assert_eq!(reply.header("st-access-token"), Some(""));

    // The session is revoked: the legitimate RT1 no longer works either.
    let reply = browser.refresh().await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.message(), "unauthorised");
    assert_eq!(reply.front_token(), Some("remove"));
}

#[tokio::test]
async fn fifty_concurrent_refreshes_with_one_token() {
    let auth = auth_server(AuthOptions::default()).await;
    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;

    let mut tasks = Vec::new();
    for _ in 0..50 {
        let mut tab = browser.clone();
        tasks.push(tokio::spawn(async move {
            let reply = tab.refresh().await;
            (reply.status, tab)
        }));
    }
    let mut tabs = Vec::new();
    for task in tasks {
        let (status, tab) = task.await.expect("task");
        assert_eq!(status, StatusCode::OK, "no false theft");
        tabs.push(tab);
    }
    // Any of the 50 children can carry on; the session lives.
    let mut last = tabs.pop().expect("a tab");
    assert_eq!(last.me().await.status, StatusCode::OK);
    assert_eq!(last.refresh().await.status, StatusCode::OK);
    assert_eq!(last.me().await.status, StatusCode::OK);

    let sessions = auth.store.list("user-1").await.expect("list");
    assert_eq!(sessions.len(), 1, "exactly one session family");
}

#[tokio::test]
async fn sign_out_kills_the_refresh_token() {
    let auth = auth_server(AuthOptions::default()).await;
    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    let rt = browser.refresh_token().expect("rt");

    let reply = browser.send(Method::POST, "/auth/signout").await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json(), serde_json::json!({"status": "OK"}));
    assert_eq!(reply.front_token(), Some("remove"));
    assert_eq!(reply.clearing_cookies().len(), 2);

    browser.set_refresh_token(&rt);
    let reply = browser.refresh().await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.message(), "unauthorised");

    // Sign-out without a session: 401 (the SDK returns quietly).
    let mut stranger = Browser::cookie_mode(auth.addr);
    let reply = stranger.send(Method::POST, "/auth/signout").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sign_out_with_an_expired_token_asks_for_a_refresh() {
    let auth = auth_server(AuthOptions {
        access_lifetime: Duration::from_secs(1),
        ..AuthOptions::default()
    })
    .await;
    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let reply = browser.send(Method::POST, "/auth/signout").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.message(), "try refresh token");
    assert_eq!(browser.refresh().await.status, StatusCode::OK);
    let reply = browser.send(Method::POST, "/auth/signout").await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn header_mode_flow_with_promotion() {
    let auth = auth_server(AuthOptions::default()).await;
    let mut browser = Browser::header_mode(auth.addr);
    let login = browser.login().await;
    assert!(
        login.set_cookies().is_empty(),
        "header mode sets no cookies"
    );
    assert!(browser.access.is_some() && browser.refresh.is_some());
    let exposed = login.header("access-control-expose-headers").unwrap_or("");
    assert!(exposed.contains("front-token") && exposed.contains("st-access-token"));

    assert_eq!(browser.me().await.status, StatusCode::OK);
    let before = browser.access.clone();
    let reply = browser.refresh().await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert!(reply
        .header("st-refresh-token")
        .is_some_and(|v| !v.is_empty()));
    assert!(reply.front_token_json().is_some());
    assert_ne!(browser.access, before);

    // First API call with the refreshed token: promotion, new token in that response.
    let reply = browser.me().await;
    assert_eq!(reply.status, StatusCode::OK);
    let promoted = reply.header("st-access-token").expect("new access token");
    assert!(!promoted.is_empty());
    let front = reply.front_token_json().expect("front-token");
    assert!(front["up"]["parentRefreshTokenHash1"].is_null());
    // The promoted token needs no further promotion.
    let reply = browser.me().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("st-access-token"), None);
    assert_eq!(reply.front_token(), None);
}

#[tokio::test]
async fn cookie_mode_promotion_and_payload_update() {
    let auth = auth_server(AuthOptions::default()).await;
    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    assert_eq!(browser.refresh().await.status, StatusCode::OK);
    let reply = browser.me().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply
        .set_cookies()
        .iter()
        .any(|c| c.starts_with("sAccessToken=") && !c.starts_with("sAccessToken=;")));
    assert!(reply.front_token_json().is_some());

    // Payload update: new access token + front-token in that response, kept by refresh.
    let reply = browser.send(Method::POST, "/role").await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(
        reply.front_token_json().expect("front")["up"]["role"],
        "reader"
    );
    assert_eq!(browser.me().await.json()["role"], "reader");
    assert_eq!(browser.refresh().await.status, StatusCode::OK);
    assert_eq!(browser.me().await.json()["role"], "reader");
}

#[tokio::test]
async fn refresh_in_one_method_clears_the_other() {
    let auth = auth_server(AuthOptions::default()).await;
    let mut browser = Browser::header_mode(auth.addr);
    browser.login().await;
    // A stale access cookie from an earlier cookie-mode session.
    browser
        .cookies
        .insert("sAccessToken".into(), "stale.cookie.token".into());
    let reply = browser.refresh().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply
        .clearing_cookies()
        .iter()
        .any(|c| c.starts_with("sAccessToken=;")));
    assert!(reply
        .header("st-access-token")
        .is_some_and(|v| !v.is_empty()));
    assert!(reply.front_token_json().is_some());
}

/// Session fixation: cookies planted before sign-in (the attacker's own valid session) are
/// replaced at sign-in; the new session belongs to the victim alone, and the planted tokens
/// keep naming the attacker's session, never the victim's.
#[tokio::test]
async fn sign_in_replaces_planted_session_cookies() {
    let auth = auth_server(AuthOptions::default()).await;
    let mut attacker = Browser::cookie_mode(auth.addr);
    let reply = attacker
        .send_with(Method::POST, "/login", |b| b.header("x-user", "attacker"))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let planted_access = attacker.access_token().expect("access token");
    let planted_refresh = attacker.refresh_token().expect("refresh token");
    let attacker_handle = attacker.me().await.json()["handle"].clone();

    let mut victim = Browser::cookie_mode(auth.addr);
    victim.set_access_token(&planted_access);
    victim.set_refresh_token(&planted_refresh);
    assert_eq!(victim.me().await.json()["user"], "attacker");
    let reply = victim
        .send_with(Method::POST, "/login", |b| b.header("x-user", "victim"))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(victim.access_token().is_some_and(|t| t != planted_access));
    assert!(victim.refresh_token().is_some_and(|t| t != planted_refresh));
    let me = victim.me().await.json();
    assert_eq!(me["user"], "victim");
    assert_ne!(me["handle"], attacker_handle);

    let mut replay = Browser::cookie_mode(auth.addr);
    replay.set_access_token(&planted_access);
    replay.set_refresh_token(&planted_refresh);
    assert_eq!(replay.me().await.json()["user"], "attacker");
    assert_eq!(replay.refresh().await.status, StatusCode::OK);
    let me = replay.me().await.json();
    assert_eq!(me["user"], "attacker");
    assert_eq!(me["handle"], attacker_handle);
}
