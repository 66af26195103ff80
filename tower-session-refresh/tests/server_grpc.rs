//! The session layer stacked on a tonic server (tonic-health): refusals reach the gRPC
//! client as status codes, a valid session passes.

use std::time::SystemTime;

use tonic::transport::{Channel, Server};
use tonic::Code;
use tonic_health::pb::{
    health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
};
use tower::ServiceBuilder;
use tower_session_cookie::{SessionCookieConfig, SessionCookieLayer};
use tower_session_refresh::keys::{KeySet, SigningKey};
use tower_session_refresh::session::{ClaimValidationError, RequireSessionLayer, SessionConfig};
use tower_session_refresh::token::AccessTokenClaims;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

async fn grpc_server(layer: RequireSessionLayer, cookies: SessionCookieConfig) -> Channel {
    let (_reporter, health) = tonic_health::server::health_reporter();
    let (incoming, address) = tower_session_testkit::serve::grpc_incoming().await;
    let layers = ServiceBuilder::new()
        .layer(SessionCookieLayer::new(cookies))
        .layer(layer)
        .into_inner();
    tokio::spawn(
        Server::builder()
            .layer(layers)
            .add_service(health)
            .serve_with_incoming(incoming),
    );
    Channel::from_shared(format!("http://{address}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect")
}

async fn check(channel: &Channel, bearer: Option<&str>) -> Result<i32, tonic::Status> {
    let mut client = HealthClient::new(channel.clone());
    let mut request = tonic::Request::new(HealthCheckRequest {
        service: String::new(),
    });
    if let Some(token) = bearer {
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("ascii"),
        );
    }
    client
        .check(request)
        .await
        .map(|response| response.get_ref().status)
}

#[tokio::test]
async fn grpc_status_mapping() {
    let cookies = SessionCookieConfig::builder()
        .api_domain("https://grpc.example.com")
        .website_domain("https://www.example.com")
        .build()
        .expect("cookies");
    let keys = KeySet::new(SigningKey::generate_ed25519("k1").expect("key"));
    let config = SessionConfig::builder(cookies.clone())
        .keys(keys.clone())
        .build()
        .expect("config");
    let channel = grpc_server(RequireSessionLayer::new(config.clone()), cookies.clone()).await;

    let status = check(&channel, None).await.expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "unauthorised");

    let expired = keys
        .sign(&AccessTokenClaims::new("u", "h", "ab", now() - 100, 10))
        .expect("sign");
    let status = check(&channel, Some(&expired)).await.expect_err("expired");
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "try refresh token");

    let status = check(&channel, Some("not.a.token"))
        .await
        .expect_err("garbage");
    assert_eq!(status.code(), Code::Unauthenticated);

    let valid = keys
        .sign(&AccessTokenClaims::new("u", "h", "ab", now(), 3600))
        .expect("sign");
    let serving = check(&channel, Some(&valid)).await.expect("valid session");
    assert_eq!(serving, ServingStatus::Serving as i32);

    // Claims: PERMISSION_DENIED.
    let strict = RequireSessionLayer::new(config).claim_validator(|_: &_| {
        Err(vec![ClaimValidationError::new(
            "st-ev",
            serde_json::json!({"message": "unverified"}),
        )])
    });
    let channel = grpc_server(strict, cookies).await;
    let status = check(&channel, Some(&valid)).await.expect_err("claims");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(status.message(), "invalid claim");
}
