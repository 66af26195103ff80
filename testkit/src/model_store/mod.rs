//! Model check of the session stores: proptest drives a store with random sequences of
//! create, refresh (with the current token, its parent, a sibling, an older or an unknown
//! token), promotion by API call, revoke, revoke-all, expiry (the test moves the clock),
//! racing refreshes of one session, and long chains that overflow the `children` (64) and
//! `retired` (32) bounds, and compares every answer with a small reference model of the
//! rotation rules in the `store` module docs (which refine spec section 8.3).
//!
//! Besides answer-for-answer equality, three invariants are asserted on their own:
//! - at most one live family head: after a race of refreshes with one token, exactly one
//!   promotion happened (the old head, and only it, is now a rotated-away token);
//! - theft only on real reuse: `Theft` is answered only for a token the model has retired
//!   (a former head), never for a dropped sibling, a child or an unknown token;
//! - revoked stays revoked: once revoked, expired or theft-revoked, a handle never answers
//!   anything but "gone" again.
//!
//! Runs against `MemoryStore` (clock controlled by the test) and, with the `redis` feature,
//! against `RedisStore` on 127.0.0.1:6379 (or `REDIS_URL`). Redis has no test clock, so the
//! expire op is left out of the Redis runs (its real-time expiry is covered by
//! `store_redis.rs`).

use std::{
    collections::{BTreeMap, BTreeSet, VecDeque},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, SystemTime},
};

use proptest::prelude::*;
use tower_session_refresh::{
    refresh_token_hash,
    store::{
        MemoryStore, NewSession, PromoteOutcome, RotateOutcome, SessionStore, MAX_CHILDREN,
        MAX_RETIRED,
    },
};

// ------------------------------------------------------------------------------------------
// Reference model

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rot {
    Rotated,
    Theft,
    Unauthorised,
}

#[derive(Debug, Clone)]
struct Family {
    user: u8,
    head: String,
    children: VecDeque<String>,
    retired: VecDeque<String>,
    expires: u64,
    /// Every token ever issued for this session, oldest first.
    issued: Vec<String>,
}

#[derive(Debug, Default)]
struct Model {
    now: u64,
    live: BTreeMap<String, Family>,
    /// Handles revoked, theft-revoked or expired: they must stay gone.
    dead: BTreeSet<String>,
    /// Issued tokens of dead sessions (presented later: still unauthorised).
    dead_tokens: BTreeMap<String, Vec<String>>,
}

fn push_bounded(list: &mut VecDeque<String>, value: String, max: usize) {
    if list.len() >= max {
        list.pop_front();
    }
    list.push_back(value);
}

impl Family {
    /// Promotion: `child` becomes head; its siblings, then the old head, are retired.
    fn promote(&mut self, child: &str) {
        let old = std::mem::replace(&mut self.head, child.to_owned());
        for sibling in std::mem::take(&mut self.children) {
            if sibling != child {
                push_bounded(&mut self.retired, sibling, MAX_RETIRED);
            }
        }
        push_bounded(&mut self.retired, old, MAX_RETIRED);
    }

    /// Whether presenting `token` (rotate) or promoting it would drop the oldest entry of
    /// `children` or `retired`.
    fn would_evict(&self, token: &str) -> bool {
        if self.head == token {
            self.children.len() >= MAX_CHILDREN
        } else if self.children.iter().any(|c| c == token) {
            self.retired.len() + self.children.len() > MAX_RETIRED
        } else {
            false
        }
    }
}

impl Model {
    fn kill(&mut self, handle: &str) {
        if let Some(f) = self.live.remove(handle) {
            self.dead_tokens.insert(handle.to_owned(), f.issued);
        }
        self.dead.insert(handle.to_owned());
    }

    /// Drops `handle` if expired; whether it is live afterwards.
    fn alive(&mut self, handle: &str) -> bool {
        match self.live.get(handle) {
            Some(f) if f.expires > self.now => true,
            Some(_) => {
                self.kill(handle);
                false
            }
            None => false,
        }
    }

