//! The origin guard behind a real hyper server on 127.0.0.1 (raw HTTP/1.1): browsers
//! compute `Sec-Fetch-Site` schemefully, so `cross-site` from an origin whose host lies
//! inside the shared domain means another scheme (an `http://` page under an `https://`
//! site, e.g. injected on a network the attacker controls). Only an explicitly trusted
//! origin overrides `cross-site`; and with `require_https`, an `http://` origin is not the
//! site even when the browser sends no `Sec-Fetch-Site`.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::{service_fn, ServiceBuilder};
use tower_domain_guard::{OriginGuardLayer, SharedDomain};

async fn spawn(layer: OriginGuardLayer) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let svc = ServiceBuilder::new().layer(layer).service(service_fn(
        |_req: Request<hyper::body::Incoming>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"done"))))
        },
    ));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let svc = TowerToHyperService::new(svc.clone());
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

/// A POST with these headers; the status code.
async fn post(addr: SocketAddr, origin: Option<&str>, sfs: Option<&str>) -> u16 {
    let mut request = String::from(
        "POST /auth/signout HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\nContent-Length: 0\r\n",
    );
    if let Some(origin) = origin {
        request.push_str(&format!("Origin: {origin}\r\n"));
    }
    if let Some(sfs) = sfs {
        request.push_str(&format!("Sec-Fetch-Site: {sfs}\r\n"));
    }
    request.push_str("\r\n");
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(request.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("read");
    String::from_utf8_lossy(&out)
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .expect("a status line")
}

#[tokio::test]
async fn cross_site_is_not_overridden_by_an_origin_that_is_only_same_site_by_name() {
    let domain = SharedDomain::parse(".example.com").expect("domain");
    let layer = OriginGuardLayer::new(domain)
        .trust_origin("https://partner.io")
        .expect("origin");
    let addr = spawn(layer).await;
    let cases: &[(Option<&str>, Option<&str>, u16)] = &[
        // The request: an http:// page under the shared domain.
        (
            Some("http://nonexistent.example.com"),
            Some("cross-site"),
            403,
        ),
        // Whatever the scheme: the browser says the page is not on this site.
        (Some("https://www.example.com"), Some("cross-site"), 403),
        (Some("https://example.com"), Some("cross-site"), 403),
        // An explicitly trusted origin is cross-site by nature.
        (Some("https://partner.io"), Some("cross-site"), 200),
        // Siblings on the same site, and clients without fetch metadata.
        (Some("https://www.example.com"), Some("same-site"), 200),
        (Some("http://www.example.com"), Some("same-site"), 200),
        (Some("https://api.example.com"), Some("same-origin"), 200),
        (Some("https://www.example.com"), None, 200),
        (Some("http://www.example.com"), None, 200),
        (None, None, 200),
    ];
    for (origin, sfs, want) in cases {
        assert_eq!(
            post(addr, *origin, *sfs).await,
            *want,
            "origin {origin:?}, sec-fetch-site {sfs:?}"
        );
    }
}

#[tokio::test]
async fn with_require_https_an_http_origin_is_not_the_site() {
    let domain = SharedDomain::parse(".example.com").expect("domain");
    let addr = spawn(OriginGuardLayer::new(domain).require_https(true)).await;
    let cases: &[(Option<&str>, Option<&str>, u16)] = &[
        // A browser without Sec-Fetch-Site (Safari before 16.4) on an http:// page.
        (Some("http://www.example.com"), None, 403),
        (Some("http://nonexistent.example.com"), None, 403),
        (Some("http://www.example.com"), Some("same-site"), 403),
        (Some("http://www.example.com"), Some("cross-site"), 403),
        (Some("https://www.example.com"), None, 200),
        (Some("https://www.example.com"), Some("same-site"), 200),
    ];
    for (origin, sfs, want) in cases {
        assert_eq!(
            post(addr, *origin, *sfs).await,
            *want,
            "origin {origin:?}, sec-fetch-site {sfs:?}"
        );
    }
}
