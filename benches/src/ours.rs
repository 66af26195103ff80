//! Our layers and token primitives on the shared workload.

use std::{
    hint::black_box,
    sync::OnceLock,
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{http::StatusCode, routing::get, Router};
use http::HeaderValue;
use tokio::runtime::Runtime;
use tower::Layer;
use tower_domain_guard::{HostGuardLayer, SharedDomain};
use tower_session_cookie::{SessionCookie, SessionCookieConfig, SessionCookieLayer, SessionTokens};
use tower_session_refresh::{
    keys::{KeySet, SigningKey},
    session::{RefreshService, RequireSessionLayer, Session, SessionConfig, SessionManager},
    store::MemoryStore,
    token::{AccessTokenClaims, AccessTokenVerifier},
};

use crate::{
    tokens,
    variants::{Primitive, StackVisitor},
    workload,
};

/// The signing algorithms we measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// Ed25519.
    EdDsa,
    /// HMAC-SHA256.
    Hs256,
    /// RSA-2048 PKCS#1 v1.5 SHA-256.
    Rs256,
}

/// Our stack variants.
pub const OUR_STACKS: &[&str] = &[
    "host_guard",
    "host_guard_outer",
    "host_guard_outer_no_ext",
    "session_cookie",
    "session_cookie_418b",
    "session_cookie_outer",
    "stack_hs256_cached",
    "stack_hs256_uncached",
    "stack_eddsa_cached",
    "stack_eddsa_uncached",
    "stack_hs256_cached_json",
    "stack_hs256_cached_ev",
    "stack_hs256_cached_ev_validator",
    "stack_hs256_cached_checkdb_memory",
    "stack_hs256_cached_checkdb_redis",
    "stack_hs256_cached_outer",
    "stack_eddsa_cached_outer",
    "stack_hs256_tokens_1",
    "stack_hs256_tokens_1k",
    "stack_hs256_tokens_10k",
    "stack_hs256_tokens_100k",
    "stack_eddsa_tokens_1",
    "stack_eddsa_tokens_1k",
    "stack_eddsa_tokens_10k",
    "stack_eddsa_tokens_100k",
    "refresh_memory",
    "refresh_redis",
    "seed_hand_composed",
    "seed_facade",
];

/// Our token primitives, named `operation/implementation`.
pub const OUR_PRIMITIVES: &[&str] = &[
    "hs256_sign/ours",
    "hs256_verify/ours_uncached",
    "hs256_verify/ours_cached",
    "eddsa_sign/ours",
    "eddsa_verify/ours_uncached",
    "eddsa_verify/ours_cached",
    "rs256_verify/ours_uncached",
    "rs256_verify/ours_cached",
    "rs256_sign/ours",
    "ed25519_verify/ring",
    "rsa2048_verify/ring",
    "cache_key/siphash13_token",
    "cache_key/sha256_token",
];

/// The Ed25519 private key (PKCS#8 PEM) both our signer and `jsonwebtoken` use in this
/// process, made once.
pub fn ed25519_pem() -> &'static str {
    static PEM: OnceLock<String> = OnceLock::new();
    PEM.get_or_init(|| {
        tower_session_refresh::keys::generate_ed25519_pem().expect("key generation works")
    })
}

/// The public `x` (base64url) of [`ed25519_pem`], as its JWK publishes it.
pub fn ed25519_public_x() -> String {
    let jwk = key_set(Alg::EdDsa)
        .signing_key()
        .expect("signing key")
        .verifying_key()
        .to_public_jwk()
        .expect("Ed25519 keys are published");
    jwk["x"].as_str().expect("x member").to_owned()
}

/// Our key set for `alg`, kid `k1` (the same key material `jsonwebtoken` gets).
pub fn key_set(alg: Alg) -> KeySet {
    let key = match alg {
        Alg::Hs256 => SigningKey::hs256("k1", tokens::HS256_SECRET),
        Alg::EdDsa => SigningKey::from_pem(ed25519_pem()).and_then(|k| k.with_kid("k1")),
        Alg::Rs256 => SigningKey::rs256_from_pkcs8_pem("k1", tokens::RS256_PRIVATE_PEM),
    };
    KeySet::new(key.expect("valid key"))
}

/// `jsonwebtoken` with the same key as [`key_set`].
pub fn jwt(alg: Alg) -> tokens::Jwt {
    match alg {
        Alg::Hs256 => tokens::Jwt::hs256("k1"),
        Alg::EdDsa => tokens::Jwt::eddsa("k1", ed25519_pem(), &ed25519_public_x()),
        Alg::Rs256 => tokens::Jwt::rs256("k1"),
    }
}

