//! Responses of `RequireSession`-protected routes are per user: by default they get
//! `Cache-Control: no-store` (unless the handler set its own) and `Vary: Cookie,
//! Authorization` (merged into the handler's `Vary`), so no shared cache stores one user's
//! answer for another. Configurable on the layer. Real HTTP on loopback.

use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use http::header::{CACHE_CONTROL, VARY};
use http::{HeaderValue, Method, StatusCode};
use tower_session_cookie::SessionCookieLayer;
use tower_session_refresh::session::{RequireSessionLayer, Session};
use tower_session_testkit::auth::*;
use tower_session_testkit::browser::*;
use tower_session_testkit::serve::serve;

fn vary(reply: &Reply) -> Vec<String> {
    reply
        .headers
        .get_all(VARY)
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("").split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

#[tokio::test]
async fn protected_responses_are_not_stored_by_shared_caches() {
    let auth = auth_server(AuthOptions::default()).await;
    for mut browser in [
        Browser::cookie_mode(auth.addr),
        Browser::header_mode(auth.addr),
    ] {
        browser.login().await;
        for method in [Method::GET, Method::POST] {
            let reply = browser.send(method.clone(), "/me").await;
            assert_eq!(reply.status, StatusCode::OK);
            assert_eq!(reply.header("cache-control"), Some("no-store"), "{method}");
            assert_eq!(vary(&reply), ["cookie", "authorization"], "{method}");
        }
    }
}

async fn own_cache_control(_: Session) -> impl IntoResponse {
    (
        [
            (CACHE_CONTROL, "private, max-age=60"),
            (VARY, "Origin, cookie"),
        ],
        "mine",
    )
}

async fn plain(_: Session) -> &'static str {
    "plain"
}

#[tokio::test]
async fn the_handlers_own_headers_win_and_the_defaults_are_configurable() {
    let auth = auth_server(AuthOptions::default()).await;
    let config = auth.config.clone();
    let app = Router::new()
        .route("/own", get(own_cache_control))
        .route("/default", get(plain))
        .layer(RequireSessionLayer::new(config.clone()))
        .merge(
            Router::new().route("/private", get(plain)).layer(
                RequireSessionLayer::new(config.clone())
                    .cache_control(Some(HeaderValue::from_static("private"))),
            ),
        )
        .merge(
            Router::new().route("/off", get(plain)).layer(
                RequireSessionLayer::new(config.clone())
                    .cache_control(None)
                    .vary_on_credentials(false),
            ),
        )
        .layer(SessionCookieLayer::new(config.cookies().clone()));
    let api = serve(app).await;
    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    let mut at_api = browser.at(api);

    let reply = at_api.send(Method::GET, "/own").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("cache-control"), Some("private, max-age=60"));
    assert_eq!(
        vary(&reply),
        ["origin", "cookie", "authorization"],
        "merged, no token twice"
    );

    let reply = at_api.send(Method::GET, "/private").await;
    assert_eq!(reply.header("cache-control"), Some("private"));
    assert_eq!(vary(&reply), ["cookie", "authorization"]);

    let reply = at_api.send(Method::GET, "/off").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("cache-control"), None);
    assert!(vary(&reply).is_empty());

    // A rejection (no session) is not a per-user answer; it is left alone.
    let reply = Browser::cookie_mode(api)
        .send(Method::GET, "/default")
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(vary(&reply).is_empty());
}

/// `RequireSessionLayer::optional`: with a session, as above; without one, `Vary` still
/// says the answer depends on the credentials, but it may be stored.
#[tokio::test]
async fn optional_sessions_vary_on_credentials() {
    let auth = auth_server(AuthOptions::default()).await;
    let config = auth.config.clone();
    let app = Router::new()
        .route(
            "/maybe",
            get(|session: Option<Session>| async move {
                session.map_or("anonymous".to_owned(), |s| s.user_id().to_owned())
            }),
        )
        .layer(RequireSessionLayer::optional(config.clone()))
        .layer(SessionCookieLayer::new(config.cookies().clone()));
    let api = serve(app).await;
    let reply = Browser::cookie_mode(api).send(Method::GET, "/maybe").await;
    assert_eq!(reply.body, "anonymous");
    assert_eq!(reply.header("cache-control"), None);
    assert_eq!(vary(&reply), ["cookie", "authorization"]);

    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    let reply = browser.at(api).send(Method::GET, "/maybe").await;
    assert_eq!(reply.body, "user-1");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(vary(&reply), ["cookie", "authorization"]);
}
