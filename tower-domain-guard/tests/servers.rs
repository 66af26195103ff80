//! The guard behind real servers on 127.0.0.1: hyper HTTP/1.1 (raw bytes), hyper HTTP/2
//! prior knowledge, and a tonic server with tonic-health.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::{service_fn, ServiceBuilder};
use tower_domain_guard::{EffectiveHost, HostGuardLayer};

async fn spawn_hyper() -> SocketAddr {
    let svc = ServiceBuilder::new()
        .layer(HostGuardLayer::for_domain(".example.com").expect("domain"))
        .service(service_fn(
            |req: Request<hyper::body::Incoming>| async move {
                let host = req
                    .extensions()
                    .get::<EffectiveHost>()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(host))))
            },
        ));
    tower_session_testkit::serve::serve_hyper(svc).await
}

/// Sends raw HTTP/1.1 bytes, returns (status code, body text).
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

#[tokio::test]
async fn http1_raw_requests() {
    let addr = spawn_hyper().await;
    let cases: &[(&str, u16)] = &[
        ("GET / HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n\r\n", 200),
        ("GET / HTTP/1.1\r\nHost: API.Example.com.:8080\r\nConnection: close\r\n\r\n", 200),
        ("GET / HTTP/1.1\r\nHost: evil.com\r\nConnection: close\r\n\r\n", 421),
        ("GET / HTTP/1.1\r\nHost: badexample.com\r\nConnection: close\r\n\r\n", 421),
        // duplicate Host lines, even when both are ours
        (
            "GET / HTTP/1.1\r\nHost: api.example.com\r\nHost: evil.com\r\nConnection: close\r\n\r\n",
            400,
        ),
        (
            "GET / HTTP/1.1\r\nHost: api.example.com\r\nHost: api.example.com\r\nConnection: close\r\n\r\n",
            400,
        ),
        // missing and empty Host
        ("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n", 400),
        // absolute-form: the target's authority is checked, and Host must name it
        (
            "GET http://evil.com/ HTTP/1.1\r\nHost: evil.com\r\nConnection: close\r\n\r\n",
            421,
        ),
        (
            "GET http://evil.com/ HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n\r\n",
            400,
        ),
        (
            "GET http://api.example.com/ HTTP/1.1\r\nHost: evil.com\r\nConnection: close\r\n\r\n",
            400,
        ),
        (
            "GET http://api.example.com/ HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n\r\n",
            200,
        ),
        (
            "GET http://evil.com@api.example.com/ HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n\r\n",
            400,
        ),
        // attacks hyper passes through
        ("GET / HTTP/1.1\r\nHost: evil.com/.example.com\r\nConnection: close\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: evil.com\\.example.com\r\nConnection: close\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: evil.com@x.example.com\r\nConnection: close\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: ..example.com\r\nConnection: close\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: api.example.com:99999\r\nConnection: close\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: b\u{fc}cher.example.com\r\nConnection: close\r\n\r\n", 200),
        ("GET / HTTP/1.0\r\nHost: api.example.com\r\n\r\n", 200),
    ];
    for (req, want) in cases {
        let (code, body) = raw(addr, req).await;
        assert_eq!(code, *want, "{req:?} -> {body:?}");
        if *want == 200 {
            assert!(body.contains("example.com"), "{body}");
        }
    }
}

#[tokio::test]
async fn http2_prior_knowledge() {
    let addr = spawn_hyper().await;
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("h2 handshake");
    tokio::spawn(conn);

    let send = |uri: &str, host: Option<&str>| {
        let mut b = Request::builder().uri(uri);
        if let Some(h) = host {
            b = b.header("host", h);
        }
        b.body(Empty::<Bytes>::new()).expect("req")
    };
    let cases = [
        ("http://api.example.com/", None, StatusCode::OK),
        (
            "http://api.example.com/",
            Some("api.example.com"),
            StatusCode::OK,
        ),
        // a Host that disagrees with :authority is malformed
        (
            "http://api.example.com/",
            Some("evil.com"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "http://evil.com/",
            Some("api.example.com"),
            StatusCode::BAD_REQUEST,
        ),
        ("http://evil.com/", None, StatusCode::MISDIRECTED_REQUEST),
    ];
    for (uri, host, want) in cases {
        sender.ready().await.expect("ready");
        let res = sender
            .send_request(send(uri, host))
            .await
            .expect("response");
        let status = res.status();
        let body = res.into_body().collect().await.expect("body").to_bytes();
        assert_eq!(status, want, "{uri} host={host:?} body={body:?}");
        if want == StatusCode::OK {
            assert_eq!(body, "api.example.com");
        }
    }
}

async fn spawn_tonic(layer: HostGuardLayer) -> SocketAddr {
    let (incoming, addr) = tower_session_testkit::serve::grpc_incoming().await;
    let (_reporter, health) = tonic_health::server::health_reporter();
    tokio::spawn(async move {
        let _keep = _reporter;
        tonic::transport::Server::builder()
            .layer(layer)
            .add_service(health)
            .serve_with_incoming(incoming)
            .await
            .expect("serve");
    });
    addr
}

async fn health_check(addr: SocketAddr, origin: Option<&str>) -> Result<i32, tonic::Status> {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;
    let mut endpoint =
        tonic::transport::Endpoint::from_shared(format!("http://{addr}")).expect("endpoint");
    if let Some(o) = origin {
        endpoint = endpoint.origin(o.parse().expect("uri"));
    }
    let channel = endpoint.connect().await.expect("connect");
    let res = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await?;
    Ok(res.into_inner().status)
}

#[tokio::test]
async fn tonic_health_gets_grpc_status() {
    let addr = spawn_tonic(HostGuardLayer::for_domain(".example.com").expect("domain")).await;
    // :authority 127.0.0.1:port is outside the domain: PERMISSION_DENIED, not a transport error
    let err = health_check(addr, None).await.expect_err("rejected");
    assert_eq!(err.code(), tonic::Code::PermissionDenied, "{err:?}");
    // :authority inside the domain: served (1 = SERVING)
    let status = health_check(addr, Some("http://api.example.com"))
        .await
        .expect("accepted");
    assert_eq!(status, 1);

    // the same server with 127.0.0.1 as an extra host
    let addr = spawn_tonic(
        HostGuardLayer::for_domain(".example.com")
            .expect("domain")
            .allow_host("127.0.0.1")
            .expect("host"),
    )
    .await;
    assert_eq!(health_check(addr, None).await.expect("accepted"), 1);
}
