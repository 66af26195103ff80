//! Request bodies the client layer can keep and send again after a refresh.

use std::convert::Infallible;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::{BoxBody, UnsyncBoxBody};
use http_body_util::{BodyExt, Empty, Full};

/// A request body type the client layer can rebuild, so a request can be sent a second
/// time after a refresh (the approach of tower-http's `follow_redirect`, which keeps the
/// caller's body type instead of changing it).
///
/// The layer reads what the body has *ready* (without waiting), up to the configured
/// [replay limit](super::ClientConfigBuilder::replay_limit). If the body ended, the bytes are
/// kept and every attempt gets [`from_bytes`](Self::from_bytes). If the body is still
/// streaming (or too large), the request is sent once: types that can hold an arbitrary
/// stream rebuild "what was read + the rest" with [`stream_wrapper`](Self::stream_wrapper);
/// other types are only read when their size hint promises they fit.
///
/// Implemented for [`Full<Bytes>`], [`Empty<Bytes>`], [`String`], [`BoxBody`] and
/// [`UnsyncBoxBody`] (with `Bytes` data), and `tonic::body::Body` when the crate's `tonic`
/// dependency is enabled. Trailers of a replayed request body are not kept.
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use tower_session_client::ReplayableBody;
///
/// let body = <Full<Bytes> as ReplayableBody>::from_bytes(Bytes::from_static(b"{}"));
/// # drop(body);
/// ```
pub trait ReplayableBody: Body<Data = Bytes> + Send + Unpin + Sized + 'static {
    /// A body that yields exactly `bytes`.
    fn from_bytes(bytes: Bytes) -> Self;

    /// For types that can wrap any body: a function building a body that yields `prefix`
    /// and then the rest of `rest`. `None` (the default) for types that cannot.
    fn stream_wrapper() -> Option<fn(Bytes, Self) -> Self> {
        None
    }
}

impl ReplayableBody for Full<Bytes> {
    fn from_bytes(bytes: Bytes) -> Self {
        Full::new(bytes)
    }
}

impl ReplayableBody for Empty<Bytes> {
    /// Only ever called with the (empty) content of an `Empty`.
    fn from_bytes(_bytes: Bytes) -> Self {
        Empty::new()
    }
}

impl ReplayableBody for String {
    fn from_bytes(bytes: Bytes) -> Self {
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl<E: 'static> ReplayableBody for BoxBody<Bytes, E> {
    fn from_bytes(bytes: Bytes) -> Self {
        BoxBody::new(Full::new(bytes).map_err(|never: Infallible| match never {}))
    }

    fn stream_wrapper() -> Option<fn(Bytes, Self) -> Self> {
        Some(|prefix, rest| BoxBody::new(Prefixed::new(prefix, rest)))
    }
}

impl<E: 'static> ReplayableBody for UnsyncBoxBody<Bytes, E> {
    fn from_bytes(bytes: Bytes) -> Self {
        UnsyncBoxBody::new(Full::new(bytes).map_err(|never: Infallible| match never {}))
    }

    fn stream_wrapper() -> Option<fn(Bytes, Self) -> Self> {
        Some(|prefix, rest| UnsyncBoxBody::new(Prefixed::new(prefix, rest)))
    }
}

#[cfg(feature = "tonic")]
impl ReplayableBody for tonic::body::Body {
    fn from_bytes(bytes: Bytes) -> Self {
        tonic::body::Body::new(Full::new(bytes))
    }

    fn stream_wrapper() -> Option<fn(Bytes, Self) -> Self> {
        Some(|prefix, rest| tonic::body::Body::new(Prefixed::new(prefix, rest)))
    }
}

pin_project_lite::pin_project! {
    /// `prefix`, then the frames of `rest`.
    struct Prefixed<B> {
        prefix: Option<Bytes>,
        #[pin]
        rest: B,
    }
}

impl<B> Prefixed<B> {
    fn new(prefix: Bytes, rest: B) -> Self {
        Self {
            prefix: (!prefix.is_empty()).then_some(prefix),
            rest,
        }
    }
}

impl<B: Body<Data = Bytes>> Body for Prefixed<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.project();
        if let Some(prefix) = this.prefix.take() {
            return Poll::Ready(Some(Ok(Frame::data(prefix))));
        }
        this.rest.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_none() && self.rest.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let extra = self.prefix.as_ref().map_or(0, |p| p.len() as u64);
        let inner = self.rest.size_hint();
        let mut hint = SizeHint::new();
        hint.set_lower(inner.lower().saturating_add(extra));
        if let Some(upper) = inner.upper() {
            hint.set_upper(upper.saturating_add(extra));
        }
        hint
    }
}

/// Why a request was sent only once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotReplayableReason {
    /// The body was still streaming when the request was sent (its data was not all
    /// available at once), so it cannot be sent again.
    StreamingBody,
    /// The body is larger than the configured replay limit.
    OverLimit {
        /// The configured limit, in bytes.
        limit: usize,
    },
}

impl fmt::Display for NotReplayableReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::StreamingBody => f.write_str(
                "the request body is a stream, so the request could not be sent again after the session was refreshed; send it again yourself (the session is refreshed)",
            ),
            Self::OverLimit { limit } => write!(
                f,
                "the request body is larger than the replay limit ({limit} bytes), so the request could not be sent again after the session was refreshed; send it again yourself or raise `replay_limit`"
            ),
        }
    }
}

