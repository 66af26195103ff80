//! The client side of a SuperTokens-compatible session: what `supertokens-website` does
//! in the browser, as a tower layer for Rust callers (a hyper-util client, a tonic `Channel`, any
//! `Service<http::Request<B>>`).
//!
//! # Overview
//!
//! [`SessionClientLayer`] keeps one login session and wraps a service with it:
//!
//! - **Scope.** The session is attached only to requests whose host is the API domain's
//!   host or lies inside the [`SharedDomain`] (the SDK's `sessionTokenBackendDomain` rule:
//!   the apex and any subdomain on a label boundary; port and scheme ignored). Any other
//!   request passes through untouched, and its response is not read. The layer does not
//!   follow redirects: put a redirect-following layer *outside* it, so every hop is
//!   decided again (a redirect to another domain never carries the session).
//! - **Both transfer methods.** Header mode sends `Authorization: Bearer <access token>`
//!   and reads `st-access-token` / `st-refresh-token`; cookie mode keeps a real cookie jar
//!   ([`cookie_store`], honouring `Domain`, `Path`, `Secure`, expiry) for the in-scope
//!   hosts only. Every in-scope request carries `rid`, `st-auth-mode` and, when the server
//!   issued one, `anti-csrf`, as the SDK sends them; tokens are marked sensitive.
//! - **Refresh.** Before sending, when the `front-token`'s `ate` has passed (clock skew
//!   estimated from the token's `iat`, plus an optional
//!   [margin](ClientConfigBuilder::expiry_margin)); and after a 401 (or a gRPC
//!   `grpc-status: 16`, UNAUTHENTICATED) from an in-scope host. One refresh at a time: every
//!   request that needs it waits for the same one, then is sent again once.
//! - **Replay.** Bodies that are empty, `Full`, or complete and under the
//!   [replay limit](ClientConfigBuilder::replay_limit) are resent; a streaming body is not,
//!   and the caller gets [`ClientError::NotReplayable`] (or the 401 with a
//!   [`SessionNotice`]) saying so. See [`ReplayableBody`].
//! - **Failures.** A refresh answered with 401 clears the session:
//!   [`ClientError::SessionExpired`] (or the 401, see [`SessionErrorMode`]). A refresh that
//!   fails on the network or with a 5xx keeps the session and returns
//!   [`ClientError::Refresh`]: an outage signs nobody out.
//! - **Storage.** The session lives in a [`TokenStore`] ([`MemoryTokenStore`] by default),
//!   so a CLI can persist its login.
//!
//! Improvements over the browser SDK: the scope check happens on the parsed host (never
//! on the URL string), the session is cleared locally after a successful sign-out even
//! when a proxy drops `front-token: remove`, requests are resent at most once (no refresh
//! loops), and a refresh keeps running when the caller that started it gives up.
//!
//! # Example: hyper-util client
//!
//! ```no_run
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use tower_layer::Layer;
//! use tower_session_client::{
//!     connect::{http_client, Connector},
//!     ClientConfig, SessionClientLayer, SharedDomain,
//! };
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let config = ClientConfig::builder("http://api.example.test:3000")
//!     .shared_domain(SharedDomain::parse(".example.test")?)
//!     .build()?;
//! let layer = SessionClientLayer::new(config);
//! let client = layer.layer(http_client::<Full<Bytes>>(Connector::new()));
//!
//! // Sign in through your application's own route (it answers with the session
//! // tokens), then call any API inside the shared domain:
//! let sign_in = http::Request::post("http://api.example.test:3000/auth/signin")
//!     .body(Full::from(r#"{"user":"alice","password":"…"}"#))?;
//! client.call_once(sign_in).await?;
//! let req = http::Request::get("http://api2.example.test:3000/sessioninfo")
//!     .body(Full::default())?;
//! let resp = client.call_once(req).await?; // refreshed and retried as needed
//! assert!(resp.status().is_success());
//! # Ok(())
//! # }
//! ```
//!
//! # Example: tonic
//!
//! The layer accepts `tonic::body::Body` requests with this crate's `tonic` feature. Build the generated client `with_origin`, so that the layer sees the host
//! (or set [`relative_uri_host`](ClientConfigBuilder::relative_uri_host)); the refresh
//! request goes through the same channel, so point the channel at a server that also
//! answers the refresh route (the auth server).
//!
//! # The response future
//!
//! [`ResponseFuture`] is boxed: it may wait for a refresh and send the request again.
//!
//! # Feature flags
//!
//! | feature | what it adds |
//! |---|---|
//! | `tonic` | [`ReplayableBody`] for `tonic::body::Body`, so a tonic `Channel` can be wrapped |
//!
//! # How it fits the other crates
//!
//! The server side is `tower-session-refresh` (with `tower-session-cookie` and
//! `tower-domain-guard` in front of it); this crate talks to it over HTTP only, and shares
//! [`SharedDomain`] with the guard so the scope the client sends the session to and the
//! domain the server accepts are the same value.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod config;
pub mod connect;
mod error;
mod protocol;
mod refresh;
mod state;
mod store;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response};
use tower_layer::Layer;
use tower_service::Service;

