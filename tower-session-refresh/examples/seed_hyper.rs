//! `api2.example.com` as a plain hyper server on the facade: verify-only (the auth server's
//! JWKS, no store, no secret), every request needs a session.
use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tower::ServiceBuilder;
use tower_session_refresh::{Session, SharedSession};

async fn me(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // `require_session()` put the verified session in the extensions.
    let user = request
        .extensions()
        .get::<Session>()
        .map(|session| session.user_id().to_owned())
        .unwrap_or_default();
    Ok(Response::new(Full::new(Bytes::from(user))))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let auth = SharedSession::builder(".example.com")
        .api_domain("https://api.example.com")
        .website_domain("https://www.example.com")
        .verify_only("https://api.example.com/auth/jwt/jwks.json")
        .build()?;
    let service = ServiceBuilder::new()
        .layer(auth.layer())
        .layer(auth.require_session())
        .service_fn(me);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3002").await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let connection = Builder::new(TokioExecutor::new());
            let _ = connection
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
