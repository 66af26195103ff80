//! Session creation never issues a token the verifiers then refuse, and never stores an
//! oversized session: the user id is bounded (`max_user_id_bytes`, default 256 bytes) and
//! so is the access token the payload makes (the verifier's `max_token_bytes`, with room
//! for the parent hash a refresh adds). Real HTTP on loopback.

use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use http::{HeaderMap, Method, StatusCode};
use tower_session_cookie::{SessionCookieLayer, SessionTokens};
use tower_session_refresh::session::{
    RefreshService, RequireSessionLayer, Session, SessionError, SessionManager,
};
use tower_session_testkit::auth::*;
use tower_session_testkit::browser::*;
use tower_session_testkit::serve::serve;

/// Signs in `x-user` with a payload `{"pad": "<x-pad bytes>"}`.
async fn login_padded(
    State(manager): State<SessionManager>,
    headers: HeaderMap,
    tokens: SessionTokens,
) -> Result<&'static str, SessionError> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let pad: usize = header("x-pad").parse().unwrap_or(0);
    manager
        .create(
            &tokens,
            &header("x-user"),
            serde_json::json!({ "pad": "p".repeat(pad) }),
        )
        .await?;
    Ok(r#"{"status":"OK"}"#)
}

/// Replaces the payload with `{"pad": "<x-pad bytes>"}`.
async fn repad(
    State(manager): State<SessionManager>,
    headers: HeaderMap,
    session: Session,
) -> Result<&'static str, SessionError> {
    let pad: usize = headers
        .get("x-pad")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    manager
        .update_payload(&session, serde_json::json!({ "pad": "p".repeat(pad) }))
        .await?;
    Ok("{}")
}

async fn app() -> (Auth, std::net::SocketAddr) {
    let auth = auth_server(AuthOptions::default()).await;
    let config = auth.config.clone();
    let manager = SessionManager::new(config.clone()).expect("manager");
    let protected = Router::new()
        .route("/me", get(me))
        .route("/repad", post(repad))
        .with_state(manager.clone())
        .layer(RequireSessionLayer::new(config.clone()));
    let router = Router::new()
        .route("/login", post(login_padded))
        .with_state(manager)
        .merge(protected)
        .route_service(
            config.refresh_path(),
            RefreshService::new(config.clone()).expect("refresh"),
        )
        .layer(SessionCookieLayer::new(config.cookies().clone()));
    let addr = serve(router).await;
    (auth, addr)
}

async fn sign_in(addr: std::net::SocketAddr, user: &str, pad: usize) -> (Browser, Reply) {
    let mut browser = Browser::header_mode(addr);
    let reply = browser
        .send_with(Method::POST, "/login", |b| {
            b.header("x-user", user).header("x-pad", pad.to_string())
        })
        .await;
    (browser, reply)
}

fn assert_nothing_issued(reply: &Reply, what: &str) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{what}: {reply:?}");
    assert_eq!(reply.header("st-access-token"), None, "{what}");
    assert_eq!(reply.header("st-refresh-token"), None, "{what}");
    assert_eq!(reply.front_token(), None, "{what}");
    assert!(reply.set_cookies().is_empty(), "{what}");
    let size: usize = reply
        .headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len())
        .sum();
    assert!(
        size < 512,
        "{what}: a small answer ({size} bytes of headers)"
    );
}

#[tokio::test]
async fn a_user_id_over_the_limit_is_refused_before_anything_is_issued_or_stored() {
    let (auth, addr) = app().await;
    for len in [257, 2_900, 60_000] {
        let user = "u".repeat(len);
        let (_, reply) = sign_in(addr, &user, 0).await;
        assert_nothing_issued(&reply, &format!("user id of {len} bytes"));
        assert_eq!(reply.message(), "user id too long");
        assert!(auth.store.list(&user).await.expect("list").is_empty());
    }
    // At the limit: issued, and every token it gets verifies.
    let user = "u".repeat(256);
    let (mut browser, reply) = sign_in(addr, &user, 0).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(browser.me().await.status, StatusCode::OK);
    assert_eq!(browser.refresh().await.status, StatusCode::OK);
    assert_eq!(browser.me().await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_payload_that_makes_the_token_too_large_is_refused_and_the_largest_one_accepted_still_refreshes(
) {
    let (auth, addr) = app().await;
    let (_, reply) = sign_in(addr, "big", 9_000).await;
    assert_nothing_issued(&reply, "9000-byte payload");
    assert_eq!(reply.message(), "access token payload too large");
    assert!(auth.store.list("big").await.expect("list").is_empty());

    // The largest payload accepted (binary search over HTTP): its token, and the one a
    // refresh makes from it (which carries a parent hash), verify.
    let (mut low, mut high) = (0usize, 9_000usize);
    while high - low > 1 {
        let mid = (low + high) / 2;
        let (_, reply) = sign_in(addr, "probe", mid).await;
        if reply.status == StatusCode::OK {
            low = mid;
        } else {
            assert_eq!(reply.message(), "access token payload too large");
            high = mid;
        }
    }
    assert!(low > 5_000, "room for a real payload: {low}");
    let (mut browser, reply) = sign_in(addr, "edge", low).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(browser.me().await.status, StatusCode::OK, "created token");
    let reply = browser.refresh().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        browser.me().await.status,
        StatusCode::OK,
        "the refreshed token (with a parent hash) verifies"
    );
    assert_eq!(browser.refresh().await.status, StatusCode::OK);
    assert_eq!(browser.me().await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_update_over_the_limit_is_refused_and_the_stored_payload_kept() {
    let (auth, addr) = app().await;
    let (mut browser, reply) = sign_in(addr, "updater", 10).await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = browser
        .send_with(Method::POST, "/repad", |b| b.header("x-pad", "9000"))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    assert_eq!(reply.message(), "access token payload too large");
    assert_eq!(reply.header("st-access-token"), None);
    let stored = auth.store.list("updater").await.expect("list");
    assert_eq!(
        stored[0].payload.as_ref().and_then(|p| p.get("pad")),
        Some(&serde_json::json!("p".repeat(10))),
        "the store keeps the old payload"
    );
    assert_eq!(browser.refresh().await.status, StatusCode::OK);
    assert_eq!(browser.me().await.status, StatusCode::OK);
}
