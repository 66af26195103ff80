//! The in-memory store: the default for one auth process.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{Arc, Mutex, MutexGuard},
    time::SystemTime,
};

use serde_json::{Map, Value};

use super::{
    NewSession, Presented, PromoteOutcome, RotateOutcome, SessionInfo, SessionStore, StoreError,
    StoreFuture, MAX_CHILDREN,
};

/// A clock the store reads "now" from (tests move it).
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Sessions kept in this process's memory.
///
/// Thread-safe (one mutex, never held across an await: every operation completes before
/// its future is first polled), and bounded: expired sessions are dropped when touched and
/// by a sweep that runs every [`SWEEP_EVERY`](MemoryStore::SWEEP_EVERY) writes, or every
/// `len / 4` writes on a larger store: the sweep walks every session, so spacing it by a
/// share of the store keeps its cost per write constant however many sessions are live
/// (at 1M sessions a sweep every 1,024 writes took a fifth of the refresh rate).
/// Clones share the same sessions.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use tower_session_refresh::store::{
///     MemoryStore, NewSession, Presented, RotateOutcome, SessionStore,
/// };
///
/// # tokio_test_block_on(async {
/// let store = MemoryStore::new();
/// store.create(NewSession {
///     handle: "h1".into(),
///     user_id: "alice".into(),
///     tenant_id: "public".into(),
///     payload: None,
///     refresh_hash: "aa".into(),
///     family_hash: "ff".into(),
///     expires_at: SystemTime::now() + Duration::from_secs(60),
///     session_data: Default::default(),
/// }).await?;
/// let expires = SystemTime::now() + Duration::from_secs(60);
/// let token = |hash, generation| Presented { hash, generation, family_hash: "ff" };
/// assert!(matches!(store.rotate("h1", token("aa", 0), "bb", expires).await?, RotateOutcome::Rotated { .. }));
/// // The child's first use promotes it; the parent is now an earlier token.
/// assert!(matches!(store.rotate("h1", token("bb", 1), "cc", expires).await?, RotateOutcome::Rotated { .. }));
/// assert_eq!(
///     store.rotate("h1", token("aa", 0), "dd", expires).await?,
///     RotateOutcome::Theft { user_id: "alice".into() },
/// );
/// assert!(store.get("h1").await?.is_none());
/// # Ok::<_, tower_session_refresh::store::StoreError>(())
/// # }).unwrap();
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
    clock: Clock,
    // Shared by clones, so every facade on one store signs with the same keys.
    keys: crate::keystore::MemoryKeyStore,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sessions = self.lock().sessions.len();
        f.debug_struct("MemoryStore")
            .field("sessions", &sessions)
            .finish()
    }
}

#[derive(Default)]
struct Inner {
    sessions: HashMap<String, Family>,
    by_user: HashMap<String, HashSet<String>>,
    /// Writes since the last sweep.
    writes: u64,
}

struct Family {
    info: SessionInfo,
    family: String,
    head: String,
    generation: u64,
    children: VecDeque<String>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// How many writes pass at least between two sweeps of expired sessions (a quarter of
    /// the sessions, on a store of more than 4,096).
    pub const SWEEP_EVERY: u64 = 1024;

    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemTime::now))
    }

    /// An empty store reading the time from `clock` (tests use it to move time).
    pub fn with_clock(clock: Clock) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner::default())),
            clock,
            keys: crate::keystore::MemoryKeyStore::new(),
        }
    }

    /// How many sessions are held, expired ones not yet swept included.
    pub fn len(&self) -> usize {
        self.lock().sessions.len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a family half-updated in a way that
        // matters more than losing the store, so keep serving.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `op` on the live family `handle` (dropping it first if expired).
    fn with_live<T>(&self, handle: &str, op: impl FnOnce(&mut Inner, &str) -> T, gone: T) -> T {
        let now = (self.clock)();
        let mut inner = self.lock();
        let expired = match inner.sessions.get(handle) {
            None => return gone,
            Some(family) => family.info.expires_at <= now,
        };
        if expired {
            inner.remove(handle);
            return gone;
        }
        op(&mut inner, handle)
    }

    fn note_write(&self, inner: &mut Inner) {
        inner.writes += 1;
        let every = Self::SWEEP_EVERY.max(inner.sessions.len() as u64 / 4);
        if inner.writes >= every {
            inner.writes = 0;
            let now = (self.clock)();
            let expired: Vec<String> = inner
                .sessions
                .iter()
                .filter(|(_, f)| f.info.expires_at <= now)
                .map(|(h, _)| h.clone())
                .collect();
            for handle in expired {
                inner.remove(&handle);
            }
        }
    }
}

