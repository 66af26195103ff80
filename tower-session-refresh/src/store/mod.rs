//! Session stores: where refresh-token families live.
//!
//! Only the auth server talks to a store, and only on the refresh route, on sign-in and
//! sign-out, and on the first API call after a refresh (promotion). Access tokens are
//! verified without it, so protected APIs keep serving while the store is down.
//!
//! # Rotation rules (spec section 8.3)
//!
//! A refresh token is `<session handle>.<256-bit secret>`; a store only ever sees the
//! lowercase hex SHA-256 of it ([`refresh_token_hash`](crate::token::refresh_token_hash)). Each
//! session keeps:
//!
//! - `head`: the hash of the current, promoted refresh token;
//! - `children`: hashes issued from `head` and not yet used (at most [`MAX_CHILDREN`]);
//! - `retired`: hashes rotated away: former heads and the unused siblings of a promoted child (at most [`MAX_RETIRED`]).
//!
//! [`SessionStore::rotate`] with the presented hash:
//!
//! | presented | effect | outcome |
//! |---|---|---|
//! | `head` | the new hash joins `children`; `head` stays valid, so a lost response or two tabs refreshing at once sign nobody out | [`RotateOutcome::Rotated`] |
//! | in `children` | promotion: it becomes `head`, the new hash is its only child, and the old head and the head's other children are retired | [`RotateOutcome::Rotated`] |
//! | in `retired` | a token that was rotated away came back: **theft**; the session is revoked in the same atomic step | [`RotateOutcome::Theft`] |
//! | anything else, or no live session | nothing changes | [`RotateOutcome::Unauthorised`] |
//!
//! When `retired` is full the oldest entries go first; at promotion the old head is
//! retired last, so it is the one remembered longest. As in the SuperTokens core, a
//! sibling of the promoted child (another refresh from the same parent) is a rotated-away
//! token once one child has been used, and presenting it is theft.
//!
//! [`SessionStore::promote`] is the same promotion, triggered by an API call that carries
//! an access token whose `parentRefreshTokenHash1` is set:
//!
//! | state | effect | outcome |
//! |---|---|---|
//! | `child` is `head` | nothing (an earlier call or refresh promoted it) | [`PromoteOutcome::AlreadyPromoted`] |
//! | `parent` is `head` and `child` in `children` | as a rotation's promotion, without a new child | [`PromoteOutcome::Promoted`] |
//! | `parent` or `child` in `retired` | **theft**; the session is revoked atomically | [`PromoteOutcome::Theft`] |
//! | anything else, or no live session | nothing changes | [`PromoteOutcome::Unauthorised`] |

mod memory;

#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;

use std::{future::Future, pin::Pin, time::SystemTime};

use serde_json::{Map, Value};

pub use memory::{Clock, MemoryStore};

/// How many unused children one head keeps; the oldest is dropped past it.
pub const MAX_CHILDREN: usize = 64;
/// How many former heads a session remembers for theft detection.
pub const MAX_RETIRED: usize = 32;

/// The boxed future every store operation returns (object-safe, `Send`).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A new session, as [`SessionStore::create`] receives it.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The session handle (random, URL-safe).
    pub handle: String,
    /// The user the session belongs to.
    pub user_id: String,
    /// The tenant the session was created in (SuperTokens' `tId`; `public` by default).
    pub tenant_id: String,
    /// The application's access-token payload, kept so refreshes carry it on.
    pub payload: Option<Map<String, Value>>,
    /// Hex SHA-256 of the first refresh token.
    pub refresh_hash: String,
    /// When the refresh token expires; the session is gone after it.
    pub expires_at: SystemTime,
}

/// What a store knows of a live session (no token hashes).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    /// The session handle.
    pub handle: String,
    /// The user the session belongs to.
    pub user_id: String,
    /// The tenant the session was created in.
    pub tenant_id: String,
    /// The application's access-token payload.
    pub payload: Option<Map<String, Value>>,
    /// When the newest refresh token expires.
    pub expires_at: SystemTime,
}

/// The answer of [`SessionStore::rotate`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RotateOutcome {
    /// The new refresh token is valid until the new expiry.
    Rotated {
        /// The session as it is now (its expiry is the new one).
        session: SessionInfo,
        /// The hash the new token descends from: the session's head after this rotation
        /// (the presented hash). It goes into the new access token as
        /// `parentRefreshTokenHash1`, so that the token's first use promotes the child.
        parent_hash: String,
    },
    /// A rotated-away refresh token came back: the session has been revoked.
    Theft {
        /// The user whose session was revoked (for an audit log or a theft hook).
        user_id: String,
    },
    /// No live session, or a token the session does not know: nothing changed.
    Unauthorised,
}

/// The answer of [`SessionStore::promote`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PromoteOutcome {
    /// The child became the session's head.
    Promoted,
    /// The child already is the head (an earlier call promoted it).
    AlreadyPromoted,
    /// The parent or the child had been rotated away: the session has been revoked.
    Theft,
    /// No live session, or the child is not a pending child of the head.
    Unauthorised,
}

