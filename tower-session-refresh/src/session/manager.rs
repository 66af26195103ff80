//! [`SessionManager`]: what application code calls to create, update and revoke sessions.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{Map, Value};
use tower_session_cookie::{ClearScope, SessionTokens, TransferMethod};

use super::config::{AntiCsrf, SessionConfig, SessionConfigError};
use super::error::{SessionError, ACCESS_TOKEN, USER_ID};
use super::issue;
use super::store::{NewSession, SessionInfo, SessionStore};
use super::verify::Session;
use crate::keys::KeySet;
use crate::token::{refresh_token_hash, AccessTokenClaims};

/// Creates, updates and revokes sessions from application code (a login handler, an admin
/// endpoint). Cheap to clone.
///
#[cfg_attr(feature = "axum", doc = "```")]
#[cfg_attr(not(feature = "axum"), doc = "```ignore")]
/// use axum::{extract::State, routing::post, Router};
/// use tower_session_cookie::{SessionCookieConfig, SessionCookieLayer, SessionTokens};
/// use tower_session_refresh::keys::{KeySet, SigningKey};
/// use tower_session_refresh::session::{SessionConfig, SessionError, SessionManager};
/// use tower_session_refresh::store::MemoryStore;
///
/// async fn login(
///     State(sessions): State<SessionManager>,
///     tokens: SessionTokens,
/// ) -> Result<&'static str, SessionError> {
///     // ... check the credentials first ...
///     sessions
///         .create(&tokens, "user-1", serde_json::json!({"role": "admin"}))
///         .await?;
///     Ok(r#"{"status":"OK"}"#)
/// }
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
///     .route("/login", post(login))
///     .with_state(SessionManager::new(config)?)
///     .layer(SessionCookieLayer::new(cookies));
/// # drop(app);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct SessionManager {
    inner: Arc<ManagerInner>,
}

struct ManagerInner {
    config: SessionConfig,
    keys: KeySet,
    store: Arc<dyn SessionStore>,
}

impl fmt::Debug for SessionManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionManager")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// What a refresh adds to an access token: `parentRefreshTokenHash1` goes from `null` to
/// 64 hex digits in quotes (62 more JSON bytes, at most 84 more base64url characters). The
/// other claims keep their size (`iat`/`exp` have ten digits until 2286).
const REFRESH_GROWTH: usize = 84;

/// Refuses an access token that the verifiers would refuse, now or once refreshed.
fn check_token_size(config: &SessionConfig, access: &str) -> Result<(), SessionError> {
    let limit = config.verifier().max_token_bytes();
    if access.len() + REFRESH_GROWTH > limit {
        return Err(SessionError::TooLarge {
            what: ACCESS_TOKEN,
            limit,
        });
    }
    Ok(())
}

/// A payload argument: a JSON object, or `null` / nothing for an empty payload.
fn payload_map(payload: Value) -> Result<Map<String, Value>, SessionError> {
    match payload {
        Value::Object(map) => {
            AccessTokenClaims::check_payload(&map)?;
            Ok(map)
        }
        Value::Null => Ok(Map::new()),
        _ => Err(SessionError::ProtectedClaim(
            "(the payload must be a JSON object)".to_owned(),
        )),
    }
}

