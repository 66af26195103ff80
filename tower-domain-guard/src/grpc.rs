//! The workspace's one gRPC status helper: how every layer of ours tells a gRPC call and
//! answers it with a trailers-only error. Public for the sibling crates, not API.

use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Response};

/// Whether the request is a gRPC call (`content-type: application/grpc…`).
#[inline]
pub fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"))
}

/// Writes a trailers-only gRPC error into `headers`: `content-type: application/grpc`,
/// `grpc-status: code`, `grpc-message: message`. `message` must be printable ASCII without
/// `%` (it is sent verbatim).
pub fn set_status(headers: &mut HeaderMap, code: u16, message: &'static str) {
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    headers.insert("grpc-status", HeaderValue::from(code));
    headers.insert("grpc-message", HeaderValue::from_static(message));
}

/// A trailers-only gRPC error: HTTP 200, `body` (normally empty), and the headers of
/// [`set_status`].
///
/// ```
/// let res = tower_domain_guard::grpc::response(16, "unauthenticated", ());
/// assert_eq!(res.status(), 200);
/// assert_eq!(res.headers()["grpc-status"], "16");
/// assert!(tower_domain_guard::grpc::is_grpc(res.headers()));
/// ```
pub fn response<B>(code: u16, message: &'static str, body: B) -> Response<B> {
    let mut res = Response::new(body);
    set_status(res.headers_mut(), code, message);
    res
}
