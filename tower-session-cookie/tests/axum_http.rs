//! The layer in a real axum server on 127.0.0.1, driven by a hyper client.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::{
    response::IntoResponse,
    routing::{get, post},
    Router,
};
use base64::Engine as _;
use bytes::Bytes;
use common::{assert_close, parse_imf_fixdate, parse_set_cookie, SetCookie};
use http::{header, HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};
use serde_json::json;
use tower::ServiceExt;
use tower_session_cookie::{
    ClearScope, FrontToken, ReceivedToken, SameSite, SessionCookieConfig, SessionCookieLayer,
    SessionTokens, SharedDomain,
};

/// `Wed, 18 May 2033 03:33:20 GMT`.
const REFRESH_EXPIRY_SECS: u64 = 2_000_000_000;
const REFRESH_EXPIRY: &str = "Wed, 18 May 2033 03:33:20 GMT";
const EPOCH: &str = "Thu, 01 Jan 1970 00:00:00 GMT";

fn front_token() -> FrontToken {
    FrontToken::new(
        "user-1",
        1_700_000_000_000,
        &json!({"iat": 1_699_999_000, "role": "admin"}),
    )
}

async fn login(tokens: SessionTokens) -> impl IntoResponse {
    let method = tokens.method_for_new_session();
    let suffix = format!("{method:?}").to_lowercase();
    tokens.set_access_token(method, format!("at.{suffix}"));
    tokens.set_refresh_token(
        method,
        "rt.1".into(),
        UNIX_EPOCH + Duration::from_secs(REFRESH_EXPIRY_SECS),
    );
    tokens.set_front_token(front_token());
    tokens.set_anti_csrf("csrf.1".into());
    // Stands in for a CORS layer inside ours that already exposes some headers.
    (
        [(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            "x-request-id, Front-Token",
        )],
        "{}",
    )
}

async fn sign_out(tokens: SessionTokens) -> &'static str {
    tokens.clear(ClearScope::All);
    r#"{"status":"OK"}"#
}

async fn refresh(tokens: SessionTokens) -> String {
    if tokens.has_duplicate_access_cookie() || tokens.has_duplicate_refresh_cookie() {
        tokens.clear_older_domain_cookies();
        tokens.set_front_token(front_token());
    }
    describe(&tokens)
}

async fn echo(tokens: SessionTokens) -> String {
    describe(&tokens)
}

fn describe(tokens: &SessionTokens) -> String {
    let token = |t: Option<&ReceivedToken>| match t {
        Some(t) => format!("{}/{:?}", t.as_str(), t.method),
        None => "-".to_owned(),
    };
    format!(
        "access={} refresh={} dup_access={} dup_refresh={} mode={:?}",
        token(tokens.access_token()),
        token(tokens.refresh_token()),
        tokens.has_duplicate_access_cookie(),
        tokens.has_duplicate_refresh_cookie(),
        tokens.requested_method(),
    )
}

fn app(config: SessionCookieConfig) -> Router {
    Router::new()
        .route("/login", post(login))
        .route("/auth/signout", post(sign_out))
        .route("/auth/session/refresh", post(refresh))
        .route("/echo", get(echo))
        .route("/plain", get(|| async { "plain" }))
        .layer(SessionCookieLayer::new(config))
}

fn shared_config() -> SessionCookieConfig {
    SessionCookieConfig::builder()
        .shared_domain(SharedDomain::parse(".example.com").expect("domain"))
        .api_domain("https://api.example.com")
        .website_domain("https://www.example.com")
        .older_cookie_domain("")
        .build()
        .expect("valid config")
}

struct TestServer {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl TestServer {
    async fn start(config: SessionCookieConfig) -> Self {
        Self::start_with(config, false).await
    }

    async fn start_with(config: SessionCookieConfig, http2: bool) -> Self {
        let address = tower_session_testkit::serve::serve(app(config)).await;
        let client = Client::builder(TokioExecutor::new())
            .http2_only(http2)
            .build_http();
        TestServer {
            base: format!("http://{address}"),
            client,
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, String) {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header(header::HOST, "api.example.com");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(Bytes::new())).expect("request");
        let response = self.client.request(request).await.expect("response");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        (
            parts.status,
            parts.headers,
            String::from_utf8(body.to_vec()).expect("utf-8 body"),
        )
    }
}

fn set_cookies(headers: &HeaderMap) -> Vec<SetCookie> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| parse_set_cookie(v.to_str().expect("ascii")))
        .collect()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().expect("ascii"))
}

fn exposed(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::ACCESS_CONTROL_EXPOSE_HEADERS)
        .iter()
        .flat_map(|v| v.to_str().expect("ascii").split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect()
}

