//! The client layer's tests' server: the **real** server layers on 127.0.0.1, composed as
//! `examples/multi-api/src/app.rs` does:
//!
//! ```text
//! observe            (test only: request log, /upload counter, front-token rewrite)
//!  -> HostGuard      .example.test (+ evil.test, see below); other hosts: 421
//!   -> SessionCookie the SessionTokens handle (Domain=example.test cookies or headers)
//!    -> by host      api: {base}/demo/signin (SessionManager::create), refresh, signout,
//!                         /sessioninfo, /upload, gRPC health (all three behind RequireSession)
//!                    api2, api3: /sessioninfo, /upload (RequireSession), /redirect-out
//!                    evil.test: the same sign-in route, and 200 for anything else
//! ```
//!
//! What the tests observe or steer is a thin wrapper around the real pieces, never a
//! replacement of them:
//!
//! - `refreshes` counts requests to the refresh route (a counter around `RefreshService`);
//!   `refresh_status` makes that route answer with a status instead (an outage), without
//!   reaching `RefreshService`.
//! - `revoke_all` revokes through `SessionManager`; access tokens are verified without the
//!   store, so a revoked session is noticed at the next refresh: tests wait for the access
//!   token to expire (`wait_for_expiry`; lifetimes are whole seconds).
//! - `lie_about_expiry` rewrites the `front-token` the real server sent (+1 h on `ate`) so
//!   that the client does not know its token expired and learns it from a 401 /
//!   grpc-status 16. The real server cannot produce that on its own (its `front-token`
//!   always tells the truth), so this stays a response rewrite.
//! - `evil.test` is let through the guard (`allow_host`) and answers the real sign-in
//!   route, so that "a host outside the shared domain that sends session tokens" is a real
//!   server's response. The other outside hosts get the guard's 421.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing;
use axum::Router;
use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, Full};
use tower::ServiceExt;
use tower_domain_guard::{EffectiveHost, HostGuardLayer};
use tower_layer::Layer;
use tower_session_client::connect::{http_client, Connector, HttpClient};
use tower_session_client::{
    BoxError, ClientConfig, ClientError, ReplayableBody, SessionClient, SessionClientLayer,
    SharedDomain, TransferMethod,
};
use tower_session_cookie::{SessionCookieConfig, SessionCookieLayer, SessionTokens};
use tower_session_refresh::keys::{KeySet, SigningKey};
use tower_session_refresh::session::{
    RefreshService, RequireSessionLayer, Session, SessionConfig, SessionManager, SignOutService,
};
use tower_session_refresh::store::MemoryStore;

/// One request as it reached the server (before the host guard).
#[derive(Clone, Debug)]
pub struct Seen {
    pub host: String,
    pub path: String,
    pub headers: HeaderMap,
}

impl Seen {
    pub fn carries_session(&self) -> bool {
        let h = &self.headers;
        h.contains_key("authorization")
            || h.contains_key("cookie")
            || h.contains_key("anti-csrf")
            || h.contains_key("st-auth-mode")
            || h.contains_key("rid")
    }
}

/// What the tests observe and steer.
#[derive(Default)]
pub struct St {
    /// Requests that reached the refresh route.
    pub refreshes: AtomicUsize,
    /// Requests to `/upload` (counted before the session check).
    pub uploads: AtomicUsize,
    /// When set, the refresh route answers this status (with a JSON message) instead.
    pub refresh_status: Mutex<Option<StatusCode>>,
    lie: AtomicBool,
    /// The true `ate` (ms) of the newest `front-token` the server sent.
    latest_ate_ms: AtomicU64,
    users: Mutex<BTreeSet<String>>,
    log: Mutex<Vec<Seen>>,
}

