//! Table tests: host cases collected from Django, Rails, Starlette, ASP.NET Core, Go and
//! hyper tests plus the attacks in host-guard.md; origin cases; gRPC answers; forwarded
//! headers.

use std::convert::Infallible;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE, HOST};
use http::{Method, Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
use tower_domain_guard::{
    EffectiveHost, GuardBody, HostGuardLayer, HostRejection, HostRejectionKind, HostSyntaxError,
    OriginGuardLayer, OriginRejection, OriginRejectionKind, PeerAddr, SharedDomain,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    Accept,
    Misdirected,
    Bad,
}
use Want::*;

fn layer() -> HostGuardLayer {
    HostGuardLayer::new(SharedDomain::parse(".example.com").expect("domain"))
        .allow_host("127.0.0.1")
        .expect("extra")
        .allow_host("[::1]")
        .expect("extra")
}

type Svc = tower::util::BoxCloneService<Request<()>, Response<GuardBody<Full<Bytes>>>, Infallible>;

fn service(layer: HostGuardLayer) -> Svc {
    tower::util::BoxCloneService::new(ServiceBuilder::new().layer(layer).service(service_fn(
        |req: Request<()>| async move {
            let host = req
                .extensions()
                .get::<EffectiveHost>()
                .map(ToString::to_string)
                .unwrap_or_else(|| "NO EFFECTIVE HOST".into());
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(host))))
        },
    )))
}