/// Our claims with the same content as [`tokens::StClaims::sample`].
pub fn sample_claims() -> AccessTokenClaims {
    let s = tokens::StClaims::sample();
    let mut c = AccessTokenClaims::new(
        s.sub,
        s.session_handle,
        s.refresh_token_hash1,
        s.iat,
        s.exp - s.iat,
    );
    c.iss = s.iss;
    c
}

/// An access token for [`sample_claims`], signed by our signer with `alg`.
pub fn sample_token(alg: Alg) -> String {
    key_set(alg).sign(&sample_claims()).expect("signing works")
}

/// `n` access tokens of `n` different users, signed with `keys`: the sample claims with the
/// user id (and `rsub`) and the session handle made unique, at the same lengths.
pub fn user_tokens(keys: &KeySet, n: usize) -> Vec<String> {
    let base = sample_claims();
    (0..n)
        .map(|i| {
            let mut c = base.clone();
            c.sub = format!("{i:08x}{}", &base.sub[8..]);
            c.rsub = c.sub.clone();
            c.session_handle = format!("{i:08x}{}", &base.session_handle[8..]);
            keys.sign(&c).expect("signing works")
        })
        .collect()
}

/// The number of distinct tokens of a `*_tokens_N` variant.
fn token_count(name: &str) -> Option<usize> {
    Some(match name.rsplit('_').next()? {
        "1" => 1,
        "1k" => 1_000,
        "10k" => 10_000,
        "100k" => 100_000,
        _ => return None,
    })
}

/// The full stack around the whole `Router` (as the demo stacks it), default verifier
/// (default cache capacity), fed the tokens of `n` users in turn. Every token is verified
/// once before the measurement, as after one round of the users' requests.
fn visit_user_tokens<V: StackVisitor>(alg: Alg, n: usize, visitor: V) -> V::Out {
    let keys = key_set(alg);
    let verifier = verifier(keys.clone(), true);
    let tokens = user_tokens(&keys, n);
    for t in &tokens {
        verifier
            .verify_sync(t)
            .expect("our verifier accepts our token");
    }
    let config = SessionConfig::builder(cookie_config())
        .api_domain(format!("https://{}", workload::HOST))
        .verifier(verifier)
        .keys(keys)
        .store(MemoryStore::new())
        .build()
        .expect("valid session config");
    let mut next = 0;
    visitor.visit(full_stack_outer(&config), move || {
        let token = &tokens[next % tokens.len()];
        next += 1;
        workload::get_request(&our_cookie_header(token))
    })
}

/// Our verifier over `keys`, with or without its verified-token cache.
pub fn verifier(keys: KeySet, cached: bool) -> AccessTokenVerifier {
    if cached {
        AccessTokenVerifier::new(keys)
    } else {
        AccessTokenVerifier::builder(keys)
            .cache_capacity(0)
            .build()
            .expect("valid verifier config")
    }
}

/// Seconds since the epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The cookie-layer configuration every stack of ours uses: shared domain `.example.com`,
/// API on `https://api.example.com`, website on `https://www.example.com`.
pub fn cookie_config() -> SessionCookieConfig {
    SessionCookieConfig::builder()
        .shared_domain(shared_domain())
        .api_domain(format!("https://{}", workload::HOST))
        .website_domain("https://www.example.com")
        .build()
        .expect("valid cookie config")
}

/// `.example.com`.
pub fn shared_domain() -> SharedDomain {
    SharedDomain::parse(workload::SHARED_DOMAIN).expect("valid domain")
}

/// Our `Cookie` header: `sAccessToken=<token>; prefs=<61 B>; _ga=<318 B>`.
pub fn our_cookie_header(access_token: &str) -> HeaderValue {
    workload::cookie_header(&format!("sAccessToken={access_token}"))
}

/// `HostGuardLayer` alone, for the shared domain `.example.com`, added with `Router::layer`
/// (as the peer predicate is).
pub fn host_guard_router() -> Router {
    crate::peers::bare_router().layer(HostGuardLayer::new(shared_domain()))
}

/// `SessionCookieLayer` alone: the handler reads the access token, writes nothing.
pub fn session_cookie_router() -> Router {
    async fn handler(tokens: SessionTokens) -> StatusCode {
        black_box(tokens.access_token().map(|t| t.as_str().len()));
        StatusCode::OK
    }
    Router::new()
        .route("/", get(handler))
        .layer(SessionCookieLayer::new(cookie_config()))
}

