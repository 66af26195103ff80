//! A gRPC API (tonic, here its health service) on the facade: the same `layer()` and
//! `require_session()` as over HTTP; refusals reach the client as gRPC status codes.
use tonic::transport::Server;
use tower::ServiceBuilder;
use tower_session_refresh::SharedSession;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let auth = SharedSession::builder(".example.com")
        .api_domain("https://api.example.com")
        .website_domain("https://www.example.com")
        .verify_only("https://api.example.com/auth/jwt/jwks.json")
        .allow_host("127.0.0.1") // gRPC clients that dial the IP send it as :authority
        .build()?;
    let (_reporter, health) = tonic_health::server::health_reporter();
    let layers = ServiceBuilder::new()
        .layer(auth.layer())
        .layer(auth.require_session())
        .into_inner();
    Server::builder()
        .layer(layers)
        .add_service(health)
        .serve("127.0.0.1:50051".parse()?)
        .await?;
    Ok(())
}
