//! `SharedSession` over real HTTP on loopback: the README's seed stack (sign-in, `/me` on
//! api2, refresh at the SDK's path, sign-out, CORS preflight, 421), a verify-only server on
//! a second listener, every `build()` error naming its option, and a `Session` extractor
//! without the layer.

use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use http::{Method, StatusCode};
use tower_session_refresh::keys::SigningKey;
use tower_session_refresh::store::{
    NewSession, Presented, PromoteOutcome, RotateOutcome, SessionInfo, StoreFuture,
};
use tower_session_refresh::{MemoryStore, Session, SessionStore, SharedSession};
use tower_session_testkit::serve::send;
use tower_session_testkit::serve::serve;

#[path = "../examples/seed_axum.rs"]
#[allow(dead_code)]
mod seed;

async fn seed_server() -> (SharedSession, SocketAddr) {
    let auth = seed::auth().expect("the README's configuration builds");
    auth.ready().await;
    let addr = serve(seed::app(&auth)).await;
    (auth, addr)
}

#[tokio::test]
async fn seed_stack_header_mode_sign_in_api2_refresh_sign_out() {
    let (auth, addr) = seed_server().await;
    let api = "api.example.com";
    let api2 = "api2.example.com";

    let login = send(
        addr,
        Method::POST,
        api,
        "/login",
        &[("st-auth-mode", "header")],
        "alice",
    )
    .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    assert_eq!(login.body, "ok");
    let access = login.header("st-access-token").to_owned();
    let refresh = login.header("st-refresh-token").to_owned();
    assert!(!access.is_empty() && !refresh.is_empty());
    assert!(!login.header("front-token").is_empty());

    // The same session on api2.
    let bearer = format!("Bearer {access}");
    let me = send(
        addr,
        Method::GET,
        api2,
        "/me",
        &[("authorization", &bearer)],
        "",
    )
    .await;
    assert_eq!((me.status, me.body.as_str()), (StatusCode::OK, "alice"));
    assert_eq!(
        auth.sessions_for_user("alice").await.expect("list").len(),
        1
    );

    // Refresh at the SDK's path, answered by the layer itself.
    let with_refresh = format!("Bearer {refresh}");
    let refreshed = send(
        addr,
        Method::POST,
        api,
        "/auth/session/refresh",
        &[("authorization", &with_refresh), ("st-auth-mode", "header")],
        "",
    )
    .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    let access2 = refreshed.header("st-access-token").to_owned();
    assert!(!access2.is_empty() && access2 != access);
    let bearer2 = format!("Bearer {access2}");
    let me = send(
        addr,
        Method::GET,
        api2,
        "/me",
        &[("authorization", &bearer2)],
        "",
    )
    .await;
    assert_eq!((me.status, me.body.as_str()), (StatusCode::OK, "alice"));

    // Not on api2: the SDK's routes live on the API domain only.
    let elsewhere = send(
        addr,
        Method::POST,
        api2,
        "/auth/session/refresh",
        &[("authorization", &with_refresh)],
        "",
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);

    // The JWKS on the API domain.
    let jwks = send(addr, Method::GET, api, "/auth/jwt/jwks.json", &[], "").await;
    assert_eq!(jwks.status, StatusCode::OK);
    assert!(jwks.body.contains("\"keys\""), "{}", jwks.body);
    // OpenID discovery beside it: issuer = api domain + base path, and where the JWKS is.
    let discovery = send(
        addr,
        Method::GET,
        api,
        "/auth/.well-known/openid-configuration",
        &[],
        "",
    )
    .await;
    assert_eq!(discovery.status, StatusCode::OK, "{}", discovery.body);
    let doc: serde_json::Value = serde_json::from_str(&discovery.body).expect("json");
    let issuer = doc["issuer"].as_str().expect("issuer");
    assert!(issuer.ends_with("/auth"), "{doc}");
    assert_eq!(
        doc["jwks_uri"].as_str(),
        Some(format!("{issuer}/jwt/jwks.json").as_str()),
        "{doc}"
    );
    let not_here = send(
        addr,
        Method::GET,
        api2,
        "/auth/.well-known/openid-configuration",
        &[],
        "",
    )
    .await;
    assert_eq!(
        not_here.status,
        StatusCode::NOT_FOUND,
        "only on the API domain"
    );

    // Sign out: revoked, tokens cleared; the refresh token is dead.
    let out = send(
        addr,
        Method::POST,
        api,
        "/auth/signout",
        &[("authorization", &bearer2), ("st-auth-mode", "header")],
        "",
    )
    .await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    assert_eq!(out.body, r#"{"status":"OK"}"#);
    assert!(auth
        .sessions_for_user("alice")
        .await
        .expect("list")
        .is_empty());
    let new_refresh = format!("Bearer {}", refreshed.header("st-refresh-token"));
    let again = send(
        addr,
        Method::POST,
        api,
        "/auth/session/refresh",
        &[("authorization", &new_refresh)],
        "",
    )
    .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn seed_stack_cookie_mode_shares_the_domain() {
    let (_auth, addr) = seed_server().await;
    let login = send(
        addr,
        Method::POST,
        "api.example.com",
        "/login",
        &[
            ("st-auth-mode", "cookie"),
            ("origin", "https://www.example.com"),
        ],
        "bob",
    )
    .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let mut cookies = Vec::new();
    for value in login.headers.get_all("set-cookie") {
        let value = value.to_str().expect("ascii");
        assert!(value.contains("Domain=example.com"), "{value}");
        assert!(
            value.contains("Secure") && value.contains("HttpOnly"),
            "{value}"
        );
        cookies.push(value.split(';').next().expect("pair").to_owned());
    }
    let cookie = cookies.join("; ");
    let me = send(
        addr,
        Method::GET,
        "api2.example.com",
        "/me",
        &[("cookie", &cookie)],
        "",
    )
    .await;
    assert_eq!((me.status, me.body.as_str()), (StatusCode::OK, "bob"));
    // No token: 401 from the layer, not the extractor's 500.
    let anon = send(addr, Method::GET, "api2.example.com", "/me", &[], "").await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn seed_stack_cors_preflight_and_foreign_host() {
    let (_auth, addr) = seed_server().await;
    let preflight = send(
        addr,
        Method::OPTIONS,
        "api2.example.com",
        "/me",
        &[
            ("origin", "https://www.example.com"),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "rid,st-auth-mode,fdi-version,anti-csrf,authorization,content-type",
            ),
        ],
        "",
    )
    .await;
    assert_eq!(preflight.status, StatusCode::OK);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        "https://www.example.com"
    );
    assert_eq!(preflight.header("access-control-allow-credentials"), "true");
    let allowed = preflight.header("access-control-allow-headers").to_owned();
    for name in [
        "rid",
        "st-auth-mode",
        "fdi-version",
        "anti-csrf",
        "authorization",
    ] {
        assert!(allowed.contains(name), "{allowed}");
    }
    // Exposed headers on an actual response from the website origin.
    let simple = send(
        addr,
        Method::GET,
        "api2.example.com",
        "/me",
        &[("origin", "https://www.example.com")],
        "",
    )
    .await;
    let exposed = simple.header("access-control-expose-headers");
    assert!(
        exposed.contains("front-token") && exposed.contains("st-access-token"),
        "{exposed}"
    );

    // Another origin gets no CORS grant (the allowed origin is fixed, never echoed).
    let foreign = send(
        addr,
        Method::OPTIONS,
        "api2.example.com",
        "/me",
        &[
            ("origin", "https://evil.example.org"),
            ("access-control-request-method", "POST"),
        ],
        "",
    )
    .await;
    assert_eq!(
        foreign.header("access-control-allow-origin"),
        "https://www.example.com"
    );

    // A host outside the shared domain: 421 before anything runs.
    let outside = send(addr, Method::GET, "api.otherdomain.com", "/me", &[], "").await;
    assert_eq!(outside.status, StatusCode::MISDIRECTED_REQUEST);
    // A state-changing request from a page outside the shared domain: 403.
    let cross = send(
        addr,
        Method::POST,
        "api.example.com",
        "/login",
        &[("origin", "https://evil.example.org")],
        "mallory",
    )
    .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn verify_only_server_verifies_the_auth_servers_tokens() {
    // The auth server, reachable by IP for the JWKS fetch (allow_host).
    let (listener, auth_addr) = tower_session_testkit::serve::listener().await;
    let auth = SharedSession::builder(".example.test")
        .api_domain(&format!("http://api.example.test:{}", auth_addr.port()))
        .website_domain(&format!("http://www.example.test:{}", auth_addr.port()))
        .api_base_path("auth") // no leading slash: the same as "/auth" everywhere
        .allow_host("127.0.0.1")
        .build()
        .expect("auth server");
    auth.ready().await;
    tower_session_testkit::serve::serve_on(listener, seed::app(&auth));

    let api2 = SharedSession::builder(".example.test")
        .api_domain(&format!("http://api.example.test:{}", auth_addr.port()))
        .website_domain(&format!("http://www.example.test:{}", auth_addr.port()))
        .verify_only_jwks(
            tower_session_refresh::jwks::RemoteJwks::builder(format!(
                "http://127.0.0.1:{}/auth/jwt/jwks.json",
                auth_addr.port()
            ))
            .allow_insecure_http(true)
            .build()
            .expect("jwks client"),
        )
        .build()
        .expect("verify-only server");
    assert!(api2.is_verify_only());
    let api2_addr = serve(seed::app(&api2)).await;

    let login = send(
        auth_addr,
        Method::POST,
        "api.example.test",
        "/login",
        &[("st-auth-mode", "header")],
        "carol",
    )
    .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let bearer = format!("Bearer {}", login.header("st-access-token"));
    let me = send(
        api2_addr,
        Method::GET,
        "api2.example.test",
        "/me",
        &[("authorization", &bearer)],
        "",
    )
    .await;
    assert_eq!((me.status, me.body.as_str()), (StatusCode::OK, "carol"));

    // No SDK routes and no sessions on the verify-only server.
    let refresh = send(
        api2_addr,
        Method::POST,
        "api.example.test",
        "/auth/session/refresh",
        &[],
        "",
    )
    .await;
    assert_eq!(refresh.status, StatusCode::NOT_FOUND);
    let jwks = send(
        api2_addr,
        Method::GET,
        "api.example.test",
        "/auth/jwt/jwks.json",
        &[],
        "",
    )
    .await;
    assert_eq!(jwks.status, StatusCode::NOT_FOUND);
    let login = send(
        api2_addr,
        Method::POST,
        "api.example.test",
        "/login",
        &[],
        "dave",
    )
    .await;
    assert_eq!(login.status, StatusCode::INTERNAL_SERVER_ERROR);
    // A forged token (signed by another key) is refused.
    let other = SharedSession::builder(".example.test")
        .api_domain("http://api.example.test")
        .website_domain("http://www.example.test")
        .signing_key(SigningKey::generate_ed25519("other").expect("key"))
        .build()
        .expect("other");
    let other_addr = serve(seed::app(&other)).await;
    let forged = send(
        other_addr,
        Method::POST,
        "api.example.test",
        "/login",
        &[("st-auth-mode", "header")],
        "carol",
    )
    .await;
    let forged = format!("Bearer {}", forged.header("st-access-token"));
    let me = send(
        api2_addr,
        Method::GET,
        "api2.example.test",
        "/me",
        &[("authorization", &forged)],
        "",
    )
    .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn session_extractor_without_the_layer_is_a_500_naming_it() {
    let auth = SharedSession::builder(".example.com")
        .api_domain("https://api.example.com")
        .website_domain("https://www.example.com")
        .signing_key(SigningKey::generate_ed25519("k1").expect("key"))
        .build()
        .expect("build");
    let app = Router::new()
        .route(
            "/forgot",
            get(|s: Session| async move { s.user_id().to_owned() }),
        )
        .route(
            "/optional",
            get(|s: Session| async move { s.user_id().to_owned() }),
        )
        .route_layer(auth.optional_session())
        .route(
            "/bare",
            get(|s: Session| async move { s.user_id().to_owned() }),
        )
        .layer(auth.layer());
    let addr = serve(app).await;
    let bare = send(addr, Method::GET, "api.example.com", "/bare", &[], "").await;
    assert_eq!(bare.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(bare.body.contains("RequireSessionLayer"), "{}", bare.body);
    assert!(bare.body.contains("require_session()"), "{}", bare.body);
    // With the optional layer and no token, the extractor is a 401 as before.
    let optional = send(addr, Method::GET, "api.example.com", "/optional", &[], "").await;
    assert_eq!(optional.status, StatusCode::UNAUTHORIZED);
}

/// A store that keeps sessions but cannot keep signing keys.
struct NoKeys(MemoryStore);

impl SessionStore for NoKeys {
    fn create(&self, session: NewSession) -> StoreFuture<'_, ()> {
        self.0.create(session)
    }
    fn get<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, Option<SessionInfo>> {
        self.0.get(handle)
    }
    fn rotate<'a>(
        &'a self,
        handle: &'a str,
        presented: Presented<'a>,
        new_child: &'a str,
        expires_at: std::time::SystemTime,
    ) -> StoreFuture<'a, RotateOutcome> {
        self.0.rotate(handle, presented, new_child, expires_at)
    }
    fn promote<'a>(
        &'a self,
        handle: &'a str,
        parent: &'a str,
        child: &'a str,
    ) -> StoreFuture<'a, PromoteOutcome> {
        self.0.promote(handle, parent, child)
    }
    fn revoke<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, bool> {
        self.0.revoke(handle)
    }
    fn revoke_all<'a>(&'a self, user_id: &'a str) -> StoreFuture<'a, Vec<String>> {
        self.0.revoke_all(user_id)
    }
    fn list<'a>(&'a self, user_id: &'a str) -> StoreFuture<'a, Vec<SessionInfo>> {
        self.0.list(user_id)
    }
    fn update_payload<'a>(
        &'a self,
        handle: &'a str,
        payload: serde_json::Map<String, serde_json::Value>,
    ) -> StoreFuture<'a, bool> {
        self.0.update_payload(handle, payload)
    }
    fn update_session_data<'a>(
        &'a self,
        handle: &'a str,
        data: serde_json::Map<String, serde_json::Value>,
    ) -> StoreFuture<'a, bool> {
        self.0.update_session_data(handle, data)
    }
}