impl SessionManager {
    /// The manager of an auth server (the configuration needs keys and a store).
    pub fn new(config: SessionConfig) -> Result<Self, SessionConfigError> {
        let (keys, store) = config.issuing("SessionManager")?;
        Ok(Self {
            inner: Arc::new(ManagerInner {
                config,
                keys,
                store,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.inner.config
    }

    /// Creates a session for `user_id` and writes its tokens into this response through
    /// `tokens`: cookies or headers as the SDK asked with `st-auth-mode` (header when
    /// absent, as SuperTokens does, spec 7.3), `front-token`, and `anti-csrf` in `ViaToken`
    /// mode. An access token the request carried in the other transfer method is cleared.
    ///
    /// `payload` is a JSON object (or `null`) merged into the access token; protected claim
    /// names (`sub`, `exp`, `sessionHandle`, …) are refused.
    ///
    /// Sizes are bounded before anything is issued or stored, with
    /// [`SessionError::TooLarge`] (400): the user id by
    /// [`max_user_id_bytes`](super::SessionConfigBuilder::max_user_id_bytes), and the
    /// payload by the access token it makes, which must stay within the verifier's
    /// [`max_token_bytes`](crate::token::VerifierBuilder::max_token_bytes) (default 8 KiB)
    /// with room for what a refresh adds, so no token is issued that a verifier refuses.
    /// Keep the same limit on verify-only servers. Cookies over 4 KiB are dropped by
    /// browsers: in cookie mode keep payloads well below the token limit.
    pub async fn create(
        &self,
        tokens: &SessionTokens,
        user_id: &str,
        payload: Value,
    ) -> Result<Session, SessionError> {
        self.create_with_data(tokens, user_id, payload, Map::new())
            .await
    }

    /// Like [`create`](Self::create), with server-side session data kept beside the
    /// session in the store (SuperTokens' `sessionDataInDatabase`): never in a token,
    /// carried across refreshes, read with [`Session::session_data`] or
    /// [`session_data`](Self::session_data).
    pub async fn create_with_data(
        &self,
        tokens: &SessionTokens,
        user_id: &str,
        payload: Value,
        session_data: Map<String, Value>,
    ) -> Result<Session, SessionError> {
        let config = &self.inner.config;
        let limit = config.inner.max_user_id_bytes;
        if user_id.len() > limit {
            tracing::debug!(
                len = user_id.len(),
                limit,
                "user id too long; no session created"
            );
            return Err(SessionError::TooLarge {
                what: USER_ID,
                limit,
            });
        }
        let mut payload = payload_map(payload)?;
        // Claims registered on the configuration (node's `claimsAddedByOtherRecipes`).
        for claim in &config.inner.claims {
            let input = crate::claims::FetchInput {
                user_id: user_id.to_owned(),
                tenant_id: config.inner.tenant.clone(),
                payload: payload.clone(),
                headers: None,
            };
            if let Some(value) = claim
                .fetch_value(input)
                .await
                .map_err(SessionError::ClaimFetch)?
            {
                crate::claims::add_to_payload(&mut payload, claim.key(), value);
            }
        }
        AccessTokenClaims::check_payload(&payload)?;
        let handle = issue::new_handle().map_err(|_| SessionError::Random)?;
        let refresh = issue::first_refresh_token(&handle).map_err(|_| SessionError::Random)?;
        let refresh_hash = refresh_token_hash(&refresh);
        let family_hash = issue::parse_refresh_token(&refresh)
            .ok_or(SessionError::Random)?
            .family_hash();
        let refresh_expires = SystemTime::now() + config.refresh_token_lifetime();

        let mut claims = AccessTokenClaims::new(
            user_id,
            handle.clone(),
            refresh_hash.clone(),
            issue::now_secs(),
            config.access_token_lifetime().as_secs(),
        );
        claims.exp = issue::expiry_secs(config.access_token_lifetime());
        claims.iss = config.issuer().map(str::to_owned);
        claims.t_id = config.inner.tenant.clone();
        claims.payload = payload.clone();
        let method = tokens.method_for_new_session();
        // As node: no anti-CSRF token for header-mode sessions.
        if config.anti_csrf() == AntiCsrf::ViaToken && method == TransferMethod::Cookie {
            claims.anti_csrf_token = Some(issue::anti_csrf_for(&refresh));
        }
        let access = self.inner.keys.sign(&claims)?;
        check_token_size(config, &access)?;

        self.inner
            .store
            .create(NewSession {
                handle: handle.clone(),
                user_id: user_id.to_owned(),
                tenant_id: config.inner.tenant.clone(),
                payload: Some(payload),
                refresh_hash,
                family_hash,
                expires_at: refresh_expires,
                session_data,
            })
            .await?;

        if let Some(old) = tokens.access_token() {
            if old.method != method {
                tokens.clear(ClearScope::Method(old.method));
            }
        }
        issue::write_session(tokens, method, access, &claims, refresh, refresh_expires);
        tracing::debug!(session_handle = %handle, ?method, "session created");
        Ok(Session::new(Arc::new(claims), method, tokens.clone())
            .with_config(config)
            .with_store(Some(self.inner.store.clone())))
    }

    /// Replaces the session's payload: in the store (so refreshes keep it) and in a new
    /// access token sent in this response (with a `front-token`; the SDK fires
    /// `ACCESS_TOKEN_PAYLOAD_UPDATED`). The new token keeps the old one's expiry. A
    /// payload whose token would be over the limit (see [`create`](Self::create)) is
    /// refused with [`SessionError::TooLarge`], and the stored one is kept.
    pub async fn update_payload(
        &self,
        session: &Session,
        payload: Value,
    ) -> Result<Session, SessionError> {
        let payload = payload_map(payload)?;
        let mut claims = session.claims().clone();
        claims.payload = payload.clone();
        claims.iat = issue::now_secs();
        let access = self.inner.keys.sign(&claims)?;
        check_token_size(&self.inner.config, &access)?;
        let updated = self
            .inner
            .store
            .update_payload(session.handle(), payload)
            .await?;
        if !updated {
            return Err(SessionError::UnknownSession);
        }
        let method: TransferMethod = session.transfer_method();
        issue::write_access(session.tokens(), method, access, &claims);
        Ok(
            Session::new(Arc::new(claims), method, session.tokens().clone())
                .with_config(&self.inner.config)
                .with_store(Some(self.inner.store.clone())),
        )
    }

    /// node's `mergeIntoAccessTokenPayload(sessionHandle, update)`: merges `update` into
    /// the stored payload of session `handle` (keys set to `null` removed, protected claim
    /// names refused); access tokens already issued keep their payload, the next refresh
    /// carries the new one (a promotion re-signs the token it was given). `Ok(false)` if the session does not exist.
    pub async fn merge_into_access_token_payload(
        &self,
        handle: &str,
        update: Map<String, Value>,
    ) -> Result<bool, SessionError> {
        let Some(info) = self.inner.store.get(handle).await? else {
            return Ok(false);
        };
        let merged = super::payload::merge_payload(&info.payload.unwrap_or_default(), update)?;
        Ok(self.inner.store.update_payload(handle, merged).await?)
    }

    /// Revokes one session; `Ok(false)` if it did not exist. Its access tokens stay valid
    /// until they expire (they are verified without the store); its refresh token is dead.
    pub async fn revoke(&self, handle: &str) -> Result<bool, SessionError> {
        Ok(self.inner.store.revoke(handle).await?)
    }

    /// Revokes every session of `user_id`; returns how many were revoked.
    pub async fn revoke_all(&self, user_id: &str) -> Result<usize, SessionError> {
        Ok(self.inner.store.revoke_all(user_id).await?.len())
    }

    /// The live sessions of `user_id`.
    pub async fn list(&self, user_id: &str) -> Result<Vec<SessionInfo>, SessionError> {
        Ok(self.inner.store.list(user_id).await?)
    }

    /// The live session `handle` (user, tenant, payload, `time_created`, `expires_at`,
    /// session data); `None` if revoked, expired or unknown (SuperTokens'
    /// `getSessionInformation`).
    pub async fn get(&self, handle: &str) -> Result<Option<SessionInfo>, SessionError> {
        Ok(self.inner.store.get(handle).await?)
    }

    /// The server-side data of session `handle`; [`SessionError::UnknownSession`] if it
    /// is gone (SuperTokens' `getSessionDataFromDatabase`).
    pub async fn session_data(&self, handle: &str) -> Result<Map<String, Value>, SessionError> {
        match self.inner.store.get(handle).await? {
            Some(info) => Ok(info.session_data),
            None => Err(SessionError::UnknownSession),
        }
    }

    /// Replaces the server-side data of session `handle` (not merged); `Ok(false)` if it
    /// is gone (SuperTokens' `updateSessionDataInDatabase`).
    pub async fn update_session_data(
        &self,
        handle: &str,
        data: Map<String, Value>,
    ) -> Result<bool, SessionError> {
        Ok(self.inner.store.update_session_data(handle, data).await?)
    }
}
