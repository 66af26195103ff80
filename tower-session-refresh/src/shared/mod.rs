//! [`SharedSession`]: the seed's whole setup (one session across the API subdomains of a
//! shared domain) from one configuration, as SuperTokens' `Session.init` + `appInfo` +
//! `middleware()`.
//!
//! It is built from the public layers of this workspace and adds nothing beside them: use
//! the separate layers ([`HostGuardLayer`](tower_domain_guard::HostGuardLayer),
//! [`SessionCookieLayer`](tower_session_cookie::SessionCookieLayer),
//! [`RequireSessionLayer`], [`RefreshService`](crate::session::RefreshService), …) when a
//! deployment needs an order or a part the facade does not offer (another CORS policy,
//! several cookie configurations in one process, SDK routes on a path of their own).

mod builder;
mod error;
mod layer;
mod origin;

use std::fmt;
use std::sync::Arc;

use serde_json::Value;
use tower_domain_guard::SharedDomain;
use tower_session_cookie::{SessionCookieConfig, SessionTokens};

pub use builder::{SharedSessionBuilder, DEFAULT_KEY_ROTATION};
pub use error::SharedSessionError;
pub use layer::{SdkFuture, SdkRoutes, SdkRoutesLayer, SharedSessionLayer, SharedSessionService};

use crate::keystore::ManagedKeys;
use crate::session::{
    RequireSessionLayer, Session, SessionConfig, SessionConfigError, SessionError, SessionManager,
};
use crate::store::SessionInfo;

/// One configuration for the server side of a shared session: the layer for the whole
/// service, the layer for protected routes, and the calls a login handler needs.
/// Cheap to clone (`Arc` inside); `Send + Sync`, so it can be axum state.
///
/// See the [crate docs](crate) for a complete axum server.
#[derive(Clone)]
pub struct SharedSession {
    inner: Arc<Inner>,
}

struct Inner {
    domain: SharedDomain,
    config: SessionConfig,
    manager: Option<SessionManager>,
    managed: Option<ManagedKeys>,
    layer: SharedSessionLayer,
    check_database: bool,
}

impl fmt::Debug for SharedSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedSession")
            .field("domain", &self.inner.domain)
            .field("config", &self.inner.config)
            .field("verify_only", &self.inner.manager.is_none())
            .finish_non_exhaustive()
    }
}

impl SharedSession {
    /// Starts the configuration with the shared cookie domain (SuperTokens'
    /// `cookieDomain`), e.g. `".example.com"`.
    pub fn builder(cookie_domain: &str) -> SharedSessionBuilder {
        SharedSessionBuilder::new(Some(cookie_domain))
    }

    /// A builder for one API host and no shared domain: SuperTokens with `cookieDomain`
    /// unset. Cookies are host-only; the website must be on the API's host name (any
    /// port, e.g. `http://localhost:3000` with an API on `http://localhost:8080`), and the
    /// host guard accepts only that host (plus [`allow_host`](SharedSessionBuilder::allow_host)).
    /// For local development and single-API deployments; use
    /// [`builder`](Self::builder) as soon as a second API subdomain shares the sign-in.
    ///
    /// ```
    /// use tower_session_refresh::SharedSession;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let auth = SharedSession::host_only()
    ///     .api_domain("http://localhost:8080")
    ///     .website_domain("http://localhost:3000")
    ///     .build()
    ///     .expect("valid configuration");
    /// assert!(auth.cookie_config().cookie_domain().is_none());
    /// # }
    /// ```
    pub fn host_only() -> SharedSessionBuilder {
        SharedSessionBuilder::new(None)
    }

    /// The layer for the whole service (see [`SharedSessionLayer`] for what it does, in
    /// which order).
    pub fn layer(&self) -> SharedSessionLayer {
        self.inner.layer.clone()
    }

    /// The layer for protected routes: every request must carry a valid session, and
    /// handlers get the [`Session`].
    pub fn require_session(&self) -> RequireSessionLayer {
        self.with_database_check(RequireSessionLayer::new(self.inner.config.clone()))
    }

    /// [`require_session`](Self::require_session) with SuperTokens' `checkDatabase` set
    /// for this route, whatever the builder's
    /// [`check_database`](SharedSessionBuilder::check_database): the session is looked
    /// up in the store on every request. Refused on a verify-only server (no store).
    pub fn require_session_checked(&self) -> Result<RequireSessionLayer, SessionConfigError> {
        RequireSessionLayer::new(self.inner.config.clone()).check_database(true)
    }

    fn with_database_check(&self, layer: RequireSessionLayer) -> RequireSessionLayer {
        if !self.inner.check_database {
            return layer;
        }
        // The builder refused check_database without a store, so this cannot fail.
        match layer.clone().check_database(true) {
            Ok(checked) => checked,
            Err(_) => layer,
        }
    }

