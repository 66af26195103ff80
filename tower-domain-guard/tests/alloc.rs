//! Heap allocation checks with dhat (testing mode). Runs without the libtest harness so
//! that no other thread allocates while we measure.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use http::header::HOST;
use http::{Request, Response, Version};
use tower::{service_fn, Layer, Service};
use tower_domain_guard::{HostGuardLayer, OriginGuardLayer, PeerAddr, SharedDomain};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn blocks() -> u64 {
    dhat::HeapStats::get().total_blocks
}

/// Allocated blocks while running `f`.
fn count<T>(f: impl FnOnce() -> T) -> (u64, T) {
    let before = blocks();
    let out = std::hint::black_box(f());
    (blocks() - before, out)
}

fn poll_ready_now<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("future not ready"),
    }
}

/// Blocks allocated by one accepted `GET /` for `api.example.com` through `svc` (the
/// request is built before counting, the response dropped after).
fn accepted_call_blocks<S, B>(svc: &mut S) -> u64
where
    S: Service<Request<()>, Response = Response<B>>,
    S::Error: std::fmt::Debug,
{
    let req = Request::builder()
        .uri("/")
        .header(HOST, "api.example.com")
        .body(())
        .expect("req");
    let before = blocks();
    let res = poll_ready_now(svc.call(req)).expect("response");
    let call_blocks = blocks() - before;
    assert!(res.status().is_success());
    drop(res);
    call_blocks
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();

    let domain = SharedDomain::parse(".example.com").expect("domain");
    let layer = HostGuardLayer::new(domain.clone())
        .allow_host("127.0.0.1")
        .expect("host")
        .allow_ports([443, 8443])
        .trust_forwarded_when(|ext| ext.get::<PeerAddr>().is_some());
    let origin = OriginGuardLayer::new(domain.clone())
        .trust_origin("https://partner.io")
        .expect("origin");

    // SharedDomain::matches
    for host in [
        "example.com",
        "API.example.com:8443",
        "a.b.c.example.com.",
        "badexample.com",
        "evil.com/.example.com",
    ] {
        let (n, _) = count(|| domain.matches(std::hint::black_box(host)));
        dhat::assert_eq!(n, 0);
    }

    // The guard's effective-host decision and matching, accept path, ASCII hosts.
    let h1 = Request::builder()
        .uri("/")
        .header(HOST, "Api.Example.com:8443")
        .body(())
        .expect("req");
    let absolute = Request::builder()
        .uri("http://api.example.com/x")
        .header(HOST, "api.example.com")
        .body(())
        .expect("req");
    let h2 = Request::builder()
        .version(Version::HTTP_2)
        .uri("https://api.example.com/")
        .header(HOST, "api.example.com")
        .body(())
        .expect("req");
    let ip = Request::builder()
        .uri("/")
        .header(HOST, "127.0.0.1")
        .body(())
        .expect("req");
    let mut fwd = Request::builder()
        .uri("/")
        .header(HOST, "internal")
        .header("forwarded", "for=1.2.3.4;host=\"www.example.com\"")
        .body(())
        .expect("req");
    fwd.extensions_mut()
        .insert(PeerAddr("127.0.0.1:1".parse().expect("addr")));
    for req in [&h1, &absolute, &h2, &ip, &fwd] {
        let (n, r) = count(|| layer.check(req));
        assert!(r.is_ok());
        dhat::assert_eq!(n, 0);
    }

    // The origin decision, accept path.
    let post = Request::builder()
        .method("POST")
        .uri("/")
        .header(HOST, "api.example.com")
        .header("origin", "https://www.example.com")
        .header("sec-fetch-site", "same-site")
        .body(())
        .expect("req");
    let (n, r) = count(|| origin.check(&post));
    assert!(r.is_ok());
    dhat::assert_eq!(n, 0);

    // The whole service call on the accept path: what allocates is only http's Extensions
    // map on first insert (map + table + boxed value); the EffectiveHost keeps hosts of up
    // to 48 bytes inline, and nothing in the matching allocates. Measured and bounded here.
    let mut svc = layer.layer(service_fn(|_req: Request<()>| async {
        Ok::<_, Infallible>(Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
    }));
    let call_blocks = accepted_call_blocks(&mut svc);
    println!("alloc: full HostGuard call on the accept path allocated {call_blocks} blocks");
    dhat::assert!(call_blocks <= 3);

    // With the EffectiveHost extension turned off the accept path allocates nothing at all.
    let mut svc = HostGuardLayer::new(domain.clone())
        .effective_host_extension(false)
        .layer(service_fn(|req: Request<()>| async move {
            assert!(req.extensions().is_empty(), "no EffectiveHost was inserted");
            Ok::<_, Infallible>(Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
        }));
    let call_blocks = accepted_call_blocks(&mut svc);
    println!("alloc: HostGuard without the extension allocated {call_blocks} blocks");
    dhat::assert_eq!(call_blocks, 0);

    println!("alloc: ok (matching and effective-host decision allocate nothing)");
}
