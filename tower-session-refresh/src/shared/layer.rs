//! [`SharedSessionLayer`]: the whole server-side stack as one layer, and [`SdkRoutes`],
//! the SDK's own routes answered inside it.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use pin_project_lite::pin_project;
use tower_domain_guard::{
    EffectiveHost, GuardBody, HostGuard, HostGuardLayer, OriginGuard, OriginGuardLayer,
};
use tower_http::cors::{Cors, CorsLayer};
use tower_layer::Layer;
use tower_service::Service;
use tower_session_cookie::{SessionCookie, SessionCookieLayer};

use crate::jwks::{JwksService, OpenIdDiscoveryService};
use crate::session::{JsonBody, RefreshService, SignOutService};

/// The service [`SharedSessionLayer`] makes: host guard, CORS, origin guard, cookie layer
/// and the SDK's routes, outermost first, around `S`.
pub type SharedSessionService<S> = HostGuard<Cors<OriginGuard<SessionCookie<SdkRoutes<S>>>>>;

/// One tower layer for the whole service ([`SharedSession::layer`](super::SharedSession::layer)),
/// for axum's `Router::layer`, tonic's `Server::layer` or around a hyper `service_fn`.
///
/// In this fixed order, outermost first: [`HostGuardLayer`] (421 outside the shared
/// domain), [`CorsLayer`] for the website origin (credentials, the SDK's headers), the
/// [`OriginGuardLayer`] (403 for state-changing requests from outside), the
/// [`SessionCookieLayer`] (the `SessionTokens` handle), then [`SdkRoutes`]: the SDK's
/// `{base}/session/refresh`, `{base}/signout` and `{base}/jwt/jwks.json` on the API domain.
/// Every other request reaches the inner service.
#[derive(Clone)]
pub struct SharedSessionLayer {
    pub(crate) host_guard: HostGuardLayer,
    pub(crate) cors: CorsLayer,
    pub(crate) origin_guard: OriginGuardLayer,
    pub(crate) cookies: SessionCookieLayer,
    pub(crate) sdk: SdkRoutesLayer,
}

impl fmt::Debug for SharedSessionLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedSessionLayer")
            .field("host_guard", &self.host_guard)
            .field("sdk", &self.sdk)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for SharedSessionLayer {
    type Service = SharedSessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        let inner = self.sdk.layer(inner);
        let inner = self.cookies.layer(inner);
        let inner = self.origin_guard.layer(inner);
        let inner = self.cors.layer(inner);
        self.host_guard.layer(inner)
    }
}

/// The SDK's routes and where they are answered.
pub(crate) struct Routes {
    /// The API domain's host (no port): refresh and sign-out only there.
    pub(crate) api_host: String,
    /// Hosts given with `allow_host`: the JWKS there too (internal callers by IP).
    pub(crate) jwks_hosts: Vec<String>,
    pub(crate) refresh: RefreshService,
    pub(crate) signout: SignOutService,
    pub(crate) jwks: JwksService,
    /// `{base}/.well-known/openid-configuration`, where the JWKS is answered.
    pub(crate) discovery: OpenIdDiscoveryService,
}

/// The layer of [`SdkRoutes`] (inside [`SharedSessionLayer`]); without routes (a
/// verify-only server) every request passes through.
#[derive(Clone, Default)]
pub struct SdkRoutesLayer {
    pub(crate) routes: Option<Arc<Routes>>,
}

impl fmt::Debug for SdkRoutesLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.routes {
            Some(r) => f
                .debug_struct("SdkRoutesLayer")
                .field("api_host", &r.api_host)
                .field("refresh", &r.refresh.path())
                .field("jwks", &r.jwks.path())
                .finish_non_exhaustive(),
            None => f.write_str("SdkRoutesLayer(none)"),
        }
    }
}

impl<S> Layer<S> for SdkRoutesLayer {
    type Service = SdkRoutes<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SdkRoutes {
            inner,
            routes: self.routes.clone(),
        }
    }
}

/// Answers the SDK's refresh, sign-out and JWKS routes on the API domain, as SuperTokens'
/// `middleware()` does; everything else goes to the inner service. Reads the host from the
/// [`EffectiveHost`] the host guard put in the request, and the tokens through the
/// `SessionTokens` handle (the services never parse `Cookie` themselves).
#[derive(Clone)]
pub struct SdkRoutes<S> {
    inner: S,
    routes: Option<Arc<Routes>>,
}

impl<S: fmt::Debug> fmt::Debug for SdkRoutes<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SdkRoutes")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

enum Route {
    Refresh,
    SignOut,
    Jwks,
    Discovery,
}

