//! [`Session`]'s claim methods and `merge_into_access_token_payload`, and the merge by
//! session handle: node's `sessionClass` semantics, each producing a new access token (and
//! `front-token`) in the same response.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::config::SessionConfig;
use super::error::{SessionError, ACCESS_TOKEN};
use super::issue;
use super::verify::Session;
use crate::claims::{self, FetchInput, SessionClaim, SessionClaimValidator};
use crate::token::{AccessTokenClaims, PROTECTED_CLAIMS};

/// What a refresh adds to an access token (see `manager.rs`).
const REFRESH_GROWTH: usize = 84;

/// node's merge: keys set to `null` are removed, the others set; protected claim names in
/// `update` are refused (node's core refuses them too), nothing else is touched.
pub(crate) fn merge_payload(
    current: &Map<String, Value>,
    update: Map<String, Value>,
) -> Result<Map<String, Value>, SessionError> {
    if let Some(name) = update
        .keys()
        .find(|k| PROTECTED_CLAIMS.contains(&k.as_str()))
    {
        return Err(SessionError::ProtectedClaim(name.clone()));
    }
    let mut merged = current.clone();
    for (key, value) in update {
        if value.is_null() {
            merged.remove(&key);
        } else {
            merged.insert(key, value);
        }
    }
    Ok(merged)
}

/// Signs a new access token for `session` with `payload` (same expiry, `iat` now), stores
/// the payload, and writes the token and `front-token` into this response.
pub(crate) async fn reissue(
    config: &SessionConfig,
    session: &mut Session,
    payload: Map<String, Value>,
) -> Result<(), SessionError> {
    let (keys, store) = config
        .issuing("merge_into_access_token_payload")
        .map_err(|_| SessionError::NotAnAuthServer)?;
    let mut claims = AccessTokenClaims::clone(session.claims());
    claims.payload = payload;
    claims.iat = issue::now_secs();
    let access = keys.sign(&claims)?;
    let limit = config.verifier().max_token_bytes();
    if access.len() + REFRESH_GROWTH > limit {
        return Err(SessionError::TooLarge {
            what: ACCESS_TOKEN,
            limit,
        });
    }
    if !store
        .update_payload(session.handle(), claims.payload.clone())
        .await?
    {
        tracing::debug!(
            session_handle = session.handle(),
            "payload update: session gone"
        );
        return Err(SessionError::UnknownSession);
    }
    issue::write_access(session.tokens(), session.transfer_method(), access, &claims);
    tracing::debug!(
        session_handle = session.handle(),
        "access token payload updated"
    );
    session.set_claims(Arc::new(claims));
    Ok(())
}

fn input(session: &Session) -> FetchInput {
    FetchInput {
        user_id: session.user_id().to_owned(),
        tenant_id: session.claims().t_id.clone(),
        payload: session.payload().clone(),
        headers: None,
    }
}

impl Session {
    fn issuing_config(&self) -> Result<SessionConfig, SessionError> {
        self.config().cloned().ok_or(SessionError::NotAnAuthServer)
    }

    /// node's `mergeIntoAccessTokenPayload`: the keys of `update` are set in the payload,
    /// keys set to `null` are removed, everything else is kept; a protected claim name
    /// (`sub`, `exp`, `sessionHandle`, …) is refused with [`SessionError::ProtectedClaim`]
    /// and nothing changes. The store keeps the new payload (refreshes carry it on) and a
    /// new access token with the same expiry goes out in **this** response, in the
    /// session's transfer method, with a new `front-token`.
    ///
    /// Needs an auth server (signing key and store): on a verify-only server it is
    /// [`SessionError::NotAnAuthServer`]. A session revoked meanwhile is
    /// [`SessionError::UnknownSession`] (401).
    pub async fn merge_into_access_token_payload(
        &mut self,
        update: Map<String, Value>,
    ) -> Result<(), SessionError> {
        let config = self.issuing_config()?;
        let merged = merge_payload(self.payload(), update)?;
        reissue(&config, self, merged).await
    }

    /// node's `fetchAndSetClaim`: fetches `claim` for this session's user and tenant and
    /// merges it (`{"v": value, "t": now}`) into the payload, with a new access token in
    /// this response. A fetch giving no value changes nothing (no new token).
    pub async fn fetch_and_set_claim(
        &mut self,
        claim: &(impl SessionClaim + ?Sized),
    ) -> Result<(), SessionError> {
        let config = self.issuing_config()?;
        let value = claim
            .fetch_value(input(self))
            .await
            .map_err(SessionError::ClaimFetch)?;
        let Some(value) = value else {
            return Ok(());
        };
        let mut update = Map::new();
        claims::add_to_payload(&mut update, claim.key(), value);
        let merged = merge_payload(self.payload(), update)?;
        reissue(&config, self, merged).await
    }

    /// node's `setClaimValue`: sets `{"v": value, "t": now}` under the claim's key, with a
    /// new access token in this response.
    pub async fn set_claim_value(
        &mut self,
        claim: &(impl SessionClaim + ?Sized),
        value: impl Serialize,
    ) -> Result<(), SessionError> {
        let config = self.issuing_config()?;
        let value =
            serde_json::to_value(value).map_err(|e| SessionError::ClaimFetch(Box::new(e)))?;
        let mut update = Map::new();
        claims::add_to_payload(&mut update, claim.key(), value);
        let merged = merge_payload(self.payload(), update)?;
        reissue(&config, self, merged).await
    }

    /// node's `getClaimValue`: the claim's value in this session's payload, if any (and if
    /// it reads as a `T`).
    pub fn get_claim_value<T: DeserializeOwned>(
        &self,
        claim: &(impl SessionClaim + ?Sized),
    ) -> Option<T> {
        claims::value_from_payload(self.payload(), claim.key())
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// node's `removeClaim`: removes the claim's key from the payload, with a new access
    /// token in this response.
    pub async fn remove_claim(
        &mut self,
        claim: &(impl SessionClaim + ?Sized),
    ) -> Result<(), SessionError> {
        let mut update = Map::new();
        update.insert(claim.key().to_owned(), Value::Null);
        self.merge_into_access_token_payload(update).await
    }

    /// node's `assertClaims`: refetches what the validators' `should_refetch` asks for
    /// (a changed payload goes out as a new access token in this response), then validates;
    /// failures are [`SessionError::InvalidClaims`], which answers the invalid-claim status
    /// (403) with `{"message":"invalid claim","claimValidationErrors":[…]}`.
    ///
    /// On a verify-only server a refetched value is validated but no new token is issued.
    pub async fn assert_claims(
        &mut self,
        validators: &[SessionClaimValidator],
    ) -> Result<(), SessionError> {
        let validated = claims::refetch_and_validate(
            validators,
            self.user_id(),
            &self.claims().t_id,
            self.payload(),
            None,
        )
        .await
        .map_err(SessionError::ClaimFetch)?;
        if let Some(mut update) = validated.update {
            update.retain(|k, _| !PROTECTED_CLAIMS.contains(&k.as_str()));
            match self.config().cloned() {
                Some(config) if config.issuing("assert_claims").is_ok() => {
                    reissue(&config, self, update).await?;
                }
                _ => {}
            }
        }
        if validated.errors.is_empty() {
            Ok(())
        } else {
            Err(SessionError::InvalidClaims(validated.errors))
        }
    }
}
