//! The same layer stacked on a tonic server: a gRPC health check goes through it, the
//! handle is present for the service inside, and recorded changes reach the client as
//! response metadata.

use std::sync::{Arc, Mutex};

use tonic::transport::{Channel, Server};
use tonic_health::pb::{
    health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
};
use tower::ServiceBuilder;
use tower_session_cookie::{SessionCookieConfig, SessionCookieLayer, SessionTokens};

#[tokio::test]
async fn health_check_through_the_layer() {
    let config = SessionCookieConfig::builder()
        .api_domain("https://grpc.example.com")
        .website_domain("https://www.example.com")
        .build()
        .expect("valid config");

    // What the inner stack saw: the access token read from the gRPC request's metadata.
    let seen: Arc<Mutex<Option<String>>> = Arc::default();
    let seen_inside = Arc::clone(&seen);
    let probe = move |request: http::Request<tonic::body::Body>| {
        let tokens = request.extensions().get::<SessionTokens>().cloned();
        if let Some(tokens) = tokens {
            *seen_inside.lock().expect("lock") = Some(
                tokens
                    .access_token()
                    .map_or_else(String::new, |t| t.as_str().to_owned()),
            );
            tokens.set_anti_csrf("from.grpc".into());
        }
        request
    };

    let (_reporter, health) = tonic_health::server::health_reporter();
    let (incoming, address) = tower_session_testkit::serve::grpc_incoming().await;
    let layers = ServiceBuilder::new()
        .layer(SessionCookieLayer::new(config))
        .map_request(probe)
        .into_inner();
    tokio::spawn(
        Server::builder()
            .layer(layers)
            .add_service(health)
            .serve_with_incoming(incoming),
    );

    let channel = Channel::from_shared(format!("http://{address}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut client = HealthClient::new(channel);
    let mut request = tonic::Request::new(HealthCheckRequest {
        service: String::new(),
    });
    request.metadata_mut().insert(
        "cookie",
        "other=1; sAccessToken=grpc.access.token"
            .parse()
            .expect("ascii"),
    );
    let response = client.check(request).await.expect("health check");

    assert_eq!(response.get_ref().status, ServingStatus::Serving as i32);
    assert_eq!(
        seen.lock().expect("lock").as_deref(),
        Some("grpc.access.token")
    );
    let metadata = response.metadata();
    assert_eq!(
        metadata.get("anti-csrf").and_then(|v| v.to_str().ok()),
        Some("from.grpc")
    );
    assert_eq!(
        metadata.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
}