impl Routes {
    fn route<B>(&self, request: &Request<B>) -> Option<Route> {
        let path = request.uri().path();
        // Cheap first: most requests are not under the base path at all.
        let which = if path == self.refresh.path() {
            Route::Refresh
        } else if path == self.signout.path() {
            Route::SignOut
        } else if path == self.jwks.path() {
            Route::Jwks
        } else if path == self.discovery.path() {
            Route::Discovery
        } else {
            return None;
        };
        let host = request.extensions().get::<EffectiveHost>()?.as_str();
        let on_api = host == self.api_host;
        match which {
            Route::Jwks | Route::Discovery
                if on_api || self.jwks_hosts.iter().any(|h| h == host) =>
            {
                Some(which)
            }
            Route::Refresh | Route::SignOut if on_api => Some(which),
            _ => None,
        }
    }
}

type JsonFuture = Pin<Box<dyn Future<Output = Result<Response<JsonBody>, Infallible>> + Send>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SdkRoutes<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ReqBody: Send + 'static,
{
    type Response = Response<GuardBody<ResBody>>;
    type Error = S::Error;
    type Future = SdkFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let Some(routes) = &self.routes else {
            return SdkFuture::inner(self.inner.call(request));
        };
        // The SDK services are always ready (`poll_ready` is `Ready(Ok)`); they are cheap
        // clones of an `Arc`.
        match routes.route(&request) {
            None => SdkFuture::inner(self.inner.call(request)),
            Some(Route::Refresh) => SdkFuture::json(routes.refresh.clone().call(request)),
            Some(Route::SignOut) => SdkFuture::json(routes.signout.clone().call(request)),
            // Both answer at once (a ready future and a one-frame body).
            Some(Route::Jwks) => ready_now(routes.jwks.clone().call(request)),
            Some(Route::Discovery) => ready_now(routes.discovery.clone().call(request)),
        }
    }
}

/// The answer of `JwksService` or `OpenIdDiscoveryService`, whose futures are ready.
fn ready_now<F, Fut>(call: Fut) -> SdkFuture<F>
where
    Fut: Future<Output = Result<Response<crate::jwks::JwksBody>, Infallible>>,
{
    match poll_now(call) {
        Some(Ok(response)) => {
            let (parts, body) = response.into_parts();
            SdkFuture::ready(parts, body_bytes(body))
        }
        Some(Err(never)) => match never {},
        None => unreachable_pending(),
    }
}

/// `JwksService`'s future is `Ready`; should that ever change, answer 503 rather than hang.
fn unreachable_pending<F>() -> SdkFuture<F> {
    let mut response = Response::new(());
    *response.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
    let (parts, ()) = response.into_parts();
    SdkFuture::ready(parts, Bytes::new())
}

/// Polls a future that is known to be ready once.
fn poll_now<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    match fut
        .as_mut()
        .poll(&mut Context::from_waker(std::task::Waker::noop()))
    {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

/// The bytes of a one-frame, infallible, always-ready body (`JsonBody`, `JwksBody`).
fn body_bytes<B: Body<Data = Bytes, Error = Infallible>>(body: B) -> Bytes {
    let mut body = std::pin::pin!(body);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let mut out = Vec::new();
    while let Poll::Ready(Some(Ok(frame))) = body.as_mut().poll_frame(&mut cx) {
        if let Ok(data) = frame.into_data() {
            if out.is_empty() && body.is_end_stream() {
                return data;
            }
            out.extend_from_slice(&data);
        }
    }
    Bytes::from(out)
}

pin_project! {
    /// Response future of [`SdkRoutes`].
    pub struct SdkFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        Inner { #[pin] future: F },
        Json { future: JsonFuture },
        Ready { answer: Option<(http::response::Parts, Bytes)> },
    }
}

impl<F> SdkFuture<F> {
    fn inner(future: F) -> Self {
        Self {
            kind: Kind::Inner { future },
        }
    }
    fn json(future: JsonFuture) -> Self {
        Self {
            kind: Kind::Json { future },
        }
    }
    fn ready(parts: http::response::Parts, body: Bytes) -> Self {
        Self {
            kind: Kind::Ready {
                answer: Some((parts, body)),
            },
        }
    }
}

impl<F> fmt::Debug for SdkFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SdkFuture")
    }
}

impl<F, B, E> Future for SdkFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<GuardBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { future } => future
                .poll(cx)
                .map(|r| r.map(|response| response.map(GuardBody::new))),
            KindProj::Json { future } => future.as_mut().poll(cx).map(|r| match r {
                Ok(response) => {
                    let (parts, body) = response.into_parts();
                    Ok(Response::from_parts(
                        parts,
                        GuardBody::text(body_bytes(body)),
                    ))
                }
                Err(never) => match never {},
            }),
            KindProj::Ready { answer } => match answer.take() {
                Some((parts, body)) => {
                    Poll::Ready(Ok(Response::from_parts(parts, GuardBody::text(body))))
                }
                // Polled after completion: a contract violation of the caller.
                None => Poll::Pending,
            },
        }
    }
}
