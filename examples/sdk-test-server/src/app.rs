//! The routes of `test/server/index.js`, on a [`SharedSession`] that `/test/setup/st`
//! rebuilds for every test (as the original re-runs `SuperTokens.init`).

use std::{
    collections::hash_map::RandomState,
    hash::{BuildHasher, Hasher},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{
    body::Body,
    extract::{Query, State},
    http::{header, HeaderMap, Method, Request, StatusCode},
    response::{Html, IntoResponse, Response},
    routing::{any, get, post},
    Extension, Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tower::ServiceExt;
use tower_http::services::ServeDir;
use tower_session_cookie::{ClearScope, TransferPolicy};
use tower_session_redis::{RedisStore, RedisStoreConfig};
use tower_session_refresh::token::PROTECTED_CLAIMS;
use tower_session_refresh::{
    session::ClaimValidationError, AntiCsrf, MemoryStore, Session, SessionError, SessionStore,
    SessionTokens, SharedSession, DEFAULT_KEY_ROTATION,
};

use crate::args::Args;

/// The SDK's base path in the suite (`apiBasePath` default).
const BASE_PATH: &str = "/auth";
/// Where the suite's pages live (`websiteDomain` in the original).
const WEBSITE: &str = "http://localhost:8080";
/// The refresh route the suite counts (`/auth/session/refresh`).
const REFRESH_PATH: &str = "/auth/session/refresh";
/// The page-side `assert` the test page gets instead of the CDN's `umd-assert`.
const ASSERT_JS: &str = include_str!("assert.js");

/// The running server: the current session stack and the suite's counters.
#[derive(Clone)]
pub(crate) struct Server {
    shared: Arc<Shared>,
}

struct Shared {
    args: Args,
    // A tokio lock (fair), held by a setup from its arrival until the new stack is in
    // place: requests that arrive meanwhile wait for it (see `dispatch`).
    stack: Arc<tokio::sync::RwLock<Stack>>,
    last: Mutex<Setup>,
    refresh_called: AtomicU64,
    refresh_attempted: AtomicU64,
    get_session_called: AtomicU64,
    package_version: String,
}

/// The write lock on the stack a setup request took on arrival (see `Server::dispatch`);
/// `install` uses it, so nothing runs on the previous stack in between.
#[derive(Clone)]
struct SetupLock(Arc<Mutex<Option<tokio::sync::OwnedRwLockWriteGuard<Stack>>>>);

/// How long a setup request may take to send its body while it holds the stack.
const SETUP_TIMEOUT: Duration = Duration::from_secs(30);

/// One configuration of the backend: what `SuperTokens.init` made in the original.
#[derive(Clone)]
struct Stack {
    app: Router,
}

/// What the last `/test/setup/st` asked for.
#[derive(Clone, Debug)]
struct Setup {
    core: CoreApp,
    anti_csrf: bool,
}

/// "An app in the core": an isolated session state (Redis key prefix) and its settings,
/// carried in the opaque URL `/test/setup/app` answers, so that every process given the
/// URL finds the same state.
#[derive(Clone, Debug, PartialEq)]
struct CoreApp {
    id: String,
    access_token_validity: Duration,
    key_interval: Duration,
}

impl CoreApp {
    fn default_app() -> Self {
        Self {
            id: "default".to_owned(),
            access_token_validity: Duration::from_secs(3600),
            key_interval: DEFAULT_KEY_ROTATION,
        }
    }

    fn url(&self) -> String {
        format!(
            "http://sdk-test-server.invalid/appid-{}?access_token_validity={}&access_token_signing_key_update_interval={}",
            self.id,
            self.access_token_validity.as_secs(),
            self.key_interval.as_secs_f64() / 3600.0
        )
    }

    fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .split_once("/appid-")
            .map(|(_, rest)| rest)
            .ok_or_else(|| format!("{url:?} is not a URL made by /test/setup/app"))?;
        let (id, query) = rest.split_once('?').unwrap_or((rest, ""));
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(format!("{url:?}: bad app id"));
        }
        let mut app = Self {
            id: id.to_owned(),
            ..Self::default_app()
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let number: f64 = value
                .parse()
                .map_err(|_| format!("{url:?}: {key} is not a number"))?;
            if !number.is_finite() || number <= 0.0 {
                return Err(format!("{url:?}: {key} must be positive"));
            }
            match key {
                "access_token_validity" => {
                    app.access_token_validity = Duration::from_secs(number.round().max(1.0) as u64)
                }
                "access_token_signing_key_update_interval" => {
                    // Hours, as the core's setting; at least a second.
                    app.key_interval = Duration::from_secs_f64((number * 3600.0).max(1.0))
                }
                _ => {}
            }
        }
        Ok(app)
    }
}