/// The request body, prepared for one or more attempts.
pub(crate) enum Prepared<B> {
    /// Complete and small: every attempt gets a fresh copy.
    Replayable(Bytes),
    /// Sent once (`None` once taken).
    Once(Option<B>, NotReplayableReason),
}

impl<B: ReplayableBody> Prepared<B> {
    /// The body for the next attempt, if there is one.
    pub(crate) fn next(&mut self) -> Option<B> {
        match self {
            Self::Replayable(bytes) => Some(B::from_bytes(bytes.clone())),
            Self::Once(body, _) => body.take(),
        }
    }

    pub(crate) fn refusal(&self) -> Option<NotReplayableReason> {
        match self {
            Self::Replayable(_) => None,
            Self::Once(_, reason) => Some(*reason),
        }
    }
}

/// Reads what `body` has ready, up to `limit` bytes (see [`ReplayableBody`]).
pub(crate) async fn prepare<B>(mut body: B, limit: usize) -> Result<Prepared<B>, B::Error>
where
    B: ReplayableBody,
{
    if body.is_end_stream() || body.size_hint().exact() == Some(0) {
        return Ok(Prepared::Replayable(Bytes::new()));
    }
    let hint = body.size_hint();
    let fits = hint.upper().is_some_and(|u| u <= limit as u64);
    let too_big = hint.lower() > limit as u64;
    let wrapper = B::stream_wrapper();
    if too_big {
        return Ok(Prepared::Once(
            Some(body),
            NotReplayableReason::OverLimit { limit },
        ));
    }
    match wrapper {
        Some(wrap) => {
            // Read only what is ready now: never wait for a stream the caller may still
            // be producing (a bidi gRPC call would deadlock).
            let mut buf = BytesMut::new();
            loop {
                let polled =
                    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut body).poll_frame(cx)))
                        .await;
                match polled {
                    Poll::Ready(None) => return Ok(Prepared::Replayable(buf.freeze())),
                    Poll::Ready(Some(Err(e))) => return Err(e),
                    Poll::Ready(Some(Ok(frame))) => {
                        if let Ok(mut data) = frame.into_data() {
                            buf.extend_from_slice(&data.copy_to_bytes(data.remaining()));
                        }
                        if buf.len() > limit {
                            let body = wrap(buf.freeze(), body);
                            return Ok(Prepared::Once(
                                Some(body),
                                NotReplayableReason::OverLimit { limit },
                            ));
                        }
                        if body.is_end_stream() {
                            return Ok(Prepared::Replayable(buf.freeze()));
                        }
                    }
                    Poll::Pending => {
                        let body = wrap(buf.freeze(), body);
                        return Ok(Prepared::Once(
                            Some(body),
                            NotReplayableReason::StreamingBody,
                        ));
                    }
                }
            }
        }
        None if fits => {
            // The size hint bounds it: read it whole.
            let bytes = body.collect().await?.to_bytes();
            Ok(Prepared::Replayable(bytes))
        }
        None => {
            let reason = if hint.upper().is_some() {
                NotReplayableReason::OverLimit { limit }
            } else {
                NotReplayableReason::StreamingBody
            };
            Ok(Prepared::Once(Some(body), reason))
        }
    }
}

/// Reads and drops up to 64 KiB of a response body we are not returning, so an HTTP/1
/// connection can be reused.
pub(crate) async fn drain<B: Body>(body: B) {
    let mut body = std::pin::pin!(body);
    let mut seen = 0usize;
    while seen < 64 * 1024 {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    seen += data.remaining();
                }
            }
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn full_is_replayable() {
        let p = prepare(Full::new(Bytes::from_static(b"hello")), 16)
            .await
            .ok();
        assert!(matches!(p, Some(Prepared::Replayable(b)) if b == "hello"));
    }

    #[tokio::test]
    async fn full_over_limit_is_sent_once() {
        let p = prepare(Full::new(Bytes::from_static(b"hello")), 4)
            .await
            .ok();
        assert!(matches!(
            p,
            Some(Prepared::Once(
                Some(_),
                NotReplayableReason::OverLimit { limit: 4 }
            ))
        ));
    }

    #[tokio::test]
    async fn boxed_stream_that_is_not_ready_is_sent_once_and_keeps_its_bytes() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, Infallible>>(4);
        tx.send(Ok(Frame::data(Bytes::from_static(b"ab"))))
            .await
            .ok();
        let stream = http_body_util::StreamBody::new(ReceiverStream(rx));
        let body: UnsyncBoxBody<Bytes, Infallible> = UnsyncBoxBody::new(stream);
        let p = prepare(body, 1024).await.ok();
        let Some(Prepared::Once(Some(body), NotReplayableReason::StreamingBody)) = p else {
            panic!("expected a once-only body");
        };
        tx.send(Ok(Frame::data(Bytes::from_static(b"cd"))))
            .await
            .ok();
        drop(tx);
        let all = body.collect().await.map(|c| c.to_bytes()).ok();
        assert_eq!(all.as_deref(), Some(&b"abcd"[..]));
    }

    struct ReceiverStream<T>(tokio::sync::mpsc::Receiver<T>);
    impl<T> futures_util::Stream for ReceiverStream<T> {
        type Item = T;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
            self.0.poll_recv(cx)
        }
    }
}
