//! The demo's stack and routes: the reference way to compose the layers.
//!
//! ```text
//! HostGuard            hosts outside the shared domain: 421 (malformed: 400)
//!  -> CorsLayer        the website origin, with credentials and the SuperTokens headers
//!   -> OriginGuard     state-changing requests from outside the shared domain: 403
//!    -> SessionCookie  the SessionTokens handle: cookies (Domain=example.test) or headers
//!     -> by host       api / api2 / api3 / www; RequireSession on /sessioninfo
//! ```
//!
//! Around all of it, a timeout of `--request-timeout` per request (503); the connection
//! limits are in `serve.rs`.

use std::{collections::HashMap, sync::Arc, time::Duration};

use axum::{
    error_handling::HandleErrorLayer,
    extract::{Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower::ServiceExt;
use tower_domain_guard::{EffectiveHost, HostGuardLayer, OriginGuardLayer, SharedDomain};
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    services::ServeDir,
};
use tower_session_cookie::{SessionCookieConfig, SessionCookieLayer, SessionTokens};
use tower_session_redis::{RedisKeyStore, RedisKeyStoreConfig, RedisStore, RedisStoreConfig};
use tower_session_refresh::{
    jwks::{JwksService, OpenIdDiscoveryService, RemoteJwks, RemoteJwksError},
    keys::{KeySet, SigningKey},
    keystore::{ManagedKeys, ManagedKeysConfig, MemoryKeyStore},
    session::{
        cors, AntiCsrf, RefreshService, RequireSessionLayer, Session, SessionConfig, SessionError,
        SessionManager, SignOutService,
    },
    store::{MemoryStore, SessionStore},
    token::{AccessTokenClaims, AccessTokenVerifier},
};

use crate::args::{flag_error, Args, FlagError, StoreChoice};

/// Builds the whole application, or names the flag that makes it impossible.
pub(crate) async fn build(args: &Args, port: u16) -> Result<Router, FlagError> {
    let domain = SharedDomain::parse(&args.cookie_domain)
        .map_err(|e| flag_error("--cookie-domain", e.to_string()))?;
    let api_domain = match &args.api_domain {
        Some(url) => url.clone(),
        None => format!("http://api.{}:{port}", domain.name()),
    };
    let website_domain = match &args.website_domain {
        Some(url) => url.clone(),
        None => format!("http://www.{}:{port}", domain.name()),
    };
    // The seed's rule: every API and the website lie inside the shared domain.
    domain
        .check_inside("--api-domain", &api_domain)
        .map_err(|e| flag_error("--api-domain", e.to_string()))?;
    domain
        .check_inside("--website-domain", &website_domain)
        .map_err(|e| flag_error("--website-domain", e.to_string()))?;
    let website_origin = HeaderValue::from_str(website_domain.trim_end_matches('/'))
        .map_err(|_| flag_error("--website-domain", "is not a valid origin"))?;

    let mut cookies = SessionCookieConfig::builder()
        .shared_domain(domain.clone())
        .api_domain(api_domain.clone())
        .website_domain(website_domain.clone())
        .api_base_path(args.api_base_path.clone());
    if let Some(older) = &args.older_cookie_domain {
        cookies = cookies.older_cookie_domain(older.clone());
    }
    let cookies = cookies
        .build()
        .map_err(|e| flag_error("--cookie-domain", e.to_string()))?;

    let mut host_guard = HostGuardLayer::new(domain.clone());
    for host in &args.allow_hosts {
        host_guard = host_guard
            .allow_host(host)
            .map_err(|e| flag_error("--allow-host", e.to_string()))?;
    }

    let mut session = SessionConfig::builder(cookies.clone())
        .api_domain(api_domain.clone())
        .access_token_lifetime(args.access_token_ttl)
        .refresh_token_lifetime(args.refresh_token_ttl);
    if let Some(mode) = &args.anti_csrf {
        session = session.anti_csrf(match mode.as_str() {
            "via-token" => AntiCsrf::ViaToken,
            "via-custom-header" => AntiCsrf::ViaCustomHeader,
            _ => AntiCsrf::None,
        });
    }
    let keys = if let Some(url) = &args.jwks_url {
        // Verify-only: public keys from the auth server's JWKS, no secret, no store.
        // https:// by default; http:// stays for the loopback demo, with one warning logged.
        let mut jwks =
            RemoteJwks::builder(url.clone()).allow_insecure_http(url.starts_with("http://"));
        if let Some(ca) = &args.jwks_ca {
            jwks = jwks.ca_file(ca);
        }
        let jwks = jwks.build().map_err(|e| match e {
            RemoteJwksError::Ca(_) => flag_error("--jwks-ca", e.to_string()),
            _ => flag_error("--jwks-url", e.to_string()),
        })?;
        session = session.verifier(AccessTokenVerifier::new(jwks));
        None
    } else {
        let store: Arc<dyn SessionStore> = match &args.store {
            StoreChoice::Memory => Arc::new(MemoryStore::new()),
            // Lazy: a Redis that is down at start-up gives 503 on the auth routes until it
            // is back, instead of a process that refuses to start.
            StoreChoice::Redis(url) => Arc::new(
                RedisStore::lazy(url, RedisStoreConfig::default())
                    .map_err(|e| flag_error("--store", e.to_string()))?,
            ),
        };
        let keys = match &args.signing_key {
            // A fixed key from configuration: nothing is generated or stored.
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    flag_error(
                        "--signing-key",
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                KeySet::new(
                    SigningKey::from_pem_or_jwk(&text)
                        .map_err(|e| flag_error("--signing-key", e.to_string()))?,
                )
            }
            // Keys kept in the store, shared by every auth process on it and rotated every
            // --key-rotation; they load in the background (503 on auth routes until then).
            None => {
                let config = ManagedKeysConfig::new(args.key_rotation, args.access_token_ttl);
                let managed = match &args.store {
                    StoreChoice::Memory => ManagedKeys::start(MemoryKeyStore::new(), config).await,
                    StoreChoice::Redis(url) => {
                        let key_store = RedisKeyStore::new(url, RedisKeyStoreConfig::default())
                            .map_err(|e| flag_error("--store", e.to_string()))?;
                        ManagedKeys::start(key_store, config).await
                    }
                };
                session = session
                    .verifier(managed.verifier())
                    .keys_may_be_pending(true);
                managed.key_set()
            }
        };
        session = session.keys(keys.clone()).shared_store(store);
        Some(keys)
    };
    let session = session
        .build()
        .map_err(|e| flag_error("--access-token-ttl", e.to_string()))?;

    let mut hosts: HashMap<String, Router> = HashMap::new();
    let name = domain.name();
    let protected = || {
        Router::new()
            .route("/sessioninfo", get(session_info).post(session_info))
            .route_layer(RequireSessionLayer::new(session.clone()))
            .route("/healthz", get(healthz))
    };
    for label in ["api2", "api3"] {
        if args.serves(label) {
            hosts.insert(format!("{label}.{name}"), protected());
        }
    }
    let mut extra = Router::new().route("/healthz", get(healthz));
    if let Some(keys) = keys.filter(|_| args.serves("api")) {
        let jwks = JwksService::builder(keys.clone())
            .api_base_path(args.api_base_path.clone())
            .build()
            .map_err(|e| flag_error("--api-base-path", e.to_string()))?;
        // Issuer = api domain + base path, so verifiers can start from the issuer URL.
        let discovery = OpenIdDiscoveryService::builder(api_domain.clone(), keys)
            .api_base_path(args.api_base_path.clone())
            .build()
            .map_err(|e| flag_error("--api-domain", e.to_string()))?;
        let base = &args.api_base_path;
        let manager = SessionManager::new(session.clone())
            .map_err(|e| flag_error("--store", e.to_string()))?;
        let api = protected()
            .route(
                &format!("{base}/demo/signin"),
                post(sign_in).with_state(manager),
            )
            .route_service(session.refresh_path(), refresh_service(&session)?)
            .route_service(session.signout_path(), signout_service(&session)?)
            .route_service(jwks.path(), jwks.clone())
            .route_service(discovery.path(), discovery.clone());
        hosts.insert(format!("api.{name}"), api);
        let path = jwks.path().to_owned();
        extra = extra.route_service(&path, jwks);
    }
    if args.serves("www") {
        let www = match &args.website_dir {
            Some(dir) => Router::new().fallback_service(ServeDir::new(dir)),
            None => Router::new().route("/", get(website_placeholder)),
        };
        hosts.insert(format!("www.{name}"), www.route("/healthz", get(healthz)));
    }
    for host in &args.allow_hosts {
        hosts.insert(host.to_ascii_lowercase(), extra.clone());
    }

    // With an https website, an http:// page under the shared domain is not the site (an
    // attacker on the network can inject one), also for browsers without Sec-Fetch-Site.
    let origin_guard = OriginGuardLayer::new(domain)
        .require_https(website_domain.to_ascii_lowercase().starts_with("https://"));

    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::exact(website_origin))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers(cors::allowed_headers())
        .expose_headers(cors::exposed_headers())
        .max_age(Duration::from_secs(600));

    Ok(Router::new()
        .fallback(by_host)
        .with_state(Arc::new(hosts))
        .layer(SessionCookieLayer::new(cookies))
        .layer(origin_guard)
        .layer(cors)
        .layer(host_guard)
        // Outermost, so no handler (a store that hangs, a body that never arrives) holds a
        // request longer than --request-timeout; 503, and nothing is cleared.
        .layer(
            tower::ServiceBuilder::new()
                .layer(HandleErrorLayer::new(request_timed_out))
                .timeout(args.request_timeout),
        ))
}

