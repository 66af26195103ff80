//! Property tests: the guard never panics, and whatever it accepts lies inside the shared
//! domain on a label boundary.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use http::header::{HeaderValue, HOST};
use http::{Request, Response, StatusCode, Version};
use proptest::prelude::*;
use tower::{service_fn, Layer, Service};
use tower_domain_guard::{EffectiveHost, HostGuardLayer, OriginGuardLayer, SharedDomain};

fn now<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("not ready"),
    }
}

fn in_domain(name: &str) -> bool {
    name == "example.com" || (name.ends_with(".example.com") && !name.starts_with('.'))
}

/// Runs the guard; returns the status and the effective host the inner service saw.
fn run(req: Request<()>) -> (StatusCode, Option<EffectiveHost>) {
    let layer = HostGuardLayer::new(SharedDomain::parse(".example.com").expect("domain"));
    let mut svc = layer.layer(service_fn(|req: Request<()>| async move {
        let mut res = Response::new(http_body_util::Empty::<bytes::Bytes>::new());
        if let Some(h) = req.extensions().get::<EffectiveHost>() {
            res.extensions_mut().insert(h.clone());
        }
        Ok::<_, Infallible>(res)
    }));
    let res = now(svc.call(req)).expect("infallible");
    (
        res.status(),
        res.extensions().get::<EffectiveHost>().cloned(),
    )
}

fn check_host_bytes(bytes: &[u8]) -> Result<(), TestCaseError> {
    let Ok(value) = HeaderValue::from_bytes(bytes) else {
        return Ok(());
    };
    for version in [Version::HTTP_11, Version::HTTP_2] {
        let req = Request::builder()
            .version(version)
            .uri("/")
            .header(HOST, value.clone())
            .body(())
            .expect("req");
        let (status, host) = run(req);
        prop_assert!(matches!(
            status,
            StatusCode::OK | StatusCode::BAD_REQUEST | StatusCode::MISDIRECTED_REQUEST
        ));
        if status == StatusCode::OK {
            let host = host.expect("effective host set on accept");
            prop_assert!(in_domain(host.as_str()), "accepted {:?}", host);
            prop_assert_eq!(host.as_str(), host.as_str().to_ascii_lowercase());
        } else {
            prop_assert!(host.is_none());
        }
    }
    Ok(())
}

fn hostish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("example.com".to_owned()),
        Just(".example.com".to_owned()),
        Just("api".to_owned()),
        Just("EXAMPLE.COM".to_owned()),
        Just("bücher".to_owned()),
        Just("evil".to_owned()),
        Just(".".to_owned()),
        Just(":".to_owned()),
        Just("@".to_owned()),
        Just("/".to_owned()),
        Just("\\".to_owned()),
        Just("%2e".to_owned()),
        Just("[::1]".to_owned()),
        Just("-".to_owned()),
        Just("_".to_owned()),
        "[a-z0-9]{1,70}",
        "[0-9]{1,6}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..8).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_host_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check_host_bytes(&bytes)?;
    }

    #[test]
    fn structured_hosts(s in hostish()) {
        check_host_bytes(s.as_bytes())?;
        let domain = SharedDomain::parse("example.com").expect("domain");
        if domain.matches(&s) {
            let name = s.split(':').next().unwrap_or_default().trim_end_matches('.');
            prop_assert!(in_domain(&name.to_ascii_lowercase()), "matches({:?})", s);
        }
    }

    #[test]
    fn shared_domain_parse_never_panics(s in "\\PC{0,80}") {
        if let Ok(d) = SharedDomain::parse(&s) {
            prop_assert!(d.matches(d.name()));
            prop_assert!(psl_ok(d.name()));
        }
    }

    #[test]
    fn absolute_form_and_origin_never_panic(s in hostish(), method in prop_oneof![Just("GET"), Just("POST")]) {
        if let Ok(uri) = format!("http://{s}/").parse::<http::Uri>() {
            let req = Request::builder().uri(uri).header(HOST, "api.example.com").body(()).expect("req");
            let (status, host) = run(req);
            if status == StatusCode::OK {
                prop_assert!(in_domain(host.expect("host").as_str()));
            }
        }
        if let Ok(v) = HeaderValue::from_str(&format!("https://{s}")) {
            let origin = OriginGuardLayer::new(SharedDomain::parse("example.com").expect("domain"));
            let req = Request::builder().method(method).uri("/").header("origin", v).body(()).expect("req");
            let _ = origin.check(&req);
        }
    }
}

fn psl_ok(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.ends_with('.')
}