impl Server {
    /// Builds the default stack (anti-CSRF on, as the original's first `init`).
    pub(crate) async fn start(args: Args) -> Result<Self, String> {
        let package_version = read_package_version(&args)?;
        let setup = Setup {
            core: CoreApp::default_app(),
            anti_csrf: true,
        };
        let shared = Arc::new(Shared {
            args,
            stack: Arc::new(tokio::sync::RwLock::new(Stack { app: Router::new() })),
            last: Mutex::new(setup.clone()),
            refresh_called: AtomicU64::new(0),
            refresh_attempted: AtomicU64::new(0),
            get_session_called: AtomicU64::new(0),
            package_version,
        });
        let server = Self { shared };
        server.install(&setup, None).await?;
        Ok(server)
    }

    /// The port in use (`NODE_PORT`).
    pub(crate) fn port(&self) -> u16 {
        self.shared.args.port
    }

    /// The service for `axum::serve`: every request goes to the current stack; the
    /// refresh route is counted around it, as the original counts its refresh handler.
    pub(crate) fn router(&self) -> Router {
        let server = self.clone();
        Router::new().fallback(move |req: Request<Body>| {
            let server = server.clone();
            async move { server.dispatch(req).await }
        })
    }

    async fn dispatch(&self, req: Request<Body>) -> Response {
        let is_refresh = req.method() == Method::POST && req.uri().path() == REFRESH_PATH;
        let has_rid = req.headers().contains_key("rid");
        if is_refresh {
            self.shared.refresh_attempted.fetch_add(1, Ordering::SeqCst);
        }
        let app = self.current().await.app;
        let response = if is_setup(&req) {
            self.setup(app, req).await
        } else {
            match app.oneshot(req).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        };
        if !(is_refresh && response.status().is_success()) {
            return response;
        }
        // The original answers its refresh route itself once the session is refreshed:
        // "refresh success" (counted) with the SDK's `rid`, "refresh failed" without; the
        // new tokens are in the headers either way.
        let body = if has_rid {
            self.shared.refresh_called.fetch_add(1, Ordering::SeqCst);
            "refresh success"
        } else {
            "refresh failed"
        };
        let (mut parts, _) = response.into_parts();
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.headers.insert(
            header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/html; charset=utf-8"),
        );
        Response::from_parts(parts, Body::from(body))
    }

    async fn current(&self) -> Stack {
        self.shared.stack.read().await.clone()
    }

    /// Runs a setup request (`/test/setup/st`, `/reinitialiseBackendConfig`) holding the
    /// stack's write lock from its arrival, before its body is read.
    ///
    /// The suite's `setupST` does not wait for its `/test/setup/st` requests
    /// (`appServerUrls.map(url => { instance.post(…) })` returns nothing to `Promise.all`),
    /// so a test's first request can arrive while the setup is still running. The original's
    /// setup is synchronous (`supertokens.init`), so in its one thread every later request
    /// meets the new configuration; ours awaits the key store. With the lock, every request
    /// that arrives during the setup waits for the new stack (the lock is fair) instead of
    /// being served by the previous test's app, whose tokens the new app refuses: under
    /// load that looked like a session suddenly gone.
    async fn setup(&self, app: Router, mut req: Request<Body>) -> Response {
        let guard = self.shared.stack.clone().write_owned().await;
        req.extensions_mut()
            .insert(SetupLock(Arc::new(Mutex::new(Some(guard)))));
        match tokio::time::timeout(SETUP_TIMEOUT, app.oneshot(req)).await {
            Ok(Ok(response)) => response,
            Ok(Err(never)) => match never {},
            Err(_) => text(StatusCode::REQUEST_TIMEOUT, "setup request took too long"),
        }
    }

