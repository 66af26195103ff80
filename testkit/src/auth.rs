//! Shared helpers for the `server_*` tests: real axum servers on 127.0.0.1 and a hyper
//! client with a tiny cookie jar.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
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

async fn login(
    State(manager): State<SessionManager>,
    headers: HeaderMap,
    tokens: SessionTokens,
) -> Result<&'static str, SessionError> {
    let user = headers
        .get("x-user")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("user-1")
        .to_owned();
    manager
        .create(&tokens, &user, serde_json::json!({"role": "admin"}))
        .await?;
    Ok(r#"{"status":"OK"}"#)
}

pub async fn me(session: Session) -> String {
    serde_json::json!({
        "user": session.user_id(),
        "handle": session.handle(),
        "role": session.payload().get("role"),
    })
    .to_string()
}

async fn set_role(
    State(manager): State<SessionManager>,
    session: Session,
) -> Result<&'static str, SessionError> {
    manager
        .update_payload(&session, serde_json::json!({"role": "reader"}))
        .await?;
    Ok("{}")
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

pub async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
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
    let addr = serve(auth_app(config.clone(), keys.clone())).await;
    Auth {
        addr,
        keys,
        config,
        store,
    }
}

/// A response, read completely.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
    pub fn message(&self) -> String {
        self.json()["message"].as_str().unwrap_or("").to_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }
    /// Set-Cookie lines that clear a cookie (empty value, expired in 1970).
    pub fn clearing_cookies(&self) -> Vec<String> {
        self.set_cookies()
            .into_iter()
            .filter(|c| c.contains("=;") && c.contains("1970"))
            .collect()
    }
    pub fn front_token(&self) -> Option<&str> {
        self.header("front-token")
    }
    /// The decoded front-token JSON.
    pub fn front_token_json(&self) -> Option<serde_json::Value> {
        use base64::Engine as _;
        let raw = self.front_token()?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(raw).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// A browser-ish client: a cookie jar (name -> value, domains ignored) or header-mode
/// tokens, and the headers the SDK adds.
#[derive(Clone)]
pub struct Browser {
    pub base: String,
    pub client: Client<HttpConnector, Full<Bytes>>,
    pub cookies: BTreeMap<String, String>,
    pub header_mode: bool,
    pub access: Option<String>,
    pub refresh: Option<String>,
    pub anti_csrf: Option<String>,
    /// Send the `rid` header (the SDK always does).
    pub rid: bool,
}

pub fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

impl Browser {
    pub fn cookie_mode(addr: SocketAddr) -> Self {
        Self::new(addr, false)
    }
    pub fn header_mode(addr: SocketAddr) -> Self {
        Self::new(addr, true)
    }
    fn new(addr: SocketAddr, header_mode: bool) -> Self {
        Self {
            base: format!("http://{addr}"),
            client: client(),
            cookies: BTreeMap::new(),
            header_mode,
            access: None,
            refresh: None,
            anti_csrf: None,
            rid: true,
        }
    }

    pub fn at(&self, addr: SocketAddr) -> Self {
        let mut other = self.clone();
        other.base = format!("http://{addr}");
        other
    }

    /// Sends a request as the SDK would (rid, st-auth-mode, tokens), and takes the
    /// response's tokens.
    pub async fn send(&mut self, method: Method, path: &str) -> Reply {
        self.send_with(method, path, |b| b).await
    }

    pub async fn send_with(
        &mut self,
        method: Method,
        path: &str,
        f: impl FnOnce(http::request::Builder) -> http::request::Builder,
    ) -> Reply {
        let refresh_call = path.ends_with("/session/refresh");
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header(
                "st-auth-mode",
                if self.header_mode { "header" } else { "cookie" },
            );
        if self.rid {
            builder = builder.header("rid", if refresh_call { "session" } else { "anti-csrf" });
        }
        if self.header_mode {
            let token = if refresh_call {
                &self.refresh
            } else {
                &self.access
            };
            if let Some(token) = token {
                builder = builder.header("authorization", format!("Bearer {token}"));
            }
        }
        if !self.cookies.is_empty() {
            let line = self
                .cookies
                .iter()
                .filter(|(name, _)| refresh_call || name.as_str() != "sRefreshToken")
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            if !line.is_empty() {
                builder = builder.header("cookie", line);
            }
        }
        if let Some(anti_csrf) = &self.anti_csrf {
            builder = builder.header("anti-csrf", anti_csrf);
        }
        let request = f(builder).body(Full::new(Bytes::new())).expect("request");
        let reply = raw(&self.client, request).await;
        self.take(&reply);
        reply
    }

    pub fn take(&mut self, reply: &Reply) {
        for line in reply.set_cookies() {
            let first = line.split(';').next().unwrap_or("");
            if let Some((name, value)) = first.split_once('=') {
                if value.is_empty() || line.contains("1970") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        for (name, slot) in [
            ("st-access-token", &mut self.access),
            ("st-refresh-token", &mut self.refresh),
        ] {
            if let Some(value) = reply.header(name) {
                *slot = (!value.is_empty()).then(|| value.to_owned());
            }
        }
        if reply.front_token() == Some("remove") {
            self.access = None;
            self.refresh = None;
            self.anti_csrf = None;
        }
        if let Some(value) = reply.header("anti-csrf") {
            self.anti_csrf = Some(value.to_owned());
        }
    }

    pub fn access_token(&self) -> Option<String> {
        if self.header_mode {
            self.access.clone()
        } else {
            self.cookies.get("sAccessToken").cloned()
        }
    }

    pub fn refresh_token(&self) -> Option<String> {
        if self.header_mode {
            self.refresh.clone()
        } else {
            self.cookies.get("sRefreshToken").cloned()
        }
    }

    pub fn set_access_token(&mut self, token: &str) {
        if self.header_mode {
            self.access = Some(token.to_owned());
        } else {
            self.cookies
                .insert("sAccessToken".to_owned(), token.to_owned());
        }
    }

    pub fn set_refresh_token(&mut self, token: &str) {
        if self.header_mode {
            self.refresh = Some(token.to_owned());
        } else {
            self.cookies
                .insert("sRefreshToken".to_owned(), token.to_owned());
        }
    }

    pub async fn login(&mut self) -> Reply {
        let reply = self.send(Method::POST, "/login").await;
        assert_eq!(reply.status, StatusCode::OK, "login: {reply:?}");
        reply
    }

    pub async fn refresh(&mut self) -> Reply {
        self.send(Method::POST, "/auth/session/refresh").await
    }

    pub async fn me(&mut self) -> Reply {
        self.send(Method::GET, "/me").await
    }
}

pub async fn raw(
    client: &Client<HttpConnector, Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Reply {
    let response = client.request(request).await.expect("request");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}
