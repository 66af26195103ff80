//! [`SignOutService`]: `POST {apiBasePath}/signout`.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW};
use http::{Method, Request, Response, StatusCode};
use tower_service::Service;
use tower_session_cookie::{ClearScope, SessionTokens};

use super::body::JsonBody;
use super::config::{SessionConfig, SessionConfigError};
use super::error::{json_response, Rejection};
use super::store::SessionStore;
use super::verify::{check_request, no_token, BoxFuture, Checked};

/// The tower service for `POST {apiBasePath}/signout` (mount it at
/// [`SessionConfig::signout_path`]; the `SessionCookieLayer` must run outside it).
///
/// It verifies the session exactly as [`RequireSessionLayer`](super::RequireSessionLayer)
/// does (anti-CSRF included, no claim validators, as supertokens-node), revokes it in the
/// store, clears the request's transfer method and answers 200 `{"status":"OK"}` with
/// `front-token: remove` (the SDK signs out locally only on that header, spec 6.3).
///
/// An expired access token gets 401 `try refresh token`: the SDK refreshes and retries. No
/// token gets 401 `unauthorised` (the SDK returns quietly). A store error is a 503 and
/// nothing is cleared.
///
/// ```
/// use axum::Router;
/// use tower_session_cookie::{SessionCookieConfig, SessionCookieLayer};
/// use tower_session_refresh::keys::{KeySet, SigningKey};
/// use tower_session_refresh::session::{SessionConfig, SignOutService};
/// use tower_session_refresh::store::MemoryStore;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let cookies = SessionCookieConfig::builder()
///     .api_domain("https://api.example.com")
///     .website_domain("https://www.example.com")
///     .build()?;
/// let config = SessionConfig::builder(cookies.clone())
///     .keys(KeySet::new(SigningKey::generate_ed25519("k1")?))
///     .store(MemoryStore::new())
///     .build()?;
/// let app: Router = Router::new()
///     .route_service(config.signout_path(), SignOutService::new(config.clone())?)
///     .layer(SessionCookieLayer::new(cookies));
/// # drop(app);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct SignOutService {
    shared: Arc<SignOutShared>,
}

struct SignOutShared {
    config: SessionConfig,
    store: Arc<dyn SessionStore>,
}

impl fmt::Debug for SignOutService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignOutService")
            .field("path", &self.shared.config.signout_path())
            .finish_non_exhaustive()
    }
}

impl SignOutService {
    /// The sign-out service of an auth server (the configuration needs keys and a store).
    pub fn new(config: SessionConfig) -> Result<Self, SessionConfigError> {
        let (_, store) = config.issuing("SignOutService")?;
        Ok(Self {
            shared: Arc::new(SignOutShared { config, store }),
        })
    }

    /// Where to mount it: `{apiBasePath}/signout`.
    pub fn path(&self) -> &str {
        self.shared.config.signout_path()
    }
}

impl<B> Service<Request<B>> for SignOutService
where
    B: Send + 'static,
{
    type Response = Response<JsonBody>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response<JsonBody>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let shared = self.shared.clone();
        let (parts, _body) = request.into_parts();
        Box::pin(async move {
            if parts.method != Method::POST {
                let mut response = json_response(
                    StatusCode::METHOD_NOT_ALLOWED,
                    Bytes::from_static(br#"{"message":"method not allowed"}"#),
                );
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("POST"));
                return Ok(response.map(JsonBody::new));
            }
            let tokens = parts.extensions.get::<SessionTokens>();
            let checked = check_request(&shared.config, &parts.method, &parts.headers, tokens);
            let session = match checked {
                Checked::Done(result) => result,
                Checked::Pending(future) => future.await,
                Checked::NoToken => Err(no_token(tokens, "sign-out without a session")),
            };
            let result = match session {
                Ok(session) => match shared.store.revoke(session.handle()).await {
                    Ok(_) => {
                        session
                            .tokens()
                            .clear(ClearScope::Method(session.transfer_method()));
                        tracing::debug!(session_handle = session.handle(), "signed out");
                        Ok(())
                    }
                    Err(error) => {
                        tracing::warn!(%error, session_handle = session.handle(), "sign-out failed: store error");
                        Err(Rejection::Unavailable("session store unavailable"))
                    }
                },
                Err(rejection) => Err(rejection),
            };
            let response = match result {
                Ok(()) => json_response(StatusCode::OK, Bytes::from_static(br#"{"status":"OK"}"#)),
                Err(rejection) => rejection.into_configured_response(&shared.config, tokens, false),
            };
            Ok(response.map(JsonBody::new))
        })
    }
}