    /// Makes the stack for `setup` and puts it in place for the next requests (under the
    /// setup request's lock when it has one).
    async fn install(&self, setup: &Setup, lock: Option<&SetupLock>) -> Result<(), String> {
        let held = lock.and_then(|l| match l.0.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        });
        let mut stack = match held {
            Some(guard) => guard,
            None => self.shared.stack.clone().write_owned().await,
        };
        let auth = self.session(setup).await?;
        stack.app = self.routes(&auth);
        drop(stack);
        match self.shared.last.lock() {
            Ok(mut last) => *last = setup.clone(),
            Err(poisoned) => *poisoned.into_inner() = setup.clone(),
        }
        Ok(())
    }

    async fn session(&self, setup: &Setup) -> Result<SharedSession, String> {
        let args = &self.shared.args;
        // Until the first `/test/setup/st`, sessions stay in this process (nothing is left
        // in Redis by a server that was only started); every test app lives in Redis.
        let store: Arc<dyn SessionStore> = if setup.core == CoreApp::default_app() {
            Arc::new(MemoryStore::new())
        } else {
            Arc::new(
                RedisStore::lazy(
                    &args.redis,
                    RedisStoreConfig {
                        prefix: format!("sdk-test:{}:", setup.core.id),
                        ..RedisStoreConfig::default()
                    },
                )
                .map_err(|e| format!("--redis: {e}"))?,
            )
        };
        let policy = match std::env::var("TRANSFER_METHOD").ok().as_deref() {
            Some("cookie") => TransferPolicy::Cookie,
            Some("header") => TransferPolicy::Header,
            None | Some("") => TransferPolicy::Any,
            Some(other) => {
                return Err(format!(
                    "TRANSFER_METHOD: {other:?} is not cookie or header"
                ))
            }
        };
        let auth = SharedSession::host_only()
            .api_domain(&format!("http://localhost:{}", args.port))
            .website_domain(WEBSITE)
            .api_base_path(BASE_PATH)
            .allow_host("127.0.0.1")
            .access_token_lifetime(setup.core.access_token_validity)
            .anti_csrf(if setup.anti_csrf {
                AntiCsrf::ViaToken
            } else {
                AntiCsrf::None
            })
            .transfer_policy(policy)
            .on_refused(node_error_handler)
            .key_rotation(setup.core.key_interval)
            .shared_store(store)
            .build()
            .map_err(|e| e.to_string())?;
        auth.first_key_load().await;
        Ok(auth)
    }

    fn routes(&self, auth: &SharedSession) -> Router {
        let ctx = Ctx {
            server: self.clone(),
            auth: auth.clone(),
        };
        let angular = self.shared.args.sdk_dir.join("test/server/angular");
        let protected = Router::new()
            .route("/", get(root))
            .route("/check-rid", get(check_rid))
            .route("/update-jwt", get(access_token_payload).post(update_jwt))
            .route("/update-jwt-with-handle", post(update_jwt_with_handle))
            .route("/logout", post(logout))
            .route("/revokeAll", post(revoke_all))
            .route_layer(auth.require_session());
        let failing_claim = Router::new()
            .route("/session-claims-error", post(|| async { Json(json!({})) }))
            .route_layer(auth.require_session().claim_validator(|_: &Session| {
                Err(vec![ClaimValidationError::new(
                    "test-claim-failing",
                    json!({ "message": "testReason" }),
                )])
            }));
        Router::new()
            .route("/test/setup/app", post(setup_app))
            .route("/test/setup/st", post(setup_st))
            .route("/reinitialiseBackendConfig", post(reinitialise))
            .route("/login", post(login))
            .route("/login-2.18", post(login_cdi_2_18))
            .route("/featureFlags", get(feature_flags))
            .route("/beforeeach", post(before_each))
            .route("/after", post(ok_empty))
            .route("/stopst", post(ok_empty))
            .route("/testUserConfig", post(ok_empty))
            .route("/multipleInterceptors", post(multiple_interceptors))
            .route("/check-rid-no-session", get(check_rid_no_session))
            .route(
                "/403-without-body",
                post(|| async { StatusCode::FORBIDDEN }),
            )
            .route("/testing", any(testing))
            .route("/testing/{*rest}", any(testing))
            .route("/refreshCalledTime", get(refresh_called))
            .route("/refreshAttemptedTime", get(refresh_attempted))
            .route("/getSessionCalledTime", get(get_session_called))
            .route("/getPackageVersion", get(package_version))
            .route("/ping", get(|| async { "success" }))
            .route("/testHeader", get(test_header))
            .route("/checkAllowCredentials", post(check_allow_credentials))
            .route("/index.html", get(index_html))
            .route("/sdk-test-assert.js", get(assert_js))
            .route("/testError", get(test_error))
            .nest_service(
                "/node_modules",
                ServeDir::new(self.shared.args.node_modules.clone()),
            )
            .nest_service("/angular", ServeDir::new(angular))
            .merge(protected)
            .merge(failing_claim)
            .fallback(|| async { StatusCode::NOT_FOUND })
            .with_state(ctx)
            .layer(auth.layer())
    }
}

