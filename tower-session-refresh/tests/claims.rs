//! Claims over real HTTP: each claim kind and validator, refetch and max age, node's exact
//! 403 body, the `Session` claim methods, `merge_into_access_token_payload` (null and
//! protected claims), merge by handle, and the hooks (each called once with its arguments).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http::{Method, StatusCode};
use serde_json::{json, Map, Value};
use tower_session_cookie::{SessionCookieLayer, SessionTokens};
use tower_session_refresh::claims::{
    BooleanClaim, PrimitiveArrayClaim, PrimitiveClaim, SessionClaimValidator,
};
use tower_session_refresh::keys::{KeySet, SigningKey};
use tower_session_refresh::session::{
    RefreshService, RequireSessionLayer, Session, SessionConfig, SessionConfigBuilder,
    SessionError, SessionManager,
};
use tower_session_refresh::store::MemoryStore;
use tower_session_testkit::auth::{cookie_config, API};
use tower_session_testkit::browser::{Browser, Reply};
use tower_session_testkit::serve::serve;

/// The `st-ev` claim, fetched from a flag the test flips; counts its fetches.
#[derive(Clone)]
struct Ev {
    claim: BooleanClaim,
    verified: Arc<AtomicBool>,
    fetches: Arc<AtomicUsize>,
}

fn ev() -> Ev {
    let verified = Arc::new(AtomicBool::new(false));
    let fetches = Arc::new(AtomicUsize::new(0));
    let (v, f) = (verified.clone(), fetches.clone());
    let claim = BooleanClaim::new("st-ev", move |_input| {
        let (v, f) = (v.clone(), f.clone());
        async move {
            f.fetch_add(1, Ordering::SeqCst);
            Ok(Some(v.load(Ordering::SeqCst)))
        }
    });
    Ev {
        claim,
        verified,
        fetches,
    }
}

fn session(request: &Request) -> Session {
    request
        .extensions()
        .get::<Session>()
        .cloned()
        .expect("RequireSessionLayer")
}

fn answer(result: Result<(), SessionError>) -> Response {
    match result {
        Ok(()) => r#"{"status":"OK"}"#.into_response(),
        Err(e) => e.to_response().map(Body::from),
    }
}

async fn me(request: Request) -> String {
    let session = session(&request);
    json!({"user": session.user_id(), "payload": session.payload()}).to_string()
}

async fn login(State(manager): State<SessionManager>, request: Request) -> Response {
    let tokens = request
        .extensions()
        .get::<SessionTokens>()
        .cloned()
        .expect("SessionCookieLayer");
    let created = manager
        .create(&tokens, "user-1", json!({"role": "admin"}))
        .await;
    answer(created.map(|_| ()))
}

/// `x-update` header: a JSON object merged into the payload.
async fn merge(request: Request) -> Response {
    let mut session = session(&request);
    let update: Map<String, Value> = request
        .headers()
        .get("x-update")
        .and_then(|v| serde_json::from_slice(v.as_bytes()).ok())
        .unwrap_or_default();
    answer(session.merge_into_access_token_payload(update).await)
}

struct Server {
    addr: std::net::SocketAddr,
    manager: SessionManager,
}

/// An auth server: `/login`, refresh, `/me` and `/merge` (global validators), `/open`
/// (override: none), plus the `extra` routes (with layers of their own).
async fn server(
    configure: impl FnOnce(SessionConfigBuilder) -> SessionConfigBuilder,
    extra: impl FnOnce(&SessionConfig) -> Router,
) -> Server {
    let keys = KeySet::new(SigningKey::generate_ed25519("k1").expect("key"));
    let builder = SessionConfig::builder(cookie_config())
        .api_domain(API)
        .keys(keys)
        .store(MemoryStore::new());
    let config = configure(builder).build().expect("config");
    let manager = SessionManager::new(config.clone()).expect("manager");
    let protected = Router::new()
        .route("/me", get(me))
        .route("/merge", post(merge));
    let protected = protected
        .layer(RequireSessionLayer::new(config.clone()))
        .merge(extra(&config));
    let open = Router::new().route("/open", get(me)).layer(
        RequireSessionLayer::new(config.clone()).override_global_claim_validators(|_| vec![]),
    );
    let app = Router::new()
        .route("/login", post(login))
        .with_state(manager.clone())
        .merge(protected)
        .merge(open)
        .route_service(
            config.refresh_path(),
            RefreshService::new(config.clone()).expect("refresh"),
        )
        .layer(SessionCookieLayer::new(config.cookies().clone()));
    Server {
        addr: serve(app).await,
        manager,
    }
}