#[tokio::test]
async fn cookie_mode_sets_cookies_with_the_configured_attributes() {
    let server = TestServer::start(shared_config()).await;
    let (status, headers, _) = server
        .send("POST", "/login", &[("st-auth-mode", "cookie")])
        .await;
    assert_eq!(status, StatusCode::OK);

    let cookies = set_cookies(&headers);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let access = &cookies[0];
    assert_eq!(
        (access.name.as_str(), access.value.as_str()),
        ("sAccessToken", "at.cookie")
    );
    assert_eq!(
        access.attributes,
        [
            "Domain=example.com",
            "Path=/",
            "HttpOnly",
            "Secure",
            "SameSite=Lax"
        ]
    );
    let access_expiry = parse_imf_fixdate(access.expires.as_deref().expect("Expires"));
    assert_close(
        access_expiry,
        SystemTime::now() + Duration::from_secs(365 * 24 * 3600),
        Duration::from_secs(120),
    );

    let refresh = &cookies[1];
    assert_eq!(
        (refresh.name.as_str(), refresh.value.as_str()),
        ("sRefreshToken", "rt.1")
    );
    assert_eq!(refresh.expires.as_deref(), Some(REFRESH_EXPIRY));
    assert_eq!(
        refresh.attributes,
        [
            "Domain=example.com",
            "Path=/auth/session/refresh",
            "HttpOnly",
            "Secure",
            "SameSite=Lax"
        ]
    );

    // No header-mode tokens in cookie mode; front-token and anti-csrf always.
    assert_eq!(header(&headers, "st-access-token"), None);
    assert_eq!(header(&headers, "st-refresh-token"), None);
    assert_eq!(header(&headers, "anti-csrf"), Some("csrf.1"));
    assert_front_token(header(&headers, "front-token").expect("front-token"));
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    // Merged with the inner value, no duplicate `front-token`.
    assert_eq!(
        header(&headers, "access-control-expose-headers"),
        Some("x-request-id, Front-Token, anti-csrf")
    );
}

fn assert_front_token(value: &str) {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value)
        .expect("standard padded base64");
    let json: serde_json::Value = serde_json::from_slice(&decoded).expect("json");
    assert_eq!(
        json,
        json!({"uid": "user-1", "ate": 1_700_000_000_000u64, "up": {"iat": 1_699_999_000, "role": "admin"}})
    );
}

#[tokio::test]
async fn partitioned_cross_site_host_only_cookies() {
    let config = SessionCookieConfig::builder()
        .api_domain("https://api.example.com")
        .website_domain("https://app.example.org")
        .partitioned(true)
        .build()
        .expect("valid config");
    assert_eq!(config.same_site(), SameSite::None);
    let server = TestServer::start(config).await;
    let (_, headers, _) = server
        .send("POST", "/login", &[("st-auth-mode", "cookie")])
        .await;
    let cookies = set_cookies(&headers);
    assert_eq!(
        cookies[0].attributes,
        [
            "Path=/",
            "HttpOnly",
            "Secure",
            "SameSite=None",
            "Partitioned"
        ]
    );
    assert_eq!(
        cookies[1].attributes,
        [
            "Path=/auth/session/refresh",
            "HttpOnly",
            "Secure",
            "SameSite=None",
            "Partitioned"
        ]
    );
}

#[tokio::test]
async fn clearing_cookies_use_exactly_the_attributes_that_set_them() {
    let server = TestServer::start(shared_config()).await;
    let (_, set_headers, _) = server
        .send("POST", "/login", &[("st-auth-mode", "cookie")])
        .await;
    let (status, clear_headers, body) = server
        .send(
            "POST",
            "/auth/signout",
            &[
                ("cookie", "sAccessToken=at.cookie"),
                ("st-auth-mode", "cookie"),
            ],
        )
        .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, r#"{"status":"OK"}"#)
    );

    let set = set_cookies(&set_headers);
    let cleared = set_cookies(&clear_headers);
    assert_eq!(cleared.len(), 2, "{cleared:?}");
    for (set, cleared) in set.iter().zip(&cleared) {
        assert_eq!(cleared.name, set.name);
        assert_eq!(cleared.value, "");
        assert_eq!(cleared.expires.as_deref(), Some(EPOCH));
        assert_eq!(cleared.attributes, set.attributes, "{}", set.name);
    }
    assert_eq!(header(&clear_headers, "front-token"), Some("remove"));
    // ClearScope::All also empties the header-mode tokens.
    assert_eq!(header(&clear_headers, "st-access-token"), Some(""));
    assert_eq!(header(&clear_headers, "st-refresh-token"), Some(""));
    assert_eq!(header(&clear_headers, "anti-csrf"), None);
    assert_eq!(header(&clear_headers, "cache-control"), Some("no-store"));
    let exposed = exposed(&clear_headers);
    for name in ["front-token", "st-access-token", "st-refresh-token"] {
        assert!(exposed.iter().any(|e| e == name), "{exposed:?}");
    }
}