pub use body::{NotReplayableReason, ReplayableBody};
pub use config::{ClientConfig, ClientConfigBuilder, ClientConfigError, SessionErrorMode};
pub use error::{BoxError, ClientError, RefreshFailure, SessionNotice};
pub use store::{MemoryTokenStore, StoredSession, TokenStore};
pub use tower_domain_guard::SharedDomain;
pub use tower_session_cookie::TransferMethod;

use body::drain;
use protocol::is_unauthorised;
use refresh::{refresh, RefreshOutcome};
use state::Shared;

/// Wraps a service with one login session. Clones (and the services they make) share the
/// session.
///
/// ```
/// use tower_session_client::{ClientConfig, SessionClientLayer};
///
/// let layer = SessionClientLayer::new(ClientConfig::builder("https://api.example.com").build()?);
/// assert!(!layer.handle().exists());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct SessionClientLayer {
    shared: Arc<Shared>,
}

impl SessionClientLayer {
    /// A layer keeping its session in memory.
    pub fn new(config: ClientConfig) -> Self {
        Self::with_store(config, MemoryTokenStore::new())
    }

    /// A layer keeping its session in `store`, starting from what the store holds.
    pub fn with_store(config: ClientConfig, store: impl TokenStore) -> Self {
        Self {
            shared: Arc::new(Shared::new(config, Arc::new(store))),
        }
    }

    /// A handle to inspect or end the session.
    pub fn handle(&self) -> SessionHandle {
        SessionHandle {
            shared: self.shared.clone(),
        }
    }
}

impl<S> Layer<S> for SessionClientLayer {
    type Service = SessionClient<S>;

