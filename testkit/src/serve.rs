//! Servers on `127.0.0.1:0`, running on the test's runtime until it ends.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::Router;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tower_service::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A listener on a free loopback port, and its address.
pub async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    (listener, addr)
}

/// Serves `app` with `axum::serve` on `listener` (taken from [`listener`] when the app
/// needs to know its port).
pub fn serve_on(listener: TcpListener, app: Router) {
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
}

/// Serves `app` on a free loopback port.
pub async fn serve(app: Router) -> SocketAddr {
    let (listener, addr) = listener().await;
    serve_on(listener, app);
    addr
}

/// Serves a tower service with hyper (HTTP/1.1 and HTTP/2, prior knowledge), one task per
/// connection.
pub async fn serve_hyper<S, B>(service: S) -> SocketAddr
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let (listener, addr) = listener().await;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// A free loopback port for a tonic server
/// (`Server::builder()…serve_with_incoming(incoming)`), and its address.
pub async fn grpc_incoming() -> (TcpIncoming, SocketAddr) {
    let (listener, addr) = listener().await;
    (TcpIncoming::from(listener), addr)
}
