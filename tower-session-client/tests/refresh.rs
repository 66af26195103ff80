//! Client layer against the real server layers on 127.0.0.1 (see `tower_session_testkit::multi_host`):
//! single-flight refresh, refresh failures, sign-out.
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::StatusCode;
use http_body_util::Full;
use tower_session_client::{
    ClientError, MemoryTokenStore, RefreshFailure, SessionClientLayer, SessionErrorMode,
    SessionNotice, TokenStore, TransferMethod,
};

use tower_session_testkit::multi_host::{get, Server, SignIn};

/// 100 concurrent calls across api2/api3 right after the access token expired: all
/// succeed, and the server saw exactly one refresh.
async fn hundred_calls_one_refresh(mode: TransferMethod, client_knows_expiry: bool) {
    // Two seconds: long enough for 100 calls on the refreshed token, so one refresh.
    let server = Server::start_with(2, 60).await;
    if !client_knows_expiry {
        // The front-token claims an hour more: the client learns of the expiry from 401s.
        server.st.lie_about_expiry();
    }
    let layer = SessionClientLayer::new(server.config(mode));
    let client = server.client::<Full<Bytes>>(&layer);
    client.sign_in("alice").await.unwrap();
    assert_eq!(layer.handle().user_id().as_deref(), Some("alice"));
    server.st.wait_for_expiry().await;

    let calls = (0..100).map(|i| {
        let client = client.clone();
        let host = if i % 2 == 0 {
            "api2.example.test"
        } else {
            "api3.example.test"
        };
        let url = server.url(host, "/sessioninfo");
        tokio::spawn(async move { client.call_once(get(&url)).await.map(|r| r.status()) })
    });
    let results = futures_util::future::join_all(calls).await;
    for r in results {
        assert_eq!(r.unwrap().unwrap(), StatusCode::OK);
    }
    assert_eq!(
        server.st.refreshes.load(Ordering::SeqCst),
        1,
        "one refresh on the server"
    );
    assert_eq!(layer.handle().refresh_count(), 1);
    let seen = server.st.seen();
    assert!(seen.iter().any(|s| s.host == "api2.example.test"));
    assert!(seen.iter().any(|s| s.host == "api3.example.test"));
    let unauthorised_first = seen.iter().filter(|s| s.path == "/sessioninfo").count();
    if client_knows_expiry {
        assert_eq!(
            unauthorised_first, 100,
            "refreshed before sending: no 401s, no resends"
        );
    } else {
        assert!(
            unauthorised_first > 100,
            "401s were resent after the refresh"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_calls_after_expiry_share_one_refresh_header_mode() {
    hundred_calls_one_refresh(TransferMethod::Header, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_calls_after_expiry_share_one_refresh_cookie_mode() {
    hundred_calls_one_refresh(TransferMethod::Cookie, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_401s_share_one_refresh_and_are_resent_header_mode() {
    hundred_calls_one_refresh(TransferMethod::Header, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_401s_share_one_refresh_and_are_resent_cookie_mode() {
    hundred_calls_one_refresh(TransferMethod::Cookie, false).await;
}

#[tokio::test]
async fn revoked_session_ends_in_session_expired_and_a_cleared_store() {
    // Header mode: the client knows the token expired and refreshes before sending; cookie
    // mode: it does not, and refreshes after the 401.
    for (mode, knows) in [
        (TransferMethod::Header, true),
        (TransferMethod::Cookie, false),
    ] {
        let server = Server::start_with(1, 60).await;
        if !knows {
            server.st.lie_about_expiry();
        }
        let store = MemoryTokenStore::new();
        let layer = SessionClientLayer::with_store(server.config(mode), store.clone());
        let client = server.client::<Full<Bytes>>(&layer);
        client.sign_in("alice").await.unwrap();
        assert!(store.load().is_some(), "{mode:?}: session saved");

        // Access tokens are verified without the store: the revocation shows at the
        // refresh, once the access token has expired.
        server.revoke_all().await;
        server.st.wait_for_expiry().await;
        let err = client
            .call_once(get(&server.url("api2.example.test", "/sessioninfo")))
            .await
            .unwrap_err();
        assert!(
            matches!(err, ClientError::SessionExpired),
            "{mode:?}: {err}"
        );
        assert!(err.is_session_expired());
        assert_eq!(server.st.refreshes.load(Ordering::SeqCst), 1);
        assert!(store.load().is_none(), "{mode:?}: store cleared");
        assert!(!layer.handle().exists());

        // Nothing left to refresh with: the next call gets the server's 401 as is.
        let resp = client
            .call_once(get(&server.url("api2.example.test", "/sessioninfo")))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(server.st.refreshes.load(Ordering::SeqCst), 1);
        let last = server.st.seen().pop().unwrap();
        assert!(!last.headers.contains_key("authorization"), "{mode:?}");
        assert!(!last.headers.contains_key("cookie"), "{mode:?}");
    }
}

#[tokio::test]
async fn session_expired_as_a_response_when_configured() {
    let server = Server::start(1).await;
    server.st.lie_about_expiry();
    let config = tower_session_client::ClientConfig::builder(&server.url("api.example.test", ""))
        .shared_domain(".example.test".parse().unwrap())
        .session_errors(SessionErrorMode::Response)
        .build()
        .unwrap();
    let layer = SessionClientLayer::new(config);
    let client = server.client::<Full<Bytes>>(&layer);
    client.sign_in("alice").await.unwrap();
    server.revoke_all().await;
    server.st.wait_for_expiry().await;
    let resp = client
        .call_once(get(&server.url("api3.example.test", "/sessioninfo")))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        resp.extensions().get::<SessionNotice>(),
        Some(&SessionNotice::SessionExpired)
    );
    assert!(!layer.handle().exists());
}

#[tokio::test]
async fn refresh_503_keeps_the_session() {
    for (mode, knows) in [
        (TransferMethod::Header, true),
        (TransferMethod::Cookie, false),
    ] {
        let server = Server::start(1).await;
        if !knows {
            server.st.lie_about_expiry();
        }
        let store = MemoryTokenStore::new();
        let layer = SessionClientLayer::with_store(server.config(mode), store.clone());
        let client = server.client::<Full<Bytes>>(&layer);
        client.sign_in("alice").await.unwrap();
        server.st.wait_for_expiry().await;

        *server.st.refresh_status.lock().unwrap() = Some(StatusCode::SERVICE_UNAVAILABLE);
        let err = client
            .call_once(get(&server.url("api2.example.test", "/sessioninfo")))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ClientError::Refresh(RefreshFailure::Status(StatusCode::SERVICE_UNAVAILABLE))
            ),
            "{mode:?}: {err}"
        );
        assert!(err.to_string().contains("503"), "{err}");
        assert!(layer.handle().exists(), "{mode:?}: session kept");
        assert!(store.load().is_some(), "{mode:?}: store kept");

        // The outage ends: the same session refreshes and the call succeeds.
        *server.st.refresh_status.lock().unwrap() = None;
        let resp = client
            .call_once(get(&server.url("api2.example.test", "/sessioninfo")))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{mode:?}");
        assert_eq!(server.st.refreshes.load(Ordering::SeqCst), 2);
    }
}

#[tokio::test]
async fn a_network_failure_keeps_the_session() {
    let server = Server::start(60).await;
    let layer = SessionClientLayer::new(server.config(TransferMethod::Header));
    let client = server.client::<Full<Bytes>>(&layer);
    client.sign_in("alice").await.unwrap();
    // Same layer (same session), but a client whose connections go nowhere.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let a = l.local_addr().unwrap();
        drop(l);
        a
    };
    let broken = tower_layer::Layer::layer(
        &layer,
        tower_session_client::connect::http_client::<Full<Bytes>>(
            tower_session_client::connect::Connector::fixed(dead),
        ),
    );
    let err = broken
        .call_once(get(&server.url("api2.example.test", "/sessioninfo")))
        .await
        .unwrap_err();
    // The request itself fails on the network first.
    assert!(matches!(err, ClientError::Service(_)), "{err}");
    assert!(layer.handle().exists());
}

#[tokio::test]
async fn sign_out_clears_the_session_in_both_modes() {
    for mode in [TransferMethod::Header, TransferMethod::Cookie] {
        let server = Server::start(60).await;
        let store = MemoryTokenStore::new();
        let layer = SessionClientLayer::with_store(server.config(mode), store.clone());
        let client = server.client::<Full<Bytes>>(&layer);
        client.sign_in("bob").await.unwrap();
        assert!(client.sign_out().await.unwrap());
        assert!(!layer.handle().exists());
        assert!(store.load().is_none());
        let signout = server
            .st
            .seen()
            .into_iter()
            .find(|s| s.path == "/auth/signout")
            .unwrap();
        assert_eq!(signout.headers["rid"], "session");
        assert!(signout.headers.contains_key("fdi-version"));
        assert!(!client.sign_out().await.unwrap(), "nothing to sign out");
    }
}

#[tokio::test]
async fn a_persisted_session_is_picked_up_by_a_new_layer() {
    for mode in [TransferMethod::Header, TransferMethod::Cookie] {
        let server = Server::start(60).await;
        let store = MemoryTokenStore::new();
        let layer = SessionClientLayer::with_store(server.config(mode), store.clone());
        server
            .client::<Full<Bytes>>(&layer)
            .sign_in("carol")
            .await
            .unwrap();
        drop(layer);
        let layer = SessionClientLayer::with_store(server.config(mode), store.clone());
        assert_eq!(layer.handle().user_id().as_deref(), Some("carol"));
        let resp = server
            .client::<Full<Bytes>>(&layer)
            .call_once(get(&server.url("api3.example.test", "/sessioninfo")))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{mode:?}");
        let saved = store.load().unwrap();
        let debug = format!("{store:?} {saved:?} {:?} {layer:?}", layer.handle());
        for secret in [
            &saved.access_token,
            &saved.refresh_token,
            &saved.front_token,
        ]
        .into_iter()
        .flatten()
        {
            assert!(
                !debug.contains(secret.as_str()),
                "no tokens in Debug: {debug}"
            );
        }
        assert!(
            !debug.contains("sRefreshToken"),
            "no cookies in Debug: {debug}"
        );
    }
}

/// The claims of a JWT, unverified (the test only reads what the client sent).
fn jwt_claims(token: &str) -> serde_json::Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The access token a logged request carried (Bearer, else the `sAccessToken` cookie).
fn sent_access_token(seen: &tower_session_testkit::multi_host::Seen) -> String {
    if let Some(bearer) = seen.headers.get("authorization") {
        let v = bearer.to_str().unwrap();
        return v.strip_prefix("Bearer ").unwrap().to_owned();
    }
    let cookies = seen.headers["cookie"].to_str().unwrap();
    cookies
        .split(';')
        .find_map(|c| c.trim().strip_prefix("sAccessToken="))
        .unwrap()
        .to_owned()
}

/// Spec 8.3: the first call with a refreshed token promotes it and gets a new access token
/// (`parentRefreshTokenHash1` null) in its own response; the client uses that one next.
#[tokio::test]
async fn the_promoted_access_token_is_used_after_a_refresh() {
    for mode in [TransferMethod::Header, TransferMethod::Cookie] {
        let server = Server::start_with(1, 60).await;
        let layer = SessionClientLayer::new(server.config(mode));
        let client = server.client::<Full<Bytes>>(&layer);
        client.sign_in("alice").await.unwrap();
        server.st.wait_for_expiry().await;
        for host in ["api2.example.test", "api3.example.test"] {
            let resp = client
                .call_once(get(&server.url(host, "/sessioninfo")))
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "{mode:?}");
        }
        assert_eq!(server.st.refreshes.load(Ordering::SeqCst), 1, "{mode:?}");
        let calls: Vec<_> = server
            .st
            .seen()
            .into_iter()
            .filter(|s| s.path == "/sessioninfo")
            .collect();
        assert_eq!(calls.len(), 2, "{mode:?}");
        let first = jwt_claims(&sent_access_token(&calls[0]));
        let second = jwt_claims(&sent_access_token(&calls[1]));
        assert!(
            first["parentRefreshTokenHash1"].is_string(),
            "{mode:?}: the refreshed token names its parent: {first}"
        );
        assert!(
            second["parentRefreshTokenHash1"].is_null(),
            "{mode:?}: the promoted token was picked up: {second}"
        );
        assert_eq!(first["sessionHandle"], second["sessionHandle"]);
    }
}

/// A rotated-away refresh token presented again (a copy of the session taken before the
/// rotation): the real store detects theft and revokes the session; both copies end in
/// `SessionExpired`.
#[tokio::test]
async fn a_stale_copy_of_the_session_is_taken_for_theft_and_ends_both() {
    for mode in [TransferMethod::Header, TransferMethod::Cookie] {
        let server = Server::start(1).await;
        let store = MemoryTokenStore::new();
        let layer = SessionClientLayer::with_store(server.config(mode), store.clone());
        let client = server.client::<Full<Bytes>>(&layer);
        client.sign_in("alice").await.unwrap();
        let stale = store.load().unwrap();

        // Refresh, then use the new token once: the new refresh token is promoted and the
        // first one is retired.
        server.st.wait_for_expiry().await;
        let ok = client
            .call_once(get(&server.url("api2.example.test", "/sessioninfo")))
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK, "{mode:?}");

        let copy = MemoryTokenStore::new();
        copy.save(&stale);
        let thief = SessionClientLayer::with_store(server.config(mode), copy.clone());
        let err = server
            .client::<Full<Bytes>>(&thief)
            .call_once(get(&server.url("api3.example.test", "/sessioninfo")))
            .await
            .unwrap_err();
        assert!(err.is_session_expired(), "{mode:?}: {err}");
        assert!(copy.load().is_none(), "{mode:?}");
        assert_eq!(server.st.refreshes.load(Ordering::SeqCst), 2, "{mode:?}");

        // The session is revoked for the owner too, once its access token expires.
        server.st.wait_for_expiry().await;
        let err = client
            .call_once(get(&server.url("api2.example.test", "/sessioninfo")))
            .await
            .unwrap_err();
        assert!(err.is_session_expired(), "{mode:?}: {err}");
        assert!(!layer.handle().exists());
    }
}
