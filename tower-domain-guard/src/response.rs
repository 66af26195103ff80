//! The response body and future shared by [`HostGuard`](crate::HostGuard) and
//! [`OriginGuard`](crate::OriginGuard), and the helpers that build rejection responses.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// Response body of the guard layers: either the inner service's body, untouched, or the
    /// short text of a rejection.
    ///
    /// It implements [`http_body::Body`] with the inner body's `Data` and `Error` types, so
    /// a guarded axum router, tonic server or plain hyper service keeps working without a
    /// `HandleErrorLayer` or a body conversion: tonic needs `Data = Bytes` and an error
    /// convertible to a boxed error, which holds whenever it holds for the inner body.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http_body_util::{BodyExt, Full};
    /// use tower_domain_guard::GuardBody;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let body: GuardBody<Full<Bytes>> = GuardBody::text("Misdirected Request\n");
    /// let bytes = body.collect().await.unwrap().to_bytes();
    /// assert_eq!(bytes, "Misdirected Request\n");
    /// # }
    /// ```
    pub struct GuardBody<B> {
        #[pin]
        kind: BodyKind<B>,
    }
}

pin_project! {
    #[project = BodyKindProj]
    enum BodyKind<B> {
        Inner { #[pin] body: B },
        // Boxed: rejection texts are rare, and keeping `GuardBody<B>` as small as `B` keeps
        // every accepted response as cheap to move as the inner one.
        Text { data: Option<Box<Bytes>> },
    }
}

impl<B> GuardBody<B> {
    /// Wraps the inner service's body.
    pub fn new(body: B) -> Self {
        Self {
            kind: BodyKind::Inner { body },
        }
    }

    /// A body made of the given bytes (a rejection text).
    pub fn text(data: impl Into<Bytes>) -> Self {
        let data: Bytes = data.into();
        Self {
            kind: BodyKind::Text {
                data: (!data.is_empty()).then(|| Box::new(data)),
            },
        }
    }

    /// An empty body.
    pub fn empty() -> Self {
        Self {
            kind: BodyKind::Text { data: None },
        }
    }
}

impl<B> Default for GuardBody<B> {
    fn default() -> Self {
        Self::empty()
    }
}

impl<B> fmt::Debug for GuardBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BodyKind::Inner { .. } => f.write_str("GuardBody::Inner"),
            BodyKind::Text { data } => f.debug_tuple("GuardBody::Text").field(data).finish(),
        }
    }
}

impl<B> Body for GuardBody<B>
where
    B: Body,
    B::Data: From<Bytes>,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.project().kind.project() {
            BodyKindProj::Inner { body } => body.poll_frame(cx),
            BodyKindProj::Text { data } => {
                Poll::Ready(data.take().map(|d| Ok(Frame::data(B::Data::from(*d)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            BodyKind::Inner { body } => body.is_end_stream(),
            BodyKind::Text { data } => data.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            BodyKind::Inner { body } => body.size_hint(),
            BodyKind::Text { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
        }
    }
}

pin_project! {
    /// Response future of [`HostGuard`](crate::HostGuard) and
    /// [`OriginGuard`](crate::OriginGuard): the inner service's future, or a ready rejection.
    pub struct ResponseFuture<F, B> {
        #[pin]
        kind: Kind<F, B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, B> {
        Future { #[pin] future: F },
        Rejected { response: Option<Response<GuardBody<B>>> },
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(crate) fn future(future: F) -> Self {
        Self {
            kind: Kind::Future { future },
        }
    }

    pub(crate) fn rejected(response: Response<GuardBody<B>>) -> Self {
        Self {
            kind: Kind::Rejected {
                response: Some(response),
            },
        }
    }
}

impl<F, B> fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Future { .. } => "Future",
            Kind::Rejected { .. } => "Rejected",
        };
        f.debug_struct("ResponseFuture")
            .field("kind", &kind)
            .finish()
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<GuardBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Future { future } => future
                .poll(cx)
                .map(|r| r.map(|res| res.map(GuardBody::new))),
            KindProj::Rejected { response } => {
                // Polled again after completion: answer 500 rather than panic.
                let res = response.take().unwrap_or_else(|| {
                    let mut r = Response::new(GuardBody::empty());
                    *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                    r
                });
                Poll::Ready(Ok(res))
            }
        }
    }
}

pub(crate) use crate::grpc::is_grpc;

/// A trailers-only gRPC error ([`crate::grpc::response`]) with an empty guard body.
pub(crate) fn grpc_response<B>(code: u8, message: &'static str) -> Response<GuardBody<B>> {
    crate::grpc::response(u16::from(code), message, GuardBody::empty())
}

/// A short `text/plain` response.
pub(crate) fn text_response<B>(status: StatusCode, body: Bytes) -> Response<GuardBody<B>> {
    let mut res = Response::new(GuardBody::text(body));
    *res.status_mut() = status;
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

/// A user-supplied `Response<Bytes>` turned into a guard response.
pub(crate) fn custom_response<B>(res: Response<Bytes>) -> Response<GuardBody<B>> {
    res.map(GuardBody::text)
}

/// Escapes and truncates an untrusted value for logging (log injection).
pub(crate) struct Escaped<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 80;
        let (shown, cut) = if self.0.len() > MAX {
            (&self.0[..MAX], true)
        } else {
            (self.0, false)
        };
        write!(f, "{}", shown.escape_ascii())?;
        if cut {
            write!(f, "...({} bytes)", self.0.len())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_truncates_and_escapes() {
        let s = Escaped(b"evil.com\r\nX-Injected: 1").to_string();
        assert_eq!(s, "evil.com\\r\\nX-Injected: 1");
        let long = vec![b'a'; 500];
        let s = Escaped(&long).to_string();
        assert!(s.len() < 120 && s.ends_with("(500 bytes)"));
    }
}
