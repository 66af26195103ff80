use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use super::{ResponseFuture, SessionCookieLayer};
use crate::{config::SessionCookieConfig, tokens::SessionTokens};

/// Middleware that reads session tokens into a [`SessionTokens`] request extension and
/// writes the handle's recorded changes to the response. Keeps the inner service's error
/// type; bad input never produces an error or a rejection, only absent tokens.
///
/// ```
/// use std::convert::Infallible;
/// use http::{header, Request, Response};
/// use tower::{service_fn, ServiceExt};
/// use tower_session_cookie::{SessionCookie, SessionCookieConfig, SessionTokens, TransferMethod};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = SessionCookieConfig::builder()
///     .api_domain("https://api.example.com")
///     .website_domain("https://www.example.com")
///     .build()?;
/// let service = SessionCookie::new(
///     service_fn(|request: Request<()>| async move {
///         let tokens = request.extensions().get::<SessionTokens>().cloned();
///         if let Some(tokens) = tokens {
///             tokens.set_access_token(TransferMethod::Cookie, "new.access.token".into());
///         }
///         Ok::<_, Infallible>(Response::new(()))
///     }),
///     config,
/// );
/// let response = service.oneshot(Request::new(())).await?;
/// let set_cookie = response.headers()[header::SET_COOKIE].to_str()?;
/// assert!(set_cookie.starts_with("sAccessToken=new.access.token; Path=/; Expires="));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct SessionCookie<S> {
    inner: S,
    config: SessionCookieConfig,
}

impl<S> SessionCookie<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, config: SessionCookieConfig) -> Self {
        SessionCookie { inner, config }
    }

    /// A [`SessionCookieLayer`] with this configuration.
    pub fn layer(config: SessionCookieConfig) -> SessionCookieLayer {
        SessionCookieLayer::new(config)
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionCookie<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let tokens = SessionTokens::from_request_headers(
            &self.config,
            request.uri().path(),
            request.headers(),
        );
        let extensions = request.extensions_mut();
        if extensions.is_empty() {
            *extensions = self.config.inner.presized_extensions.clone();
        }
        extensions.insert(tokens.clone());
        ResponseFuture::new(self.inner.call(request), tokens)
    }
}