fn up(reply: &Reply) -> Value {
    reply.front_token_json().expect("front-token")["up"].clone()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

fn assert_recent(t: &Value) {
    let t = t.as_u64().expect("t is a number of ms");
    let now = now_ms();
    assert!(t <= now && now - t < 10_000, "t={t} now={now}");
}

#[tokio::test]
async fn registered_claim_is_fetched_at_creation_and_global_validator_answers_nodes_403() {
    let ev = ev();
    let s = server(
        |b| {
            b.claim(ev.claim.clone())
                .global_claim_validator(ev.claim.is_true())
        },
        |_| Router::new(),
    )
    .await;
    for mut browser in [Browser::cookie_mode(s.addr), Browser::header_mode(s.addr)] {
        let login = browser.login().await;
        let payload = up(&login);
        assert_eq!(payload["st-ev"]["v"], false);
        assert_recent(&payload["st-ev"]["t"]);
        assert_eq!(payload["role"], "admin");

        let reply = browser.me().await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{reply:?}");
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(
            reply.json(),
            json!({"message":"invalid claim","claimValidationErrors":[
                {"id":"st-ev","reason":{"message":"wrong value","expectedValue":true,"actualValue":false}}
            ]})
        );
        assert_eq!(reply.front_token(), None, "no refetch: nothing issued");
        assert!(reply.set_cookies().is_empty());

        // The route that overrides the globals with none lets the session in.
        let reply = browser.send(Method::GET, "/open").await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    }
    assert_eq!(
        ev.fetches.load(Ordering::SeqCst),
        2,
        "one fetch per creation"
    );
}

#[tokio::test]
async fn set_claim_value_and_remove_claim_issue_a_new_token_in_the_same_response() {
    let ev = ev();
    let (claim, claim_rm) = (ev.claim.clone(), ev.claim.clone());
    let s = server(
        |b| {
            b.claim(ev.claim.clone())
                .global_claim_validator(ev.claim.is_true())
        },
        move |config| {
            Router::new()
                .route(
                    "/verify",
                    post(move |request: Request| {
                        let claim = claim.clone();
                        async move {
                            let mut session = session(&request);
                            let result = session.set_claim_value(&claim, true).await;
                            assert_eq!(session.get_claim_value::<bool>(&claim), Some(true));
                            answer(result)
                        }
                    }),
                )
                .route(
                    "/unverify",
                    post(move |request: Request| {
                        let claim = claim_rm.clone();
                        async move {
                            let mut session = session(&request);
                            let result = session.remove_claim(&claim).await;
                            assert_eq!(session.get_claim_value::<bool>(&claim), None);
                            answer(result)
                        }
                    }),
                )
                .layer(
                    RequireSessionLayer::new(config.clone())
                        .override_global_claim_validators(|_| vec![]),
                )
        },
    )
    .await;
    for mut browser in [Browser::cookie_mode(s.addr), Browser::header_mode(s.addr)] {
        browser.login().await;
        let before = browser.access_token().expect("access");
        assert_eq!(browser.me().await.status, StatusCode::FORBIDDEN);
        let reply = browser.send(Method::POST, "/verify").await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        let payload = up(&reply);
        assert_eq!(payload["st-ev"]["v"], true);
        assert_recent(&payload["st-ev"]["t"]);
        assert_eq!(payload["role"], "admin", "the rest of the payload is kept");
        let after = browser.access_token().expect("a new access token");
        assert_ne!(before, after);
        if browser.header_mode {
            assert!(reply.header("st-access-token").is_some());
            assert!(reply.set_cookies().is_empty());
        } else {
            assert!(reply
                .set_cookies()
                .iter()
                .any(|c| c.starts_with("sAccessToken=")));
            assert!(reply.header("st-access-token").is_none());
        }
        let reply = browser.me().await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        // Kept across a refresh (the store has it).
        let reply = browser.refresh().await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(up(&reply)["st-ev"]["v"], true);

        // remove_claim: the key goes; the global validator then refetches (false).
        let reply = browser.send(Method::POST, "/unverify").await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        assert!(up(&reply).get("st-ev").is_none());
        let fetches = ev.fetches.load(Ordering::SeqCst);
        let reply = browser.me().await;
        assert_eq!(ev.fetches.load(Ordering::SeqCst), fetches + 1, "refetched");
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert_eq!(
            up(&reply)["st-ev"]["v"],
            false,
            "refetched value issued with the 403"
        );
        // The refetched value is stored: the next call needs no refetch.
        let reply = browser.me().await;
        assert_eq!(ev.fetches.load(Ordering::SeqCst), fetches + 1);
        assert_eq!(reply.front_token(), None);
    }
}

#[tokio::test]
async fn assert_claims_from_a_handler_refetches_and_answers_nodes_body() {
    let ev = ev();
    let claim = ev.claim.clone();
    let s = server(
        |b| b,
        move |config| {
            Router::new()
                .route(
                    "/assert",
                    get(move |request: Request| {
                        let claim = claim.clone();
                        async move {
                            let mut session = session(&request);
                            answer(session.assert_claims(&[claim.is_true()]).await)
                        }
                    }),
                )
                .layer(RequireSessionLayer::new(config.clone()))
        },
    )
    .await;
    let mut browser = Browser::header_mode(s.addr);
    let login = browser.login().await;
    assert!(
        up(&login).get("st-ev").is_none(),
        "not registered: not fetched"
    );
    let reply = browser.send(Method::GET, "/assert").await;
    assert_eq!(
        ev.fetches.load(Ordering::SeqCst),
        1,
        "missing value: refetched"
    );
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.json(),
        json!({"message":"invalid claim","claimValidationErrors":[
            {"id":"st-ev","reason":{"message":"wrong value","expectedValue":true,"actualValue":false}}
        ]})
    );
    assert_eq!(
        up(&reply)["st-ev"]["v"],
        false,
        "the refetched value goes out"
    );
    ev.verified.store(true, Ordering::SeqCst);
    // Present, no max age: no refetch, still false.
    let reply = browser.send(Method::GET, "/assert").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(ev.fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn array_claim_refetch_when_missing_and_after_max_age_then_expired() {
    let roles: Arc<Mutex<Option<Vec<String>>>> =
        Arc::new(Mutex::new(Some(vec!["admin".into(), "editor".into()])));
    let fetches = Arc::new(AtomicUsize::new(0));
    let (r, f) = (roles.clone(), fetches.clone());
    let claim = PrimitiveArrayClaim::<String>::new("st-role", move |input| {
        let (r, f) = (r.clone(), f.clone());
        async move {
            assert_eq!(input.user_id, "user-1");
            assert_eq!(input.tenant_id, "public");
            assert!(
                input.headers.is_some(),
                "the layer passes the request headers"
            );
            f.fetch_add(1, Ordering::SeqCst);
            Ok(r.lock().expect("lock").clone())
        }
    });
    let validator = claim
        .includes("admin".to_owned())
        .with_max_age(Duration::from_secs(1));
    let s = server(|b| b.global_claim_validator(validator), |_| Router::new()).await;
    let mut browser = Browser::cookie_mode(s.addr);
    let login = browser.login().await;
    assert!(up(&login).get("st-role").is_none());

    // Missing: refetched, issued with this response, valid.
    let reply = browser.me().await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    assert_eq!(up(&reply)["st-role"]["v"], json!(["admin", "editor"]));
    assert!(reply
        .set_cookies()
        .iter()
        .any(|c| c.starts_with("sAccessToken=")));
    assert_eq!(
        reply.json()["payload"]["st-role"]["v"],
        json!(["admin", "editor"]),
        "the handler sees it"
    );

    // Fresh: no refetch, nothing issued.
    let reply = browser.me().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    assert_eq!(reply.front_token(), None);

    // Older than max age: refetched.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    *roles.lock().expect("lock") = Some(vec!["editor".into()]);
    let reply = browser.me().await;
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.json(),
        json!({"message":"invalid claim","claimValidationErrors":[
            {"id":"st-role","reason":{"message":"wrong value","expectedToInclude":"admin","actualValue":["editor"]}}
        ]})
    );

    // Older than max age and the fetch gives nothing: node's "expired".
    tokio::time::sleep(Duration::from_millis(1100)).await;
    *roles.lock().expect("lock") = None;
    let reply = browser.me().await;
    assert_eq!(fetches.load(Ordering::SeqCst), 3);
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reason = &reply.json()["claimValidationErrors"][0]["reason"];
    assert_eq!(reason["message"], "expired");
    assert_eq!(reason["maxAgeInSeconds"], 1);
    let age = reason["ageInSeconds"].as_f64().expect("age");
    assert!((1.0..10.0).contains(&age), "{age}");
    assert_eq!(reply.front_token(), None, "nothing changed: nothing issued");
}

#[tokio::test]
async fn every_validator_over_http() {
    let roles = PrimitiveArrayClaim::<String>::new("st-role", |_| async {
        Ok(Some(vec!["a".to_owned(), "b".to_owned()]))
    });
    let plan = PrimitiveClaim::<String>::new("plan", |_| async { Ok(Some("pro".to_owned())) });
    let flag = BooleanClaim::new("flag", |_| async { Ok(Some(false)) });
    let cases: Vec<(&str, SessionClaimValidator, Option<Value>)> = vec![
        ("includes-ok", roles.includes("a".into()), None),
        (
            "includes",
            roles.includes("z".into()),
            Some(json!({"message":"wrong value","expectedToInclude":"z","actualValue":["a","b"]})),
        ),
        ("excludes-ok", roles.excludes("z".into()), None),
        (
            "excludes",
            roles.excludes("a".into()),
            Some(
                json!({"message":"wrong value","expectedToNotInclude":"a","actualValue":["a","b"]}),
            ),
        ),
        (
            "includes-all-ok",
            roles.includes_all(vec!["a".into(), "b".into()]),
            None,
        ),
        (
            "includes-all",
            roles.includes_all(vec!["a".into(), "z".into()]),
            Some(
                json!({"message":"wrong value","expectedToInclude":["a","z"],"actualValue":["a","b"]}),
            ),
        ),
        (
            "includes-any-ok",
            roles.includes_any(vec!["z".into(), "b".into()]),
            None,
        ),
        (
            "includes-any",
            roles.includes_any(vec!["y".into(), "z".into()]),
            Some(
                json!({"message":"wrong value","expectedToIncludeAtLeastOneOf":["y","z"],"actualValue":["a","b"]}),
            ),
        ),
        (
            "excludes-all-ok",
            roles.excludes_all(vec!["y".into(), "z".into()]),
            None,
        ),
        (
            "excludes-all",
            roles.excludes_all(vec!["y".into(), "b".into()]),
            Some(
                json!({"message":"wrong value","expectedToNotInclude":["y","b"],"actualValue":["a","b"]}),
            ),
        ),
        ("has-value-ok", plan.has_value("pro".into()), None),
        (
            "has-value",
            plan.has_value("free".into()),
            Some(json!({"message":"wrong value","expectedValue":"free","actualValue":"pro"})),
        ),
        ("is-false-ok", flag.is_false(), None),
        (
            "is-true",
            flag.is_true().with_id("custom-id"),
            Some(json!({"message":"wrong value","expectedValue":true,"actualValue":false})),
        ),
    ];
    let (r2, p2, f2) = (roles.clone(), plan.clone(), flag.clone());
    let keys = KeySet::new(SigningKey::generate_ed25519("k1").expect("key"));
    let config = SessionConfig::builder(cookie_config())
        .api_domain(API)
        .keys(keys)
        .store(MemoryStore::new())
        .claim(r2)
        .claim(p2)
        .claim(f2)
        .build()
        .expect("config");
    let manager = SessionManager::new(config.clone()).expect("manager");
    let mut app = Router::new()
        .route("/login", post(login))
        .with_state(manager);
    for (name, validator, _) in &cases {
        let v = validator.clone();
        app = app.merge(
            Router::new().route(&format!("/{name}"), get(me)).layer(
                RequireSessionLayer::new(config.clone())
                    .override_global_claim_validators(move |_| vec![v]),
            ),
        );
    }
    let app = app.layer(SessionCookieLayer::new(config.cookies().clone()));
    let addr = serve(app).await;
    let mut browser = Browser::cookie_mode(addr);
    browser.login().await;
    for (name, validator, expected) in &cases {
        let reply = browser.send(Method::GET, &format!("/{name}")).await;
        match expected {
            None => assert_eq!(reply.status, StatusCode::OK, "{name}: {reply:?}"),
            Some(reason) => {
                assert_eq!(reply.status, StatusCode::FORBIDDEN, "{name}");
                assert_eq!(
                    reply.json(),
                    json!({"message":"invalid claim","claimValidationErrors":[{"id": validator.id(), "reason": reason}]}),
                    "{name}"
                );
            }
        }
        assert_eq!(
            reply.front_token(),
            None,
            "{name}: values present, no refetch"
        );
    }
}

#[tokio::test]
async fn merge_removes_nulls_keeps_protected_claims_and_refuses_protected_names() {
    let s = server(|b| b, |_| Router::new()).await;
    for mut browser in [Browser::cookie_mode(s.addr), Browser::header_mode(s.addr)] {
        let login = browser.login().await;
        let before = up(&login);
        let reply = browser
            .send_with(Method::POST, "/merge", |b| {
                b.header("x-update", r#"{"a":1,"role":null,"nested":{"x":[1,2]}}"#)
            })
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        let after = up(&reply);
        assert_eq!(after["a"], 1);
        assert_eq!(after["nested"], json!({"x":[1,2]}));
        assert!(after.get("role").is_none(), "null removes the key");
        for kept in [
            "sub",
            "sessionHandle",
            "exp",
            "tId",
            "rsub",
            "refreshTokenHash1",
        ] {
            assert_eq!(after[kept], before[kept], "{kept} kept");
        }
        let reply = browser.me().await;
        assert_eq!(reply.json()["payload"], json!({"a":1,"nested":{"x":[1,2]}}));

        // A protected name: refused, nothing issued, payload unchanged.
        let reply = browser
            .send_with(Method::POST, "/merge", |b| {
                b.header("x-update", r#"{"sub":"mallory","b":2}"#)
            })
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
        assert_eq!(reply.front_token(), None);
        let reply = browser
            .send_with(Method::POST, "/merge", |b| {
                b.header("x-update", r#"{"sessionHandle":null}"#)
            })
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);

        // The store keeps the merged payload: a refresh carries it.
        let reply = browser.refresh().await;
        assert_eq!(reply.status, StatusCode::OK);
        let refreshed = up(&reply);
        assert_eq!(refreshed["a"], 1);
        assert!(refreshed.get("role").is_none());
        assert!(refreshed.get("b").is_none());
    }
}

#[tokio::test]
async fn merge_by_handle_is_applied_at_the_next_refresh() {
    let s = server(|b| b, |_| Router::new()).await;
    let mut browser = Browser::cookie_mode(s.addr);
    browser.login().await;
    let handle = browser.me().await.json()["payload"].clone();
    assert_eq!(handle, json!({"role":"admin"}));
    let sessions = s.manager.list("user-1").await.expect("list");
    let handle = sessions[0].handle.clone();
    let mut update = Map::new();
    update.insert("role".into(), Value::Null);
    update.insert("plan".into(), json!("pro"));
    assert!(s
        .manager
        .merge_into_access_token_payload(&handle, update)
        .await
        .expect("merge"));
    // The token in hand is unchanged...
    assert_eq!(
        browser.me().await.json()["payload"],
        json!({"role":"admin"})
    );
    // ...the next refresh carries the merge.
    let reply = browser.refresh().await;
    assert_eq!(up(&reply)["plan"], "pro");
    assert!(up(&reply).get("role").is_none());
    let mut bad = Map::new();
    bad.insert("exp".into(), json!(1));
    assert!(matches!(
        s.manager.merge_into_access_token_payload(&handle, bad).await,
        Err(SessionError::ProtectedClaim(name)) if name == "exp"
    ));
    assert!(!s
        .manager
        .merge_into_access_token_payload("no-such-handle", Map::new())
        .await
        .expect("merge"));
}

#[tokio::test]
async fn hooks_are_called_once_with_their_arguments() {
    let thefts: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let unauthorised: Arc<Mutex<Vec<String>>> = Arc::default();
    let invalid: Arc<Mutex<Vec<String>>> = Arc::default();
    let refreshes: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let (t, u, i, r) = (
        thefts.clone(),
        unauthorised.clone(),
        invalid.clone(),
        refreshes.clone(),
    );
    let ev = ev();
    let validator = ev.claim.is_true();
    let s = server(
        move |b| {
            b.claim(ev.claim.clone())
                .on_token_theft(move |user, handle| {
                    t.lock().expect("lock").push((user.to_owned(), handle.to_owned()))
                })
                .on_unauthorised(move |why| {
                    u.lock().expect("lock").push(why.to_owned());
                    let mut response = http::Response::new(bytes::Bytes::from_static(br#"{"custom":"unauthorised"}"#));
                    *response.status_mut() = StatusCode::UNAUTHORIZED;
                    Some(response)
                })
                .on_invalid_claim(move |errors| {
                    i.lock().expect("lock").extend(errors.iter().map(|e| e.id.clone()));
                    let mut response = http::Response::new(bytes::Bytes::from(
                        json!({"custom":"claims","ids":errors.iter().map(|e| e.id.clone()).collect::<Vec<_>>()}).to_string(),
                    ));
                    *response.status_mut() = StatusCode::FORBIDDEN;
                    Some(response)
                })
                .on_refresh(move |info, payload| {
                    r.lock().expect("lock").push((info.user_id.to_owned(), info.session_handle.to_owned()));
                    payload.insert("refreshed".into(), json!(true));
                    payload.insert("sub".into(), json!("mallory"));
                })
        },
        move |config| {
            Router::new().route("/verified", get(me)).layer(
                RequireSessionLayer::new(config.clone())
                    .override_global_claim_validators(move |_| vec![validator]),
            )
        },
    )
    .await;
    let mut browser = Browser::cookie_mode(s.addr);
    browser.login().await;
    let handle = s.manager.list("user-1").await.expect("list")[0]
        .handle
        .clone();

    // on_refresh: once per refresh, with the user and handle; its change goes out, a
    // protected name it adds is dropped.
    let rt0 = browser.refresh_token().expect("rt0");
    let reply = browser.refresh().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(up(&reply)["refreshed"], true);
    assert_eq!(up(&reply)["sub"], "user-1");
    assert_eq!(
        *refreshes.lock().expect("lock"),
        vec![("user-1".to_owned(), handle.clone())]
    );

    // on_unauthorised: an invalid token, once, with the reason; its response is sent.
    let mut stranger = Browser::cookie_mode(s.addr);
    stranger.set_access_token("not-a-token");
    let reply = stranger.me().await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.json(), json!({"custom":"unauthorised"}));
    assert_eq!(
        *unauthorised.lock().expect("lock"),
        // A token without the access token's structure counts as none, as in node.
        vec!["no access token".to_owned()]
    );

    // on_invalid_claim: a route with the st-ev validator, once, with the failed ids.
    assert_eq!(
        browser.me().await.status,
        StatusCode::OK,
        "promotes; no validator"
    );
    assert!(invalid.lock().expect("lock").is_empty());
    let reply = browser.send(Method::GET, "/verified").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.json(), json!({"custom":"claims","ids":["st-ev"]}));
    assert_eq!(*invalid.lock().expect("lock"), vec!["st-ev".to_owned()]);

    // on_token_theft: the promoted session's earlier refresh token comes back.
    let mut thief = Browser::cookie_mode(s.addr);
    thief.set_refresh_token(&rt0);
    let reply = thief.refresh().await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.message(), "token theft detected");
    assert_eq!(
        *thefts.lock().expect("lock"),
        vec![("user-1".to_owned(), handle.clone())]
    );
    assert_eq!(
        refreshes.lock().expect("lock").len(),
        1,
        "no refresh hook on theft"
    );
    assert_eq!(unauthorised.lock().expect("lock").len(), 1);
}
