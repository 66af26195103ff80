//! The single-flight refresh: one refresh request at a time, its outcome shared with every
//! request that waited for it.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use http::{Request, Response, StatusCode};
use tower_service::Service;

use super::body::{drain, ReplayableBody};
use super::error::{BoxError, RefreshFailure};
use super::protocol::FRONT_TOKEN;
use super::state::Shared;

/// The outcome of one refresh, shared with every request that waited for it.
#[derive(Clone, Debug)]
pub(crate) enum RefreshOutcome {
    Refreshed,
    Expired,
    Failed(RefreshFailure),
}

/// Single flight: every request that saw token generation `seen_gen` and needs a refresh
/// waits for the same one; a request that arrives after the tokens changed just retries.
pub(crate) async fn refresh<S, B, ResB>(
    shared: &Arc<Shared>,
    svc: S,
    seen_gen: u64,
) -> RefreshOutcome
where
    S: Service<Request<B>, Response = Response<ResB>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: ReplayableBody,
    ResB: http_body::Body + Send + 'static,
{
    let epoch_before = shared.epoch.load(Ordering::Acquire);
    let mut last = shared.refresh_lock.lock().await;
    if shared.gen() != seen_gen {
        return if shared.exists() {
            RefreshOutcome::Refreshed
        } else {
            RefreshOutcome::Expired
        };
    }
    if shared.epoch.load(Ordering::Acquire) != epoch_before {
        if let Some(outcome) = last.clone() {
            return outcome;
        }
    }
    // We lead. Run the refresh on its own task when we can, so that a caller giving up
    // half-way does not lose the rotated tokens the server sends back.
    let task = run_refresh(shared.clone(), svc);
    let outcome = match tokio::runtime::Handle::try_current() {
        Ok(handle) => match handle.spawn(task).await {
            Ok(o) => o,
            Err(e) => RefreshOutcome::Failed(RefreshFailure::Transport(Arc::new(e))),
        },
        Err(_) => task.await,
    };
    *last = Some(outcome.clone());
    shared.epoch.fetch_add(1, Ordering::Release);
    outcome
}

async fn run_refresh<S, B, ResB>(shared: Arc<Shared>, mut svc: S) -> RefreshOutcome
where
    S: Service<Request<B>, Response = Response<ResB>>,
    S::Error: Into<BoxError>,
    B: ReplayableBody,
    ResB: http_body::Body,
{
    let Some((req, url)) = shared.refresh_request::<B>() else {
        return RefreshOutcome::Failed(RefreshFailure::Status(StatusCode::BAD_REQUEST));
    };
    shared.refreshes.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(target: "tower_session_client", "refreshing the session");
    let transport = |e: S::Error| {
        let e: BoxError = e.into();
        RefreshOutcome::Failed(RefreshFailure::Transport(Arc::from(e)))
    };
    if let Err(e) = std::future::poll_fn(|cx| svc.poll_ready(cx)).await {
        return transport(e);
    }
    let resp = match svc.call(req).await {
        Ok(r) => r,
        Err(e) => return transport(e),
    };
    let has_front = resp
        .headers()
        .get(FRONT_TOKEN)
        .is_some_and(|v| v.as_bytes() != b"remove");
    shared.absorb(resp.headers(), &url);
    let status = resp.status();
    drain(resp.into_body()).await;
    if status.is_success() {
        if has_front {
            RefreshOutcome::Refreshed
        } else {
            RefreshOutcome::Failed(RefreshFailure::MissingFrontToken)
        }
    } else if status == shared.config.session_expired_status || !shared.exists() {
        tracing::debug!(target: "tower_session_client", %status, "session ended");
        shared.clear();
        RefreshOutcome::Expired
    } else {
        tracing::debug!(target: "tower_session_client", %status, "refresh failed; session kept");
        RefreshOutcome::Failed(RefreshFailure::Status(status))
    }
}
