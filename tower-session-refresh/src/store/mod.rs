//! Session stores: where refresh-token families live.
//!
//! Only the auth server talks to a store, and only on the refresh route, on sign-in and
//! sign-out, and on the first API call after a refresh (promotion). Access tokens are
//! verified without it, so protected APIs keep serving while the store is down.
//!
//! # Rotation rules (spec section 8.3, without a memory bound)
//!
//! A refresh token is `<session handle>.<generation>.<family secret>.<token secret>`: the
//! generation counts rotations (0 for the session's first token), the family secret (256
//! bits) is drawn once per session and carried by every token of it, and the token secret
//! (256 bits) is new for every token. A store only ever sees hashes: the lowercase hex
//! SHA-256 of the whole token ([`refresh_token_hash`](crate::token::refresh_token_hash)) and of the
//! family secret, both computed by the refresh service. Each session keeps, in bounded
//! space whatever its history:
//!
//! - `family`: the hash of the family secret, set at creation;
//! - `head`: the hash of the current, promoted refresh token, and its generation;
//! - `children`: hashes issued from `head` and not yet used (all of generation head + 1; at
//!   most [`MAX_CHILDREN`], the oldest dropped).
//!
//! [`SessionStore::rotate`] with a [`Presented`] token (its hash, its generation, the hash
//! of its family secret), in this order:
//!
//! | presented | effect | outcome |
//! |---|---|---|
//! | another `family` | nothing: not a token of this session (for example one made up from the public session handle), and it must never revoke | [`RotateOutcome::Unauthorised`] |
//! | `head` | the new hash joins `children`; `head` stays valid, so a lost response, concurrent refreshes or two tabs sign nobody out | [`RotateOutcome::Rotated`] |
//! | in `children` | promotion: it becomes `head` (generation + 1), the new hash is its only child; the old head and the other children are now earlier tokens | [`RotateOutcome::Rotated`] |
//! | any other hash, generation at or below the head's | an earlier token came back (a former head, or a sibling of the promoted child): **theft**; the session is revoked in the same atomic step | [`RotateOutcome::Theft`] |
//! | any other hash, a later generation (a child dropped past [`MAX_CHILDREN`], or made up) | nothing | [`RotateOutcome::Unauthorised`] |
//! | no live session | nothing | [`RotateOutcome::Unauthorised`] |
//!
//! Nothing is remembered per rotated-away token, so detection does not depend on how long
//! the chain is or how many refreshes raced: any genuine earlier token is recognised by its
//! family and its generation. Only a holder of the family secret, that is of some genuine
//! token of the session (the victim or the thief), can trigger the revocation, which the
//! thief could do anyway by replaying the stolen token. As in the SuperTokens core, a
//! sibling of the promoted child (another refresh from the same parent) is an earlier token
//! once one child has been used, and presenting it is theft.
//!
//! [`SessionStore::promote`] is the promotion an API call triggers with an access token whose
//! `parentRefreshTokenHash1` is set (access tokens are signed, so they are genuine; they
//! carry no generation). It never revokes:
//!
//! | state | effect | outcome |
//! |---|---|---|
//! | `child` is `head` | nothing (an earlier call or refresh promoted it) | [`PromoteOutcome::AlreadyPromoted`] |
//! | `parent` is `head`, `child` its **only** child | as a rotation's promotion, without a new child | [`PromoteOutcome::Promoted`] |
//! | `parent` is `head`, `child` one of several children | nothing: refreshes raced (two tabs on two origins, a lost response); the next refresh decides which child becomes the head, so an API call made with the child that did not land in the shared cookie jar signs nobody out | [`PromoteOutcome::Deferred`] |
//! | anything else, session live | nothing: the access token belongs to an earlier token (a late request) | [`PromoteOutcome::Stale`] |
//! | no live session | nothing | [`PromoteOutcome::Unauthorised`] |
//!
//! The server answers `Stale` with 401 `try refresh token`, nothing cleared: the client
//! refreshes with the refresh token it holds, which carries on if it is current and is
//! caught as theft if it is an earlier one.
//!
//! Sessions written by an earlier layout (a `retired` list instead of a family secret) are
//! not read: their refresh tokens have the old two-part format, which the refresh service
//! refuses as malformed, so their users sign in again (see the Redis store's docs).

mod memory;

#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;

use std::{future::Future, pin::Pin, time::SystemTime};

use serde_json::{Map, Value};

