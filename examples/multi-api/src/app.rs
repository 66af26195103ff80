//! The demo's stack and routes, on `SharedSession`: the flags map to builder options, and
//! `SharedSession::layer()` is the whole stack, in its fixed order:
//!
//! ```text
//! HostGuard            hosts outside the shared domain: 421 (malformed: 400)
//!  -> CorsLayer        the website origin, with credentials and the SuperTokens headers
//!   -> OriginGuard     state-changing requests from outside the shared domain: 403
//!    -> SessionCookie  the SessionTokens handle: cookies (Domain=example.test) or headers
//!     -> SDK routes    {base}/session/refresh, {base}/signout, {base}/jwt/jwks.json on api
//!      -> by host      api / api2 / api3 / www; require_session() on /sessioninfo
//! ```
//!
//! Around all of it, a timeout of `--request-timeout` per request (503); the connection
//! limits are in `serve.rs`.

use std::{collections::HashMap, sync::Arc, time::Duration};

use axum::{
    error_handling::HandleErrorLayer,
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower::ServiceExt;
use tower_http::services::ServeDir;
use tower_session_postgres::{PostgresConfig, PostgresStore};
use tower_session_redis::{RedisStore, RedisStoreConfig};
use tower_session_refresh::{
    claims::BooleanClaim,
    jwks::{RemoteJwks, RemoteJwksError},
    token::AccessTokenClaims,
    AntiCsrf, EffectiveHost, Session, SessionError, SessionTokens, SharedSession,
    SharedSessionError, SigningKey,
};

use crate::args::{flag_error, Args, FlagError, StoreChoice};

/// The flag that sets a builder option, for error messages.
fn flag_of(option: &str) -> &'static str {
    match option {
        "cookie_domain" => "--cookie-domain",
        "api_domain" => "--api-domain",
        "website_domain" => "--website-domain",
        "api_base_path" => "--api-base-path",
        "access_token_lifetime" => "--access-token-ttl",
        "refresh_token_lifetime" => "--refresh-token-ttl",
        "older_cookie_domain" => "--older-cookie-domain",
        "allow_host" => "--allow-host",
        "signing_key" => "--signing-key",
        "key_rotation" => "--key-rotation",
        "verify_only" => "--jwks-url",
        "anti_csrf" => "--anti-csrf",
        _ => "--store",
    }
}

fn from_builder(e: SharedSessionError) -> FlagError {
    flag_error(flag_of(e.option()), e.reason())
}

/// Builds the whole application, or names the flag that makes it impossible.
pub(crate) async fn build(args: &Args, port: u16) -> Result<Router, FlagError> {
    let auth = session(args, port).await?;
    let name = auth.shared_domain().name().to_owned();

    let mut hosts: HashMap<String, Router> = HashMap::new();
    let ev = email_verified();
    let protected = || {
        // GET /verified: the session's `st-ev` must be true (contract, "Session recipe").
        let verified = Router::new()
            .route("/verified", get(session_info))
            .route_layer(
                auth.require_session()
                    .override_global_claim_validators(|_| vec![ev.is_true()]),
            );
        Router::new()
            .route("/sessioninfo", get(session_info).post(session_info))
            .route_layer(auth.require_session())
            .merge(verified)
            .route("/healthz", get(healthz))
    };
    for label in ["api2", "api3"] {
        if args.serves(label) {
            hosts.insert(format!("{label}.{name}"), protected());
        }
    }
    if args.serves("api") && !auth.is_verify_only() {
        // Refresh, sign-out and the JWKS are answered by `auth.layer()` itself.
        let base = auth.cookie_config().api_base_path();
        let claims = Router::new()
            .route(&format!("{base}/demo/claims"), post(set_claims))
            .with_state(ev.clone())
            .route_layer(auth.require_session());
        let api = protected()
            .route(
                &format!("{base}/demo/signin"),
                post(sign_in).with_state(auth.clone()),
            )
            .merge(claims);
        hosts.insert(format!("api.{name}"), api);
    }
    if args.serves("www") {
        let www = match &args.website_dir {
            Some(dir) => Router::new().fallback_service(ServeDir::new(dir)),
            None => Router::new().route("/", get(website_placeholder)),
        };
        hosts.insert(format!("www.{name}"), www.route("/healthz", get(healthz)));
    }
    // On the extra hosts, /healthz here and the JWKS from the layer.
    let extra = Router::new().route("/healthz", get(healthz));
    for host in &args.allow_hosts {
        hosts.insert(host.to_ascii_lowercase(), extra.clone());
    }

    Ok(Router::new()
        .fallback(by_host)
        .with_state(Arc::new(hosts))
        .layer(auth.layer())
        // Outermost, so no handler (a store that hangs, a body that never arrives) holds a
        // request longer than --request-timeout; 503, and nothing is cleared.
        .layer(
            tower::ServiceBuilder::new()
                .layer(HandleErrorLayer::new(request_timed_out))
                .timeout(args.request_timeout),
        ))
}

