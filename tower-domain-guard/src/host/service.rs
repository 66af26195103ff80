//! [`HostGuard`]: the service that decides each request's host before the inner service
//! sees it.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::decide::HostConfig;
use super::{EffectiveHost, HostGuardLayer, HostRejection};
use crate::response::{self, Escaped, GuardBody, ResponseFuture};

/// Middleware that rejects requests whose host lies outside the shared domain. Built by
/// [`HostGuardLayer`].
#[derive(Clone, Debug)]
pub struct HostGuard<S> {
    pub(super) inner: S,
    pub(super) config: Arc<HostConfig>,
}

impl<S> HostGuard<S> {
    /// Wraps `inner` with the configuration of `layer`.
    pub fn new(inner: S, layer: &HostGuardLayer) -> Self {
        layer.layer(inner)
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes the guard, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HostGuard<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<GuardBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let effective = match self.config.decide(&req) {
            Ok(c) if self.config.record_host => {
                Ok(Some(EffectiveHost::new(&c.name, c.lowercase, c.port)))
            }
            Ok(_) => Ok(None),
            Err(r) => {
                tracing::debug!(
                    host = %Escaped(r.value),
                    reason = %r.kind,
                    "tower_domain_guard: rejected request host"
                );
                Err(HostRejection::new(r.kind, response::is_grpc(req.headers())))
            }
        };
        match effective {
            Ok(host) => {
                if let Some(host) = host {
                    let ext = req.extensions_mut();
                    if ext.is_empty() {
                        *ext = self.config.presized.clone();
                    }
                    ext.insert(host);
                }
                ResponseFuture::future(self.inner.call(req))
            }
            Err(rejection) => ResponseFuture::rejected(self.config.rejection_response(rejection)),
        }
    }
}