impl Inner {
    fn remove(&mut self, handle: &str) -> Option<Family> {
        let family = self.sessions.remove(handle)?;
        if let Some(set) = self.by_user.get_mut(&family.info.user_id) {
            set.remove(handle);
            if set.is_empty() {
                self.by_user.remove(&family.info.user_id);
            }
        }
        Some(family)
    }
}

fn ready<T: Send + 'static>(value: T) -> StoreFuture<'static, T> {
    Box::pin(std::future::ready(Ok(value)))
}

fn push_bounded(list: &mut VecDeque<String>, value: String, max: usize) {
    if list.len() >= max {
        list.pop_front();
    }
    list.push_back(value);
}

impl Family {
    /// Makes `child` the head, one generation on; it has no children yet. The old head and
    /// the other children are now earlier tokens, recognised by their generation.
    fn promote(&mut self, child: &str) {
        child.clone_into(&mut self.head);
        self.generation += 1;
        self.children.clear();
    }

    fn is_child(&self, hash: &str) -> bool {
        self.children.iter().any(|c| c == hash)
    }
}

impl SessionStore for MemoryStore {
    fn key_store(&self) -> Option<Arc<dyn crate::keystore::KeyStore>> {
        Some(Arc::new(self.keys.clone()))
    }

    fn create(&self, session: NewSession) -> StoreFuture<'_, ()> {
        let time_created = (self.clock)();
        let mut inner = self.lock();
        let handle = session.handle.clone();
        inner.remove(&handle);
        inner
            .by_user
            .entry(session.user_id.clone())
            .or_default()
            .insert(handle.clone());
        inner.sessions.insert(
            handle.clone(),
            Family {
                info: SessionInfo {
                    handle,
                    user_id: session.user_id,
                    tenant_id: session.tenant_id,
                    payload: session.payload,
                    expires_at: session.expires_at,
                    time_created,
                    session_data: session.session_data,
                },
                family: session.family_hash,
                head: session.refresh_hash,
                generation: 0,
                children: VecDeque::new(),
            },
        );
        self.note_write(&mut inner);
        ready(())
    }

    fn get<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, Option<SessionInfo>> {
        let info = self.with_live(
            handle,
            |inner, h| inner.sessions.get(h).map(|f| f.info.clone()),
            None,
        );
        ready(info)
    }

    fn is_live_now(&self, handle: &str, user_id: &str) -> Option<Result<bool, StoreError>> {
        let live = self.with_live(
            handle,
            |inner, h| {
                inner
                    .sessions
                    .get(h)
                    .is_some_and(|f| f.info.user_id == user_id)
            },
            false,
        );
        Some(Ok(live))
    }

    fn rotate<'a>(
        &'a self,
        handle: &'a str,
        presented: Presented<'a>,
        new_child: &'a str,
        expires_at: SystemTime,
    ) -> StoreFuture<'a, RotateOutcome> {
        let outcome = self.with_live(
            handle,
            |inner, h| {
                let Some(family) = inner.sessions.get_mut(h) else {
                    return RotateOutcome::Unauthorised;
                };
                if family.family != presented.family_hash {
                    return RotateOutcome::Unauthorised;
                }
                if family.head == presented.hash {
                    push_bounded(&mut family.children, new_child.to_owned(), MAX_CHILDREN);
                } else if family.is_child(presented.hash) {
                    family.promote(presented.hash);
                    family.children.push_back(new_child.to_owned());
                } else if presented.generation <= family.generation {
                    let user_id = family.info.user_id.clone();
                    inner.remove(h);
                    return RotateOutcome::Theft { user_id };
                } else {
                    return RotateOutcome::Unauthorised;
                }
                family.info.expires_at = expires_at;
                let outcome = RotateOutcome::Rotated {
                    session: family.info.clone(),
                    parent_hash: presented.hash.to_owned(),
                };
                self.note_write(inner);
                outcome
            },
            RotateOutcome::Unauthorised,
        );
        ready(outcome)
    }

    fn promote<'a>(
        &'a self,
        handle: &'a str,
        parent: &'a str,
        child: &'a str,
    ) -> StoreFuture<'a, PromoteOutcome> {
        let outcome = self.with_live(
            handle,
            |inner, h| {
                let Some(family) = inner.sessions.get_mut(h) else {
                    return PromoteOutcome::Unauthorised;
                };
                if family.head == child {
                    PromoteOutcome::AlreadyPromoted
                } else if family.head != parent || !family.is_child(child) {
                    PromoteOutcome::Stale
                } else if family.children.len() > 1 {
                    PromoteOutcome::Deferred
                } else {
                    family.promote(child);
                    PromoteOutcome::Promoted
                }
            },
            PromoteOutcome::Unauthorised,
        );
        ready(outcome)
    }

    fn revoke<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, bool> {
        let live = self.with_live(handle, |inner, h| inner.remove(h).is_some(), false);
        ready(live)
    }

    fn revoke_all<'a>(&'a self, user_id: &'a str) -> StoreFuture<'a, Vec<String>> {
        let now = (self.clock)();
        let mut inner = self.lock();
        let handles: Vec<String> = inner
            .by_user
            .get(user_id)
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default();
        let mut live = Vec::with_capacity(handles.len());
        for handle in handles {
            if let Some(family) = inner.remove(&handle) {
                if family.info.expires_at > now {
                    live.push(handle);
                }
            }
        }
        live.sort();
        self.note_write(&mut inner);
        ready(live)
    }

    fn list<'a>(&'a self, user_id: &'a str) -> StoreFuture<'a, Vec<SessionInfo>> {
        let now = (self.clock)();
        let mut inner = self.lock();
        let mut sessions = Vec::new();
        let mut expired = Vec::new();
        for handle in inner.by_user.get(user_id).into_iter().flatten() {
            match inner.sessions.get(handle) {
                Some(family) if family.info.expires_at > now => sessions.push(family.info.clone()),
                _ => expired.push(handle.clone()),
            }
        }
        // Listing touches the user's sessions: drop the expired ones now.
        for handle in expired {
            inner.remove(&handle);
        }
        sessions.sort_by(|a, b| a.handle.cmp(&b.handle));
        ready(sessions)
    }

    fn update_payload<'a>(
        &'a self,
        handle: &'a str,
        payload: Map<String, Value>,
    ) -> StoreFuture<'a, bool> {
        let updated = self.with_live(
            handle,
            |inner, h| match inner.sessions.get_mut(h) {
                Some(family) => {
                    family.info.payload = Some(payload);
                    true
                }
                None => false,
            },
            false,
        );
        ready(updated)
    }

    fn update_session_data<'a>(
        &'a self,
        handle: &'a str,
        data: Map<String, Value>,
    ) -> StoreFuture<'a, bool> {
        let updated = self.with_live(
            handle,
            |inner, h| match inner.sessions.get_mut(h) {
                Some(family) => {
                    family.info.session_data = data;
                    true
                }
                None => false,
            },
            false,
        );
        ready(updated)
    }
}