pub use memory::{Clock, MemoryStore};

/// How many unused children one head keeps; the oldest is dropped past it.
pub const MAX_CHILDREN: usize = 64;

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
    /// Hex SHA-256 of the first refresh token (generation 0).
    pub refresh_hash: String,
    /// Hex SHA-256 of the session's family secret, which every refresh token of the
    /// session carries.
    pub family_hash: String,
    /// When the refresh token expires; the session is gone after it.
    pub expires_at: SystemTime,
    /// Server-side session data (SuperTokens' `sessionDataInDatabase`): kept beside the
    /// session, never put in a token, carried across refreshes. Empty for none.
    pub session_data: Map<String, Value>,
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
    /// When the session was created (the store's clock at [`SessionStore::create`];
    /// SuperTokens' `timeCreated`). Stores keep it to the millisecond.
    pub time_created: SystemTime,
    /// The server-side session data (see [`NewSession::session_data`]).
    pub session_data: Map<String, Value>,
}

/// A refresh token presented to [`SessionStore::rotate`], as the store compares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presented<'a> {
    /// Hex SHA-256 of the whole token.
    pub hash: &'a str,
    /// The generation the token names (0 for the session's first token).
    pub generation: u64,
    /// Hex SHA-256 of the family secret the token carries.
    pub family_hash: &'a str,
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
    /// An earlier refresh token of the session came back: the session has been revoked.
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
    /// The child is one of several children of the head (refreshes raced): nothing
    /// changed; the next refresh decides which child becomes the head. The access token is
    /// good as it is.
    Deferred,
    /// The session is live, but the access token belongs to a refresh token that is
    /// neither the head nor one of its children (it was rotated away): nothing changed.
    Stale,
    /// No live session.
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
/// Hashes are lowercase hex SHA-256 of refresh tokens and family secrets; a store never
/// sees a token or a secret.
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

    /// Rotates the refresh token `presented` of session `handle`, making `new_child` (the
    /// hash of a token of generation `presented.generation + 1`) valid; on success the
    /// session's expiry slides to `expires_at`. One atomic step, theft detection and
    /// revocation included; see the [module docs](self).
    fn rotate<'a>(
        &'a self,
        handle: &'a str,
        presented: Presented<'a>,
        new_child: &'a str,
        expires_at: SystemTime,
    ) -> StoreFuture<'a, RotateOutcome>;

    /// Promotes `child` (a hash issued from `parent`) to the head of session `handle`,
    /// atomically; it never revokes. See the [module docs](self).
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

    /// Replaces the server-side session data of session `handle` (SuperTokens'
    /// `updateSessionDataInDatabase`); `false` if there is no such live session. The
    /// session's tokens and expiry are untouched.
    fn update_session_data<'a>(
        &'a self,
        handle: &'a str,
        data: Map<String, Value>,
    ) -> StoreFuture<'a, bool>;

    /// Whether session `handle` is live and belongs to `user_id`, when this store can tell
    /// without waiting (an in-process store such as [`MemoryStore`]): the database check of
    /// [`RequireSessionLayer::check_database`](crate::session::RequireSessionLayer::check_database)
    /// then answers in the same call, with no allocation. `None`, the default: the check asks
    /// [`get`](Self::get) instead (one round trip for a remote store).
    fn is_live_now(&self, handle: &str, user_id: &str) -> Option<Result<bool, StoreError>> {
        let _ = (handle, user_id);
        None
    }

    /// Where signing keys can be kept next to these sessions, if this store can keep them
    /// ([`KeyStore`](crate::keystore::KeyStore)): [`SharedSession`](crate::SharedSession)
    /// then keeps its keys there, shared by every process on the store and rotated.
    /// Default `None` (give the facade a `signing_key` or a `key_store` instead).
    fn key_store(&self) -> Option<std::sync::Arc<dyn crate::keystore::KeyStore>> {
        None
    }
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
        presented: Presented<'a>,
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
    fn update_session_data<'a>(
        &'a self,
        handle: &'a str,
        data: Map<String, Value>,
    ) -> StoreFuture<'a, bool> {
        (**self).update_session_data(handle, data)
    }
    fn is_live_now(&self, handle: &str, user_id: &str) -> Option<Result<bool, StoreError>> {
        (**self).is_live_now(handle, user_id)
    }
    fn key_store(&self) -> Option<std::sync::Arc<dyn crate::keystore::KeyStore>> {
        (**self).key_store()
    }
}