async fn status_of(svc: &Svc, req: Request<()>) -> (StatusCode, String) {
    let res = svc.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn want_status(w: Want) -> StatusCode {
    match w {
        Accept => StatusCode::OK,
        Misdirected => StatusCode::MISDIRECTED_REQUEST,
        Bad => StatusCode::BAD_REQUEST,
    }
}

/// `(Host header bytes, expected)`. Sources in comments: D = Django `HostValidationTests`,
/// R = Rails `host_authorization_test.rb`, S = Starlette `test_trusted_host.py` and the
/// executed surprises, A = ASP.NET `HostFilteringMiddlewareTests`/`HostStringTest`/Kestrel
/// `HttpParsingData`, G = Go `TestServerValidatesHostHeader`/`httpguts`, H = host-guard.md §4/§6.
const ROWS: &[(&[u8], Want)] = &[
    // accepted: apex, subdomains, case, ports, trailing dot, IDN, extra hosts
    (b"example.com", Accept),                  // D
    (b"EXAMPLE.COM", Accept),                  // D, A (OrdinalIgnoreCase)
    (b"api.example.com", Accept),              // D
    (b"Api.Example.Com", Accept),              // S 1.9 case folding
    (b"a.b.example.com", Accept),              // H §4 (Rails rejects: one label)
    (b"a.b.c.d.e.example.com", Accept),        // A HostStringTest any depth
    (b"api.example.com:443", Accept),          // D port ignored
    (b"api.example.com:8080", Accept),         // R
    (b"example.com:0", Accept),                // port range 0..
    (b"example.com:65535", Accept),            // port range ..65535
    (b"example.com:00080", Accept),            // S `:000080`-style leading zeros (5 digits)
    (b"example.com.", Accept),                 // D one trailing dot
    (b"api.example.com.", Accept),             // D
    (b"api.example.com.:8443", Accept),        // D
    (b"xn--bcher-kva.example.com", Accept),    // A punycode A-label
    ("bücher.example.com".as_bytes(), Accept), // IDN converted
    ("BÜCHER.example.com".as_bytes(), Accept), // IDN, case
    (b"1-2.example.com", Accept),              // LDH
    (b"a--b.example.com", Accept),             // LDH
    (b"123.example.com", Accept),              // numeric non-top label
    (b"127.0.0.1", Accept),                    // extra host
    (b"127.0.0.1:8080", Accept),               // extra host + port
    (b"[::1]", Accept),                        // extra host IPv6, D/S bracketed
    (b"[::1]:443", Accept),                    // G `[::1]:80`-style
    (b"[0:0:0:0:0:0:0:1]", Accept),            // same address, other spelling
    // well-formed, outside: 421
    (b"badexample.com", Misdirected),       // H §6 label boundary
    (b"evilexample.com", Misdirected),      // H agreements
    (b"example.com.evil.io", Misdirected),  // H
    (b"example.com.evil.com", Misdirected), // H agreements
    (b"api.example.com.evil.io:443", Misdirected), // H
    (b"evil.com", Misdirected),             // D/R/S
    (b"www.evil.com:443", Misdirected),     // R
    (b"example.org", Misdirected),          // D
    (b"example.co", Misdirected),           //
    (b"api.example.comm", Misdirected),     //
    (b"example", Misdirected),              // single label
    (b"com", Misdirected),                  // TLD
    (b"localhost", Misdirected),            // D dev default, not here
    (b"api.example.co.uk", Misdirected),    //
    (b"evil-example.com", Misdirected),     //
    (b"example.com-evil.io", Misdirected),  //
    (b"xn--80ak6aa92e.com", Misdirected),   // IDN outside
    (b"127.0.0.2", Misdirected),            // IP not listed
    (b"10.0.0.1:8080", Misdirected),        //
    (b"0.0.0.0", Misdirected),              // A "allow any" marker is not special
    (b"[::2]", Misdirected),                //
    (b"[::]", Misdirected),                 // A marker
    ("bücher.example.org".as_bytes(), Misdirected), // IDN outside
    // malformed: 400
    (b"", Bad),                                       // A AllowEmptyHosts (we refuse)
    (b" ", Bad),                                      //
    (b"example.com:99999", Bad),                      // D accepts, we validate
    (b"example.com:65536", Bad),                      //
    (b"example.com:100000", Bad),                     // S accepts
    (b"example.com:000080", Bad),                     // more than 5 digits
    (b"example.com:-1", Bad),                         //
    (b"example.com:+80", Bad),                        //
    (b"example.com:", Bad),                           // empty port
    (b"example.com:80:80", Bad),                      // R #37956
    (b"example.com:3000:3000", Bad),                  // R #37956
    (b"example.com:http", Bad),                       // A FormatException
    (b"api.example.com:evil", Bad),                   // S <=1.6 accepted
    (b"evil.com@api.example.com", Bad),               // S <=1.6, t_a_h wildmatch
    (b"api.example.com@evil.com", Bad),               // userinfo
    (b"validsite.com:random@evilsite.com", Bad),      // D CVE-2012-4520
    (b"user:pass@example.com", Bad),                  //
    (b"evil.com/.example.com", Bad),                  // S <=1.6, t_a_h
    (b"example.com/path", Bad),                       //
    (b"example.com:80/badpath", Bad),                 // D
    (b"/evil.hacker", Bad),                           // R CVE-2021-44528
    (b"//evil.hacker/.example.com", Bad),             // R
    (b"evil.com\\.example.com", Bad),                 // S <=1.6
    (b"evil.com?.example.com", Bad),                  // S <=1.6
    (b"evil.com#.example.com", Bad),                  // S <=1.6
    (b"evil.com%2f.example.com", Bad),                // S 1.10 accepts
    (b"api%2eexample.com", Bad),                      // percent-encoding
    (b"[fe80::1%25en0]", Bad),                        // G zone id
    (b"exa mple.com", Bad),                           // inner space
    (b" example.com", Bad),                           // leading space
    (b"example.com\t", Bad),                          // tab
    (b".example.com", Bad),                           // D/S accept
    (b"..example.com", Bad),                          // D/S, A #66652
    (b"example..com", Bad),                           // empty label
    (b"example.com..", Bad),                          // D
    (b".", Bad),                                      //
    (b"-api.example.com", Bad),                       // D/R/S accept
    (b"api-.example.com", Bad),                       //
    (b"api_svc.example.com", Bad),                    // S accepts, G accepts `_`
    (b"foo-bar_baz.example.com", Bad),                // G
    (b"*.example.com", Bad),                          // S literal star
    (b"a,b.example.com", Bad),                        // comma
    (b"example.com, evil.com", Bad),                  // comma list (merged duplicates)
    (b"example.com;evil.com", Bad),                   //
    (b"'example.com'", Bad),                          // quotes
    (b"\"example.com\"", Bad),                        // t_a_h strips quotes; we do not
    (b"<script>.example.com", Bad),                   //
    (b"a=b", Bad),                                    // A Kestrel invalid char
    (b"::1", Bad),                                    // G accepts bare IPv6
    (b"[::1", Bad),                                   //
    (b"[::1]x", Bad),                                 //
    (b"[::1]:", Bad),                                 //
    (b"[zz::1]", Bad),                                //
    (b"[127.0.0.1]", Bad),                            //
    (b"127.1", Bad),                                  // numeric top label, not a dotted quad
    (b"1.2.3.256", Bad),                              //
    (b"0x7f.0.0.1", Bad),                             //
    (b"\xff.example.com", Bad),                       // invalid UTF-8
    (b"\xc3\x28.example.com", Bad),                   // invalid UTF-8
    ("exa\u{00a0}mple.com".as_bytes(), Bad),          // NBSP: not convertible
    ("ex\u{2044}ample.com".as_bytes(), Misdirected),  // fraction slash: a valid IDN, not ours
    ("evil.com\u{ff0f}.example.com".as_bytes(), Bad), // fullwidth solidus maps to '/'
];

fn long_rows() -> Vec<(Vec<u8>, Want)> {
    let l63 = "a".repeat(63);
    let l64 = "a".repeat(64);
    let ok253 = format!("{l63}.{l63}.{l63}.{}.example.com", "b".repeat(49));
    assert_eq!(ok253.len(), 253);
    let bad254 = format!("{l63}.{l63}.{l63}.{}.example.com", "b".repeat(50));
    let bad316 = format!("{}example.com", format!("{}.", "c".repeat(60)).repeat(5)); // D/S accept
    vec![
        (format!("{l63}.example.com").into_bytes(), Accept),
        (ok253.clone().into_bytes(), Accept),
        (format!("{ok253}.").into_bytes(), Accept),
        (format!("{l64}.example.com").into_bytes(), Bad),
        (bad254.into_bytes(), Bad),
        (bad316.into_bytes(), Bad),
        ("a.".repeat(5000).into_bytes(), Bad),
    ]
}

#[tokio::test]
async fn host_table() {
    let svc = service(layer());
    let lay = layer();
    let mut rows: Vec<(Vec<u8>, Want)> = ROWS.iter().map(|(h, w)| (h.to_vec(), *w)).collect();
    rows.extend(long_rows());
    assert!(rows.len() >= 80, "{} rows", rows.len());
    let mut failures = Vec::new();
    for (host, want) in &rows {
        let value = HeaderValue::from_bytes(host).expect("representable header value");
        let req = Request::builder()
            .uri("/")
            .header(HOST, value)
            .body(())
            .expect("request");
        assert_eq!(
            lay.check(&req).is_ok(),
            *want == Accept,
            "{:?}",
            host.escape_ascii().to_string()
        );
        let (status, body) = status_of(&svc, req).await;
        if status != want_status(*want) {
            failures.push(format!(
                "{} -> {status} (want {want:?})",
                host.escape_ascii()
            ));
        }
        if *want == Accept {
            // The effective host is lowercase, punycode, no trailing dot.
            assert!(
                body.starts_with("127.0.0.1") || body.starts_with('[') || {
                    let name = body.split(':').next().unwrap_or_default();
                    name == "example.com" || name.ends_with(".example.com")
                },
                "{body}"
            );
            assert_eq!(body, body.to_ascii_lowercase());
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn effective_host_is_normalised() {
    let svc = service(layer());
    for (host, want) in [
        ("API.Example.COM.:8443", "api.example.com:8443"),
        ("bücher.example.com", "xn--bcher-kva.example.com"),
        ("[::1]:443", "[::1]:443"),
    ] {
        let req = Request::builder()
            .uri("/")
            .header(HOST, host)
            .body(())
            .expect("req");
        assert_eq!(
            status_of(&svc, req).await,
            (StatusCode::OK, want.to_owned())
        );
    }
}

#[tokio::test]
async fn missing_duplicate_and_target_forms() {
    let svc = service(layer());
    // missing Host, HTTP/1.1
    let req = Request::builder().uri("/").body(()).expect("req");
    assert_eq!(status_of(&svc, req).await.0, StatusCode::BAD_REQUEST);
    // missing Host, HTTP/1.0: still no host to check
    let req = Request::builder()
        .version(Version::HTTP_10)
        .uri("/")
        .body(())
        .expect("req");
    assert_eq!(status_of(&svc, req).await.0, StatusCode::BAD_REQUEST);
    // duplicate Host, even identical
    for (a, b) in [
        ("api.example.com", "api.example.com"),
        ("api.example.com", "evil.com"),
    ] {
        let req = Request::builder()
            .uri("/")
            .header(HOST, a)
            .header(HOST, b)
            .body(())
            .expect("req");
        let res = svc.clone().oneshot(req).await.expect("ok");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            res.extensions()
                .get::<HostRejection>()
                .map(HostRejection::kind),
            Some(HostRejectionKind::DuplicateHost)
        );
    }
    // absolute-form (HTTP/1.1): the target's host is checked, and a Host naming another
    // host is malformed in either direction (`absolute_form.rs` has more)
    let req = Request::builder()
        .uri("http://evil.com/x")
        .header(HOST, "evil.com")
        .body(())
        .expect("req");
    assert_eq!(
        status_of(&svc, req).await.0,
        StatusCode::MISDIRECTED_REQUEST
    );
    for (uri, host) in [
        ("http://evil.com/x", "api.example.com"),
        ("http://api.example.com/x", "evil.com"),
    ] {
        let req = Request::builder()
            .uri(uri)
            .header(HOST, host)
            .body(())
            .expect("req");
        let res = svc.clone().oneshot(req).await.expect("ok");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{uri} {host}");
        assert_eq!(
            res.extensions()
                .get::<HostRejection>()
                .map(HostRejection::kind),
            Some(HostRejectionKind::AuthorityMismatch)
        );
    }
    let req = Request::builder()
        .uri("http://api.example.com/x")
        .header(HOST, "api.example.com")
        .body(())
        .expect("req");
    assert_eq!(
        status_of(&svc, req).await,
        (StatusCode::OK, "api.example.com".into())
    );
    // absolute-form without Host in HTTP/1.1: 400 (RFC 9112 §3.2)
    let req = Request::builder()
        .uri("http://api.example.com/")
        .body(())
        .expect("req");
    assert_eq!(status_of(&svc, req).await.0, StatusCode::BAD_REQUEST);
    // absolute-form with userinfo: refused, not stripped
    let req = Request::builder()
        .uri("http://evil.com@api.example.com/")
        .header(HOST, "api.example.com")
        .body(())
        .expect("req");
    assert_eq!(status_of(&svc, req).await.0, StatusCode::BAD_REQUEST);
    // HTTP/2: :authority used; no Host needed; disagreeing Host is malformed
    let h2 = |host: Option<&str>, uri: &str| {
        let mut b = Request::builder().version(Version::HTTP_2).uri(uri);
        if let Some(h) = host {
            b = b.header(HOST, h);
        }
        b.body(()).expect("req")
    };
    assert_eq!(
        status_of(&svc, h2(None, "https://api.example.com/"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        status_of(
            &svc,
            h2(Some("API.example.com"), "https://api.example.com/")
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        status_of(
            &svc,
            h2(Some("api.example.com:443"), "https://api.example.com/")
        )
        .await
        .0,
        StatusCode::OK
    );
    let res = svc
        .clone()
        .oneshot(h2(Some("evil.com"), "https://api.example.com/"))
        .await
        .expect("ok");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        res.extensions()
            .get::<HostRejection>()
            .map(HostRejection::kind),
        Some(HostRejectionKind::AuthorityMismatch)
    );
    assert_eq!(
        status_of(&svc, h2(Some("api.example.com"), "https://evil.com/"))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status_of(&svc, h2(None, "https://evil.com/")).await.0,
        StatusCode::MISDIRECTED_REQUEST
    );
    // HTTP/2 without :authority falls back to Host
    assert_eq!(
        status_of(&svc, h2(Some("api.example.com"), "/")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        status_of(&svc, h2(None, "/")).await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn inner_service_never_called_on_rejection() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let mut svc =
        ServiceBuilder::new()
            .layer(layer())
            .service(service_fn(move |_r: Request<()>| {
                c.fetch_add(1, Ordering::SeqCst);
                async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::new()))) }
            }));
    for host in ["evil.com", "evil.com@x.example.com", ""] {
        let req = Request::builder()
            .uri("/")
            .header(HOST, host)
            .body(())
            .expect("req");
        let res = svc
            .ready()
            .await
            .expect("ready")
            .call(req)
            .await
            .expect("ok");
        assert_ne!(res.status(), StatusCode::OK);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn ports_bodies_and_custom_responses() {
    let svc = service(
        layer()
            .allow_ports([443, 8443])
            .outside_response(StatusCode::FORBIDDEN, "nope\n")
            .malformed_response(StatusCode::IM_A_TEAPOT, "bad\n"),
    );
    let req = |h: &str| {
        Request::builder()
            .uri("/")
            .header(HOST, h)
            .body(())
            .expect("req")
    };
    assert_eq!(
        status_of(&svc, req("api.example.com:8443")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        status_of(&svc, req("api.example.com")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        status_of(&svc, req("api.example.com:8080")).await,
        (StatusCode::FORBIDDEN, "nope\n".into())
    );
    assert_eq!(
        status_of(&svc, req("evil.com")).await,
        (StatusCode::FORBIDDEN, "nope\n".into())
    );
    assert_eq!(
        status_of(&svc, req("a b")).await,
        (StatusCode::IM_A_TEAPOT, "bad\n".into())
    );

    // default bodies are short text/plain
    let res = service(layer()).oneshot(req("evil.com")).await.expect("ok");
    assert_eq!(res.status(), StatusCode::MISDIRECTED_REQUEST);
    assert!(res.headers()[CONTENT_TYPE]
        .to_str()
        .expect("ascii")
        .starts_with("text/plain"));
    let body = res.into_body().collect().await.expect("body").to_bytes();
    assert!(!body.is_empty() && body.len() < 100 && !body.windows(8).any(|w| w == b"evil.com"));

    // on_rejection replaces the response; the reason is still in the extensions
    let svc = service(layer().on_rejection(|r| {
        let mut res = Response::new(Bytes::from(format!("custom: {r}")));
        *res.status_mut() = StatusCode::NOT_FOUND;
        res
    }));
    let res = svc.oneshot(req("evil.com")).await.expect("ok");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        res.extensions()
            .get::<HostRejection>()
            .map(HostRejection::kind),
        Some(HostRejectionKind::OutsideDomain)
    );
    let body = res.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(body, "custom: host outside the shared domain");
}

#[tokio::test]
async fn grpc_requests_get_grpc_status() {
    let svc = service(layer());
    for (host, code) in [("evil.com", "7"), ("evil.com@x", "3")] {
        let req = Request::builder()
            .method(Method::POST)
            .uri("/grpc.health.v1.Health/Check")
            .header(HOST, host)
            .header(CONTENT_TYPE, "application/grpc+proto")
            .body(())
            .expect("req");
        let res = svc.clone().oneshot(req).await.expect("ok");
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["grpc-status"], code);
        assert!(res.headers().contains_key("grpc-message"));
        assert!(res
            .extensions()
            .get::<HostRejection>()
            .is_some_and(HostRejection::is_grpc));
    }
}

#[tokio::test]
async fn forwarded_headers_only_when_trusted() {
    let trusting = service(layer().trust_forwarded_when(|ext| {
        ext.get::<PeerAddr>()
            .is_some_and(|p| p.0.ip().is_loopback())
    }));
    let plain = service(layer());
    let req = |peer: Option<&str>, name: &str, value: &str| {
        let mut r = Request::builder()
            .uri("/")
            .header(HOST, "internal-lb")
            .header(name, value)
            .body(())
            .expect("req");
        if let Some(p) = peer {
            r.extensions_mut()
                .insert(PeerAddr(p.parse().expect("addr")));
        }
        r
    };
    let loopback = Some("127.0.0.1:5000");
    // off by default: ignored, not checked (Host internal-lb is outside => 421)
    assert_eq!(
        status_of(&plain, req(loopback, "x-forwarded-host", "api.example.com"))
            .await
            .0,
        StatusCode::MISDIRECTED_REQUEST
    );
    assert_eq!(
        status_of(
            &service(layer()),
            Request::builder()
                .uri("/")
                .header(HOST, "api.example.com")
                .header("x-forwarded-host", "evil@@")
                .body(())
                .expect("req")
        )
        .await
        .0,
        StatusCode::OK
    );
    // trusted peer: last element wins
    assert_eq!(
        status_of(
            &trusting,
            req(loopback, "x-forwarded-host", "evil.com, api.example.com")
        )
        .await,
        (StatusCode::OK, "api.example.com".into())
    );
    assert_eq!(
        status_of(
            &trusting,
            req(loopback, "x-forwarded-host", "api.example.com, evil.com")
        )
        .await
        .0,
        StatusCode::MISDIRECTED_REQUEST
    );
    assert_eq!(
        status_of(
            &trusting,
            req(
                loopback,
                "forwarded",
                "for=1.2.3.4;host=evil.com, for=10.0.0.1;proto=https;host=\"WWW.example.com:8443\""
            )
        )
        .await,
        (StatusCode::OK, "www.example.com:8443".into())
    );
    let res = trusting
        .clone()
        .oneshot(req(loopback, "forwarded", "host=\"a\\\"b\""))
        .await
        .expect("ok");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(matches!(
        res.extensions()
            .get::<HostRejection>()
            .map(HostRejection::kind),
        Some(HostRejectionKind::MalformedForwarded(
            HostSyntaxError::InvalidCharacter
        ))
    ));
    // untrusted peer: ignored
    assert_eq!(
        status_of(
            &trusting,
            req(
                Some("203.0.113.9:5000"),
                "x-forwarded-host",
                "api.example.com"
            )
        )
        .await
        .0,
        StatusCode::MISDIRECTED_REQUEST
    );
}

// ---------------------------------------------------------------- origin guard

type OriginCase = (
    Method,
    Option<&'static str>,
    Option<&'static str>,
    StatusCode,
    Option<OriginRejectionKind>,
);

fn origin_svc() -> Svc {
    let layer = OriginGuardLayer::new(SharedDomain::parse(".example.com").expect("domain"))
        .trust_origin("https://partner.io")
        .expect("origin");
    tower::util::BoxCloneService::new(ServiceBuilder::new().layer(layer).service(service_fn(
        |_req: Request<()>| async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::new()))) },
    )))
}

#[tokio::test]
async fn origin_cases() {
    let svc = origin_svc();
    let req = |method: Method, origin: Option<&str>, sfs: Option<&str>| {
        let mut b = Request::builder()
            .method(method)
            .uri("/")
            .header(HOST, "api.example.com");
        if let Some(o) = origin {
            b = b.header("origin", o);
        }
        if let Some(s) = sfs {
            b = b.header("sec-fetch-site", s);
        }
        b.body(()).expect("req")
    };
    let ok = StatusCode::OK;
    let no = StatusCode::FORBIDDEN;
    let cases: Vec<OriginCase> = vec![
        // cross-site POST rejected
        (
            Method::POST,
            Some("https://evil.com"),
            Some("cross-site"),
            no,
            Some(OriginRejectionKind::OutsideDomain),
        ),
        (
            Method::POST,
            Some("https://evil.com"),
            None,
            no,
            Some(OriginRejectionKind::OutsideDomain),
        ),
        (
            Method::DELETE,
            Some("https://badexample.com"),
            Some("cross-site"),
            no,
            None,
        ),
        (
            Method::PUT,
            Some("https://example.com.evil.io"),
            Some("cross-site"),
            no,
            None,
        ),
        (
            Method::POST,
            Some("https://evil.com@www.example.com"),
            Some("cross-site"),
            no,
            Some(OriginRejectionKind::MalformedOrigin),
        ),
        (
            Method::POST,
            Some("null"),
            Some("cross-site"),
            no,
            Some(OriginRejectionKind::NullOrigin),
        ),
        (
            Method::POST,
            None,
            Some("cross-site"),
            no,
            Some(OriginRejectionKind::MissingOrigin),
        ),
        (
            Method::POST,
            None,
            Some("same-site"),
            no,
            Some(OriginRejectionKind::MissingOrigin),
        ),
        (
            Method::POST,
            Some("https://www.example.com/path"),
            Some("same-site"),
            no,
            Some(OriginRejectionKind::MalformedOrigin),
        ),
        (Method::PATCH, Some("ftp://www.example.com"), None, no, None),
        (
            Method::POST,
            Some("https://partner.io:8443"),
            Some("cross-site"),
            no,
            None,
        ),
        (
            Method::POST,
            Some("http://partner.io"),
            Some("cross-site"),
            no,
            None,
        ),
        // same-site sibling subdomain accepted, apex, case, ports
        (
            Method::POST,
            Some("https://www.example.com"),
            Some("same-site"),
            ok,
            None,
        ),
        (
            Method::POST,
            Some("https://app.example.com:8443"),
            Some("same-site"),
            ok,
            None,
        ),
        (Method::POST, Some("https://EXAMPLE.com"), None, ok, None),
        (
            Method::POST,
            Some("http://www.example.com:3000"),
            Some("same-site"),
            ok,
            None,
        ),
        (
            Method::POST,
            Some("https://partner.io"),
            Some("cross-site"),
            ok,
            None,
        ),
        (
            Method::POST,
            Some("https://partner.io:443"),
            Some("cross-site"),
            ok,
            None,
        ),
        // Sec-Fetch-Site same-origin / none
        (
            Method::POST,
            Some("https://api.example.com"),
            Some("same-origin"),
            ok,
            None,
        ),
        (Method::POST, None, Some("none"), ok, None),
        (
            Method::POST,
            Some("https://evil.com"),
            Some("same-origin"),
            ok,
            None,
        ),
        // missing headers: non-browser client
        (Method::POST, None, None, ok, None),
        (Method::DELETE, None, None, ok, None),
        // safe methods always accepted
        (
            Method::GET,
            Some("https://evil.com"),
            Some("cross-site"),
            ok,
            None,
        ),
        (
            Method::HEAD,
            Some("https://evil.com"),
            Some("cross-site"),
            ok,
            None,
        ),
        (
            Method::OPTIONS,
            Some("https://evil.com"),
            Some("cross-site"),
            ok,
            None,
        ),
        (Method::TRACE, Some("null"), Some("cross-site"), ok, None),
    ];
    for (method, origin, sfs, want, kind) in cases {
        let res = svc
            .clone()
            .oneshot(req(method.clone(), origin, sfs))
            .await
            .expect("ok");
        assert_eq!(res.status(), want, "{method} origin={origin:?} sfs={sfs:?}");
        if let Some(k) = kind {
            assert_eq!(
                res.extensions()
                    .get::<OriginRejection>()
                    .map(OriginRejection::kind),
                Some(k)
            );
        }
    }

    // require_https refuses http origins inside the domain
    let strict =
        OriginGuardLayer::new(SharedDomain::parse("example.com").expect("d")).require_https(true);
    assert!(strict
        .check(&req(Method::POST, Some("http://www.example.com"), None))
        .is_err());
    assert!(strict
        .check(&req(Method::POST, Some("https://www.example.com"), None))
        .is_ok());

    // gRPC answer
    let mut r = req(Method::POST, Some("https://evil.com"), Some("cross-site"));
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    let res = svc.oneshot(r).await.expect("ok");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["grpc-status"], "7");
}
