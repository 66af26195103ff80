//! `HostGuardLayer` on crafted requests: `Host` (zero, one or two lines), absolute-form or
//! HTTP/2 `:authority`, `Forwarded` and `X-Forwarded-Host`, from a trusted or an untrusted
//! peer. Properties:
//! - `check()` and the service agree (the inner service runs iff `check()` is `Ok`);
//! - an accepted request's `EffectiveHost` is lowercase and either inside the shared domain
//!   on a label boundary or the one allowed extra host;
//! - an untrusted peer's forwarded headers never change the decision;
//! - rejected requests get 400 (malformed) or 421 (outside), never anything else.
#![no_main]

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use http::header::{HeaderValue, FORWARDED, HOST};
use http::{Request, Response, StatusCode, Uri, Version};
use libfuzzer_sys::fuzz_target;
use tower_domain_guard::{EffectiveHost, HostGuard, HostGuardLayer, SharedDomain};
use tower_layer::Layer;
use tower_service::Service;

#[path = "common.rs"]
mod common;

#[derive(Clone, Copy)]
struct TrustedPeer;

#[derive(Clone, Copy)]
struct Inner;

impl Service<Request<()>> for Inner {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<String>, Infallible>>;
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }
    fn call(&mut self, req: Request<()>) -> Self::Future {
        let mut res = Response::new(String::from("inner"));
        if let Some(h) = req.extensions().get::<EffectiveHost>() {
            res.extensions_mut().insert(h.clone());
        }
        std::future::ready(Ok(res))
    }
}

fn layer() -> &'static HostGuardLayer {
    static L: OnceLock<HostGuardLayer> = OnceLock::new();
    L.get_or_init(|| {
        HostGuardLayer::new(SharedDomain::parse(".example.com").expect("domain"))
            .allow_host("127.0.0.1")
            .expect("extra host")
            .trust_forwarded_when(|ext| ext.get::<TrustedPeer>().is_some())
    })
}

fn now<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("guard future not ready"),
    }
}

fn build(flags: u8, f: &[&[u8]], trusted: bool) -> Option<Request<()>> {
    let mut b = Request::builder();
    b = b.version(if flags & 0x02 != 0 {
        Version::HTTP_2
    } else {
        Version::HTTP_11
    });
    if flags & 0x04 != 0 {
        let authority = std::str::from_utf8(f[1]).ok()?;
        let uri: Uri = format!("https://{authority}/p").parse().ok()?;
        b = b.uri(uri);
    } else {
        b = b.uri("/p");
    }
    let mut req = b.body(()).ok()?;
    let h = req.headers_mut();
    if flags & 0x08 != 0 {
        h.append(HOST, HeaderValue::from_bytes(f[2]).ok()?);
    }
    if flags & 0x10 != 0 {
        h.append(HOST, HeaderValue::from_bytes(f[3]).ok()?);
    }
    if flags & 0x20 != 0 {
        h.append(FORWARDED, HeaderValue::from_bytes(f[4]).ok()?);
    }
    if flags & 0x40 != 0 {
        h.append("x-forwarded-host", HeaderValue::from_bytes(f[5]).ok()?);
    }
    if flags & 0x80 != 0 {
        h.append("x-forwarded-host", HeaderValue::from_bytes(f[6]).ok()?);
    }
    if trusted {
        req.extensions_mut().insert(TrustedPeer);
    }
    Some(req)
}

fn run(req: Request<()>) -> (bool, StatusCode, Option<EffectiveHost>) {
    let checked = layer().check(&req).is_ok();
    let mut svc: HostGuard<Inner> = layer().layer(Inner);
    let res = now(svc.call(req)).expect("infallible");
    let host = res.extensions().get::<EffectiveHost>().cloned();
    (checked, res.status(), host)
}

fuzz_target!(|data: &[u8]| {
    let f = common::fields(data, 7);
    let flags = f[0].first().copied().unwrap_or(0x08);
    let trusted = flags & 0x01 != 0;
    let Some(req) = build(flags, &f, trusted) else {
        return;
    };
    let (checked, status, host) = run(req);
    assert_eq!(
        checked,
        status == StatusCode::OK,
        "check() and the service disagree"
    );
    assert_eq!(checked, host.is_some(), "accepted without an EffectiveHost");
    assert!(
        matches!(
            status,
            StatusCode::OK | StatusCode::BAD_REQUEST | StatusCode::MISDIRECTED_REQUEST
        ),
        "status {status}"
    );
    if let Some(h) = &host {
        let s = h.as_str();
        assert_eq!(s, s.to_ascii_lowercase(), "effective host not lowercase");
        assert!(
            s == "127.0.0.1" || common::inside_on_label_boundary(s, "example.com"),
            "accepted host {s:?} outside the shared domain"
        );
        assert!(
            s == "127.0.0.1" || common::is_normalised_name(s),
            "bad name {s:?}"
        );
    }
    if !trusted {
        // Forwarded headers from an untrusted peer are ignored: same decision without them.
        let Some(bare) = build(flags & !0xE0, &f, false) else {
            return;
        };
        let (c2, s2, h2) = run(bare);
        assert_eq!(
            (checked, status, host),
            (c2, s2, h2),
            "untrusted forwarded headers changed the decision"
        );
    }
});