/// `SessionCookieLayer` alone, wrapped around the whole `Router` (as `HostGuard` is in
/// `host_guard_outer` and as the demo stacks it), so axum's per-`Router::layer` boxing
/// (measured by the `noop_layer` peer) is not counted.
pub fn session_cookie_outer() -> SessionCookie<Router> {
    async fn handler(tokens: SessionTokens) -> StatusCode {
        black_box(tokens.access_token().map(|t| t.as_str().len()));
        StatusCode::OK
    }
    SessionCookieLayer::new(cookie_config()).layer(Router::new().route("/", get(handler)))
}

/// The session configuration of the full stack: our cookie config, `alg` keys, the
/// verifier with its cache on or off, and a memory store.
pub fn session_config(alg: Alg, cached: bool) -> SessionConfig {
    let keys = key_set(alg);
    SessionConfig::builder(cookie_config())
        .api_domain(format!("https://{}", workload::HOST))
        .verifier(verifier(keys.clone(), cached))
        .keys(keys)
        .store(MemoryStore::new())
        .build()
        .expect("valid session config")
}

/// Which session store a refresh run uses.
#[derive(Debug, Clone)]
pub enum StoreBackend {
    /// `MemoryStore`.
    Memory,
    /// `RedisStore` (crate `tower-session-redis`) at this URL.
    Redis(String),
    /// `PostgresStore` (crate `tower-session-postgres`) in a database of the run's own on
    /// the server of this URL.
    Postgres(String),
    /// `RedisStore::cluster` on a Redis Cluster (3 masters + 3 replicas) the run starts
    /// itself on loopback (`tower_session_testkit::redis::OwnCluster`), with the default
    /// `WAIT 1 100` after every write (`true`) or without (`false`).
    Cluster(bool),
}

impl StoreBackend {
    /// `memory` or a `redis://` URL.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "memory" => Ok(StoreBackend::Memory),
            url if url.starts_with("redis://") => Ok(StoreBackend::Redis(url.to_owned())),
            url if url.starts_with("postgres://") => Ok(StoreBackend::Postgres(url.to_owned())),
            "cluster" => Ok(StoreBackend::Cluster(true)),
            "cluster-nowait" => Ok(StoreBackend::Cluster(false)),
            other => Err(format!(
                "unknown store {other:?}: memory, redis://HOST:PORT, postgres://USER@HOST:PORT/DB, cluster or cluster-nowait"
            )),
        }
    }

    /// `memory` or `redis`.
    pub fn name(&self) -> &'static str {
        match self {
            StoreBackend::Memory => "memory",
            StoreBackend::Redis(_) => "redis",
            StoreBackend::Postgres(_) => "postgres",
            StoreBackend::Cluster(true) => "redis-cluster-wait",
            StoreBackend::Cluster(false) => "redis-cluster-nowait",
        }
    }

    /// Redis `INFO commandstats` calls per command (`None` for the memory store).
    pub async fn command_stats(
        &self,
    ) -> Result<Option<std::collections::BTreeMap<String, u64>>, String> {
        match self {
            StoreBackend::Memory | StoreBackend::Postgres(_) | StoreBackend::Cluster(_) => Ok(None),
            StoreBackend::Redis(url) => crate::redis_util::command_stats(url).await.map(Some),
        }
    }
}

/// Deletes what a run left in its store.
#[derive(Debug)]
pub struct Cleanup(
    Option<(String, String)>,
    Option<(String, String)>,
    Option<tower_session_testkit::redis::OwnCluster>,
);

impl Cleanup {
    /// Deletes the run's Redis keys (by its unique prefix) or drops its PostgreSQL
    /// database; nothing for the memory store.
    pub async fn run(self) {
        if let Some((url, prefix)) = self.0 {
            if let Err(e) = crate::redis_util::delete_prefix(&url, &prefix).await {
                eprintln!("cleanup of {prefix}* failed: {e}");
            }
        }
        if let Some((url, db)) = self.1 {
            if let Err(e) = crate::postgres_util::drop_database(&url, &db).await {
                eprintln!("dropping database {db} failed: {e}");
            }
        }
        // Kills the run's own cluster (and removes its directory).
        drop(self.2);
    }