    fn rotate(&mut self, handle: &str, presented: &str, child: &str, expires: u64) -> Rot {
        if !self.alive(handle) {
            return Rot::Unauthorised;
        }
        let f = self.live.get_mut(handle).expect("alive");
        if f.head == presented {
            push_bounded(&mut f.children, child.to_owned(), MAX_CHILDREN);
        } else if f.children.iter().any(|c| c == presented) {
            f.promote(presented);
            f.children.push_back(child.to_owned());
        } else if f.retired.iter().any(|r| r == presented) {
            self.kill(handle);
            return Rot::Theft;
        } else {
            return Rot::Unauthorised;
        }
        f.issued.push(child.to_owned());
        f.expires = expires;
        Rot::Rotated
    }

    fn promote(&mut self, handle: &str, parent: &str, child: &str) -> PromoteOutcome {
        if !self.alive(handle) {
            return PromoteOutcome::Unauthorised;
        }
        let f = self.live.get_mut(handle).expect("alive");
        if f.head == child {
            PromoteOutcome::AlreadyPromoted
        } else if f.head == parent && f.children.iter().any(|c| c == child) {
            f.promote(child);
            PromoteOutcome::Promoted
        } else if f.retired.iter().any(|r| r == parent || r == child) {
            self.kill(handle);
            PromoteOutcome::Theft
        } else {
            PromoteOutcome::Unauthorised
        }
    }

    fn revoke(&mut self, handle: &str) -> bool {
        let live = self.alive(handle);
        self.kill(handle);
        live
    }

    fn revoke_all(&mut self, user: u8) -> Vec<String> {
        let handles: Vec<String> = self
            .live
            .iter()
            .filter(|(_, f)| f.user == user)
            .map(|(h, _)| h.clone())
            .collect();
        let mut live = Vec::new();
        for h in handles {
            if self.alive(&h) {
                live.push(h.clone());
            }
            self.kill(&h);
        }
        live.sort();
        live
    }

    fn list(&self, user: u8) -> Vec<String> {
        self.live
            .iter()
            .filter(|(_, f)| f.user == user && f.expires > self.now)
            .map(|(h, _)| h.clone())
            .collect()
    }
}

// ------------------------------------------------------------------------------------------
// Operations

/// Which token a client presents.
#[derive(Debug, Clone, Copy)]
enum Pick {
    /// The newest child, else the head (what an up-to-date client holds).
    Current,
    /// The head while a child exists (a lost response, or a second tab).
    Parent,
    /// Any child of the head (the one that reached the cookie jar).
    Child(u8),
    /// Any token ever issued for the session (retired heads, dropped siblings, evicted).
    Older(u8),
    /// A token from `retired` (a former head or a sibling of a promoted child).
    Retired(u8),
    /// The oldest child still held (the next to be dropped past 64).
    OldestChild,
    /// The oldest token `retired` still holds (the next to be dropped).
    OldestRetired,
    /// The session's first token (dropped from `retired` after 32 more retirements).
    Oldest,
    /// A token of another session.
    Foreign(u8),
    /// A token nobody issued.
    Unknown,
}

#[derive(Debug, Clone)]
enum Op {
    Create {
        user: u8,
        lifetime: u16,
    },
    Refresh {
        s: u8,
        pick: Pick,
        lifetime: u16,
    },
    Promote {
        s: u8,
        child: Pick,
    },
    PromoteAny {
        s: u8,
        parent: Pick,
        child: Pick,
    },
    Race {
        s: u8,
        pick: Pick,
        n: u8,
    },
    /// Rotates the head `n` times (overflows `children` past 64).
    Fan {
        s: u8,
        n: u8,
    },
    /// Uses each new child at once, `n` times (overflows `retired` past 32).
    Chain {
        s: u8,
        n: u8,
    },
    Revoke {
        s: u8,
    },
    RevokeAll {
        user: u8,
    },
    /// Moves the clock to session `s`'s expiry (memory only).
    Expire {
        s: u8,
    },
    Get {
        s: u8,
    },
    List {
        user: u8,
    },
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        4 => Just(Pick::Current),
        3 => Just(Pick::Parent),
        2 => any::<u8>().prop_map(Pick::Child),
        3 => any::<u8>().prop_map(Pick::Older),
        2 => any::<u8>().prop_map(Pick::Retired),
        1 => Just(Pick::Oldest),
        1 => Just(Pick::OldestRetired),
        1 => Just(Pick::OldestChild),
        1 => any::<u8>().prop_map(Pick::Foreign),
        1 => Just(Pick::Unknown),
    ]
}