    /// Like [`require_session`](Self::require_session), but a request without any access
    /// token passes without a session (handlers take `Option<Session>`).
    pub fn optional_session(&self) -> RequireSessionLayer {
        self.with_database_check(RequireSessionLayer::optional(self.inner.config.clone()))
    }

    /// Creates a session for `user_id` and writes its tokens into this response through
    /// `tokens` (cookies or headers, as the SDK asked); see [`SessionManager::create`].
    pub async fn create_session(
        &self,
        tokens: &SessionTokens,
        user_id: &str,
        payload: Value,
    ) -> Result<Session, SessionError> {
        self.manager()?.create(tokens, user_id, payload).await
    }

    /// Like [`create_session`](Self::create_session), with server-side session data kept
    /// beside the session in the store; see [`SessionManager::create_with_data`].
    pub async fn create_session_with_data(
        &self,
        tokens: &SessionTokens,
        user_id: &str,
        payload: Value,
        session_data: serde_json::Map<String, Value>,
    ) -> Result<Session, SessionError> {
        self.manager()?
            .create_with_data(tokens, user_id, payload, session_data)
            .await
    }

    /// The live session `handle`, with `time_created`, `expires_at` and its session data;
    /// see [`SessionManager::get`].
    pub async fn session_information(
        &self,
        handle: &str,
    ) -> Result<Option<SessionInfo>, SessionError> {
        self.manager()?.get(handle).await
    }

    /// The server-side data of session `handle`; see [`SessionManager::session_data`].
    pub async fn session_data(
        &self,
        handle: &str,
    ) -> Result<serde_json::Map<String, Value>, SessionError> {
        self.manager()?.session_data(handle).await
    }

    /// Replaces the server-side data of session `handle`; `Ok(false)` if it is gone. See
    /// [`SessionManager::update_session_data`].
    pub async fn update_session_data(
        &self,
        handle: &str,
        data: serde_json::Map<String, Value>,
    ) -> Result<bool, SessionError> {
        self.manager()?.update_session_data(handle, data).await
    }

    /// Revokes one session by its handle; `Ok(false)` if there was none.
    pub async fn revoke_session(&self, handle: &str) -> Result<bool, SessionError> {
        self.manager()?.revoke(handle).await
    }

    /// Revokes every session of `user_id`; returns how many were revoked.
    pub async fn revoke_all_for_user(&self, user_id: &str) -> Result<usize, SessionError> {
        self.manager()?.revoke_all(user_id).await
    }

    /// Merges `update` into the stored payload of session `handle` (node's
    /// `mergeIntoAccessTokenPayload(sessionHandle, …)`: `null` removes a key, protected
    /// claim names are refused); the next refresh carries it. `Ok(false)` if the session
    /// does not exist. See [`SessionManager::merge_into_access_token_payload`].
    pub async fn merge_into_access_token_payload(
        &self,
        handle: &str,
        update: serde_json::Map<String, serde_json::Value>,
    ) -> Result<bool, SessionError> {
        self.manager()?
            .merge_into_access_token_payload(handle, update)
            .await
    }

    /// The live sessions of `user_id`.
    pub async fn sessions_for_user(&self, user_id: &str) -> Result<Vec<SessionInfo>, SessionError> {
        self.manager()?.list(user_id).await
    }

    /// Waits until signing keys kept in the store are loaded (at once with a fixed
    /// `signing_key` or on a verify-only server). Until then sign-in and refresh answer
    /// 503; waiting is optional.
    pub async fn ready(&self) {
        if let Some(managed) = &self.inner.managed {
            managed.wait_ready().await;
        }
    }

    /// Waits until the first load of keys kept in the store has been tried, loaded or not
    /// (one attempt, so a store that is down at start-up does not hold the process up).
    pub async fn first_key_load(&self) {
        if let Some(managed) = &self.inner.managed {
            managed.wait_first_attempt().await;
        }
    }

    /// Whether this server only verifies (built with `verify_only`).
    pub fn is_verify_only(&self) -> bool {
        self.inner.manager.is_none()
    }

    /// The shared domain.
    pub fn shared_domain(&self) -> &SharedDomain {
        &self.inner.domain
    }

    /// The session configuration the layers share (for the lower-level layers).
    pub fn session_config(&self) -> &SessionConfig {
        &self.inner.config
    }

    /// The cookie configuration (exactly one per stack).
    pub fn cookie_config(&self) -> &SessionCookieConfig {
        self.inner.config.cookies()
    }

    /// The session manager, on a server that issues sessions.
    pub fn session_manager(&self) -> Option<&SessionManager> {
        self.inner.manager.as_ref()
    }

    /// `{apiBasePath}/session/refresh`.
    pub fn refresh_path(&self) -> &str {
        self.inner.config.refresh_path()
    }

    /// `{apiBasePath}/signout`.
    pub fn signout_path(&self) -> &str {
        self.inner.config.signout_path()
    }

    fn manager(&self) -> Result<&SessionManager, SessionError> {
        self.inner
            .manager
            .as_ref()
            .ok_or(SessionError::NotAnAuthServer)
    }
}
