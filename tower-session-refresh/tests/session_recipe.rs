//! Session recipe parity over real HTTP on loopback: SuperTokens' `checkDatabase` (a revoked
//! session is refused at once with the check, and keeps working until its access token
//! expires without it), and server-side session data (created with the session, read and
//! replaced by the handler and by handle, kept across refreshes, never in a token).

use std::net::SocketAddr;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::{json, Map, Value};
use tower_session_refresh::keys::SigningKey;
use tower_session_refresh::session::{RequireSessionLayer, SessionConfig, SessionConfigError};
use tower_session_refresh::{Session, SessionError, SessionTokens, SharedSession};
use tower_session_testkit::serve::serve;
use tower_session_testkit::serve::Reply;

const API: &str = "api.example.com";

/// One request to the API host.
async fn send(
    addr: SocketAddr,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    tower_session_testkit::serve::send(addr, method, API, path, headers, body).await
}

fn builder() -> tower_session_refresh::SharedSessionBuilder {
    SharedSession::builder(".example.com")
        .api_domain("https://api.example.com")
        .website_domain("https://www.example.com")
        .signing_key(SigningKey::generate_ed25519("k1").expect("key"))
}

async fn login(
    State(auth): State<SharedSession>,
    tokens: SessionTokens,
    body: String,
) -> Result<&'static str, SessionError> {
    let data = Map::from_iter([("cart".to_owned(), json!(["apple"]))]);
    auth.create_session_with_data(&tokens, body.trim(), json!({"plan": "free"}), data)
        .await?;
    Ok("ok")
}

async fn me(session: Session) -> String {
    session.user_id().to_owned()
}

async fn get_data(session: Session) -> Result<Json<Value>, SessionError> {
    Ok(Json(Value::Object(session.session_data().await?)))
}

async fn put_data(
    session: Session,
    Json(data): Json<Map<String, Value>>,
) -> Result<&'static str, SessionError> {
    session.update_session_data(data).await?;
    Ok("ok")
}

fn app(auth: &SharedSession) -> Router {
    Router::new()
        .route("/login", post(login))
        .with_state(auth.clone())
        .merge(
            Router::new()
                .route("/me", get(me))
                .route("/data", get(get_data).put(put_data))
                .route_layer(auth.require_session()),
        )
        .merge(
            Router::new()
                .route("/checked", get(me))
                .route_layer(auth.require_session_checked().expect("has a store")),
        )
        .layer(auth.layer())
}

struct Signed {
    access: String,
    refresh: String,
}