/// Why a store operation failed. The server answers 503 and clears nothing.
#[derive(Debug)]
pub struct StoreError {
    kind: StoreErrorKind,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// The kind of a [`StoreError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The store could not be reached or refused the operation.
    Unavailable,
    /// The store did not answer in time.
    Timeout,
    /// The store answered with data this version cannot read.
    Corrupt,
}

impl StoreError {
    /// A new error of `kind`, with the underlying cause.
    pub fn new(
        kind: StoreErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            kind,
            source: Some(source.into()),
        }
    }

    /// A new error of `kind` without a cause.
    pub fn from_kind(kind: StoreErrorKind) -> Self {
        Self { kind, source: None }
    }

    /// The kind of failure.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.kind {
            StoreErrorKind::Unavailable => "session store unavailable",
            StoreErrorKind::Timeout => "session store timed out",
            StoreErrorKind::Corrupt => "session store returned unreadable data",
        };
        match &self.source {
            Some(source) => write!(f, "{what}: {source}"),
            None => f.write_str(what),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Where sessions and their refresh-token families live.
///
/// Every operation is atomic on its own: two auth processes calling [`rotate`](Self::rotate)
/// on one session at the same moment behave exactly like one process calling it twice.
/// Hashes are lowercase hex SHA-256 of refresh tokens; a store never sees a token.
/// Implementations run `conformance` (feature `conformance`) in their tests.
///
/// The trait is object safe; the server holds an `Arc<dyn SessionStore>`:
///
/// ```
/// use std::sync::Arc;
/// use tower_session_refresh::store::{MemoryStore, SessionStore};
///
/// let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
/// # let _ = store;
/// ```
pub trait SessionStore: Send + Sync + 'static {
    /// Stores a new session.
    fn create(&self, session: NewSession) -> StoreFuture<'_, ()>;

    /// The live session `handle`, if any.
    fn get<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, Option<SessionInfo>>;

    /// Rotates the refresh token `presented` (a hash) of session `handle`, making
    /// `new_child` (a hash) valid; on success the session's expiry slides to `expires_at`.
    /// One atomic step, theft detection and revocation included; see the
    /// [module docs](self).
    fn rotate<'a>(
        &'a self,
        handle: &'a str,
        presented: &'a str,
        new_child: &'a str,
        expires_at: SystemTime,
    ) -> StoreFuture<'a, RotateOutcome>;

    /// Promotes `child` (a hash issued from `parent`) to the head of session `handle`,
    /// atomically, theft detection included; see the [module docs](self).
    fn promote<'a>(
        &'a self,
        handle: &'a str,
        parent: &'a str,
        child: &'a str,
    ) -> StoreFuture<'a, PromoteOutcome>;

    /// Revokes session `handle`; `false` if there was no such live session.
    fn revoke<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, bool>;

    /// Revokes every session of `user_id`; returns the handles of the live sessions that
    /// were revoked.
    fn revoke_all<'a>(&'a self, user_id: &'a str) -> StoreFuture<'a, Vec<String>>;

    /// The live sessions of `user_id`.
    fn list<'a>(&'a self, user_id: &'a str) -> StoreFuture<'a, Vec<SessionInfo>>;

    /// Replaces the access-token payload of session `handle`; `false` if it is gone.
    fn update_payload<'a>(
        &'a self,
        handle: &'a str,
        payload: Map<String, Value>,
    ) -> StoreFuture<'a, bool>;
}

impl<S: SessionStore + ?Sized> SessionStore for std::sync::Arc<S> {
    fn create(&self, session: NewSession) -> StoreFuture<'_, ()> {
        (**self).create(session)
    }
    fn get<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, Option<SessionInfo>> {
        (**self).get(handle)
    }
    fn rotate<'a>(
        &'a self,
        handle: &'a str,
        presented: &'a str,
        new_child: &'a str,
        expires_at: SystemTime,
    ) -> StoreFuture<'a, RotateOutcome> {
        (**self).rotate(handle, presented, new_child, expires_at)
    }
    fn promote<'a>(
        &'a self,
        handle: &'a str,
        parent: &'a str,
        child: &'a str,
    ) -> StoreFuture<'a, PromoteOutcome> {
        (**self).promote(handle, parent, child)
    }
    fn revoke<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, bool> {
        (**self).revoke(handle)
    }
    fn revoke_all<'a>(&'a self, user_id: &'a str) -> StoreFuture<'a, Vec<String>> {
        (**self).revoke_all(user_id)
    }
    fn list<'a>(&'a self, user_id: &'a str) -> StoreFuture<'a, Vec<SessionInfo>> {
        (**self).list(user_id)
    }
    fn update_payload<'a>(
        &'a self,
        handle: &'a str,
        payload: Map<String, Value>,
    ) -> StoreFuture<'a, bool> {
        (**self).update_payload(handle, payload)
    }
}