fn base() -> tower_session_refresh::SharedSessionBuilder {
    SharedSession::builder(".example.com")
        .api_domain("https://api.example.com")
        .website_domain("https://www.example.com")
}

fn key() -> SigningKey {
    SigningKey::generate_ed25519("k1").expect("key")
}

#[tokio::test]
async fn every_build_error_names_its_option() {
    let cases: Vec<(&str, tower_session_refresh::SharedSessionBuilder)> = vec![
        (
            "cookie_domain",
            SharedSession::builder(".co.uk")
                .api_domain("https://api.example.co.uk")
                .website_domain("https://www.example.co.uk"),
        ),
        (
            "cookie_domain",
            SharedSession::builder("not a domain")
                .api_domain("https://api.example.com")
                .website_domain("https://www.example.com"),
        ),
        (
            "api_domain",
            SharedSession::builder(".example.com").website_domain("https://www.example.com"),
        ),
        ("api_domain", base().api_domain("api.example.com")),
        (
            "api_domain",
            base().api_domain("https://api.example.com/auth"),
        ),
        (
            "api_domain",
            base().api_domain("https://api.otherdomain.com"),
        ),
        (
            "website_domain",
            SharedSession::builder(".example.com").api_domain("https://api.example.com"),
        ),
        (
            "website_domain",
            base().website_domain("https://www.otherdomain.com"),
        ),
        ("website_domain", base().website_domain("www.example.com")),
        ("api_base_path", base().api_base_path("/auth?x=1")),
        ("api_base_path", base().api_base_path("/a b")),
        (
            "older_cookie_domain",
            base().older_cookie_domain(".example.com"),
        ),
        ("older_cookie_domain", base().older_cookie_domain(".co.uk")),
        ("allow_host", base().allow_host("bad host!")),
        (
            "access_token_lifetime",
            base().access_token_lifetime(Duration::ZERO),
        ),
        (
            "refresh_token_lifetime",
            base()
                .access_token_lifetime(Duration::from_secs(60))
                .refresh_token_lifetime(Duration::from_secs(60)),
        ),
        (
            "verify_only",
            base()
                .store(MemoryStore::new())
                .verify_only("http://127.0.0.1:1/auth/jwt/jwks.json"),
        ),
        (
            "verify_only",
            base()
                .signing_key(key())
                .verify_only("http://127.0.0.1:1/auth/jwt/jwks.json"),
        ),
        ("verify_only", base().verify_only("not a url")),
        // Keys over plain HTTP can be swapped on the path: only by explicit choice.
        (
            "verify_only",
            base().verify_only("http://api.example.test/auth/jwt/jwks.json"),
        ),
        ("store", base().store(NoKeys(MemoryStore::new()))),
        ("key_rotation", base().key_rotation(Duration::ZERO)),
    ];
    for (option, builder) in cases {
        let debug = format!("{builder:?}");
        let error = builder.build().expect_err(&debug);
        assert_eq!(error.option(), option, "{error} ({debug})");
        assert!(
            error.to_string().starts_with(&format!("{option}: ")),
            "{error}"
        );
        assert!(!error.reason().is_empty());
    }
    // Accepted: the same base path with or without slashes; a store without keys plus a key.
    let auth = base()
        .api_base_path("gateway/auth/")
        .signing_key(key())
        .build()
        .expect("ok");
    assert_eq!(auth.refresh_path(), "/gateway/auth/session/refresh");
    assert_eq!(auth.signout_path(), "/gateway/auth/signout");
    base()
        .store(NoKeys(MemoryStore::new()))
        .signing_key(key())
        .build()
        .expect("with a fixed key");
}

