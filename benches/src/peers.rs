//! The peers, each doing the nearest equivalent job on the shared workload, exactly as
//! `peer-baselines.md` describes variants (a0), (a), (b), (c), (d) and (e).

use std::{
    convert::Infallible,
    hint::black_box,
    sync::atomic::{AtomicU64, Ordering},
};

use axum::{
    body::Body,
    http::{header, Request, Response, StatusCode},
    response::IntoResponse,
    routing::get,
    Router,
};
use tower::ServiceExt;

use crate::workload;

/// (a0) `tower::service_fn` answering 200: the floor under axum.
pub fn service_fn_floor() -> impl tower::Service<
    Request<Body>,
    Response = Response<Body>,
    Error = Infallible,
    Future = impl Send,
> + Clone
       + Send
       + 'static {
    tower::service_fn(|_req: Request<Body>| async {
        let mut res = Response::new(Body::empty());
        *res.status_mut() = StatusCode::OK;
        Ok::<_, Infallible>(res)
    })
}

/// (a) `Router::new().route("/", get(|| StatusCode::OK))`.
pub fn bare_router() -> Router {
    Router::new().route("/", get(|| async { StatusCode::OK }))
}

fn visit_cookie() -> tower_cookies::Cookie<'static> {
    tower_cookies::Cookie::build(("visit", "1"))
        .domain(workload::SHARED_DOMAIN)
        .path("/")
        .http_only(true)
        .secure(true)
        .build()
}

/// (b) `tower_cookies::CookieManagerLayer`; the handler reads `prefs` and sets
/// `visit=1; Domain=.example.com; Path=/; HttpOnly; Secure`.
pub fn tower_cookies_router() -> Router {
    async fn handler(cookies: tower_cookies::Cookies) -> StatusCode {
        black_box(cookies.get("prefs").map(|c| c.value().len()));
        cookies.add(visit_cookie());
        StatusCode::OK
    }
    Router::new()
        .route("/", get(handler))
        .layer(tower_cookies::CookieManagerLayer::new())
}

/// (c) the same job through the `axum_extra` `CookieJar` extractor (not a layer).
pub fn cookie_jar_router() -> Router {
    use axum_extra::extract::cookie::{Cookie, CookieJar};
    async fn handler(jar: CookieJar) -> (CookieJar, StatusCode) {
        black_box(jar.get("prefs").map(|c| c.value().len()));
        let c = Cookie::build(("visit", "1"))
            .domain(workload::SHARED_DOMAIN)
            .path("/")
            .http_only(true)
            .secure(true)
            .build();
        (jar.add(c), StatusCode::OK)
    }
    Router::new().route("/", get(handler))
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// (d) `tower-sessions` `SessionManagerLayer` over a `MemoryStore`, `.with_domain(".example.com")`;
/// the handler inserts a value that changes on every call, so every request loads the record,
/// saves it back and emits a Set-Cookie.
///
/// Returns the router and the `Cookie` header naming a session seeded in the store (the seed
/// is one request without a cookie through the same router).
pub async fn tower_sessions_router() -> (Router, http::HeaderValue) {
    use tower_sessions::{MemoryStore, Session, SessionManagerLayer};
    async fn handler(session: Session) -> StatusCode {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        match session.insert("n", n).await {
            Ok(()) => StatusCode::OK,
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    let router = Router::new().route("/", get(handler)).layer(
        SessionManagerLayer::new(MemoryStore::default()).with_domain(workload::SHARED_DOMAIN),
    );
    let seed = Request::builder()
        .uri("/")
        .header(header::HOST, workload::HOST)
        .body(Body::empty())
        .expect("valid request");
    let res = router.clone().oneshot(seed).await.expect("infallible");
    let set_cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("tower-sessions sets the session cookie on the seed request");
    let id = set_cookie
        .strip_prefix("id=")
        .and_then(|rest| rest.split(';').next())
        .expect("Set-Cookie starts with id=<session id>");
    (router, workload::peer_cookie_header(id))
}

/// The small Host predicate of variant (e): strips `:port`, matches case-insensitively
/// against `api.example.com` and `example.com`; anything else gets 421.
#[allow(clippy::result_large_err)] // the signature `ValidateRequestHeaderLayer::custom` takes
pub fn host_allowed(req: &mut Request<Body>) -> Result<(), Response<Body>> {
    const ALLOWED: [&str; 2] = [workload::HOST, "example.com"];
    let ok = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.split(':').next())
        .is_some_and(|h| ALLOWED.iter().any(|a| a.eq_ignore_ascii_case(h)));
    if ok {
        Ok(())
    } else {
        Err(StatusCode::MISDIRECTED_REQUEST.into_response())
    }
}

/// (e) `tower_http::validate_request::ValidateRequestHeaderLayer::custom(host_allowed)`.
pub fn host_predicate_router() -> Router {
    bare_router()
        .layer(tower_http::validate_request::ValidateRequestHeaderLayer::custom(host_allowed))
}

/// (e) applied around the whole `Router` (`ServiceBuilder` style) instead of with
/// `Router::layer`: no per-route re-boxing.
pub fn host_predicate_outer() -> tower_http::validate_request::ValidateRequestHeader<
    Router,
    impl tower_http::validate_request::ValidateRequest<Body, ResponseBody = Body> + Clone,
> {
    use tower::Layer;
    tower_http::validate_request::ValidateRequestHeaderLayer::custom(host_allowed)
        .layer(bare_router())
}
