//! Log injection: a rejected host reaches the logs escaped, truncated and only at `debug`,
//! whatever bytes it carries (C1 control characters, tabs, non-UTF-8, very long values).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use http::header::{HeaderValue, HOST};
use http::{Request, Response, StatusCode};
use tower::{service_fn, Layer, Service};
use tower_domain_guard::HostGuardLayer;
use tracing::Level;

/// Everything the subscriber writes, shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn bytes(&self) -> Vec<u8> {
        self.0.lock().expect("lock").clone()
    }
}

fn now<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("not ready"),
    }
}

/// Sends one request with this raw Host value through the guard, logging at `level`;
/// returns the status and what was logged.
fn guarded(host: &[u8], level: Level) -> (StatusCode, Vec<u8>) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let status = tracing::subscriber::with_default(subscriber, || {
        let mut svc = HostGuardLayer::for_domain(".example.com")
            .expect("domain")
            .layer(service_fn(|_req: Request<()>| async {
                Ok::<_, Infallible>(Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
            }));
        let mut req = Request::new(());
        req.headers_mut().insert(
            HOST,
            HeaderValue::from_bytes(host).expect("a value hyper would accept"),
        );
        now(svc.call(req)).expect("infallible").status()
    });
    (status, captured.bytes())
}

#[test]
fn hostile_hosts_are_logged_escaped_and_truncated_at_debug_only() {
    // C1 CSI (UTF-8 of U+009B) would start a terminal escape sequence; a tab and a fake
    // key=value pair try to forge fields; the tail makes it long.
    let mut host = b"evil.com\xc2\x9b31m\tforged=1 ".to_vec();
    host.extend(std::iter::repeat_n(b'a', 500));
    let (status, log) = guarded(&host, Level::DEBUG);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let text = String::from_utf8(log).expect("the log line is UTF-8");
    assert!(text.contains("rejected request host"), "{text}");
    assert!(text.contains(r"evil.com\xc2\x9b31m\tforged=1"), "{text}");
    assert!(text.contains(&format!("({} bytes)", host.len())), "{text}");
    assert!(!text.contains('\u{9b}') && !text.contains('\t'), "{text:?}");
    assert!(
        !text.contains(&"a".repeat(100)),
        "the value is truncated: {text}"
    );
    assert_eq!(text.lines().count(), 1, "one line per rejection: {text}");

    // Non-UTF-8 bytes are escaped too; a host outside the domain (421) is logged as well.
    let (status, log) = guarded(b"\xffevil.com", Level::DEBUG);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let text = String::from_utf8(log).expect("UTF-8");
    assert!(text.contains(r"\xffevil.com"), "{text}");
    let (status, log) = guarded(b"www.evil.com", Level::DEBUG);
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST);
    assert!(String::from_utf8_lossy(&log).contains("www.evil.com"));

    // At info, a flood of bad hosts writes nothing.
    let (status, log) = guarded(&host, Level::INFO);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(log.is_empty(), "{}", String::from_utf8_lossy(&log));
}