/// What every handler gets: the server (counters, setup) and the current session stack.
#[derive(Clone)]
struct Ctx {
    server: Server,
    auth: SharedSession,
}

/// The original's last error handler (`res.status(500).send(err.message)`) answers the
/// errors supertokens-node passes on instead of handling them; of the refusals here, node
/// passes on duplicate session cookies with no `olderCookieDomain` (a plain `Error`, its
/// sentence below). Our layers' own answer is a 400 (no 500 for what a request carries); this
/// hook makes the test server answer as the original does. Every other refusal keeps ours.
fn node_error_handler(_status: StatusCode, why: &str) -> Option<http::Response<bytes::Bytes>> {
    if !why.starts_with("duplicate ") || !why.ends_with(" cookies") {
        return None;
    }
    let mut response = http::Response::new(bytes::Bytes::from_static(
        b"The request contains multiple session cookies. This may happen if you've changed \
the 'cookieDomain' value in your configuration. To clear tokens from the previous domain, \
set 'olderCookieDomain' in your config.",
    ));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Some(response)
}

/// The requests that rebuild the stack.
fn is_setup(req: &Request<Body>) -> bool {
    req.method() == Method::POST
        && matches!(
            req.uri().path(),
            "/test/setup/st" | "/reinitialiseBackendConfig"
        )
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (status, body.into()).into_response()
}

fn random_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(nanos);
    format!("{:016x}{:08x}", hasher.finish(), nanos as u32)
}