impl St {
    pub fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }

    /// From now on, every `front-token` claims an hour more than the truth.
    pub fn lie_about_expiry(&self) {
        self.lie.store(true, Ordering::SeqCst);
    }

    /// Sleeps until the newest access token the server issued has expired on the server.
    pub async fn wait_for_expiry(&self) {
        let ate = self.latest_ate_ms.load(Ordering::SeqCst);
        assert!(ate > 0, "no access token issued yet");
        let target = UNIX_EPOCH + Duration::from_millis(ate + 150);
        if let Ok(wait) = target.duration_since(SystemTime::now()) {
            tokio::time::sleep(wait).await;
        }
    }

    /// Records the response's `front-token` expiry; lies about it when asked to.
    fn rewrite_front_token(&self, headers: &mut HeaderMap) {
        let Some(raw) = headers.get("front-token").and_then(|v| v.to_str().ok()) else {
            return;
        };
        if raw == "remove" {
            return;
        }
        let engine = base64::engine::general_purpose::STANDARD;
        let mut front: serde_json::Value =
            serde_json::from_slice(&engine.decode(raw).unwrap()).unwrap();
        let ate = front["ate"].as_u64().unwrap();
        self.latest_ate_ms.store(ate, Ordering::SeqCst);
        if self.lie.load(Ordering::SeqCst) {
            front["ate"] = (ate + 3_600_000).into();
            let encoded = engine.encode(front.to_string());
            headers.insert("front-token", encoded.parse().unwrap());
        }
    }
}

fn json(status: StatusCode, v: serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(v.to_string()))
        .unwrap()
}

fn host_of(req: &Request) -> String {
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_default();
    host.split(':').next().unwrap_or("").to_ascii_lowercase()
}

/// Outermost, test only: logs the request, counts uploads, rewrites `front-token`.
async fn observe(State(st): State<Arc<St>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path == "/upload" {
        st.uploads.fetch_add(1, Ordering::SeqCst);
    }
    st.log.lock().unwrap().push(Seen {
        host: host_of(&req),
        path,
        headers: req.headers().clone(),
    });
    let mut resp = next.run(req).await;
    st.rewrite_front_token(resp.headers_mut());
    resp
}

#[derive(Clone)]
struct Auth {
    st: Arc<St>,
    manager: SessionManager,
    refresh: RefreshService,
}

/// `POST {base}/demo/signin` `{"userId": …}`: `SessionManager::create` in the transfer
/// method the request asks for, as the demo does.
async fn sign_in(State(auth): State<Auth>, req: Request) -> Response {
    let tokens = req.extensions().get::<SessionTokens>().cloned().unwrap();
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let user = v["userId"].as_str().unwrap_or("nobody").to_owned();
    auth.st.users.lock().unwrap().insert(user.clone());
    match auth
        .manager
        .create(&tokens, &user, serde_json::json!({}))
        .await
    {
        Ok(_) => json(StatusCode::OK, serde_json::json!({"status": "OK"})),
        Err(e) => e.to_response().map(Body::from),
    }
}

/// The refresh route: a counter and an outage switch around the real `RefreshService`.
async fn refresh(State(auth): State<Auth>, req: Request) -> Response {
    auth.st.refreshes.fetch_add(1, Ordering::SeqCst);
    let status = *auth.st.refresh_status.lock().unwrap();
    if let Some(status) = status {
        return json(status, serde_json::json!({"message": "unavailable"}));
    }
    let Ok(resp) = auth.refresh.oneshot(req).await;
    resp.map(Body::new)
}

async fn session_info(req: Request) -> Response {
    let session = req.extensions().get::<Session>().unwrap();
    let host = req.extensions().get::<EffectiveHost>().unwrap();
    json(
        StatusCode::OK,
        serde_json::json!({
            "userId": session.user_id(),
            "sessionHandle": session.handle(),
            "servedBy": host.as_str(),
        }),
    )
}

async fn upload(req: Request) -> Response {
    let n = match req.into_body().collect().await {
        Ok(b) => b.to_bytes().len(),
        Err(_) => 0,
    };
    json(StatusCode::OK, serde_json::json!({"bytes": n}))
}