#[test]
fn keys_kept_in_the_store_need_a_runtime() {
    let error = base().build().expect_err("no runtime");
    assert_eq!(error.option(), "signing_key", "{error}");
    // A fixed key needs none.
    base().signing_key(key()).build().expect("fixed key");
}

#[test]
fn shared_session_is_clone_send_sync() {
    fn check<T: Clone + Send + Sync + 'static>() {}
    check::<SharedSession>();
    check::<tower_session_refresh::SharedSessionLayer>();
}

/// The READMEs show the compiled example verbatim (the root one only in the repository).
#[test]
fn readmes_show_the_compiled_example() {
    let example = include_str!("../examples/seed_axum.rs");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for readme in [dir.join("README.md"), dir.join("../README.md")] {
        let Ok(text) = std::fs::read_to_string(&readme) else {
            continue;
        };
        assert!(
            text.contains(&format!("```rust\n{example}```")),
            "{} does not show examples/seed_axum.rs as it is",
            readme.display()
        );
    }
}

#[tokio::test]
async fn the_facade_layers_a_tonic_server() {
    use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};
    let auth = SharedSession::builder(".example.com")
        .api_domain("https://api.example.com")
        .website_domain("https://www.example.com")
        .signing_key(SigningKey::generate_ed25519("k1").expect("key"))
        .allow_host("127.0.0.1")
        .build()
        .expect("build");
    let (_reporter, health) = tonic_health::server::health_reporter();
    let (incoming, address) = tower_session_testkit::serve::grpc_incoming().await;
    let layers = tower::ServiceBuilder::new()
        .layer(auth.layer())
        .layer(auth.require_session())
        .into_inner();
    tokio::spawn(
        tonic::transport::Server::builder()
            .layer(layers)
            .add_service(health)
            .serve_with_incoming(incoming),
    );
    let channel = tonic::transport::Channel::from_shared(format!("http://{address}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let check = |bearer: Option<String>| {
        let channel = channel.clone();
        async move {
            let mut request = tonic::Request::new(HealthCheckRequest {
                service: String::new(),
            });
            if let Some(token) = bearer {
                request.metadata_mut().insert(
                    "authorization",
                    format!("Bearer {token}").parse().expect("ascii"),
                );
            }
            HealthClient::new(channel).check(request).await
        }
    };
    let status = check(None).await.expect_err("no token");
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let token = auth
        .session_config()
        .keys()
        .expect("auth server")
        .sign(&tower_session_refresh::token::AccessTokenClaims::new(
            "u", "h", "ab", now, 600,
        ))
        .expect("sign");
    check(Some(token)).await.expect("a valid session passes");
}

