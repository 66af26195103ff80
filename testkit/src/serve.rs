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

/// A response as the HTTP tests read it: status, headers, body as text.
#[derive(Debug)]
pub struct Reply {
    /// The status.
    pub status: http::StatusCode,
    /// The headers (every `Set-Cookie` kept).
    pub headers: http::HeaderMap,
    /// The body, decoded as UTF-8 (lossily).
    pub body: String,
}

impl Reply {
    /// The first value of header `name`, or `""`.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Every `Set-Cookie` line.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(http::header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("ascii").to_owned())
            .collect()
    }

    /// The value a `Set-Cookie` line of this response gives `name` (`None`: not set).
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies().iter().find_map(|line| {
            let (pair, _) = line.split_once(';').unwrap_or((line, ""));
            let (n, v) = pair.split_once('=')?;
            (n == name).then(|| v.to_owned())
        })
    }
}

/// One HTTP/1.1 request to `addr` with this `Host`, whatever the name resolves to, on a
/// connection of its own.
pub async fn send(
    addr: SocketAddr,
    method: http::Method,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let mut request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", host);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.to_owned(),
        )))
        .expect("request");
    let response = sender.send_request(request).await.expect("response");
    let (parts, body) = response.into_parts();
    let body = http_body_util::BodyExt::collect(body)
        .await
        .expect("body")
        .to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}
