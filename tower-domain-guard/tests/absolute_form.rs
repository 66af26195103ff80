//! The host guard behind a real hyper server on 127.0.0.1, raw HTTP/1.1 bytes:
//!
//! - absolute-form targets (`GET http://host/path HTTP/1.1`): an invalid `Host` field is
//!   400 whatever the target (RFC 9112 §3.2), a `Host` that names another host than the
//!   target is 400 (as `:authority` and `Host` in HTTP/2: an application reading `Host`
//!   must see the host the guard checked), and only `http`/`https` targets are accepted;
//! - an IPv4 literal with a trailing dot (`127.0.0.1.`) is not that address: a name whose
//!   top label is numeric, refused (400), also as an `allow_host` entry.

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
use tower_domain_guard::{EffectiveHost, HostGuardLayer};

async fn spawn(layer: HostGuardLayer) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let svc = ServiceBuilder::new().layer(layer).service(service_fn(
        |req: Request<hyper::body::Incoming>| async move {
            let host = req
                .extensions()
                .get::<EffectiveHost>()
                .map(ToString::to_string)
                .unwrap_or_default();
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(host))))
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

/// Sends raw bytes; (status code, body). A request hyper itself refuses gives its 400.
async fn raw(addr: SocketAddr, request: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(request.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("read");
    let text = String::from_utf8_lossy(&out).into_owned();
    let code = text
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (code, body)
}

fn get(target: &str, host: Option<&str>) -> String {
    let host = host.map(|h| format!("Host: {h}\r\n")).unwrap_or_default();
    format!("GET {target} HTTP/1.1\r\n{host}Connection: close\r\n\r\n")
}

#[tokio::test]
async fn absolute_form_checks_the_host_field_and_the_scheme() {
    let addr = spawn(HostGuardLayer::for_domain(".example.test").expect("domain")).await;
    let target = "http://api2.example.test/sessioninfo";
    // The target names our host; each Host below is invalid, or names another host.
    for host in [
        "x y",
        "user@evil.com",
        "evil.com:99999",
        "",
        "api2.example.test/x",
        "evil.com",
        "api.example.test",
    ] {
        let (code, body) = raw(addr, &get(target, Some(host))).await;
        assert_eq!(code, 400, "Host {host:?}: {body}");
        assert!(!body.contains("api2.example.test"), "never served: {body}");
    }
    // Only http and https targets.
    for target in [
        "ftp://api2.example.test/sessioninfo",
        "ws://api2.example.test/sessioninfo",
        "file://api2.example.test/etc/passwd",
    ] {
        let (code, body) = raw(addr, &get(target, Some("api2.example.test"))).await;
        assert_eq!(code, 400, "{target}: {body}");
    }
    // What stays accepted: a Host naming the target's host (port and case aside), and an
    // https target; an HTTP/1.0 absolute-form request without Host.
    for (target, host) in [
        (target, Some("api2.example.test")),
        (target, Some("API2.example.test:80")),
        (
            "https://api2.example.test/sessioninfo",
            Some("api2.example.test"),
        ),
    ] {
        let (code, body) = raw(addr, &get(target, host)).await;
        assert_eq!(code, 200, "{target} Host {host:?}: {body}");
        assert_eq!(body, "api2.example.test");
    }
    let (code, body) = raw(
        addr,
        "GET http://api2.example.test/ HTTP/1.0\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!((code, body.as_str()), (200, "api2.example.test"));
    // An absolute-form target outside the domain is still 421, with a matching Host.
    let (code, _) = raw(addr, &get("http://evil.com/", Some("evil.com"))).await;
    assert_eq!(code, 421);
}

#[tokio::test]
async fn an_ip_literal_with_a_trailing_dot_is_not_that_address() {
    let layer = HostGuardLayer::for_domain(".example.test")
        .expect("domain")
        .allow_host("127.0.0.1")
        .expect("ip");
    assert!(
        HostGuardLayer::for_domain(".example.test")
            .expect("domain")
            .allow_host("127.0.0.1.")
            .is_err(),
        "refused in configuration too"
    );
    let addr = spawn(layer).await;
    let (code, body) = raw(addr, &get("/healthz", Some("127.0.0.1"))).await;
    assert_eq!((code, body.as_str()), (200, "127.0.0.1"));
    for host in ["127.0.0.1.", "127.0.0.1.:8080", "127.0.0.1..", "1.2.3.4."] {
        let (code, body) = raw(addr, &get("/healthz", Some(host))).await;
        assert_eq!(code, 400, "Host {host:?}: {body}");
    }
    // Names keep their one optional trailing dot.
    let (code, body) = raw(addr, &get("/", Some("api.example.test."))).await;
    assert_eq!((code, body.as_str()), (200, "api.example.test"));
}
