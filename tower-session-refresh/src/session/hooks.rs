//! Hooks on the session configuration (node's `onTokenTheftDetected`, `onUnauthorised`,
//! `onInvalidClaim` error handlers, the application's own handler of the errors node passes
//! on, such as duplicate cookies, and an override of `refreshSession` that changes the
//! new access token's payload). Each call is also a `tracing` event.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::Response;
use serde_json::{Map, Value};

use super::error::ClaimValidationError;

/// Called with `(user_id, session_handle)` when the store detected token theft (the session
/// is already revoked).
pub(crate) type TheftHook = dyn Fn(&str, &str) + Send + Sync;
/// Called with the reason of a 401 `unauthorised`; `Some(response)` replaces the answer.
pub(crate) type UnauthorisedHook = dyn Fn(&str) -> Option<Response<Bytes>> + Send + Sync;
/// Called with the status and reason of a refusal that keeps the session (400, 431);
/// `Some(response)` replaces the answer.
pub(crate) type RefusedHook =
    dyn Fn(http::StatusCode, &str) -> Option<Response<Bytes>> + Send + Sync;
/// Called with the failed validators; `Some(response)` replaces the answer.
pub(crate) type InvalidClaimHook =
    dyn Fn(&[ClaimValidationError]) -> Option<Response<Bytes>> + Send + Sync;
/// Called on every refresh with the session and the new access token's payload, which it
/// may change.
pub(crate) type RefreshHook = dyn Fn(&RefreshInfo<'_>, &mut Map<String, Value>) + Send + Sync;

/// What the refresh hook ([`SessionConfigBuilder::on_refresh`](super::SessionConfigBuilder::on_refresh))
/// is told about the session being refreshed.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RefreshInfo<'a> {
    /// The user id.
    pub user_id: &'a str,
    /// The session handle.
    pub session_handle: &'a str,
    /// The tenant.
    pub tenant_id: &'a str,
}

#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) on_token_theft: Option<Arc<TheftHook>>,
    pub(crate) on_unauthorised: Option<Arc<UnauthorisedHook>>,
    pub(crate) on_invalid_claim: Option<Arc<InvalidClaimHook>>,
    pub(crate) on_refused: Option<Arc<RefusedHook>>,
    pub(crate) on_refresh: Option<Arc<RefreshHook>>,
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("on_token_theft", &self.on_token_theft.is_some())
            .field("on_unauthorised", &self.on_unauthorised.is_some())
            .field("on_invalid_claim", &self.on_invalid_claim.is_some())
            .field("on_refused", &self.on_refused.is_some())
            .field("on_refresh", &self.on_refresh.is_some())
            .finish()
    }
}

impl Hooks {
    pub(crate) fn token_theft(&self, user_id: &str, session_handle: &str) {
        if let Some(hook) = &self.on_token_theft {
            tracing::info!(session_handle, "calling the on_token_theft hook");
            hook(user_id, session_handle);
        }
    }

    pub(crate) fn refresh(&self, info: &RefreshInfo<'_>, payload: &mut Map<String, Value>) {
        if let Some(hook) = &self.on_refresh {
            tracing::debug!(
                session_handle = info.session_handle,
                "calling the on_refresh hook"
            );
            hook(info, payload);
        }
    }

    /// The custom response for a rejection, if a hook gives one.
    pub(crate) fn custom_response(
        &self,
        rejection: &super::error::Rejection,
    ) -> Option<Response<Bytes>> {
        use super::error::Rejection;
        match rejection {
            Rejection::Unauthorised { why, .. } => {
                let hook = self.on_unauthorised.as_ref()?;
                tracing::debug!(reason = *why, "calling the on_unauthorised hook");
                hook(why)
            }
            Rejection::InvalidClaims(errors) => {
                let hook = self.on_invalid_claim.as_ref()?;
                tracing::debug!(failed = errors.len(), "calling the on_invalid_claim hook");
                hook(errors)
            }
            Rejection::Refused { status, message } => {
                let hook = self.on_refused.as_ref()?;
                tracing::debug!(
                    status = status.as_u16(),
                    reason = *message,
                    "calling the on_refused hook"
                );
                hook(*status, message)
            }
            _ => None,
        }
    }
}
