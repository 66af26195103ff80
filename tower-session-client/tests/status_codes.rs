//! A server configured with another session-expired status (SuperTokens'
//! `sessionExpiredStatusCode`, here 440) against the client layer on 127.0.0.1: a client
//! configured with the same status refreshes on it and ends the session on it, as the
//! frontend SDK does; one left on 401 does neither.
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::StatusCode;
use http_body_util::Full;
use tower_session_client::{ClientConfig, ClientError, SessionClientLayer, TransferMethod};
use tower_session_testkit::multi_host::{get, Server, SignIn};

const EXPIRED: u16 = 440;

fn config(server: &Server, mode: TransferMethod, status: Option<u16>) -> ClientConfig {
    let mut builder = ClientConfig::builder(&server.url("api.example.test", ""))
        .shared_domain(".example.test".parse().unwrap())
        .transfer_method(mode);
    if let Some(status) = status {
        builder = builder.session_expired_status(status);
    }
    builder.build().unwrap()
}

#[tokio::test]
async fn the_client_refreshes_on_the_configured_status() {
    for mode in [TransferMethod::Header, TransferMethod::Cookie] {
        let server = Server::start_with_status(1, 60, EXPIRED).await;
        // The client learns of the expiry only from the server's answer.
        server.st.lie_about_expiry();
        let layer = SessionClientLayer::new(config(&server, mode, Some(EXPIRED)));
        let client = server.client::<Full<Bytes>>(&layer);
        client.sign_in("alice").await.unwrap();
        server.st.wait_for_expiry().await;

        let resp = client
            .call_once(get(&server.url("api2.example.test", "/sessioninfo")))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{mode:?}");
        assert_eq!(server.st.refreshes.load(Ordering::SeqCst), 1, "{mode:?}");
        let sent = server
            .st
            .seen()
            .iter()
            .filter(|s| s.path == "/sessioninfo")
            .count();
        assert_eq!(sent, 2, "{mode:?}: answered 440, refreshed, sent again");
        assert!(layer.handle().exists());
    }
}

#[tokio::test]
async fn a_revoked_session_ends_on_the_configured_status() {
    let server = Server::start_with_status(1, 60, EXPIRED).await;
    server.st.lie_about_expiry();
    let layer = SessionClientLayer::new(config(&server, TransferMethod::Header, Some(EXPIRED)));
    let client = server.client::<Full<Bytes>>(&layer);
    client.sign_in("alice").await.unwrap();
    server.revoke_all().await;
    server.st.wait_for_expiry().await;
    let err = client
        .call_once(get(&server.url("api2.example.test", "/sessioninfo")))
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::SessionExpired), "{err}");
    assert_eq!(server.st.refreshes.load(Ordering::SeqCst), 1);
    assert!(
        !layer.handle().exists(),
        "the refresh's 440 ends the session"
    );
}

#[tokio::test]
async fn a_client_left_on_401_does_not_refresh_against_a_440_server() {
    let server = Server::start_with_status(1, 60, EXPIRED).await;
    server.st.lie_about_expiry();
    let layer = SessionClientLayer::new(config(&server, TransferMethod::Header, None));
    let client = server.client::<Full<Bytes>>(&layer);
    client.sign_in("alice").await.unwrap();
    server.st.wait_for_expiry().await;
    let resp = client
        .call_once(get(&server.url("api2.example.test", "/sessioninfo")))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), EXPIRED, "passed up as is");
    assert_eq!(server.st.refreshes.load(Ordering::SeqCst), 0);
    assert!(layer.handle().exists());
}

#[test]
fn the_status_must_be_4xx() {
    for bad in [200, 302, 500, 99, 1000] {
        let err = ClientConfig::builder("https://api.example.com")
            .session_expired_status(bad)
            .build()
            .unwrap_err();
        assert!(
            err.to_string().contains("session_expired_status"),
            "{bad}: {err}"
        );
    }
}
