//! A tonic client (`tonic-health`) over a tonic `Channel` through the client layer,
//! against the real server layers of `tower_session_testkit::multi_host`: tonic-health's `HealthServer`
//! behind `SessionCookieLayer` + `RequireSessionLayer` (grpc-status 16 when the access
//! token is expired), with `RefreshService` answering the refresh route on the same
//! listener and HTTP/2 connection (an axum router in front of both).
//! Needs the `tonic` feature.
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::atomic::Ordering;

use bytes::Bytes;
use http_body_util::Full;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tower_layer::Layer;
use tower_session_client::connect::Connector;
use tower_session_client::{SessionClientLayer, TransferMethod};

use tower_session_testkit::multi_host::{Server, SignIn};

async fn health_client(
    server: &Server,
    layer: &SessionClientLayer,
) -> HealthClient<tower_session_client::SessionClient<tonic::transport::Channel>> {
    let origin = server.url("api.example.test", "");
    let channel = tonic::transport::Endpoint::from_shared(origin.clone())
        .unwrap()
        .connect_with_connector(Connector::fixed(server.addr))
        .await
        .unwrap();
    HealthClient::with_origin(layer.layer(channel), origin.parse().unwrap())
}

#[tokio::test]
async fn expired_token_is_refreshed_before_the_grpc_call() {
    let server = Server::start_with(1, 60).await;
    let layer = SessionClientLayer::new(server.config(TransferMethod::Header));
    server
        .client::<Full<Bytes>>(&layer)
        .sign_in("alice")
        .await
        .unwrap();
    let mut health = health_client(&server, &layer).await;
    server.st.wait_for_expiry().await;

    let resp = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(resp.into_inner().status(), ServingStatus::Serving);
    assert_eq!(server.st.refreshes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn unauthenticated_grpc_status_triggers_one_refresh_and_one_resend() {
    // Two seconds, so that the first call lands before the token expires.
    let server = Server::start(2).await;
    server.st.lie_about_expiry();
    let layer = SessionClientLayer::new(server.config(TransferMethod::Header));
    server
        .client::<Full<Bytes>>(&layer)
        .sign_in("alice")
        .await
        .unwrap();
    let mut health = health_client(&server, &layer).await;
    let ok = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(ok.into_inner().status(), ServingStatus::Serving);

    server.st.wait_for_expiry().await; // the client does not know: it gets grpc-status 16
    let resp = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(resp.into_inner().status(), ServingStatus::Serving);
    assert_eq!(server.st.refreshes.load(Ordering::SeqCst), 1);
    let grpc_calls = server
        .st
        .seen()
        .iter()
        .filter(|s| s.path.starts_with("/grpc.health.v1.Health/"))
        .count();
    assert_eq!(grpc_calls, 3, "one ok call, one rejected, one resent");

    // A revoked session (noticed at the refresh, once the access token has expired): the
    // tonic call fails with the typed error inside the status.
    server.revoke_all().await;
    server.st.wait_for_expiry().await;
    let status = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap_err();
    assert!(status.message().contains("expired"), "{status:?}");
    assert!(!layer.handle().exists());
}
