//! The legacy `sIdRefreshToken` cookie (sessions of SDKs before CDI 2.18), over real HTTP on
//! loopback, as supertokens-node 24 handles it: a session-protected request carrying it is
//! answered try-refresh (also on optional routes), and the refresh route expires it
//! (`Path=/`) when it succeeds or clears the session, never on a refusal that keeps it.

use std::net::SocketAddr;

use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use http::{Method, StatusCode};
use serde_json::json;
use tower_session_refresh::keys::SigningKey;
use tower_session_refresh::{Session, SessionError, SessionTokens, SharedSession};
use tower_session_testkit::serve::{serve, Reply};

const API: &str = "api.example.com";
/// The legacy cookie expired with the access cookie's attributes (`Domain`, `Path=/`).
const LEGACY_CLEAR: &str = "sIdRefreshToken=; Domain=example.com; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax";

fn clears_legacy(reply: &Reply) -> bool {
    reply.set_cookies().iter().any(|line| line == LEGACY_CLEAR)
}

/// One request to the API host, from the website, with the SDK's `rid`.
async fn send(addr: SocketAddr, method: Method, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut all = vec![("origin", "https://www.example.com"), ("rid", "session")];
    all.extend_from_slice(headers);
    tower_session_testkit::serve::send(addr, method, API, path, &all, "").await
}

async fn login(
    State(auth): State<SharedSession>,
    tokens: SessionTokens,
) -> Result<&'static str, SessionError> {
    auth.create_session(&tokens, "alice", json!({})).await?;
    Ok("ok")
}

async fn me(session: Session) -> String {
    session.user_id().to_owned()
}

async fn maybe(session: Option<Session>) -> String {
    session.map_or_else(|| "anonymous".to_owned(), |s| s.user_id().to_owned())
}

async fn server() -> SocketAddr {
    let auth = SharedSession::builder(".example.com")
        .api_domain("https://api.example.com")
        .website_domain("https://www.example.com")
        .signing_key(SigningKey::generate_ed25519("k1").expect("key"))
        .build()
        .expect("build");
    let app = Router::new()
        .route("/login", post(login))
        .with_state(auth.clone())
        .merge(
            Router::new()
                .route("/me", get(me))
                .route_layer(auth.require_session()),
        )
        .merge(
            Router::new()
                .route("/maybe", get(maybe))
                .route_layer(auth.optional_session()),
        )
        .layer(auth.layer());
    serve(app).await
}

struct Cookies {
    access: String,
    refresh: String,
}

async fn sign_in(addr: SocketAddr) -> Cookies {
    let reply = send(addr, Method::POST, "/login", &[("st-auth-mode", "cookie")]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    Cookies {
        access: reply.cookie("sAccessToken").expect("access cookie"),
        refresh: reply.cookie("sRefreshToken").expect("refresh cookie"),
    }
}

#[tokio::test]
async fn a_protected_request_with_the_legacy_cookie_is_told_to_refresh() {
    let addr = server().await;
    let alice = sign_in(addr).await;
    let plain = format!("sAccessToken={}", alice.access);
    assert_eq!(
        send(addr, Method::GET, "/me", &[("cookie", &plain)])
            .await
            .body,
        "alice"
    );

    let legacy = format!("sAccessToken={}; sIdRefreshToken=asdf", alice.access);
    for path in ["/me", "/maybe"] {
        let reply = send(addr, Method::GET, path, &[("cookie", &legacy)]).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(reply.body, r#"{"message":"try refresh token"}"#, "{path}");
        assert!(reply.set_cookies().is_empty(), "{path}: nothing cleared");
        assert_eq!(reply.header("front-token"), "", "{path}");
    }
    // Without any access token too (its cookie expired): still try-refresh, not anonymous.
    let reply = send(
        addr,
        Method::GET,
        "/maybe",
        &[("cookie", "sIdRefreshToken=asdf")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, r#"{"message":"try refresh token"}"#);
    // A cookie whose name merely starts the same is not the legacy one.
    let other = format!("sAccessToken={}; sIdRefreshTokenX=1", alice.access);
    assert_eq!(
        send(addr, Method::GET, "/me", &[("cookie", &other)])
            .await
            .body,
        "alice"
    );
}

#[tokio::test]
async fn the_refresh_clears_the_legacy_cookie_and_the_session_goes_on() {
    let addr = server().await;
    let alice = sign_in(addr).await;
    let cookie = format!("sRefreshToken={}; sIdRefreshToken=asdf", alice.refresh);
    let refreshed = send(
        addr,
        Method::POST,
        "/auth/session/refresh",
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    assert!(clears_legacy(&refreshed), "{:?}", refreshed.set_cookies());
    let access = refreshed.cookie("sAccessToken").expect("new access cookie");
    assert!(!access.is_empty());
    assert!(refreshed
        .cookie("sRefreshToken")
        .is_some_and(|v| !v.is_empty()));
    assert_ne!(refreshed.header("front-token"), "");

    // The browser dropped the legacy cookie: the new access token works.
    let plain = format!("sAccessToken={access}");
    let me = send(addr, Method::GET, "/me", &[("cookie", &plain)]).await;
    assert_eq!((me.status, me.body.as_str()), (StatusCode::OK, "alice"));

    // A refresh without the legacy cookie writes no such line.
    let next = refreshed.cookie("sRefreshToken").expect("refresh cookie");
    let again = send(
        addr,
        Method::POST,
        "/auth/session/refresh",
        &[("cookie", &format!("sRefreshToken={next}"))],
    )
    .await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(!again
        .set_cookies()
        .iter()
        .any(|l| l.contains("sIdRefreshToken")));
}

#[tokio::test]
async fn a_refresh_that_signs_out_clears_it_and_a_refusal_keeps_it() {
    let addr = server().await;
    // No refresh token: 401 unauthorised, the session tokens and the legacy cookie go.
    let reply = send(
        addr,
        Method::POST,
        "/auth/session/refresh",
        &[("cookie", "sIdRefreshToken=asdf")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, r#"{"message":"unauthorised"}"#);
    assert!(clears_legacy(&reply), "{:?}", reply.set_cookies());
    assert_eq!(reply.header("front-token"), "remove");

    // An unknown session: the same.
    let reply = send(
        addr,
        Method::POST,
        "/auth/session/refresh",
        &[("cookie", "sRefreshToken=bogus; sIdRefreshToken=asdf")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(clears_legacy(&reply), "{:?}", reply.set_cookies());

    // Two refresh cookies: a 400 that keeps the session keeps the legacy cookie too.
    let alice = sign_in(addr).await;
    let cookie = format!(
        "sRefreshToken={r}; sRefreshToken={r}; sIdRefreshToken=asdf",
        r = alice.refresh
    );
    let reply = send(
        addr,
        Method::POST,
        "/auth/session/refresh",
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(!clears_legacy(&reply), "{:?}", reply.set_cookies());
}