fn op(with_expire: bool) -> impl Strategy<Value = Op> {
    let lifetime = 100u16..2000;
    // proptest refuses a zero weight; without a clock the op is a no-op.
    let expire_weight = if with_expire { 2 } else { 1 };
    prop_oneof![
        3 => (0u8..3, lifetime.clone()).prop_map(|(user, lifetime)| Op::Create { user, lifetime }),
        10 => (any::<u8>(), pick(), lifetime).prop_map(|(s, pick, lifetime)| Op::Refresh { s, pick, lifetime }),
        3 => (any::<u8>(), pick()).prop_map(|(s, child)| Op::Promote { s, child }),
        1 => (any::<u8>(), pick(), pick()).prop_map(|(s, parent, child)| Op::PromoteAny { s, parent, child }),
        3 => (any::<u8>(), pick(), 2u8..5).prop_map(|(s, pick, n)| Op::Race { s, pick, n }),
        1 => (any::<u8>(), 1u8..70).prop_map(|(s, n)| Op::Fan { s, n }),
        1 => (any::<u8>(), 1u8..40).prop_map(|(s, n)| Op::Chain { s, n }),
        1 => any::<u8>().prop_map(|s| Op::Revoke { s }),
        1 => (0u8..3).prop_map(|user| Op::RevokeAll { user }),
        expire_weight => any::<u8>().prop_map(|s| Op::Expire { s }),
        2 => any::<u8>().prop_map(|s| Op::Get { s }),
        1 => (0u8..3).prop_map(|user| Op::List { user }),
    ]
}

// ------------------------------------------------------------------------------------------
// Driver

static NEXT: AtomicU64 = AtomicU64::new(0);

fn fresh(what: &str) -> String {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    refresh_token_hash(&format!("{what}-{}-{n}", std::process::id()))
}

const EPOCH_SECS: u64 = 1_900_000_000;

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(EPOCH_SECS + secs)
}

struct Run<'a, S> {
    store: &'a S,
    model: Model,
    /// Every handle created in this run (live or dead), in creation order.
    handles: Vec<String>,
    /// Handle prefix, unique per run (shared Redis).
    tag: String,
    /// Moves the store's clock (memory); `None` for Redis.
    set_clock: Option<Box<dyn Fn(u64) + 'a>>,
    /// Sessions whose children list holds racers in an order only the store knows: no op
    /// may evict a child there until a promotion clears the list.
    raced: BTreeSet<String>,
    log: Vec<String>,
}

fn user_id(tag: &str, user: u8) -> String {
    format!("{tag}-user-{user}")
}