async fn sign_in(addr: SocketAddr, user: &str) -> Signed {
    let reply = send(
        addr,
        Method::POST,
        "/login",
        &[("st-auth-mode", "header")],
        user,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    Signed {
        access: reply.header("st-access-token").to_owned(),
        refresh: reply.header("st-refresh-token").to_owned(),
    }
}

async fn get_as(addr: SocketAddr, path: &str, access: &str) -> Reply {
    let bearer = format!("Bearer {access}");
    send(addr, Method::GET, path, &[("authorization", &bearer)], "").await
}

fn token_payload(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("jwt");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64");
    serde_json::from_slice(&raw).expect("json")
}

#[tokio::test]
async fn revocation_is_seen_at_once_with_the_database_check_and_not_without() {
    let auth = builder().build().expect("build");
    let addr = serve(app(&auth)).await;
    let alice = sign_in(addr, "alice").await;

    assert_eq!(
        get_as(addr, "/me", &alice.access).await.status,
        StatusCode::OK
    );
    let checked = get_as(addr, "/checked", &alice.access).await;
    assert_eq!(
        (checked.status, checked.body.as_str()),
        (StatusCode::OK, "alice")
    );

    assert_eq!(auth.revoke_all_for_user("alice").await.expect("revoke"), 1);

    // Without the check: the access token stays valid until it expires (documented).
    let unchecked = get_as(addr, "/me", &alice.access).await;
    assert_eq!(
        (unchecked.status, unchecked.body.as_str()),
        (StatusCode::OK, "alice")
    );
    // With it: refused at once, tokens cleared, as supertokens-node's checkDatabase.
    let refused = get_as(addr, "/checked", &alice.access).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.body, r#"{"message":"unauthorised"}"#);
    assert_eq!(refused.header("front-token"), "remove");

    // Another user's live session still passes the check.
    let bob = sign_in(addr, "bob").await;
    assert_eq!(
        get_as(addr, "/checked", &bob.access).await.status,
        StatusCode::OK
    );
    // Signing bob out by handle is seen at once too.
    let handle = token_payload(&bob.access)["sessionHandle"]
        .as_str()
        .expect("handle")
        .to_owned();
    assert!(auth.revoke_session(&handle).await.expect("revoke"));
    assert_eq!(
        get_as(addr, "/checked", &bob.access).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_builder_option_checks_every_protected_route() {
    let auth = builder().check_database(true).build().expect("build");
    let addr = serve(app(&auth)).await;
    let alice = sign_in(addr, "alice").await;
    assert_eq!(
        get_as(addr, "/me", &alice.access).await.status,
        StatusCode::OK
    );
    auth.revoke_all_for_user("alice").await.expect("revoke");
    let me = get_as(addr, "/me", &alice.access).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{}", me.body);
    assert_eq!(me.body, r#"{"message":"unauthorised"}"#);
}

#[tokio::test]
async fn the_check_needs_a_store() {
    // The facade: verify-only plus check_database is refused, naming the option.
    let error = SharedSession::builder(".example.com")
        .api_domain("https://api2.example.com")
        .website_domain("https://www.example.com")
        .verify_only("https://api.example.com/auth/jwt/jwks.json")
        .check_database(true)
        .build()
        .expect_err("no store");
    assert_eq!(error.option(), "check_database");
    assert!(error.to_string().contains("check_database"), "{error}");

    // The layer: a configuration without a store.
    let cookies = tower_session_cookie::SessionCookieConfig::builder()
        .api_domain("https://api2.example.com")
        .website_domain("https://www.example.com")
        .build()
        .expect("cookies");
    let keys =
        tower_session_refresh::keys::KeySet::new(SigningKey::generate_ed25519("k1").expect("key"));
    let config = SessionConfig::builder(cookies)
        .keys(keys)
        .build()
        .expect("config");
    let error = RequireSessionLayer::new(config.clone())
        .check_database(true)
        .expect_err("no store");
    assert_eq!(error, SessionConfigError::CheckDatabaseWithoutStore);
    assert!(error.to_string().contains("check_database"));
    assert!(RequireSessionLayer::new(config)
        .check_database(false)
        .is_ok());
}

#[tokio::test]
async fn session_data_is_kept_beside_the_session_and_survives_refresh() {
    let auth = builder().build().expect("build");
    let addr = serve(app(&auth)).await;
    let alice = sign_in(addr, "alice").await;

    let data = get_as(addr, "/data", &alice.access).await;
    assert_eq!(data.status, StatusCode::OK, "{}", data.body);
    assert_eq!(
        serde_json::from_str::<Value>(&data.body).expect("json"),
        json!({"cart": ["apple"]})
    );
    // Never in the access token.
    let claims = token_payload(&alice.access);
    assert!(!claims.to_string().contains("apple"), "{claims}");
    assert_eq!(claims["plan"], "free");

    let bearer = format!("Bearer {}", alice.access);
    let put = send(
        addr,
        Method::PUT,
        "/data",
        &[
            ("authorization", &bearer),
            ("content-type", "application/json"),
        ],
        r#"{"theme":"dark","n":[1,2]}"#,
    )
    .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);

    // Refresh: the data is carried on.
    let with_refresh = format!("Bearer {}", alice.refresh);
    let refreshed = send(
        addr,
        Method::POST,
        "/auth/session/refresh",
        &[("authorization", &with_refresh), ("st-auth-mode", "header")],
        "",
    )
    .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    let access2 = refreshed.header("st-access-token").to_owned();
    assert!(!token_payload(&access2).to_string().contains("dark"));
    let data = get_as(addr, "/data", &access2).await;
    assert_eq!(
        serde_json::from_str::<Value>(&data.body).expect("json"),
        json!({"theme": "dark", "n": [1, 2]}),
        "replaced, not merged, and kept across the refresh"
    );

    // By handle, and session information with the creation time and expiry.
    let handle = token_payload(&access2)["sessionHandle"]
        .as_str()
        .expect("handle")
        .to_owned();
    assert_eq!(
        Value::Object(auth.session_data(&handle).await.expect("data")),
        json!({"theme": "dark", "n": [1, 2]})
    );
    assert!(auth
        .update_session_data(&handle, Map::from_iter([("by".to_owned(), json!("admin"))]))
        .await
        .expect("update"));
    let data = get_as(addr, "/data", &access2).await;
    assert_eq!(data.body, r#"{"by":"admin"}"#);
    let info = auth
        .session_information(&handle)
        .await
        .expect("get")
        .expect("live");
    let now = std::time::SystemTime::now();
    assert!(
        info.time_created <= now && info.time_created > now - std::time::Duration::from_secs(60)
    );
    assert!(info.expires_at > now);
    let listed = auth.sessions_for_user("alice").await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].time_created, info.time_created);
    assert_eq!(
        Value::Object(listed[0].session_data.clone()),
        json!({"by": "admin"})
    );

    // Gone: by handle false / unknown, from the handler 401.
    assert!(auth.revoke_session(&handle).await.expect("revoke"));
    assert!(!auth
        .update_session_data(&handle, Map::new())
        .await
        .expect("update"));
    assert!(matches!(
        auth.session_data(&handle).await,
        Err(SessionError::UnknownSession)
    ));
    let gone = get_as(addr, "/data", &access2).await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED, "{}", gone.body);
}

#[tokio::test]
async fn configured_statuses_are_used_by_every_answer() {
    let auth = builder()
        .session_expired_status(440)
        .invalid_claim_status(499)
        .access_token_lifetime(std::time::Duration::from_secs(1))
        .build()
        .expect("build");
    let deny = |_: &Session| {
        Err(vec![
            tower_session_refresh::session::ClaimValidationError::new(
                "st-ev",
                json!({"message": "wrong value", "expectedValue": true, "actualValue": false}),
            ),
        ])
    };
    let app = app(&auth).merge(
        Router::new()
            .route("/claims", get(me))
            .route_layer(auth.require_session().claim_validator(deny))
            .layer(auth.layer()),
    );
    let addr = serve(app).await;
    let alice = sign_in(addr, "alice").await;

    let claims = get_as(addr, "/claims", &alice.access).await;
    assert_eq!(claims.status.as_u16(), 499, "{}", claims.body);
    let body: Value = serde_json::from_str(&claims.body).expect("json");
    assert_eq!(body["message"], "invalid claim");
    assert_eq!(body["claimValidationErrors"][0]["id"], "st-ev");
    let bad = get_as(addr, "/me", "not-a-token").await;
    assert_eq!(
        (bad.status.as_u16(), bad.body.as_str()),
        (440, r#"{"message":"unauthorised"}"#)
    );
    let none = send(addr, Method::GET, "/me", &[], "").await;
    assert_eq!(none.status.as_u16(), 440);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let expired = get_as(addr, "/me", &alice.access).await;
    assert_eq!(
        (expired.status.as_u16(), expired.body.as_str()),
        (440, r#"{"message":"try refresh token"}"#)
    );
    // The refresh route too: an unknown refresh token.
    let refused = send(
        addr,
        Method::POST,
        "/auth/session/refresh",
        &[
            ("authorization", "Bearer x.0.y.z"),
            ("st-auth-mode", "header"),
        ],
        "",
    )
    .await;
    assert_eq!(refused.status.as_u16(), 440, "{}", refused.body);
    // And a good refresh still works.
    let with_refresh = format!("Bearer {}", alice.refresh);
    let ok = send(
        addr,
        Method::POST,
        "/auth/session/refresh",
        &[("authorization", &with_refresh), ("st-auth-mode", "header")],
        "",
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}

#[tokio::test]
async fn statuses_are_validated_at_build() {
    for (expired, claim, option) in [
        (500, 403, "session_expired_status"),
        (200, 403, "session_expired_status"),
        (401, 401, "session_expired_status"),
        (401, 302, "invalid_claim_status"),
        (401, 600, "invalid_claim_status"),
        // Statuses that answer refusals keeping the session (the SDK would sign out on them).
        (400, 403, "session_expired_status"),
        (421, 403, "session_expired_status"),
        (431, 403, "session_expired_status"),
    ] {
        let error = builder()
            .session_expired_status(expired)
            .invalid_claim_status(claim)
            .build()
            .expect_err("refused");
        assert_eq!(error.option(), option, "{expired}/{claim}: {error}");
    }
    assert!(builder()
        .session_expired_status(419)
        .invalid_claim_status(401)
        .build()
        .is_ok());
}

fn cookie_value(reply: &Reply, name: &str) -> String {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .and_then(|rest| rest.split(';').next())
        .expect("cookie set")
        .to_owned()
}

/// The website SDK (or a proxy) may send `Authorization: Bearer undefined`, or another
/// service's token, beside a good session cookie: supertokens-node ignores a bearer that
/// does not have its access token's structure and uses the cookie; so does this layer.
#[tokio::test]
async fn a_bearer_that_is_not_an_access_token_does_not_shadow_the_cookie() {
    let auth = builder().build().expect("build");
    let addr = serve(app(&auth)).await;
    let login = send(
        addr,
        Method::POST,
        "/login",
        &[("st-auth-mode", "cookie")],
        "alice",
    )
    .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let cookie = format!("sAccessToken={}", cookie_value(&login, "sAccessToken"));

    let foreign = format!(
        "Bearer {}.{}.sig",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"mallory","exp":1}"#),
    );
    for bearer in [
        "Bearer undefined",
        "Bearer null",
        "Bearer a.b.c",
        foreign.as_str(),
    ] {
        let me = send(
            addr,
            Method::GET,
            "/me",
            &[("cookie", &cookie), ("authorization", bearer)],
            "",
        )
        .await;
        assert_eq!(
            (me.status, me.body.as_str()),
            (StatusCode::OK, "alice"),
            "{bearer}"
        );
        // Without the cookie the bearer is what there is: refused, nothing cleared.
        let alone = send(addr, Method::GET, "/me", &[("authorization", bearer)], "").await;
        assert_eq!(alone.status, StatusCode::UNAUTHORIZED, "{bearer}");
        assert_eq!(alone.body, r#"{"message":"unauthorised"}"#);
        assert_eq!(alone.header("front-token"), "");
    }

    // A bearer with our structure is ours, and wins over the cookie (as in node): a
    // forged one (alice's claims, another signature) is refused.
    let header_login = send(
        addr,
        Method::POST,
        "/login",
        &[("st-auth-mode", "header")],
        "bob",
    )
    .await;
    let bob = header_login.header("st-access-token").to_owned();
    let bob_bearer = format!("Bearer {bob}");
    let me = send(
        addr,
        Method::GET,
        "/me",
        &[("cookie", &cookie), ("authorization", &bob_bearer)],
        "",
    )
    .await;
    assert_eq!((me.status, me.body.as_str()), (StatusCode::OK, "bob"));
    let mut parts: Vec<&str> = bob.split('.').collect();
    parts[2] = "AAAA";
    let forged = format!("Bearer {}", parts.join("."));
    let me = send(
        addr,
        Method::GET,
        "/me",
        &[("cookie", &cookie), ("authorization", &forged)],
        "",
    )
    .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{}", me.body);
}

/// A handler behind `require_session()` that checks a claim itself (`assert_claims`).
async fn assert_verified(mut session: Session) -> Result<String, SessionError> {
    let claim =
        tower_session_refresh::claims::BooleanClaim::new("st-ev", |_| async { Ok(Some(false)) });
    session.assert_claims(&[claim.is_true()]).await?;
    Ok(session.user_id().to_owned())
}

/// A handler whose session was revoked while the request ran: its session data is gone.
async fn revoked_then_read(
    State(auth): State<SharedSession>,
    session: Session,
) -> Result<Json<Value>, SessionError> {
    auth.revoke_session(session.handle()).await?;
    Ok(Json(Value::Object(session.session_data().await?)))
}

fn handler_errors_app(auth: &SharedSession) -> Router {
    Router::new()
        .route("/login", post(login))
        .merge(
            Router::new()
                .route("/assert", get(assert_verified))
                .route("/revoked", get(revoked_then_read))
                .route_layer(auth.require_session()),
        )
        .merge(
            Router::new()
                .route("/maybe", get(me))
                .route_layer(auth.optional_session()),
        )
        .with_state(auth.clone())
        .layer(auth.layer())
}

#[tokio::test]
async fn session_errors_from_handlers_use_the_configured_statuses() {
    // Defaults first: 403 with node's body, 401 `unauthorised`.
    for (expired, claim) in [(401u16, 403u16), (440, 499)] {
        let auth = builder()
            .session_expired_status(expired)
            .invalid_claim_status(claim)
            .build()
            .expect("build");
        let addr = serve(handler_errors_app(&auth)).await;
        let alice = sign_in(addr, "alice").await;

        let asserted = get_as(addr, "/assert", &alice.access).await;
        assert_eq!(asserted.status.as_u16(), claim, "{}", asserted.body);
        let body: Value = serde_json::from_str(&asserted.body).expect("json");
        assert_eq!(
            body,
            json!({"message": "invalid claim", "claimValidationErrors": [
                {"id": "st-ev", "reason": {"message": "wrong value", "expectedValue": true, "actualValue": false}}
            ]})
        );
        // The SDK refreshes on the session-expired status: a 401 here would leave a frontend
        // configured with 440 signed in but failing.
        let revoked = get_as(addr, "/revoked", &alice.access).await;
        assert_eq!(
            (revoked.status.as_u16(), revoked.body.as_str()),
            (expired, r#"{"message":"unauthorised"}"#)
        );
        let anonymous = send(addr, Method::GET, "/maybe", &[], "").await;
        assert_eq!(
            (anonymous.status.as_u16(), anonymous.body.as_str()),
            (expired, r#"{"message":"unauthorised"}"#)
        );
    }
}

#[tokio::test]
async fn session_errors_from_handlers_go_through_the_hooks() {
    let unauthorised = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let invalid = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (u, i) = (unauthorised.clone(), invalid.clone());
    let auth = builder()
        .on_unauthorised(move |why| {
            u.lock().expect("lock").push(why.to_owned());
            let mut response = http::Response::new(Bytes::from_static(b"{\"signIn\":true}"));
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            Some(response)
        })
        .on_invalid_claim(move |errors| {
            i.lock()
                .expect("lock")
                .extend(errors.iter().map(|e| e.id.clone()));
            let mut response = http::Response::new(Bytes::from_static(b"{\"verify\":\"email\"}"));
            *response.status_mut() = StatusCode::FORBIDDEN;
            Some(response)
        })
        .build()
        .expect("build");
    let addr = serve(handler_errors_app(&auth)).await;
    let alice = sign_in(addr, "alice").await;

    let asserted = get_as(addr, "/assert", &alice.access).await;
    assert_eq!(
        (asserted.status, asserted.body.as_str()),
        (StatusCode::FORBIDDEN, r#"{"verify":"email"}"#)
    );
    assert_eq!(*invalid.lock().expect("lock"), ["st-ev"]);
    let anonymous = send(addr, Method::GET, "/maybe", &[], "").await;
    assert_eq!(
        (anonymous.status, anonymous.body.as_str()),
        (StatusCode::UNAUTHORIZED, r#"{"signIn":true}"#)
    );
    assert_eq!(unauthorised.lock().expect("lock").len(), 1);
}

async fn who(session: Option<Session>) -> String {
    session.map_or_else(|| "anonymous".to_owned(), |s| s.user_id().to_owned())
}

#[tokio::test]
async fn a_token_without_the_access_token_structure_counts_as_none() {
    // supertokens-node ignores such a token: an optional route runs without a session, a
    // required one answers 401 `unauthorised` as for no token.
    let auth = builder().build().expect("build");
    let app = app(&auth).merge(
        Router::new()
            .route("/who", get(who))
            .route_layer(auth.optional_session())
            .layer(auth.layer()),
    );
    let addr = serve(app).await;
    let alice = sign_in(addr, "alice").await;
    for headers in [
        vec![("cookie", "sAccessToken=garbage")],
        vec![("authorization", "Bearer undefined")],
        vec![("authorization", "Bearer a.b.c")],
    ] {
        let who = send(addr, Method::GET, "/who", &headers, "").await;
        assert_eq!(
            (who.status, who.body.as_str()),
            (StatusCode::OK, "anonymous"),
            "{headers:?}"
        );
        let me = send(addr, Method::GET, "/me", &headers, "").await;
        assert_eq!(
            (me.status, me.body.as_str()),
            (StatusCode::UNAUTHORIZED, r#"{"message":"unauthorised"}"#),
            "{headers:?}"
        );
    }
    // A token of ours with a bad signature is still refused on the optional route.
    let mut forged: Vec<char> = alice.access.chars().collect();
    let i = forged.len() - 10; // inside the signature
    forged[i] = if forged[i] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    let bearer = format!("Bearer {forged}");
    let who = send(addr, Method::GET, "/who", &[("authorization", &bearer)], "").await;
    assert_eq!(who.status, StatusCode::UNAUTHORIZED, "{}", who.body);
    let who = get_as(addr, "/who", &alice.access).await;
    assert_eq!((who.status, who.body.as_str()), (StatusCode::OK, "alice"));
}

#[tokio::test]
async fn refusals_that_keep_the_session_go_through_the_on_refused_hook() {
    // node hands duplicate cookies to the application's error handler (its test server
    // answers 500 with node's sentence); here the default is a 400, and `on_refused` lets
    // an application answer its own way. The session is kept either way.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(u16, String)>::new()));
    let s = seen.clone();
    let auth = builder()
        .on_refused(move |status, why| {
            s.lock()
                .expect("lock")
                .push((status.as_u16(), why.to_owned()));
            let mut response = http::Response::new(Bytes::from(format!("refused: {why}")));
            *response.status_mut() = StatusCode::CONFLICT;
            Some(response)
        })
        .build()
        .expect("build");
    let addr = serve(app(&auth)).await;
    let alice = sign_in(addr, "alice").await;

    let two_cookies = format!("sRefreshToken={r}; sRefreshToken={r}", r = alice.refresh);
    let refresh = send(
        addr,
        Method::POST,
        "/auth/session/refresh",
        &[("cookie", &two_cookies), ("rid", "session")],
        "",
    )
    .await;
    assert_eq!(
        (refresh.status, refresh.body.as_str()),
        (
            StatusCode::CONFLICT,
            "refused: duplicate refresh token cookies"
        )
    );
    assert!(
        refresh.set_cookies().is_empty(),
        "nothing cleared: {refresh:?}"
    );

    let bearer = format!("Bearer {}", alice.access);
    let me = send(
        addr,
        Method::GET,
        "/me",
        &[("authorization", &bearer), ("authorization", &bearer)],
        "",
    )
    .await;
    assert_eq!(
        (me.status, me.body.as_str()),
        (
            StatusCode::CONFLICT,
            "refused: more than one Authorization header"
        )
    );
    assert_eq!(
        *seen.lock().expect("lock"),
        [
            (400, "duplicate refresh token cookies".to_owned()),
            (400, "more than one Authorization header".to_owned())
        ]
    );
    // The session is untouched: the token still works, and the refresh token refreshes.
    assert_eq!(
        get_as(addr, "/me", &alice.access).await.status,
        StatusCode::OK
    );
    let refresh = send(
        addr,
        Method::POST,
        "/auth/session/refresh",
        &[("authorization", &format!("Bearer {}", alice.refresh))],
        "",
    )
    .await;
    assert_eq!(refresh.status, StatusCode::OK, "{}", refresh.body);
}