async fn request_timed_out(_: tower::BoxError) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "1")],
        Json(json!({ "message": "request timed out" })),
    )
        .into_response()
}

fn refresh_service(session: &SessionConfig) -> Result<RefreshService, FlagError> {
    RefreshService::new(session.clone()).map_err(|e| flag_error("--store", e.to_string()))
}

fn signout_service(session: &SessionConfig) -> Result<SignOutService, FlagError> {
    SignOutService::new(session.clone()).map_err(|e| flag_error("--store", e.to_string()))
}

/// Routes by the guard's accepted host (port ignored); hosts this process does not serve
/// get 404.
async fn by_host(
    State(hosts): State<Arc<HashMap<String, Router>>>,
    host: EffectiveHost,
    req: Request,
) -> Response {
    match hosts.get(host.as_str()) {
        Some(router) => match router.clone().oneshot(req).await {
            Ok(response) => response,
            Err(never) => match never {},
        },
        None => (StatusCode::NOT_FOUND, "no such host here\n").into_response(),
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn website_placeholder() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "multi-api demo: start with --website-dir examples/multi-api/www to get the demo page\n",
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignIn {
    user_id: String,
}

/// Demo only: signs in whoever asks, in the transfer method the request asks for.
async fn sign_in(
    State(sessions): State<SessionManager>,
    tokens: SessionTokens,
    Json(body): Json<SignIn>,
) -> Result<Json<serde_json::Value>, SessionError> {
    sessions.create(&tokens, &body.user_id, json!({})).await?;
    Ok(Json(json!({ "status": "OK" })))
}

/// Serialised straight from borrowed fields: building a `serde_json::Value` first costs
/// more than the whole session check (see benches/README.md).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionInfo<'a> {
    user_id: &'a str,
    session_handle: &'a str,
    access_token_payload: &'a AccessTokenClaims,
    served_by: &'a str,
}

async fn session_info(session: Session, host: EffectiveHost) -> Response {
    let info = SessionInfo {
        user_id: session.user_id(),
        session_handle: session.handle(),
        access_token_payload: session.claims(),
        served_by: host.as_str(),
    };
    // Into a buffer sized for this body, so it is written once (see benches/README.md).
    let mut body = Vec::with_capacity(1024);
    match serde_json::to_writer(&mut body, &info) {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot serialise the session info");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