/// The `SharedSession` the flags describe.
async fn session(args: &Args, port: u16) -> Result<SharedSession, FlagError> {
    // The defaults depend on the bound port, and on the domain's name: parsed here only to
    // build them (the builder checks the flag itself).
    let domain = tower_session_refresh::SharedDomain::parse(&args.cookie_domain)
        .map_err(|e| flag_error("--cookie-domain", e.to_string()))?;
    let api_domain = match &args.api_domain {
        Some(url) => url.clone(),
        None => format!("http://api.{}:{port}", domain.name()),
    };
    let website_domain = match &args.website_domain {
        Some(url) => url.clone(),
        None => format!("http://www.{}:{port}", domain.name()),
    };
    let mut builder = SharedSession::builder(&args.cookie_domain)
        // Every session carries `st-ev`, false at creation.
        .claim(email_verified())
        .api_domain(&api_domain)
        .website_domain(&website_domain)
        .api_base_path(&args.api_base_path)
        .access_token_lifetime(args.access_token_ttl)
        .refresh_token_lifetime(args.refresh_token_ttl)
        .key_rotation(args.key_rotation)
        // Another process serves api: this one leaves the SDK's routes to it.
        .sdk_routes(args.serves("api"));
    if let Some(older) = &args.older_cookie_domain {
        builder = builder.older_cookie_domain(older);
    }
    for host in &args.allow_hosts {
        builder = builder.allow_host(host);
    }
    if let Some(mode) = &args.anti_csrf {
        builder = builder.anti_csrf(match mode.as_str() {
            "via-token" => AntiCsrf::ViaToken,
            "via-custom-header" => AntiCsrf::ViaCustomHeader,
            _ => AntiCsrf::None,
        });
    }
    if let Some(url) = &args.jwks_url {
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
        builder = builder.verify_only_jwks(jwks);
    } else {
        match &args.store {
            StoreChoice::Memory => {}
            // Lazy: a Redis that is down at start-up gives 503 on the auth routes until it
            // is back, instead of a process that refuses to start. The signing keys are
            // kept there too (unless --signing-key).
            StoreChoice::Redis(url) => {
                let store = RedisStore::lazy(url, RedisStoreConfig::default())
                    .map_err(|e| flag_error("--store", e.to_string()))?;
                builder = builder.store(store);
            }
            // Lazy as well (migrates on first use); expired rows swept every minute; the
            // signing keys in the same database.
            StoreChoice::Postgres(url) => {
                let store = PostgresStore::lazy(url, PostgresConfig::default())
                    .map_err(|_| flag_error("--store", "not a valid postgres:// URL"))?;
                store.spawn_sweeper(Duration::from_secs(60));
                builder = builder.store(store);
            }
        }
        if let Some(path) = &args.signing_key {
            // A fixed key from configuration: nothing is generated or stored.
            let text = std::fs::read_to_string(path).map_err(|e| {
                flag_error(
                    "--signing-key",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            let key = SigningKey::from_pem_or_jwk(&text)
                .map_err(|e| flag_error("--signing-key", e.to_string()))?;
            builder = builder.signing_key(key);
        }
    }
    // Keys kept in the store: the first load is tried before the process starts serving.
    builder.start().await.map_err(from_builder)
}

async fn request_timed_out(_: tower::BoxError) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "1")],
        Json(json!({ "message": "request timed out" })),
    )
        .into_response()
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

/// The email-verification claim of the SuperTokens SDKs (`st-ev`). The demo has no email
/// verification: a new session's value is `false`, and `POST {base}/demo/claims` sets it.
fn email_verified() -> BooleanClaim {
    BooleanClaim::new("st-ev", |_input| async { Ok(Some(false)) })
}

#[derive(Deserialize)]
struct SetClaims {
    verified: bool,
}

/// `POST {base}/demo/claims` `{"verified": bool}`: sets `st-ev` on the current session; the
/// new access token and `front-token` go out with this response.
async fn set_claims(
    State(ev): State<BooleanClaim>,
    mut session: Session,
    Json(body): Json<SetClaims>,
) -> Result<Json<serde_json::Value>, SessionError> {
    session.set_claim_value(&ev, body.verified).await?;
    Ok(Json(json!({ "status": "OK" })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignIn {
    user_id: String,
}

/// Demo only: signs in whoever asks, in the transfer method the request asks for.
async fn sign_in(
    State(auth): State<SharedSession>,
    tokens: SessionTokens,
    Json(body): Json<SignIn>,
) -> Result<Json<serde_json::Value>, SessionError> {
    auth.create_session(&tokens, &body.user_id, json!({}))
        .await?;
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