impl<S: SessionStore> Run<'_, S> {
    fn handle(&self, s: u8) -> Option<String> {
        (!self.handles.is_empty())
            .then(|| self.handles[usize::from(s) % self.handles.len()].clone())
    }

    /// The hash presented for `pick` on session `h`.
    fn token(&self, h: &str, pick: Pick) -> String {
        let issued = self
            .model
            .live
            .get(h)
            .map(|f| f.issued.clone())
            .or_else(|| self.model.dead_tokens.get(h).cloned())
            .unwrap_or_default();
        let Some(f) = self.model.live.get(h) else {
            return issued.last().cloned().unwrap_or_else(|| fresh("gone"));
        };
        match pick {
            Pick::Current => f.children.back().cloned().unwrap_or_else(|| f.head.clone()),
            Pick::Parent => f.head.clone(),
            Pick::Child(k) if !f.children.is_empty() => {
                f.children[usize::from(k) % f.children.len()].clone()
            }
            Pick::Child(_) => f.head.clone(),
            Pick::Older(k) => issued[usize::from(k) % issued.len()].clone(),
            Pick::Retired(k) if !f.retired.is_empty() => {
                f.retired[usize::from(k) % f.retired.len()].clone()
            }
            Pick::OldestRetired if !f.retired.is_empty() => f.retired[0].clone(),
            Pick::OldestChild if !f.children.is_empty() => f.children[0].clone(),
            Pick::OldestChild => f.head.clone(),
            Pick::Retired(_) | Pick::Oldest | Pick::OldestRetired => issued[0].clone(),
            Pick::Foreign(k) => {
                let others: Vec<&String> = self
                    .model
                    .live
                    .iter()
                    .filter(|(other, _)| *other != h)
                    .flat_map(|(_, f)| f.issued.iter())
                    .collect();
                if others.is_empty() {
                    fresh("foreign")
                } else {
                    others[usize::from(k) % others.len()].clone()
                }
            }
            Pick::Unknown => fresh("unknown"),
        }
    }

    fn note(&mut self, line: String) {
        self.log.push(line);
    }

    fn check_rot(&mut self, h: &str, presented: &str, got: &RotateOutcome, want: Rot) {
        let got_kind = match got {
            RotateOutcome::Rotated {
                session,
                parent_hash,
            } => {
                assert_eq!(session.handle, h, "rotated info handle");
                assert_eq!(
                    parent_hash, presented,
                    "the new token descends from the presented one"
                );
                Rot::Rotated
            }
            RotateOutcome::Theft { user_id } => {
                assert!(user_id.starts_with(&self.tag), "theft user {user_id}");
                Rot::Theft
            }
            other => {
                assert!(matches!(other, RotateOutcome::Unauthorised), "{other:?}");
                Rot::Unauthorised
            }
        };
        assert_eq!(
            got_kind,
            want,
            "rotate {h} with {presented}; log:\n{}",
            self.log.join("\n")
        );
    }

    async fn step(&mut self, op: &Op) {
        self.note(format!("{op:?}"));
        match *op {
            Op::Create { user, lifetime } => {
                let handle = format!("{}-h{}", self.tag, self.handles.len());
                let first = fresh("rt0");
                let expires = self.model.now + u64::from(lifetime);
                self.store
                    .create(NewSession {
                        handle: handle.clone(),
                        user_id: user_id(&self.tag, user),
                        tenant_id: "public".to_owned(),
                        payload: None,
                        refresh_hash: first.clone(),
                        expires_at: at(expires),
                    })
                    .await
                    .expect("create");
                self.model.live.insert(
                    handle.clone(),
                    Family {
                        user,
                        head: first.clone(),
                        children: VecDeque::new(),
                        retired: VecDeque::new(),
                        expires,
                        issued: vec![first],
                    },
                );
                self.handles.push(handle);
            }
            Op::Refresh { s, pick, lifetime } => {
                let Some(h) = self.handle(s) else { return };
                let presented = self.token(&h, pick);
                self.refresh(&h, &presented, u64::from(lifetime)).await;
            }
            Op::Promote { s, child } => {
                let Some(h) = self.handle(s) else { return };
                let parent = self.token(&h, Pick::Parent);
                let child = self.token(&h, child);
                self.promote(&h, &parent, &child).await;
            }
            Op::PromoteAny { s, parent, child } => {
                let Some(h) = self.handle(s) else { return };
                let parent = self.token(&h, parent);
                let child = self.token(&h, child);
                self.promote(&h, &parent, &child).await;
            }
            Op::Race { s, pick, n } => {
                let Some(h) = self.handle(s) else { return };
                self.race(&h, pick, usize::from(n)).await;
            }
            Op::Fan { s, n } => {
                let Some(h) = self.handle(s) else { return };
                for _ in 0..n {
                    let head = self.token(&h, Pick::Parent);
                    self.refresh(&h, &head, 1000).await;
                }
            }
            Op::Chain { s, n } => {
                let Some(h) = self.handle(s) else { return };
                for _ in 0..n {
                    let current = self.token(&h, Pick::Current);
                    self.refresh(&h, &current, 1000).await;
                }
            }
            Op::Revoke { s } => {
                let Some(h) = self.handle(s) else { return };
                let want = self.model.revoke(&h);
                let got = self.store.revoke(&h).await.expect("revoke");
                assert_eq!(got, want, "revoke {h}; log:\n{}", self.log.join("\n"));
            }
            Op::RevokeAll { user } => {
                let want = self.model.revoke_all(user);
                let mut got = self
                    .store
                    .revoke_all(&user_id(&self.tag, user))
                    .await
                    .expect("revoke_all");
                got.sort();
                assert_eq!(
                    got,
                    want,
                    "revoke_all {user}; log:\n{}",
                    self.log.join("\n")
                );
            }
            Op::Expire { s } => {
                let Some(set_clock) = &self.set_clock else {
                    return;
                };
                let Some(h) = self.handle(s) else { return };
                if let Some(f) = self.model.live.get(&h) {
                    let t = f.expires.max(self.model.now);
                    self.model.now = t;
                    set_clock(t);
                }
            }
            Op::Get { s } => {
                let Some(h) = self.handle(s) else { return };
                let want = self.model.alive(&h);
                let got = self.store.get(&h).await.expect("get");
                assert_eq!(
                    got.is_some(),
                    want,
                    "get {h}; log:\n{}",
                    self.log.join("\n")
                );
                if let Some(info) = got {
                    let f = &self.model.live[&h];
                    assert_eq!(info.user_id, user_id(&self.tag, f.user));
                    assert_eq!(info.expires_at, at(f.expires));
                }
            }
            Op::List { user } => {
                let want = self.model.list(user);
                let mut got: Vec<String> = self
                    .store
                    .list(&user_id(&self.tag, user))
                    .await
                    .expect("list")
                    .into_iter()
                    .map(|i| i.handle)
                    .collect();
                got.sort();
                assert_eq!(got, want, "list {user}; log:\n{}", self.log.join("\n"));
            }
        }
        self.check_dead().await;
    }

    async fn refresh(&mut self, h: &str, presented: &str, lifetime: u64) {
        if let Some(f) = self.model.live.get(h) {
            if self.raced.contains(h) && f.would_evict(presented) {
                return; // would evict racers, whose order only the store knows
            }
        }
        let child = fresh("child");
        let expires = self.model.now + lifetime;
        let retired_before = self
            .model
            .live
            .get(h)
            .is_some_and(|f| f.retired.iter().any(|r| r == presented));
        let was_dead = self.model.dead.contains(h);
        let want = self.model.rotate(h, presented, &child, expires);
        let got = self
            .store
            .rotate(h, presented, &child, at(expires))
            .await
            .expect("rotate");
        self.check_rot(h, presented, &got, want);
        // Invariant: theft only on real reuse of a rotated-away token.
        if matches!(got, RotateOutcome::Theft { .. }) {
            assert!(retired_before, "theft for a token that was never used");
        }
        // Invariant: revoked stays revoked.
        if was_dead {
            assert_eq!(got, RotateOutcome::Unauthorised, "a dead session came back");
        }
    }

    async fn promote(&mut self, h: &str, parent: &str, child: &str) {
        if let Some(f) = self.model.live.get(h) {
            if self.raced.contains(h) && f.head == parent && f.would_evict(child) {
                return; // would evict racers, whose order only the store knows
            }
        }
        let retired_before = self
            .model
            .live
            .get(h)
            .is_some_and(|f| f.retired.iter().any(|r| r == parent || r == child));
        let want = self.model.promote(h, parent, child);
        let got = self.store.promote(h, parent, child).await.expect("promote");
        assert_eq!(got, want, "promote {h}; log:\n{}", self.log.join("\n"));
        if got == PromoteOutcome::Theft {
            assert!(
                retired_before,
                "theft on promotion without a rotated-away token"
            );
        }
    }

    /// `n` refreshes of session `h` with the same token, in flight at once.
    async fn race(&mut self, h: &str, pick: Pick, n: usize) {
        let presented = self.token(h, pick);
        // Preconditions that keep the model deterministic: the racers' children must not
        // evict one another (their order is up to the store).
        if let Some(f) = self.model.live.get(h) {
            let evicts = if f.head == presented {
                f.children.len() + n > MAX_CHILDREN
            } else {
                f.would_evict(&presented)
            };
            if evicts {
                return;
            }
        }
        let head_before = self.model.live.get(h).map(|f| f.head.clone());
        let was_child = self
            .model
            .live
            .get(h)
            .is_some_and(|f| f.children.iter().any(|c| *c == presented));
        let children: Vec<String> = (0..n).map(|_| fresh("race")).collect();
        let expires = self.model.now + 1000;
        let futures = children
            .iter()
            .map(|c| self.store.rotate(h, &presented, c, at(expires)));
        let results = futures_util::future::join_all(futures).await;
        let results: Vec<RotateOutcome> = results.into_iter().map(|r| r.expect("rotate")).collect();

        // Model: every serial order gives the same answers here (a head or a child
        // presented: all rotate; retired: the first is theft and the rest find the session
        // gone; otherwise all unauthorised). Only the order of the racers' children
        // differs, which matters only for eviction: the session is marked `raced` and ops
        // that would evict are skipped from then on.
        self.raced.insert(h.to_owned());
        let mut want = Vec::new();
        for c in &children {
            want.push(self.model.rotate(h, &presented, c, expires));
        }
        let mut got_kinds: Vec<Rot> = results
            .iter()
            .map(|r| match r {
                RotateOutcome::Rotated { .. } => Rot::Rotated,
                RotateOutcome::Theft { .. } => Rot::Theft,
                _ => Rot::Unauthorised,
            })
            .collect();
        got_kinds.sort_by_key(|k| *k as u8);
        let mut want_sorted = want.clone();
        want_sorted.sort_by_key(|k| *k as u8);
        assert_eq!(
            got_kinds,
            want_sorted,
            "race of {n} on {h}; log:\n{}",
            self.log.join("\n")
        );

        // Invariant: at most one live family head. If the racers presented a child, it
        // was promoted exactly once: the old head is now a rotated-away token (theft),
        // and all racers' children are valid children of the one new head.
        if was_child && want.iter().all(|w| *w == Rot::Rotated) {
            let f = self.model.live.get(h).expect("live");
            assert_eq!(f.head, presented);
            assert_eq!(f.retired.back(), head_before.as_ref());
            // All racers' children hang off the one new head.
            assert_eq!(f.children.len(), n);
            let racers: BTreeSet<&String> = children.iter().collect();
            assert_eq!(f.children.iter().collect::<BTreeSet<_>>(), racers);
        }
    }

    /// Revoked stays revoked: every dead handle is still gone.
    async fn check_dead(&mut self) {
        let dead: Vec<String> = self.model.dead.iter().cloned().collect();
        for h in dead.iter().rev().take(3) {
            assert!(
                self.store.get(h).await.expect("get").is_none(),
                "{h} came back"
            );
        }
    }
}