#[tokio::test]
async fn header_mode_is_the_default_for_new_sessions() {
    let server = TestServer::start(shared_config()).await;
    // No st-auth-mode: SuperTokens' default is header.
    let (_, headers, _) = server.send("POST", "/login", &[]).await;
    assert!(set_cookies(&headers).is_empty());
    assert_eq!(header(&headers, "st-access-token"), Some("at.header"));
    assert_eq!(header(&headers, "st-refresh-token"), Some("rt.1"));
    assert_front_token(header(&headers, "front-token").expect("front-token"));
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    let mut exposed = exposed(&headers);
    exposed.sort();
    assert_eq!(
        exposed,
        [
            "anti-csrf",
            "front-token",
            "st-access-token",
            "st-refresh-token",
            "x-request-id"
        ]
    );

    // An explicit `header` preference, and an unknown one, behave the same.
    for mode in ["header", "carrier-pigeon"] {
        let (status, headers, _) = server
            .send("POST", "/login", &[("st-auth-mode", mode)])
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            header(&headers, "st-access-token"),
            Some("at.header"),
            "{mode}"
        );
    }
}

#[tokio::test]
async fn duplicate_cookies_clear_the_older_domain() {
    let server = TestServer::start(shared_config()).await;
    let (status, headers, body) = server
        .send(
            "POST",
            "/auth/session/refresh",
            &[(
                "cookie",
                "sRefreshToken=rt.new; sAccessToken=at.1; sRefreshToken=rt.old",
            )],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("dup_refresh=true"), "{body}");
    assert!(body.contains("dup_access=false"), "{body}");
    assert!(body.contains("refresh=rt.new/Cookie"), "{body}");

    // Older domain "" = host-only: the clearing cookies carry no Domain.
    let cookies = set_cookies(&headers);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    assert_eq!(cookies[0].name, "sAccessToken");
    assert_eq!(
        cookies[0].attributes,
        ["Path=/", "HttpOnly", "Secure", "SameSite=Lax"]
    );
    assert_eq!(cookies[1].name, "sRefreshToken");
    assert_eq!(
        cookies[1].attributes,
        [
            "Path=/auth/session/refresh",
            "HttpOnly",
            "Secure",
            "SameSite=Lax"
        ]
    );
    for cookie in &cookies {
        assert_eq!(
            (cookie.value.as_str(), cookie.expires.as_deref()),
            ("", Some(EPOCH))
        );
    }
    // Unlike supertokens-node, a front-token goes out too (spec §2.2).
    assert_front_token(header(&headers, "front-token").expect("front-token"));
}

#[tokio::test]
async fn bearer_wins_over_the_cookie() {
    let server = TestServer::start(shared_config()).await;
    let (_, _, body) = server
        .send(
            "GET",
            "/echo",
            &[
                ("cookie", "sAccessToken=from.cookie"),
                ("authorization", "Bearer from.header"),
                ("st-auth-mode", "cookie"),
            ],
        )
        .await;
    assert_eq!(
        body,
        "access=from.header/Header refresh=- dup_access=false dup_refresh=false mode=Some(Cookie)"
    );

    // On the refresh route the bearer is the refresh token.
    let (_, _, body) = server
        .send(
            "POST",
            "/auth/session/refresh",
            &[
                ("cookie", "sRefreshToken=rt.cookie"),
                ("authorization", "Bearer rt.header"),
            ],
        )
        .await;
    assert!(body.contains("refresh=rt.header/Header"), "{body}");
}

#[tokio::test]
async fn split_cookie_headers_over_http2() {
    let server = TestServer::start_with(shared_config(), true).await;
    let (status, headers, body) = server
        .send(
            "GET",
            "/echo",
            &[
                ("cookie", "theme=dark"),
                ("cookie", "sAccessToken=at.split"),
                ("cookie", "sRefreshToken=rt.split; lang=en"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        "access=at.split/Cookie refresh=rt.split/Cookie dup_access=false dup_refresh=false mode=None"
    );
    // Nothing recorded: the response is untouched.
    assert_eq!(header(&headers, "cache-control"), None);
}

#[tokio::test]
async fn untouched_responses_pass_through() {
    let server = TestServer::start(shared_config()).await;
    let (status, headers, body) = server
        .send("GET", "/plain", &[("cookie", "sAccessToken=a.b")])
        .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "plain"));
    for name in [
        "set-cookie",
        "cache-control",
        "access-control-expose-headers",
        "front-token",
    ] {
        assert!(headers.get(name).is_none(), "{name}");
    }
}

#[tokio::test]
async fn extractor_without_the_layer_names_the_mistake() {
    let app = Router::new().route("/echo", get(echo));
    let response = app
        .oneshot(
            Request::get("/echo")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/plain; charset=utf-8"
    );
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("SessionCookieLayer is not installed"));
}