    /// The run's Redis (URL, key prefix), if any.
    pub fn redis(&self) -> Option<(&str, &str)> {
        self.0.as_ref().map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// The run's own Redis Cluster, if any (its keys start with [`CLUSTER_PREFIX`]).
    pub fn cluster(&self) -> Option<&tower_session_testkit::redis::OwnCluster> {
        self.2.as_ref()
    }

    /// The run's PostgreSQL (server URL, database), if any.
    pub fn postgres(&self) -> Option<(&str, &str)> {
        self.1.as_ref().map(|(u, d)| (u.as_str(), d.as_str()))
    }
}

/// The key prefix of the store on a run's own cluster.
pub const CLUSTER_PREFIX: &str = "bench:";

/// [`session_config`] with the given store; Redis gets a unique key prefix, which the
/// returned [`Cleanup`] deletes.
pub async fn session_config_with(
    alg: Alg,
    cached: bool,
    backend: &StoreBackend,
) -> Result<(SessionConfig, Cleanup), String> {
    let keys = key_set(alg);
    let builder = SessionConfig::builder(cookie_config())
        .api_domain(format!("https://{}", workload::HOST))
        .verifier(verifier(keys.clone(), cached))
        .keys(keys);
    let (builder, cleanup) = match backend {
        StoreBackend::Memory => (builder.store(MemoryStore::new()), Cleanup(None, None, None)),
        StoreBackend::Redis(url) => {
            let prefix = format!("bench-{}-{}:", std::process::id(), now_secs());
            let store = crate::redis_util::store(url, &prefix).await?;
            (
                builder.store(store),
                Cleanup(Some((url.clone(), prefix)), None, None),
            )
        }
        StoreBackend::Postgres(url) => {
            let db = format!("tsr_bench_{}_{}", std::process::id(), now_secs());
            let store = crate::postgres_util::store(url, &db).await?;
            (
                builder.store(store),
                Cleanup(None, Some((url.clone(), db)), None),
            )
        }
        StoreBackend::Cluster(wait) => {
            let cluster =
                tokio::task::spawn_blocking(tower_session_testkit::redis::OwnCluster::start)
                    .await
                    .map_err(|e| e.to_string())?;
            let config = tower_session_redis::RedisStoreConfig {
                wait_for_replicas: if *wait {
                    tower_session_redis::WaitForReplicas::Auto
                } else {
                    tower_session_redis::WaitForReplicas::Never
                },
                ..tower_session_redis::RedisStoreConfig::new(CLUSTER_PREFIX)
            };
            let store = tower_session_redis::RedisStore::connect_cluster(cluster.urls(), config)
                .await
                .map_err(|e| e.to_string())?;
            (builder.store(store), Cleanup(None, None, Some(cluster)))
        }
    };
    Ok((builder.build().map_err(|e| e.to_string())?, cleanup))
}

/// The full server stack on the workload route: `HostGuard` -> `SessionCookie` ->
/// `RequireSession` -> a handler that reads the `Session`, all added with one
/// `Router::layer` (one `ServiceBuilder`), as an axum user writes it.
pub fn full_stack_router(config: &SessionConfig) -> Router {
    async fn handler(session: Session) -> StatusCode {
        black_box(session.user_id().len());
        StatusCode::OK
    }
    Router::new().route("/", get(handler)).layer(
        tower::ServiceBuilder::new()
            .layer(HostGuardLayer::new(shared_domain()))
            .layer(SessionCookieLayer::new(cookie_config()))
            .layer(RequireSessionLayer::new(config.clone())),
    )
}

/// [`full_stack_router`] with `RequireSessionLayer::check_database(true)`: after the token
/// checks, every request looks its session up in the configuration's store.
pub fn full_stack_checkdb_router(config: &SessionConfig) -> Router {
    async fn handler(session: Session) -> StatusCode {
        black_box(session.user_id().len());
        StatusCode::OK
    }
    let require = RequireSessionLayer::new(config.clone())
        .check_database(true)
        .expect("the configuration has a store");
    Router::new().route("/", get(handler)).layer(
        tower::ServiceBuilder::new()
            .layer(HostGuardLayer::new(shared_domain()))
            .layer(SessionCookieLayer::new(cookie_config()))
            .layer(require),
    )
}

/// Stores the session [`sample_token`] names (its handle, user and first refresh-token
/// hash, one day left), so that a `check_database` lookup finds it.
pub async fn store_sample_session(config: &SessionConfig) -> Result<(), String> {
    let claims = sample_claims();
    let store = config.store().ok_or("the configuration has no store")?;
    store
        .create(tower_session_refresh::store::NewSession {
            handle: claims.session_handle.clone(),
            user_id: claims.sub.clone(),
            tenant_id: "public".to_owned(),
            payload: Some(serde_json::Map::new()),
            refresh_hash: claims.refresh_token_hash1.clone(),
            family_hash: "f".repeat(64),
            expires_at: SystemTime::now() + std::time::Duration::from_secs(86_400),
            session_data: serde_json::Map::new(),
        })
        .await
        .map_err(|e| e.to_string())
}

/// The full server stack wrapped around the whole `Router` (one `ServiceBuilder`, as the
/// demo stacks its layers), instead of added with `Router::layer`.
pub fn full_stack_outer(
    config: &SessionConfig,
) -> impl tower::Service<
    http::Request<axum::body::Body>,
    Response = http::Response<impl Send + 'static>,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone
       + Send
       + 'static {
    async fn handler(session: Session) -> StatusCode {
        black_box(session.user_id().len());
        StatusCode::OK
    }
    tower::ServiceBuilder::new()
        .layer(HostGuardLayer::new(shared_domain()))
        .layer(SessionCookieLayer::new(cookie_config()))
        .layer(RequireSessionLayer::new(config.clone()))
        .service(Router::new().route("/", get(handler)))
}