    fn layer(&self, inner: S) -> SessionClient<S> {
        SessionClient {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// Inspect or end the session shared by a [`SessionClientLayer`] and its services.
/// `Debug` never shows tokens.
///
/// ```
/// use tower_session_client::{ClientConfig, SessionClientLayer};
///
/// let handle = SessionClientLayer::new(ClientConfig::builder("https://api.example.com").build()?).handle();
/// assert_eq!(handle.user_id(), None);
/// assert_eq!(handle.refresh_count(), 0);
/// handle.clear();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct SessionHandle {
    shared: Arc<Shared>,
}

impl SessionHandle {
    /// Whether a session is known (a `front-token` was received and not removed).
    pub fn exists(&self) -> bool {
        self.shared.exists()
    }

    /// The signed-in user (`front-token` `uid`).
    pub fn user_id(&self) -> Option<String> {
        self.shared.live().front.as_ref().map(|f| f.uid.clone())
    }

    /// The access-token payload the server sent (`front-token` `up`).
    pub fn access_token_payload(&self) -> Option<serde_json::Value> {
        self.shared.live().front.as_ref().map(|f| f.payload.clone())
    }

    /// When the access token expires, on this machine's clock.
    pub fn access_token_expiry(&self) -> Option<SystemTime> {
        self.shared.expiry()
    }

    /// How many refresh requests this session has sent.
    pub fn refresh_count(&self) -> u64 {
        self.shared.refreshes()
    }

    /// Forgets the session locally (tokens, cookies, stored copy), without telling the
    /// server; see [`SessionClient::sign_out`] for that.
    pub fn clear(&self) {
        self.shared.clear();
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.shared.config
    }
}

/// The service made by [`SessionClientLayer`]; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct SessionClient<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> SessionClient<S> {
    /// A handle to inspect or end the session.
    pub fn handle(&self) -> SessionHandle {
        SessionHandle {
            shared: self.shared.clone(),
        }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S> SessionClient<S> {
    /// Sends one request through a clone of this service (waits for readiness first).
    pub async fn call_once<B, ResB>(&self, req: Request<B>) -> Result<Response<ResB>, ClientError>
    where
        S: Service<Request<B>, Response = Response<ResB>> + Clone + Send + 'static,
        S::Future: Send,
        S::Error: Into<BoxError>,
        B: ReplayableBody,
        B::Error: Into<BoxError>,
        ResB: http_body::Body + Send + 'static,
    {
        let mut svc = self.clone();
        std::future::poll_fn(|cx| svc.poll_ready(cx)).await?;
        svc.call(req).await
    }

    /// Signs out: `POST {apiDomain}{base}/signout` (with `rid: session` and
    /// `fdi-version`, as the SDK sends it), then forgets the session locally. Returns
    /// `false` without a request when there is no session. A 401 means the session was
    /// already gone on the server: it is cleared locally and `true` returned. Other
    /// non-2xx statuses fail with [`ClientError::UnexpectedStatus`] and keep the session.
    pub async fn sign_out<B, ResB>(&self) -> Result<bool, ClientError>
    where
        S: Service<Request<B>, Response = Response<ResB>> + Clone + Send + 'static,
        S::Future: Send,
        S::Error: Into<BoxError>,
        B: ReplayableBody,
        B::Error: Into<BoxError>,
        ResB: http_body::Body + Send + 'static,
    {
        if !self.shared.can_refresh() {
            return Ok(false);
        }
        let mut req = Request::new(B::from_bytes(Bytes::new()));
        *req.method_mut() = Method::POST;
        *req.uri_mut() = self.shared.config.sign_out_uri();
        req.headers_mut()
            .insert(protocol::RID, HeaderValue::from_static("session"));
        req.headers_mut().insert(
            protocol::FDI_VERSION,
            HeaderValue::from_static(protocol::FDI_VERSIONS),
        );
        let status = match self.call_once::<B, ResB>(req).await {
            Ok(resp) => {
                let status = resp.status();
                drain(resp.into_body()).await;
                status
            }
            Err(ClientError::SessionExpired) => self.shared.config.session_expired_status,
            Err(e) => return Err(e),
        };
        if status.is_success() || status == self.shared.config.session_expired_status {
            self.shared.clear();
            Ok(true)
        } else {
            Err(ClientError::UnexpectedStatus(status))
        }
    }
}

impl<S, B, ResB> Service<Request<B>> for SessionClient<S>
where
    S: Service<Request<B>, Response = Response<ResB>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: ReplayableBody,
    B::Error: Into<BoxError>,
    ResB: http_body::Body + Send + 'static,
{
    type Response = Response<ResB>;
    type Error = ClientError;
    type Future = ResponseFuture<ResB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ClientError>> {
        self.inner.poll_ready(cx).map_err(ClientError::service)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The ready service goes into the future; a fresh clone stays behind.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture {
            inner: Box::pin(run(self.shared.clone(), inner, req)),
        }
    }
}

/// Response future of [`SessionClient`]. Boxed: it may wait for a refresh and send the
/// request a second time.
pub struct ResponseFuture<ResB> {
    inner: Pin<Box<dyn Future<Output = Result<Response<ResB>, ClientError>> + Send>>,
}

impl<ResB> fmt::Debug for ResponseFuture<ResB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<ResB> Future for ResponseFuture<ResB> {
    type Output = Result<Response<ResB>, ClientError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

/// The original request head, to build each attempt from.
struct Head {
    method: Method,
    uri: http::Uri,
    version: http::Version,
    headers: http::HeaderMap,
    extensions: http::Extensions,
}

impl Head {
    fn request<B>(&self, body: B) -> Request<B> {
        let mut req = Request::new(body);
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.uri.clone();
        *req.version_mut() = self.version;
        *req.headers_mut() = self.headers.clone();
        *req.extensions_mut() = self.extensions.clone();
        req
    }
}

async fn run<S, B, ResB>(
    shared: Arc<Shared>,
    mut inner: S,
    req: Request<B>,
) -> Result<Response<ResB>, ClientError>
where
    S: Service<Request<B>, Response = Response<ResB>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: ReplayableBody,
    B::Error: Into<BoxError>,
    ResB: http_body::Body + Send + 'static,
{
    let Some(url) = shared.target(&req) else {
        // Out of scope: untouched, and the response is not read.
        return inner.call(req).await.map_err(ClientError::service);
    };
    let mode = shared.config.errors;
    let mut spare = inner.clone();
    let (parts, body) = req.into_parts();
    let head = Head {
        method: parts.method,
        uri: parts.uri,
        version: parts.version,
        headers: parts.headers,
        extensions: parts.extensions,
    };
    let mut prepared = body::prepare(body, shared.config.replay_limit)
        .await
        .map_err(|e| ClientError::Body(e.into()))?;

    let mut expired = false;
    if shared.needs_refresh_now() && shared.can_refresh() {
        match refresh(&shared, spare.clone(), shared.gen()).await {
            RefreshOutcome::Refreshed => {}
            RefreshOutcome::Expired if mode == SessionErrorMode::Error => {
                return Err(ClientError::SessionExpired)
            }
            // Send it anyway: the server answers 401, returned with the notice.
            RefreshOutcome::Expired => expired = true,
            RefreshOutcome::Failed(f) => return Err(ClientError::Refresh(f)),
        }
    }

    let mut first = Some(inner);
    let mut attempts = 0u8;
    loop {
        let Some(body) = prepared.next() else {
            return Err(ClientError::Body(
                "the request body was already sent".into(),
            ));
        };
        let mut req = head.request(body);
        let seen = shared.decorate(req.headers_mut(), &url);
        let mut resp = match first.take() {
            Some(mut ready) => ready.call(req).await.map_err(ClientError::service)?,
            None => {
                std::future::poll_fn(|cx| spare.poll_ready(cx))
                    .await
                    .map_err(ClientError::service)?;
                spare.call(req).await.map_err(ClientError::service)?
            }
        };
        attempts += 1;
        shared.absorb(resp.headers(), &url);
        // Sent again at most once: a second 401 is the caller's.
        if !is_unauthorised(&resp, shared.config.session_expired_status) || attempts > 1 {
            return Ok(resp);
        }
        if expired || !shared.can_refresh() {
            if expired {
                resp.extensions_mut().insert(SessionNotice::SessionExpired);
            }
            return Ok(resp);
        }
        match refresh(&shared, spare.clone(), seen).await {
            RefreshOutcome::Refreshed => match prepared.refusal() {
                None => drain(resp.into_body()).await,
                Some(reason) => return not_replayable(mode, resp, reason),
            },
            RefreshOutcome::Expired => {
                return match mode {
                    SessionErrorMode::Error => Err(ClientError::SessionExpired),
                    SessionErrorMode::Response => {
                        resp.extensions_mut().insert(SessionNotice::SessionExpired);
                        Ok(resp)
                    }
                }
            }
            RefreshOutcome::Failed(f) => return Err(ClientError::Refresh(f)),
        }
    }
}

fn not_replayable<ResB>(
    mode: SessionErrorMode,
    mut resp: Response<ResB>,
    reason: NotReplayableReason,
) -> Result<Response<ResB>, ClientError> {
    match mode {
        SessionErrorMode::Error => Err(ClientError::NotReplayable {
            reason,
            status: resp.status(),
        }),
        SessionErrorMode::Response => {
            resp.extensions_mut()
                .insert(SessionNotice::NotReplayed(reason));
            Ok(resp)
        }
    }
}