fn read_package_version(args: &Args) -> Result<String, String> {
    let path = args.sdk_dir.join("lib/build/version.js");
    let source = std::fs::read_to_string(&path)
        .map_err(|e| format!("--sdk-dir: cannot read {}: {e}", path.display()))?;
    source
        .split("package_version = \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
        .ok_or_else(|| format!("--sdk-dir: no package_version in {}", path.display()))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SetupAppBody {
    app_id: Option<String>,
    #[serde(default)]
    core_config: Value,
}

async fn setup_app(body: Option<Json<SetupAppBody>>) -> Response {
    let Json(body) = body.unwrap_or_default();
    let mut app = CoreApp {
        id: body
            .app_id
            .filter(|id| !id.is_empty())
            .unwrap_or_else(random_id),
        ..CoreApp::default_app()
    };
    let number = |key: &str| match body.core_config.get(key) {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    if let Some(secs) = number("access_token_validity") {
        app.access_token_validity = Duration::from_secs(secs.round().max(1.0) as u64);
    }
    if let Some(hours) = number("access_token_signing_key_update_interval") {
        app.key_interval = Duration::from_secs_f64((hours * 3600.0).max(1.0));
    }
    // Round-trip through the URL form, so what is answered is what the parser accepts.
    match CoreApp::parse(&app.url()) {
        Ok(_) => text(StatusCode::OK, app.url()),
        Err(err) => text(StatusCode::BAD_REQUEST, err),
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SetupStBody {
    core_url: Option<String>,
    enable_anti_csrf: Option<bool>,
}

async fn setup_st(
    State(ctx): State<Ctx>,
    lock: Option<Extension<SetupLock>>,
    body: Option<Json<SetupStBody>>,
) -> Response {
    let Json(body) = body.unwrap_or_default();
    let core = match body.core_url.as_deref().map(CoreApp::parse) {
        Some(Ok(core)) => core,
        Some(Err(err)) => return text(StatusCode::BAD_REQUEST, err),
        None => CoreApp::default_app(),
    };
    let setup = Setup {
        core,
        anti_csrf: body.enable_anti_csrf.unwrap_or(false),
    };
    match ctx
        .server
        .install(&setup, lock.as_ref().map(|l| &l.0))
        .await
    {
        Ok(()) => StatusCode::OK.into_response(),
        Err(err) => text(StatusCode::INTERNAL_SERVER_ERROR, err),
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ReinitialiseBody {
    core_url: Option<String>,
}

async fn reinitialise(
    State(ctx): State<Ctx>,
    lock: Option<Extension<SetupLock>>,
    body: Option<Json<ReinitialiseBody>>,
) -> Response {
    let Json(body) = body.unwrap_or_default();
    let mut setup = match ctx.server.shared.last.lock() {
        Ok(last) => last.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    if let Some(url) = body.core_url.as_deref() {
        match CoreApp::parse(url) {
            Ok(core) => setup.core = core,
            Err(err) => return text(StatusCode::BAD_REQUEST, err),
        }
    }
    match ctx
        .server
        .install(&setup, lock.as_ref().map(|l| &l.0))
        .await
    {
        Ok(()) => StatusCode::OK.into_response(),
        Err(err) => text(StatusCode::INTERNAL_SERVER_ERROR, err),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginBody {
    user_id: String,
}

async fn login(
    State(ctx): State<Ctx>,
    tokens: SessionTokens,
    Json(body): Json<LoginBody>,
) -> Result<String, SessionError> {
    let session = ctx
        .auth
        .create_session(&tokens, &body.user_id, json!({}))
        .await?;
    Ok(session.user_id().to_owned())
}

/// Sessions of the retired CDI 2.18 come from the core's old API; there is no such core
/// here (listed in README.md as the one unsupported test).
async fn login_cdi_2_18() -> Response {
    text(
        StatusCode::INTERNAL_SERVER_ERROR,
        "sessions of CDI 2.18 cannot be created: this server has no SuperTokens core",
    )
}

/// What this backend supports, answered truthfully: the suite skips tests of features
/// a backend reports absent.
async fn feature_flags() -> Json<Value> {
    Json(json!({
        // supertokens-node's `jwt` option (a JWT in the payload, RS256 JWKS): not offered.
        "sessionJwt": false,
        "sessionClaims": true,
        "v3AccessToken": true,
        // The original answers `node >= 17.1`: duplicate session cookies are refused (the
        // older cookie domain's cleared when configured) and a refresh without a refresh
        // token clears the access cookie, as here. The layers' refusal is a 400; this
        // server answers the original's 500 (`node_error_handler`).
        "duplicateCookieHandling": true,
    }))
}

async fn before_each(State(ctx): State<Ctx>) -> StatusCode {
    let shared = &ctx.server.shared;
    shared.refresh_called.store(0, Ordering::SeqCst);
    shared.refresh_attempted.store(0, Ordering::SeqCst);
    shared.get_session_called.store(0, Ordering::SeqCst);
    StatusCode::OK
}

async fn ok_empty() -> StatusCode {
    StatusCode::OK
}

async fn multiple_interceptors(headers: HeaderMap) -> &'static str {
    if headers.contains_key("interceptorheader1") && headers.contains_key("interceptorheader2") {
        "success"
    } else {
        "failure"
    }
}

async fn root(State(ctx): State<Ctx>, session: Session) -> String {
    ctx.server
        .shared
        .get_session_called
        .fetch_add(1, Ordering::SeqCst);
    session.user_id().to_owned()
}

fn rid_is_anti_csrf(headers: &HeaderMap) -> bool {
    headers
        .get("rid")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|rid| rid.starts_with("anti-csrf"))
}

async fn check_rid(_session: Session, headers: HeaderMap) -> &'static str {
    if rid_is_anti_csrf(&headers) {
        "success"
    } else {
        "fail"
    }
}

async fn check_rid_no_session(headers: HeaderMap) -> &'static str {
    if rid_is_anti_csrf(&headers) {
        "success"
    } else {
        "fail"
    }
}

/// The whole access-token payload, protected claims included, as node's
/// `getAccessTokenPayload()`.
async fn access_token_payload(session: Session) -> Json<Value> {
    Json(session.claims().to_json())
}

/// The body replaces the application payload: every custom claim not in it is set to
/// `null` (removed) first, as the original's `mergeIntoAccessTokenPayload({...clearing,
/// ...body})`; the new access token goes out with this response.
fn replacing(current: &Map<String, Value>, body: Map<String, Value>) -> Map<String, Value> {
    let mut update: Map<String, Value> = current
        .keys()
        .filter(|k| !PROTECTED_CLAIMS.contains(&k.as_str()))
        .map(|k| (k.clone(), Value::Null))
        .collect();
    update.extend(body);
    update
}

async fn update_jwt(
    mut session: Session,
    Json(body): Json<Map<String, Value>>,
) -> Result<Json<Value>, SessionError> {
    let update = replacing(session.payload(), body);
    session.merge_into_access_token_payload(update).await?;
    Ok(Json(session.claims().to_json()))
}

/// By handle: the stored payload changes, the next refresh carries it; the answer is the
/// payload of the token this request carried, as the original's.
async fn update_jwt_with_handle(
    State(ctx): State<Ctx>,
    session: Session,
    Json(body): Json<Map<String, Value>>,
) -> Result<Json<Value>, SessionError> {
    let update = replacing(session.payload(), body);
    ctx.auth
        .merge_into_access_token_payload(session.handle(), update)
        .await?;
    Ok(Json(session.claims().to_json()))
}

async fn logout(State(ctx): State<Ctx>, session: Session) -> Result<&'static str, SessionError> {
    ctx.auth.revoke_session(session.handle()).await?;
    session
        .tokens()
        .clear(ClearScope::Method(session.transfer_method()));
    Ok("success")
}

async fn revoke_all(
    State(ctx): State<Ctx>,
    session: Session,
) -> Result<&'static str, SessionError> {
    ctx.auth.revoke_all_for_user(session.user_id()).await?;
    Ok("success")
}

async fn testing(headers: HeaderMap) -> Response {
    let mut response = text(StatusCode::OK, "success");
    if let Some(value) = headers.get("testing") {
        response.headers_mut().insert("testing", value.clone());
    }
    response
}

async fn refresh_called(State(ctx): State<Ctx>) -> String {
    ctx.server
        .shared
        .refresh_called
        .load(Ordering::SeqCst)
        .to_string()
}

async fn refresh_attempted(State(ctx): State<Ctx>) -> String {
    ctx.server
        .shared
        .refresh_attempted
        .load(Ordering::SeqCst)
        .to_string()
}

async fn get_session_called(State(ctx): State<Ctx>) -> String {
    ctx.server
        .shared
        .get_session_called
        .load(Ordering::SeqCst)
        .to_string()
}

async fn package_version(State(ctx): State<Ctx>) -> String {
    ctx.server.shared.package_version.clone()
}

async fn test_header(headers: HeaderMap) -> String {
    json!({ "success": headers.contains_key("st-custom-header") }).to_string()
}

async fn check_allow_credentials(headers: HeaderMap) -> String {
    headers.contains_key("allow-credentials").to_string()
}

/// The suite's test page with its CDN scripts served from local npm packages (no machine
/// here reaches a CDN) and `umd-assert` replaced by a small page-side `assert`.
async fn index_html(State(ctx): State<Ctx>) -> Response {
    let path = ctx
        .server
        .shared
        .args
        .sdk_dir
        .join("test/server/index.html");
    match std::fs::read_to_string(&path) {
        Ok(page) => Html(localise_page(&page)).into_response(),
        Err(err) => text(
            StatusCode::NOT_FOUND,
            format!("cannot read {}: {err}", path.display()),
        ),
    }
}

fn localise_page(page: &str) -> String {
    let mut out = page.replace("https://unpkg.com/", "/node_modules/");
    // The module script importing umd-assert from skypack becomes our own script.
    if let Some(start) = out.find("<script type=\"module\">") {
        if let Some(len) = out[start..].find("</script>") {
            let end = start + len + "</script>".len();
            if out[start..end].contains("umd-assert") {
                out.replace_range(start..end, "<script src=\"/sdk-test-assert.js\"></script>");
            }
        }
    }
    out
}

async fn assert_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        ASSERT_JS,
    )
        .into_response()
}

#[derive(Deserialize)]
struct TestErrorQuery {
    code: Option<String>,
}

async fn test_error(Query(query): Query<TestErrorQuery>) -> Response {
    let status = query
        .code
        .and_then(|c| c.parse::<u16>().ok())
        .and_then(|c| StatusCode::from_u16(c).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    text(status, "test error message")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_app_urls_round_trip() {
        let app = CoreApp {
            id: "abc-123".to_owned(),
            access_token_validity: Duration::from_secs(3),
            key_interval: Duration::from_secs_f64(0.002 * 3600.0),
        };
        assert_eq!(CoreApp::parse(&app.url()), Ok(app));
        assert!(CoreApp::parse("http://localhost:3567").is_err());
        assert!(CoreApp::parse("http://x/appid-a?access_token_validity=-1").is_err());
        assert!(CoreApp::parse("http://x/appid-a b").is_err());
    }

    #[test]
    fn the_page_loads_local_scripts() {
        let page = "<script src=\"https://unpkg.com/axios/dist/axios.min.js\"></script>\n<script type=\"module\">\n  import umdAssert from 'https://cdn.skypack.dev/umd-assert';\n  window.assert = umdAssert;\n</script>\n<script>x()</script>";
        let local = localise_page(page);
        assert!(local.contains("src=\"/node_modules/axios/dist/axios.min.js\""));
        assert!(local.contains("<script src=\"/sdk-test-assert.js\"></script>"));
        assert!(!local.contains("skypack"));
        assert!(local.contains("<script>x()</script>"));
    }
}