fn ops(with_expire: bool) -> impl Strategy<Value = Vec<Op>> {
    (
        (0u8..3, 100u16..2000).prop_map(|(user, lifetime)| Op::Create { user, lifetime }),
        proptest::collection::vec(op(with_expire), 1..60),
    )
        .prop_map(|(first, mut rest)| {
            rest.insert(0, first);
            rest
        })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn memory_store_follows_the_rotation_model(ops in ops(true)) {
        let now = Arc::new(Mutex::new(at(0)));
        let clock = now.clone();
        let store = MemoryStore::with_clock(Arc::new(move || *clock.lock().expect("clock")));
        let set = {
            let now = now.clone();
            move |t: u64| *now.lock().expect("clock") = at(t)
        };
        let mut run = Run {
            store: &store,
            model: Model::default(),
            handles: Vec::new(),
            tag: "m".to_owned(),
            set_clock: Some(Box::new(set)),
            raced: BTreeSet::new(),
            log: Vec::new(),
        };
        runtime().block_on(async {
            for op in &ops {
                run.step(op).await;
            }
        });
    }
}

/// Racing refreshes from several OS threads on one `MemoryStore` (the futures above are
/// polled on one thread): one head survives, every racer rotates, the old head is theft.
#[test]
fn memory_store_threads_racing_one_child() {
    for _ in 0..200 {
        let store = MemoryStore::new();
        let rt = runtime();
        let exp = SystemTime::now() + Duration::from_secs(600);
        let (rt0, rt1) = (fresh("t0"), fresh("t1"));
        rt.block_on(async {
            store
                .create(NewSession {
                    handle: "h".into(),
                    user_id: "u".into(),
                    tenant_id: "public".into(),
                    payload: None,
                    refresh_hash: rt0.clone(),
                    expires_at: exp,
                })
                .await
                .expect("create");
            assert!(matches!(
                store.rotate("h", &rt0, &rt1, exp).await,
                Ok(RotateOutcome::Rotated { .. })
            ));
        });
        let outcomes: Vec<RotateOutcome> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let (store, rt1) = (store.clone(), rt1.clone());
                    scope.spawn(move || {
                        runtime()
                            .block_on(store.rotate("h", &rt1, &fresh("c"), exp))
                            .expect("rotate")
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, RotateOutcome::Rotated { .. })),
            "{outcomes:?}"
        );
        rt.block_on(async {
            assert!(matches!(
                store
                    .rotate("h", &rt0, &fresh("x"), exp)
                    .await
                    .expect("rotate"),
                RotateOutcome::Theft { .. }
            ));
            assert!(store.get("h").await.expect("get").is_none());
        });
    }
}

