//! One auth server from the real layers, on 127.0.0.1: `POST /login` (`x-user` names the
//! user), `/me` and `POST /role` behind `RequireSessionLayer`, refresh, sign-out and JWKS.
//!
//! Handlers read `Session` and `SessionTokens` from the request extensions rather than
//! through the axum extractors, so tests of a crate built without its `axum` feature can
//! use this server too.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_session_cookie::{SessionCookieConfig, SessionCookieLayer, SessionTokens};
use tower_session_refresh::jwks::JwksService;
use tower_session_refresh::keys::{KeySet, SigningKey};
use tower_session_refresh::session::{
    AntiCsrf, RefreshService, RequireSessionLayer, Session, SessionConfig, SessionError,
    SessionManager, SignOutService,
};
use tower_session_refresh::store::{MemoryStore, SessionStore};

pub const API: &str = "http://localhost";

pub fn cookie_config() -> SessionCookieConfig {
    cookie_config_with(|b| b)
}

pub fn cookie_config_with(
    f: impl FnOnce(
        tower_session_cookie::SessionCookieConfigBuilder,
    ) -> tower_session_cookie::SessionCookieConfigBuilder,
) -> SessionCookieConfig {
    f(SessionCookieConfig::builder()
        .api_domain(API)
        .website_domain("http://localhost:3000"))
    .build()
    .expect("cookie config")
}

/// Everything one auth server is made of.
#[derive(Clone)]
pub struct Auth {
    pub addr: SocketAddr,
    pub keys: KeySet,
    pub config: SessionConfig,
    pub store: Arc<dyn SessionStore>,
}

pub struct AuthOptions {
    pub access_lifetime: Duration,
    pub anti_csrf: Option<AntiCsrf>,
    pub cookies: SessionCookieConfig,
    pub store: Option<Arc<dyn SessionStore>>,
}

impl Default for AuthOptions {
    fn default() -> Self {
        Self {
            access_lifetime: Duration::from_secs(3600),
            anti_csrf: None,
            cookies: cookie_config(),
            store: None,
        }
    }
}

/// The session layer's own error response (its `IntoResponse` needs the `axum` feature).
fn reply(result: Result<&'static str, SessionError>) -> Response {
    match result {
        Ok(body) => body.into_response(),
        Err(e) => e.to_response().map(Body::from),
    }
}

async fn login(State(manager): State<SessionManager>, request: Request) -> Response {
    let tokens = request
        .extensions()
        .get::<SessionTokens>()
        .cloned()
        .expect("SessionCookieLayer");
    let user = request
        .headers()
        .get("x-user")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("user-1")
        .to_owned();
    let created = manager
        .create(&tokens, &user, serde_json::json!({"role": "admin"}))
        .await;
    reply(created.map(|_| r#"{"status":"OK"}"#))
}

fn session(request: &Request) -> Session {
    request
        .extensions()
        .get::<Session>()
        .cloned()
        .expect("RequireSessionLayer")
}

/// `/me`: the session's user, handle and `role` claim, as JSON.
pub async fn me(request: Request) -> String {
    let session = session(&request);
    serde_json::json!({
        "user": session.user_id(),
        "handle": session.handle(),
        "role": session.payload().get("role"),
    })
    .to_string()
}

async fn set_role(State(manager): State<SessionManager>, request: Request) -> Response {
    let session = session(&request);
    let updated = manager
        .update_payload(&session, serde_json::json!({"role": "reader"}))
        .await;
    reply(updated.map(|_| "{}"))
}

pub fn auth_app(config: SessionConfig, keys: KeySet) -> Router {
    let manager = SessionManager::new(config.clone()).expect("manager");
    let protected = Router::new()
        .route("/me", get(me).post(me))
        .route("/role", post(set_role))
        .with_state(manager.clone())
        .layer(RequireSessionLayer::new(config.clone()));
    Router::new()
        .route("/login", post(login))
        .with_state(manager)
        .merge(protected)
        .route_service(
            config.refresh_path(),
            RefreshService::new(config.clone()).expect("refresh"),
        )
        .route_service(
            config.signout_path(),
            SignOutService::new(config.clone()).expect("signout"),
        )
        .route_service("/auth/jwt/jwks.json", JwksService::new(keys))
        .layer(SessionCookieLayer::new(config.cookies().clone()))
}

pub async fn auth_server(options: AuthOptions) -> Auth {
    let keys = KeySet::new(SigningKey::generate_ed25519("k1").expect("key"));
    let store: Arc<dyn SessionStore> = options
        .store
        .unwrap_or_else(|| Arc::new(MemoryStore::new()));
    let mut builder = SessionConfig::builder(options.cookies)
        .api_domain(API)
        .keys(keys.clone())
        .shared_store(store.clone())
        .access_token_lifetime(options.access_lifetime);
    if let Some(mode) = options.anti_csrf {
        builder = builder.anti_csrf(mode);
    }
    let config = builder.build().expect("session config");
    let addr = crate::serve::serve(auth_app(config.clone(), keys.clone())).await;
    Auth {
        addr,
        keys,
        config,
        store,
    }
}