async fn redirect_out() -> Response {
    Response::builder()
        .status(StatusCode::TEMPORARY_REDIRECT)
        .header("location", "http://evil.test/landing")
        .body(Body::empty())
        .unwrap()
}

async fn outside(req: Request) -> Response {
    json(
        StatusCode::OK,
        serde_json::json!({"outside": host_of(&req)}),
    )
}

/// Routes by the guard's `EffectiveHost`: `hosts` maps a host name to its router; any other
/// host gets a JSON 404. Mount as `Router::new().fallback(by_host).with_state(Arc::new(hosts))`.
pub async fn by_host(State(hosts): State<Arc<HashMap<String, Router>>>, req: Request) -> Response {
    let host = req
        .extensions()
        .get::<EffectiveHost>()
        .map(|h| h.as_str().to_owned())
        .unwrap_or_default();
    match hosts.get(&host) {
        Some(router) => {
            let Ok(resp) = router.clone().oneshot(req).await;
            resp
        }
        None => json(
            StatusCode::NOT_FOUND,
            serde_json::json!({"message": "no such host here"}),
        ),
    }
}

pub struct Server {
    pub addr: SocketAddr,
    pub st: Arc<St>,
    pub manager: SessionManager,
}

impl Server {
    /// The real stack with access tokens living `ttl_secs` seconds.
    pub async fn start(ttl_secs: u64) -> Self {
        Self::start_with(ttl_secs, ttl_secs).await
    }

    /// Like [`Server::start`], but tokens issued by a refresh live `refreshed_ttl_secs`:
    /// a test that counts refreshes after one expiry stays right however slow the
    /// machine is (the refreshed token cannot expire under the test).
    pub async fn start_with(ttl_secs: u64, refreshed_ttl_secs: u64) -> Self {
        Self::start_with_status(ttl_secs, refreshed_ttl_secs, 401).await
    }

    /// Like [`Server::start_with`], with every session-expired answer (try refresh,
    /// unauthorised, theft) given `session_expired_status` (the server's
    /// `SessionConfigBuilder::session_expired_status`).
    pub async fn start_with_status(
        ttl_secs: u64,
        refreshed_ttl_secs: u64,
        session_expired_status: u16,
    ) -> Self {
        let (listener, addr) = crate::serve::listener().await;
        let port = addr.port();
        let st = Arc::new(St::default());

        let domain = SharedDomain::parse(".example.test").unwrap();
        let cookies = SessionCookieConfig::builder()
            .shared_domain(domain.clone())
            .api_domain(format!("http://api.example.test:{port}"))
            .website_domain(format!("http://www.example.test:{port}"))
            .build()
            .unwrap();
        let keys = KeySet::new(SigningKey::generate_ed25519("k1").unwrap());
        let store = MemoryStore::new();
        let config = SessionConfig::builder(cookies.clone())
            .api_domain(format!("http://api.example.test:{port}"))
            .access_token_lifetime(Duration::from_secs(ttl_secs))
            .session_expired_status(session_expired_status)
            .keys(keys.clone())
            .store(store.clone())
            .build()
            .unwrap();
        let refreshed = SessionConfig::builder(cookies.clone())
            .api_domain(format!("http://api.example.test:{port}"))
            .access_token_lifetime(Duration::from_secs(refreshed_ttl_secs))
            .session_expired_status(session_expired_status)
            .keys(keys)
            .store(store)
            .build()
            .unwrap();
        let manager = SessionManager::new(config.clone()).unwrap();
        let auth = Auth {
            st: st.clone(),
            manager: manager.clone(),
            refresh: RefreshService::new(refreshed).unwrap(),
        };

        // The gRPC health service behind the session check, like any protected route.
        let (_reporter, health) = tonic_health::server::health_reporter();
        let protected = || {
            Router::new()
                .route(
                    "/sessioninfo",
                    routing::get(session_info).post(session_info),
                )
                .route("/upload", routing::post(upload))
                .route_service("/grpc.health.v1.Health/{method}", health.clone())
                .route_layer(RequireSessionLayer::new(config.clone()))
                .route("/redirect-out", routing::get(redirect_out))
        };
        let sign_in_route = || Router::new().route("/auth/demo/signin", routing::post(sign_in));
        let api = sign_in_route()
            .route(config.refresh_path(), routing::post(refresh).get(refresh))
            .with_state(auth.clone())
            .route_service(
                config.signout_path(),
                SignOutService::new(config.clone()).unwrap(),
            )
            .merge(protected());
        let evil = sign_in_route().fallback(outside).with_state(auth);

        let mut hosts: HashMap<String, Router> = HashMap::new();
        hosts.insert("api.example.test".into(), api);
        hosts.insert("api2.example.test".into(), protected());
        hosts.insert("api3.example.test".into(), protected());
        hosts.insert("evil.test".into(), evil);

        let guard = HostGuardLayer::new(domain).allow_host("evil.test").unwrap();
        let app = Router::new()
            .fallback(by_host)
            .with_state(Arc::new(hosts))
            .layer(SessionCookieLayer::new(cookies))
            .layer(guard)
            .layer(axum::middleware::from_fn_with_state(st.clone(), observe));
        crate::serve::serve_on(listener, app);
        Self { addr, st, manager }
    }

