//! A plain-TCP connector for hyper-util's legacy client that can send every request to one
//! fixed address whatever its host (like curl's `--resolve`), for demos and tests where
//! `api.example.test` and friends must reach `127.0.0.1`.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Uri;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;
use tower_service::Service;

/// Connects over plain TCP: to the request's host and port, or always to one fixed
/// address. `https` URIs are refused (this connector has no TLS).
///
/// ```no_run
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use tower_session_client::connect::{http_client, Connector};
///
/// // Every request, whatever its host, goes to 127.0.0.1:3000.
/// let client = http_client::<Full<Bytes>>(Connector::fixed("127.0.0.1:3000".parse().unwrap()));
/// # drop(client);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Connector {
    fixed: Option<SocketAddr>,
}

impl Connector {
    /// Connects to the host and port of each request (DNS as the system resolves it).
    pub fn new() -> Self {
        Self { fixed: None }
    }

    /// Connects every request to `addr`; the request keeps its own `Host`.
    pub fn fixed(addr: SocketAddr) -> Self {
        Self { fixed: Some(addr) }
    }
}

impl Service<Uri> for Connector {
    type Response = TokioIo<TcpStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<TokioIo<TcpStream>>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let fixed = self.fixed;
        Box::pin(async move {
            if uri.scheme_str() == Some("https") {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "this connector speaks plain TCP only; use a TLS connector for https",
                ));
            }
            let stream = match fixed {
                Some(addr) => TcpStream::connect(addr).await?,
                None => {
                    let host = uri
                        .host()
                        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
                        .ok_or_else(|| {
                            io::Error::new(io::ErrorKind::InvalidInput, "no host in URI")
                        })?;
                    TcpStream::connect((host, uri.port_u16().unwrap_or(80))).await?
                }
            };
            stream.set_nodelay(true)?;
            Ok(TokioIo::new(stream))
        })
    }
}

/// hyper-util's legacy HTTP/1 client over a [`Connector`].
pub type HttpClient<B = FullBody> = Client<Connector, B>;

/// The usual request body for [`HttpClient`]: a complete body, always replayable.
pub type FullBody = http_body_util::Full<bytes::Bytes>;

/// Builds an HTTP/1 client (Tokio executor) over `connector`, ready to be wrapped in a
/// [`SessionClientLayer`](super::SessionClientLayer).
pub fn http_client<B>(connector: Connector) -> HttpClient<B>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
{
    Client::builder(TokioExecutor::new()).build(connector)
}
