//! Response bodies: [`SessionBody`] (the inner service's body or a short JSON answer) and
//! [`JsonBody`] (the refresh and sign-out services' own answers).

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tower_domain_guard::GuardBody;

/// Response body of [`RequireSession`](super::RequireSession): the inner service's body,
/// untouched, or the small JSON body of a rejection.
///
/// The same body type as the guard layers' ([`GuardBody`]), so a stack of guard and session
/// layers has one body wrapper per layer and nothing to convert. It has the inner body's
/// `Data` and `Error` types, so the layer stacks in axum, tonic (`Data = Bytes`) and hyper
/// without a body conversion or a `HandleErrorLayer`.
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::{BodyExt, Full};
/// use tower_session_refresh::session::SessionBody;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let body: SessionBody<Full<Bytes>> = SessionBody::text(r#"{"message":"unauthorised"}"#);
/// let bytes = body.collect().await.unwrap().to_bytes();
/// assert_eq!(bytes, r#"{"message":"unauthorised"}"#);
/// # }
/// ```
pub type SessionBody<B> = GuardBody<B>;

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