    /// Revokes every session signed in so far, through `SessionManager`.
    pub async fn revoke_all(&self) {
        let users: Vec<String> = self.st.users.lock().unwrap().iter().cloned().collect();
        for user in users {
            self.manager.revoke_all(&user).await.unwrap();
        }
    }

    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.addr.port())
    }

    pub fn config(&self, mode: TransferMethod) -> ClientConfig {
        ClientConfig::builder(&self.url("api.example.test", ""))
            .shared_domain(SharedDomain::parse(".example.test").unwrap())
            .transfer_method(mode)
            .build()
            .unwrap()
    }

    /// A hyper client through the session layer, every connection going to this server.
    pub fn client<B>(&self, layer: &SessionClientLayer) -> SessionClient<HttpClient<B>>
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
    {
        layer.layer(http_client::<B>(Connector::fixed(self.addr)))
    }
}

pub fn get(url: &str) -> http::Request<Full<Bytes>> {
    http::Request::get(url).body(Full::default()).unwrap()
}

/// Signs in through [`Server`]'s route (the demo's), `POST {apiDomain}{base}/demo/signin`
/// with `{"userId": user_id}`, in the configured transfer method. Fails with
/// [`ClientError::UnexpectedStatus`] unless the server answered 2xx and created a session.
pub trait SignIn<B> {
    /// See the [trait docs](SignIn).
    fn sign_in(&self, user_id: &str) -> impl Future<Output = Result<(), ClientError>>;
}

impl<S, B, ResB> SignIn<B> for SessionClient<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<ResB>>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: ReplayableBody,
    B::Error: Into<BoxError>,
    ResB: http_body::Body + Send + 'static,
{
    async fn sign_in(&self, user_id: &str) -> Result<(), ClientError> {
        let uri = self
            .handle()
            .config()
            .refresh_uri()
            .to_string()
            .replace("/session/refresh", "/demo/signin");
        let json = serde_json::json!({ "userId": user_id }).to_string();
        let mut req = http::Request::new(B::from_bytes(Bytes::from(json)));
        *req.method_mut() = http::Method::POST;
        *req.uri_mut() = uri.parse().expect("sign-in URI");
        req.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        let resp = self.call_once::<B, ResB>(req).await?;
        let status = resp.status();
        let _ = resp.into_body().collect().await;
        if status.is_success() && self.handle().exists() {
            Ok(())
        } else {
            Err(ClientError::UnexpectedStatus(status))
        }
    }
}