/// `SharedSession::host_only()`: SuperTokens with `cookieDomain` unset, for local
/// development on `localhost` (the SDK suite's setup): cookies without `Domain`, the API's
/// host on any port accepted, every other host turned away, the website on another host
/// refused at build time.
#[tokio::test]
async fn host_only_sessions_stay_on_the_api_host() {
    let auth = SharedSession::host_only()
        .api_domain("http://localhost:8080")
        .website_domain("http://localhost:3000")
        .signing_key(key())
        .build()
        .expect("a host-only configuration");
    assert!(auth.cookie_config().cookie_domain().is_none());
    let addr = serve(seed::app(&auth)).await;
    let login = send(
        addr,
        Method::POST,
        "localhost:8080",
        "/login",
        &[
            ("st-auth-mode", "cookie"),
            ("origin", "http://localhost:3000"),
        ],
        "carol",
    )
    .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let mut cookies = Vec::new();
    for value in login.headers.get_all("set-cookie") {
        let value = value.to_str().expect("ascii");
        assert!(!value.contains("Domain="), "host-only: {value}");
        cookies.push(value.split(';').next().expect("pair").to_owned());
    }
    assert!(
        cookies.iter().any(|c| c.starts_with("sAccessToken=")),
        "{cookies:?}"
    );
    let cookie = cookies.join("; ");
    // Same host name, another port: the same browser cookie jar sends them.
    let me = send(
        addr,
        Method::GET,
        "localhost:8082",
        "/me",
        &[("cookie", &cookie)],
        "",
    )
    .await;
    assert_eq!((me.status, me.body.as_str()), (StatusCode::OK, "carol"));
    for host in ["api.localhost", "localhost.evil.test", "127.0.0.2"] {
        let foreign = send(addr, Method::GET, host, "/me", &[("cookie", &cookie)], "").await;
        assert_eq!(foreign.status, StatusCode::MISDIRECTED_REQUEST, "{host}");
    }
    let elsewhere = SharedSession::host_only()
        .api_domain("http://localhost:8080")
        .website_domain("http://www.example.test")
        .signing_key(key())
        .build()
        .expect_err("the website is on another host");
    assert!(
        elsewhere.to_string().contains("website_domain"),
        "{elsewhere}"
    );
    let missing = SharedSession::host_only()
        .website_domain("http://localhost:3000")
        .signing_key(key())
        .build()
        .expect_err("no api_domain");
    assert!(missing.to_string().contains("api_domain"), "{missing}");
}