#[cfg(feature = "redis")]
mod redis_model {
    use super::*;
    use redis::Commands;
    use tower_session_refresh::store::{RedisStore, RedisStoreConfig};

    fn url() -> String {
        std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
    }

    struct Cleanup(String);

    impl Drop for Cleanup {
        fn drop(&mut self) {
            let Ok(client) = redis::Client::open(url().as_str()) else {
                return;
            };
            let Ok(mut c) = client.get_connection() else {
                return;
            };
            let keys: Vec<String> = match c.scan_match::<_, String>(format!("{}*", self.0)) {
                Ok(iter) => iter.filter_map(Result::ok).collect(),
                Err(_) => return,
            };
            for chunk in keys.chunks(500) {
                let _: Result<(), _> = c.del(chunk);
            }
        }
    }

    fn redis_runtime() -> &'static tokio::runtime::Runtime {
        static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
        RT.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime")
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// The same model against Redis; no expire op (no test clock), and sessions expire
        /// far in the future of the real clock (`at(0)` is in 2030).
        #[test]
        fn redis_store_follows_the_rotation_model(ops in ops(false)) {
            let tag = format!("tsr-model-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
            let _cleanup = Cleanup(format!("{tag}:"));
            redis_runtime().block_on(async {
                let store = RedisStore::connect(&url(), RedisStoreConfig::new(format!("{tag}:")))
                    .await
                    .expect("connect to redis");
                let mut run = Run {
                    store: &store,
                    model: Model::default(),
                    handles: Vec::new(),
                    tag: tag.clone(),
                    set_clock: None,
                    raced: BTreeSet::new(),
                    log: Vec::new(),
                };
                for op in &ops {
                    run.step(op).await;
                }
            });
        }
    }
}