/// [`full_stack_router`] with the demo's `/sessioninfo` handler instead of a bare 200: a
/// JSON body with the user id, handle, every claim and the host, serialised from borrowed
/// fields as `examples/multi-api` does.
pub fn full_stack_json_router(config: &SessionConfig) -> Router {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct SessionInfo<'a> {
        user_id: &'a str,
        session_handle: &'a str,
        access_token_payload: &'a AccessTokenClaims,
        served_by: &'a str,
    }
    async fn handler(session: Session) -> axum::response::Response {
        let info = SessionInfo {
            user_id: session.user_id(),
            session_handle: session.handle(),
            access_token_payload: session.claims(),
            served_by: workload::HOST,
        };
        json_response(&info)
    }
    Router::new().route("/", get(handler)).layer(
        tower::ServiceBuilder::new()
            .layer(HostGuardLayer::new(shared_domain()))
            .layer(SessionCookieLayer::new(cookie_config()))
            .layer(RequireSessionLayer::new(config.clone())),
    )
}

/// `info` as an `application/json` response, serialised into a buffer sized for a
/// `/sessioninfo` body (`axum::Json` starts at 128 bytes and grows through `BytesMut`).
pub fn json_response<T: serde::Serialize>(info: &T) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut body = Vec::with_capacity(1024);
    match serde_json::to_writer(&mut body, info) {
        Ok(()) => (
            [(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The auth server: the full stack plus `POST /login` (creates a session) and the refresh
/// route, as the demo mounts them.
pub fn auth_router(config: &SessionConfig) -> Router {
    async fn login(
        axum::extract::State(sessions): axum::extract::State<SessionManager>,
        tokens: SessionTokens,
    ) -> StatusCode {
        match sessions
            .create(
                &tokens,
                "5e1b3f0c-8a4d-4c2e-9f7a-1d2c3b4a5e6f",
                serde_json::json!({}),
            )
            .await
        {
            Ok(_) => StatusCode::OK,
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    let manager = SessionManager::new(config.clone()).expect("valid manager");
    Router::new()
        .route("/login", axum::routing::post(login))
        .with_state(manager)
        .route_service(
            config.refresh_path(),
            RefreshService::new(config.clone()).expect("valid refresh service"),
        )
        .layer(
            tower::ServiceBuilder::new()
                .layer(HostGuardLayer::new(shared_domain()))
                .layer(SessionCookieLayer::new(cookie_config())),
        )
}

/// Signs in once through `router` (cookie mode) and returns the refresh token.
pub async fn sign_in(router: &Router) -> String {
    use tower::ServiceExt;
    let req = http::Request::post("/login")
        .header(http::header::HOST, workload::HOST)
        .header("st-auth-mode", "cookie")
        .body(axum::body::Body::empty())
        .expect("valid request");
    let res = router.clone().oneshot(req).await.expect("infallible");
    assert_eq!(res.status(), 200, "sign-in works");
    set_cookie_value(res.headers(), "sRefreshToken").expect("sign-in sets sRefreshToken")
}

/// The value of the `name` cookie among the `Set-Cookie` headers.
pub fn set_cookie_value(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let (n, rest) = v.split_once('=')?;
            (n == name).then(|| rest.split(';').next().unwrap_or_default().to_owned())
        })
}

/// `POST {base}/session/refresh` with the refresh cookie (and the two unrelated cookies).
pub fn refresh_request(path: &str, refresh_token: &HeaderValue) -> http::Request<axum::body::Body> {
    http::Request::post(path)
        .header(http::header::HOST, workload::HOST)
        .header(http::header::COOKIE, refresh_token.clone())
        .header("rid", "session")
        .body(axum::body::Body::empty())
        .expect("valid request")
}

/// The local Redis the `refresh_redis` variant uses.
pub const REDIS_URL: &str = "redis://127.0.0.1:6379";

static CLEANUP: std::sync::Mutex<Vec<Cleanup>> = std::sync::Mutex::new(Vec::new());

/// Deletes the Redis keys the stack variants created (call once, at the end).
pub async fn cleanup_all() {
    let all = CLEANUP
        .lock()
        .map(|mut c| std::mem::take(&mut *c))
        .unwrap_or_default();
    for c in all {
        c.run().await;
    }
}

/// The seed's stack through the `SharedSession` facade: HS256 key `k1`, cookie domain
/// `.example.com`, api `https://api.example.com`, website `https://www.example.com`.
pub fn seed_facade() -> tower_session_refresh::SharedSession {
    let key = SigningKey::hs256("k1", tokens::HS256_SECRET).expect("valid key");
    tower_session_refresh::SharedSession::builder(workload::SHARED_DOMAIN)
        .api_domain(&format!("https://{}", workload::HOST))
        .website_domain("https://www.example.com")
        .signing_key(key)
        .build()
        .expect("valid facade")
}

async fn seed_handler(session: Session) -> StatusCode {
    black_box(session.user_id().len());
    StatusCode::OK
}

/// `seed_facade().layer()` around a `Router` whose `/` has `require_session()`.
pub fn seed_facade_stack(
    auth: &tower_session_refresh::SharedSession,
) -> tower_session_refresh::SharedSessionService<Router> {
    auth.layer().layer(
        Router::new()
            .route("/", get(seed_handler))
            .route_layer(auth.require_session()),
    )
}

/// The same layers composed by hand, as the demo did before the facade: host guard, CORS,
/// origin guard, cookie layer around a `Router` with `RequireSessionLayer` on `/` and the
/// refresh, sign-out and JWKS services mounted as routes. Same session configuration.
pub fn seed_hand_composed(
    config: &SessionConfig,
) -> impl tower::Service<
    http::Request<axum::body::Body>,
    Response = http::Response<impl Send + 'static>,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone
       + Send
       + 'static {
    use http::Method;
    use tower_http::cors::{AllowOrigin, CorsLayer};
    use tower_session_refresh::session::{cors, SignOutService};
    let keys = config.keys().expect("auth server").clone();
    let jwks = tower_session_refresh::jwks::JwksService::builder(keys)
        .build()
        .expect("jwks");
    let router = Router::new()
        .route("/", get(seed_handler))
        .route_layer(RequireSessionLayer::new(config.clone()))
        .route_service(
            config.refresh_path(),
            RefreshService::new(config.clone()).expect("refresh"),
        )
        .route_service(
            config.signout_path(),
            SignOutService::new(config.clone()).expect("signout"),
        )
        .route_service(jwks.path(), jwks.clone());
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::exact(HeaderValue::from_static(
            "https://www.example.com",
        )))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers(cors::allowed_headers())
        .expose_headers(cors::exposed_headers())
        .max_age(std::time::Duration::from_secs(600));
    tower::ServiceBuilder::new()
        .layer(HostGuardLayer::new(shared_domain()))
        .layer(cors)
        .layer(tower_domain_guard::OriginGuardLayer::new(shared_domain()).require_https(true))
        .layer(SessionCookieLayer::new(config.cookies().clone()))
        .service(router)
}

/// Builds our stack called `name`.
pub fn visit_our_stack<V: StackVisitor>(name: &str, rt: &Runtime, visitor: V) -> Option<V::Out> {
    let cookie = our_cookie_header(&sample_token(Alg::Hs256));
    let req = move || workload::get_request(&cookie);
    Some(match name {
        "host_guard" => visitor.visit(host_guard_router(), req),
        "host_guard_outer" => {
            let svc = HostGuardLayer::new(shared_domain()).layer(crate::peers::bare_router());
            visitor.visit(svc, req)
        }
        // the same without the EffectiveHost extension (`effective_host_extension(false)`)
        "host_guard_outer_no_ext" => {
            let svc = HostGuardLayer::new(shared_domain())
                .effective_host_extension(false)
                .layer(crate::peers::bare_router());
            visitor.visit(svc, req)
        }
        "session_cookie" => visitor.visit(session_cookie_router(), req),
        // the same with a 22-byte token: the peers' 418-byte header plus the longer name
        "session_cookie_418b" => {
            let cookie = our_cookie_header(workload::PEER_SESSION_ID);
            visitor.visit(session_cookie_router(), move || {
                workload::get_request(&cookie)
            })
        }
        // the workload (418-byte header) through the layer wrapped around the Router
        "session_cookie_outer" => {
            let cookie = our_cookie_header(workload::PEER_SESSION_ID);
            visitor.visit(session_cookie_outer(), move || {
                workload::get_request(&cookie)
            })
        }
        "stack_hs256_cached_outer" | "stack_eddsa_cached_outer" => {
            let alg = if name.contains("hs256") {
                Alg::Hs256
            } else {
                Alg::EdDsa
            };
            let config = session_config(alg, true);
            let cookie = our_cookie_header(&sample_token(alg));
            visitor.visit(full_stack_outer(&config), move || {
                workload::get_request(&cookie)
            })
        }
        _ if name.contains("_tokens_") => {
            let alg = if name.contains("hs256") {
                Alg::Hs256
            } else {
                Alg::EdDsa
            };
            visit_user_tokens(alg, token_count(name)?, visitor)
        }
        "stack_hs256_cached"
        | "stack_hs256_uncached"
        | "stack_eddsa_cached"
        | "stack_eddsa_uncached" => {
            let alg = if name.contains("hs256") {
                Alg::Hs256
            } else {
                Alg::EdDsa
            };
            let config = session_config(alg, name.ends_with("_cached"));
            let cookie = our_cookie_header(&sample_token(alg));
            visitor.visit(full_stack_router(&config), move || {
                workload::get_request(&cookie)
            })
        }
        // The same token carrying `st-ev` ({"v": true, "t": now}), without and with one
        // claim validator (`is_true`, value present and no max age: no refetch).
        "stack_hs256_cached_ev" | "stack_hs256_cached_ev_validator" => {
            let claim = tower_session_refresh::claims::BooleanClaim::new("st-ev", |_| async {
                Ok(Some(true))
            });
            let keys = key_set(Alg::Hs256);
            let mut builder = SessionConfig::builder(cookie_config())
                .api_domain(format!("https://{}", workload::HOST))
                .verifier(verifier(keys.clone(), true))
                .keys(keys.clone())
                .store(MemoryStore::new());
            if name.ends_with("_validator") {
                builder = builder.global_claim_validator(claim.is_true());
            }
            let config = builder.build().expect("valid session config");
            let mut claims = sample_claims();
            claim.add_to_payload(&mut claims.payload, true);
            let cookie = our_cookie_header(&keys.sign(&claims).expect("signing works"));
            visitor.visit(full_stack_router(&config), move || {
                workload::get_request(&cookie)
            })
        }
        // `stack_hs256_cached` with `check_database(true)`: the same token, its session
        // stored in a memory store or in Redis (127.0.0.1:6379, unique key prefix).
        "stack_hs256_cached_checkdb_memory" | "stack_hs256_cached_checkdb_redis" => {
            let backend = if name.ends_with("_redis") {
                StoreBackend::Redis(REDIS_URL.to_owned())
            } else {
                StoreBackend::Memory
            };
            let (config, cleanup) = rt
                .block_on(session_config_with(Alg::Hs256, true, &backend))
                .expect("store available");
            CLEANUP.lock().map(|mut c| c.push(cleanup)).ok();
            rt.block_on(store_sample_session(&config))
                .expect("the sample session is stored");
            let cookie = our_cookie_header(&sample_token(Alg::Hs256));
            visitor.visit(full_stack_checkdb_router(&config), move || {
                workload::get_request(&cookie)
            })
        }
        "stack_hs256_cached_json" => {
            let config = session_config(Alg::Hs256, true);
            let cookie = our_cookie_header(&sample_token(Alg::Hs256));
            visitor.visit(full_stack_json_router(&config), move || {
                workload::get_request(&cookie)
            })
        }
        // The facade and the same layers by hand, on one session configuration.
        "seed_facade" | "seed_hand_composed" => {
            let auth = seed_facade();
            let cookie = our_cookie_header(&sample_token(Alg::Hs256));
            let req = move || workload::get_request(&cookie);
            if name == "seed_facade" {
                visitor.visit(seed_facade_stack(&auth), req)
            } else {
                visitor.visit(seed_hand_composed(auth.session_config()), req)
            }
        }
        "refresh_memory" | "refresh_redis" => {
            let backend = if name == "refresh_redis" {
                StoreBackend::Redis(REDIS_URL.to_owned())
            } else {
                StoreBackend::Memory
            };
            let (config, cleanup) = rt
                .block_on(session_config_with(Alg::EdDsa, true, &backend))
                .expect("store available");
            CLEANUP.lock().map(|mut c| c.push(cleanup)).ok();
            let router = auth_router(&config);
            let rt_token = rt.block_on(sign_in(&router));
            let cookie = workload::cookie_header(&format!("sRefreshToken={rt_token}"));
            let path = config.refresh_path().to_owned();
            visitor.visit(router, move || refresh_request(&path, &cookie))
        }
        _ => return None,
    })
}

fn alg_of(op: &str) -> Option<Alg> {
    match op.split('_').next()? {
        "hs256" => Some(Alg::Hs256),
        "eddsa" => Some(Alg::EdDsa),
        "rs256" => Some(Alg::Rs256),
        _ => None,
    }
}

/// A bare signature check of the sample token's signing input and signature with ring
/// (keys parsed once where it allows it). The comparison with ed25519-dalek and aws-lc-rs
/// that the choice of ring rests on is in benches/README.md; its code is at commit 52b1db9
/// (kept out of the build here: aws-lc-sys alone adds minutes of C compilation to CI).
fn raw_verify(name: &str) -> Option<Primitive> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let alg = if name.starts_with("ed25519") {
        Alg::EdDsa
    } else {
        Alg::Rs256
    };
    let token = sample_token(alg);
    let (input, sig) = token.rsplit_once('.')?;
    let (input, sig) = (input.as_bytes().to_vec(), b64.decode(sig).ok()?);
    let jwk = key_set(alg)
        .signing_key()?
        .verifying_key()
        .to_public_jwk()?;
    let member = |m: &str| b64.decode(jwk[m].as_str().unwrap_or_default()).ok();
    let check = |ok: bool| assert!(ok, "{name} accepts the sample signature");
    Some(match name.split_once('/')?.1 {
        "ring" if alg == Alg::EdDsa => {
            let pk = member("x")?;
            let key = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, pk);
            check(key.verify(&input, &sig).is_ok());
            Box::new(move || {
                black_box(key.verify(black_box(&input), &sig).is_ok());
            })
        }
        "ring" => {
            let (n, e) = (member("n")?, member("e")?);
            let verify = move |msg: &[u8]| {
                ring::signature::RsaPublicKeyComponents { n: &n, e: &e }
                    .verify(&ring::signature::RSA_PKCS1_2048_8192_SHA256, msg, &sig)
                    .is_ok()
            };
            check(verify(&input));
            Box::new(move || {
                black_box(verify(black_box(&input)));
            })
        }
        _ => return None,
    })
}

