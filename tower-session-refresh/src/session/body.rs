//! Response bodies: [`SessionBody`] (the inner service's body or a short JSON answer) and
//! [`JsonBody`] (the refresh and sign-out services' own answers).

use std::convert::Infallible;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// Response body of [`RequireSession`](super::RequireSession): the inner service's body,
    /// untouched, or the small JSON body of a rejection.
    ///
    /// It has the inner body's `Data` and `Error` types, so the layer stacks in axum, tonic
    /// (`Data = Bytes`) and hyper without a body conversion or a `HandleErrorLayer`.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http_body_util::{BodyExt, Full};
    /// use tower_session_refresh::session::SessionBody;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let body: SessionBody<Full<Bytes>> = SessionBody::bytes(r#"{"message":"unauthorised"}"#);
    /// let bytes = body.collect().await.unwrap().to_bytes();
    /// assert_eq!(bytes, r#"{"message":"unauthorised"}"#);
    /// # }
    /// ```
    pub struct SessionBody<B> {
        #[pin]
        kind: BodyKind<B>,
    }
}

pin_project! {
    #[project = BodyKindProj]
    enum BodyKind<B> {
        Inner { #[pin] body: B },
        Bytes { data: Option<Bytes> },
    }
}

impl<B> SessionBody<B> {
    /// Wraps the inner service's body.
    pub fn new(body: B) -> Self {
        Self {
            kind: BodyKind::Inner { body },
        }
    }

    /// A body made of the given bytes.
    pub fn bytes(data: impl Into<Bytes>) -> Self {
        let data: Bytes = data.into();
        Self {
            kind: BodyKind::Bytes {
                data: (!data.is_empty()).then_some(data),
            },
        }
    }

    /// An empty body.
    pub fn empty() -> Self {
        Self {
            kind: BodyKind::Bytes { data: None },
        }
    }
}

impl<B> Default for SessionBody<B> {
    fn default() -> Self {
        Self::empty()
    }
}

impl<B> fmt::Debug for SessionBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BodyKind::Inner { .. } => f.write_str("SessionBody::Inner"),
            BodyKind::Bytes { data } => f.debug_tuple("SessionBody::Bytes").field(data).finish(),
        }
    }
}

impl<B> Body for SessionBody<B>
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
            BodyKindProj::Bytes { data } => {
                Poll::Ready(data.take().map(|d| Ok(Frame::data(B::Data::from(d)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            BodyKind::Inner { body } => body.is_end_stream(),
            BodyKind::Bytes { data } => data.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            BodyKind::Inner { body } => body.size_hint(),
            BodyKind::Bytes { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
        }
    }
}

/// The body of the [`RefreshService`](super::RefreshService) and
/// [`SignOutService`](super::SignOutService) answers: a few bytes of JSON, never an error.
///
/// ```
/// use http_body_util::BodyExt;
/// use tower_session_refresh::session::JsonBody;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let bytes = JsonBody::new("{}").collect().await.unwrap().to_bytes();
/// assert_eq!(bytes, "{}");
/// # }
/// ```
#[derive(Debug, Default, Clone)]
pub struct JsonBody {
    data: Option<Bytes>,
}

impl JsonBody {
    /// A body with these bytes.
    pub fn new(data: impl Into<Bytes>) -> Self {
        let data: Bytes = data.into();
        Self {
            data: (!data.is_empty()).then_some(data),
        }
    }
}

impl Body for JsonBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.data.take().map(|d| Ok(Frame::data(d))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}
