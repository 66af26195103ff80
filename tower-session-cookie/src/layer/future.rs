use std::{
    future::Future,
    pin::Pin,
    task::{ready, Context, Poll},
};

use http::Response;
use pin_project_lite::pin_project;

use crate::tokens::SessionTokens;

pin_project! {
    /// Response future of [`SessionCookie`](super::SessionCookie): writes the recorded
    /// session changes into the inner service's response. When nothing was recorded the
    /// response passes through untouched (one atomic load).
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        tokens: Option<SessionTokens>,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, tokens: SessionTokens) -> Self {
        ResponseFuture {
            inner,
            tokens: Some(tokens),
        }
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<ResBody>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        if let Some(tokens) = this.tokens.take() {
            tokens.apply_to_response_headers(response.headers_mut());
        }
        Poll::Ready(Ok(response))
    }
}