/// Builds our primitive called `name`.
pub fn primitive(name: &str) -> Option<Primitive> {
    if name.starts_with("ed25519_verify/") || name.starts_with("rsa2048_verify/") {
        return raw_verify(name);
    }
    // What keying the cache on a digest of the whole token would cost per lookup.
    if let Some(imp) = name.strip_prefix("cache_key/") {
        use std::hash::BuildHasher;
        let token = sample_token(Alg::Hs256);
        return Some(match imp {
            "siphash13_token" => {
                let keyed = std::collections::hash_map::RandomState::new();
                Box::new(move || {
                    black_box(keyed.hash_one(black_box(token.as_bytes())));
                })
            }
            "sha256_token" => Box::new(move || {
                black_box(ring::digest::digest(
                    &ring::digest::SHA256,
                    black_box(token.as_bytes()),
                ));
            }),
            _ => return None,
        });
    }
    let (op, imp) = name.split_once('/')?;
    let alg = alg_of(op)?;
    let keys = key_set(alg);
    Some(match (op.rsplit('_').next()?, imp) {
        ("sign", "ours") => {
            let claims = sample_claims();
            Box::new(move || {
                black_box(keys.sign(black_box(&claims)).ok());
            })
        }
        ("verify", "ours_uncached" | "ours_cached") => {
            let v = verifier(keys, imp == "ours_cached");
            let token = sample_token(alg);
            assert!(
                v.verify_sync(&token).is_ok(),
                "our verifier accepts our token"
            );
            Box::new(move || {
                black_box(v.verify_sync(black_box(&token)).ok());
            })
        }
        _ => return None,
    })
}
