//! Model check of the session stores: proptest drives a store with random sequences of
//! create, refresh (with the current token, its parent, a child, any earlier token, a token
//! of another session, one made up with the session's family secret, or one forged from the
//! public handle), promotion by API call, revoke, revoke-all, expiry (the test moves the
//! clock), racing refreshes of one session, and chains of up to 255 rotations and fans that
//! overflow the `children` bound (64), and compares every answer with a small reference
//! model of the rotation rules in the `store` module docs (which refine spec section 8.3).
//!
//! Besides answer-for-answer equality, four invariants are asserted on their own:
//! - at most one live family head: after a race of refreshes with one token, exactly one
//!   promotion happened, and every racer's child hangs off the one new head;
//! - theft only on real reuse: `Theft` is answered only for a token that carries the
//!   session's family secret and names a generation at or behind the head's, never for a
//!   forged family, a child, or a later generation;
//! - theft cannot be outrun: every genuine earlier token (any generation behind the head,
//!   however many rotations ago) is theft;
//! - revoked stays revoked: once revoked, expired or theft-revoked, a handle never answers
//!   anything but "gone" again; and promotion never revokes.
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
        MemoryStore, NewSession, Presented, PromoteOutcome, RotateOutcome, SessionStore,
        MAX_CHILDREN,
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

/// A refresh token as a store sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    hash: String,
    generation: u64,
    family: String,
}

impl Token {
    fn presented(&self) -> Presented<'_> {
        Presented {
            hash: &self.hash,
            generation: self.generation,
            family_hash: &self.family,
        }
    }
}

#[derive(Debug, Clone)]
struct Family {
    user: u8,
    family: String,
    head: String,
    generation: u64,
    children: VecDeque<String>,
    expires: u64,
    /// Every token ever issued for this session, oldest first.
    issued: Vec<Token>,
}

#[derive(Debug, Default)]
struct Model {
    now: u64,
    live: BTreeMap<String, Family>,
    /// Handles revoked, theft-revoked or expired: they must stay gone.
    dead: BTreeSet<String>,
    /// Issued tokens of dead sessions (presented later: still unauthorised).
    dead_tokens: BTreeMap<String, Vec<Token>>,
}

impl Family {
    /// Promotion: `child` becomes head, one generation on, without children.
    fn promote(&mut self, child: &str) {
        child.clone_into(&mut self.head);
        self.generation += 1;
        self.children.clear();
    }

    /// Whether presenting `token` would drop the oldest child.
    fn would_evict(&self, token: &str) -> bool {
        self.head == token && self.children.len() >= MAX_CHILDREN
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

    fn rotate(&mut self, handle: &str, presented: &Token, child: &str, expires: u64) -> Rot {
        if !self.alive(handle) {
            return Rot::Unauthorised;
        }
        let f = self.live.get_mut(handle).expect("alive");
        if f.family != presented.family {
            return Rot::Unauthorised;
        }
        if f.head == presented.hash {
            if f.children.len() >= MAX_CHILDREN {
                f.children.pop_front();
            }
            f.children.push_back(child.to_owned());
        } else if f.children.iter().any(|c| *c == presented.hash) {
            f.promote(&presented.hash);
            f.children.push_back(child.to_owned());
        } else if presented.generation <= f.generation {
            self.kill(handle);
            return Rot::Theft;
        } else {
            return Rot::Unauthorised;
        }
        f.issued.push(Token {
            hash: child.to_owned(),
            generation: presented.generation + 1,
            family: f.family.clone(),
        });
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
        } else if f.head != parent || !f.children.iter().any(|c| c == child) {
            PromoteOutcome::Stale
        } else if f.children.len() > 1 {
            PromoteOutcome::Deferred
        } else {
            f.promote(child);
            PromoteOutcome::Promoted
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
    /// Any token ever issued for the session (former heads, siblings, evicted children).
    Older(u8),
    /// The oldest child still held (the next to be dropped past 64).
    OldestChild,
    /// The session's first token, however many rotations ago.
    Oldest,
    /// A token of another session.
    Foreign(u8),
    /// A token nobody issued, made with the session's family secret (only a holder of
    /// one of its tokens can), at a generation from 0 to head + 3.
    MadeUp(u8),
    /// A token made up from the public handle: another family, any generation.
    Forged(u8),
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
    /// Uses each new child at once, `n` times (a chain of promotions).
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
        4 => any::<u8>().prop_map(Pick::Older),
        2 => Just(Pick::Oldest),
        1 => Just(Pick::OldestChild),
        1 => any::<u8>().prop_map(Pick::Foreign),
        1 => any::<u8>().prop_map(Pick::MadeUp),
        1 => any::<u8>().prop_map(Pick::Forged),
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
        1 => (any::<u8>(), 1u8..=255).prop_map(|(s, n)| Op::Chain { s, n }),
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
    /// may evict a child there.
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

    /// The token presented for `pick` on session `h`.
    fn token(&self, h: &str, pick: Pick) -> Token {
        let issued = self
            .model
            .live
            .get(h)
            .map(|f| f.issued.clone())
            .or_else(|| self.model.dead_tokens.get(h).cloned())
            .unwrap_or_default();
        let made_up = |family: String, generation: u64| Token {
            hash: fresh("made-up"),
            generation,
            family,
        };
        let Some(f) = self.model.live.get(h) else {
            return issued
                .last()
                .cloned()
                .unwrap_or_else(|| made_up(fresh("gone"), 0));
        };
        let issued_as = |hash: &String| {
            issued
                .iter()
                .find(|t| t.hash == *hash)
                .cloned()
                .expect("the model issued it")
        };
        match pick {
            Pick::Current => issued_as(f.children.back().unwrap_or(&f.head)),
            Pick::Parent => issued_as(&f.head),
            Pick::Child(k) if !f.children.is_empty() => {
                issued_as(&f.children[usize::from(k) % f.children.len()])
            }
            Pick::Child(_) | Pick::OldestChild if f.children.is_empty() => issued_as(&f.head),
            Pick::OldestChild => issued_as(&f.children[0]),
            Pick::Child(_) => unreachable!("handled above"),
            Pick::Older(k) => issued[usize::from(k) % issued.len()].clone(),
            Pick::Oldest => issued[0].clone(),
            Pick::Foreign(k) => {
                let others: Vec<&Token> = self
                    .model
                    .live
                    .iter()
                    .filter(|(other, _)| *other != h)
                    .flat_map(|(_, f)| f.issued.iter())
                    .collect();
                if others.is_empty() {
                    made_up(fresh("foreign"), u64::from(k % 4))
                } else {
                    others[usize::from(k) % others.len()].clone()
                }
            }
            Pick::MadeUp(k) => made_up(f.family.clone(), u64::from(k) % (f.generation + 4)),
            Pick::Forged(k) => made_up(fresh("forged"), u64::from(k) % (f.generation + 4)),
        }
    }

    fn note(&mut self, line: String) {
        self.log.push(line);
    }

    fn check_rot(&mut self, h: &str, presented: &Token, got: &RotateOutcome, want: Rot) {
        let got_kind = match got {
            RotateOutcome::Rotated {
                session,
                parent_hash,
            } => {
                assert_eq!(session.handle, h, "rotated info handle");
                assert_eq!(
                    *parent_hash, presented.hash,
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
            "rotate {h} with {presented:?}; log:\n{}",
            self.log.join("\n")
        );
    }

    async fn step(&mut self, op: &Op) {
        self.note(format!("{op:?}"));
        match *op {
            Op::Create { user, lifetime } => {
                let handle = format!("{}-h{}", self.tag, self.handles.len());
                let first = fresh("rt0");
                let family = fresh("family");
                let expires = self.model.now + u64::from(lifetime);
                self.store
                    .create(NewSession {
                        handle: handle.clone(),
                        user_id: user_id(&self.tag, user),
                        tenant_id: "public".to_owned(),
                        payload: None,
                        refresh_hash: first.clone(),
                        family_hash: family.clone(),
                        expires_at: at(expires),
                    })
                    .await
                    .expect("create");
                self.model.live.insert(
                    handle.clone(),
                    Family {
                        user,
                        family: family.clone(),
                        head: first.clone(),
                        generation: 0,
                        children: VecDeque::new(),
                        expires,
                        issued: vec![Token {
                            hash: first,
                            generation: 0,
                            family,
                        }],
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
                let parent = self.token(&h, Pick::Parent).hash;
                let child = self.token(&h, child).hash;
                self.promote(&h, &parent, &child).await;
            }
            Op::PromoteAny { s, parent, child } => {
                let Some(h) = self.handle(s) else { return };
                let parent = self.token(&h, parent).hash;
                let child = self.token(&h, child).hash;
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

    async fn refresh(&mut self, h: &str, presented: &Token, lifetime: u64) {
        if let Some(f) = self.model.live.get(h) {
            if self.raced.contains(h) && f.would_evict(&presented.hash) {
                return; // would evict racers, whose order only the store knows
            }
        }
        let child = fresh("child");
        let expires = self.model.now + lifetime;
        let was_dead = self.model.dead.contains(h);
        // What the session looked like before: for the invariants.
        let now = self.model.now;
        let before = self.model.live.get(h).map(|f| {
            let behind_the_head = presented.family == f.family
                && presented.generation <= f.generation
                && presented.hash != f.head
                && !f.children.contains(&presented.hash);
            (
                f.expires > now,
                behind_the_head,
                f.issued.contains(presented),
            )
        });
        let want = self.model.rotate(h, presented, &child, expires);
        let got = self
            .store
            .rotate(h, presented.presented(), &child, at(expires))
            .await
            .expect("rotate");
        self.check_rot(h, presented, &got, want);
        let is_theft = matches!(got, RotateOutcome::Theft { .. });
        let (alive, behind_the_head, genuine) = before.unwrap_or((false, false, false));
        // Invariant: theft only with the family secret, at or behind the head.
        if is_theft {
            assert!(alive && behind_the_head, "theft for {presented:?}");
        }
        // Invariant: theft cannot be outrun: any genuine earlier token is theft.
        if alive && behind_the_head && genuine {
            assert!(
                is_theft,
                "a genuine earlier token must be theft: {presented:?}"
            );
        }
        // Invariant: revoked stays revoked.
        if was_dead {
            assert_eq!(got, RotateOutcome::Unauthorised, "a dead session came back");
        }
    }

    async fn promote(&mut self, h: &str, parent: &str, child: &str) {
        if self.model.dead.contains(h) {
            let got = self.store.promote(h, parent, child).await.expect("promote");
            assert_eq!(
                got,
                PromoteOutcome::Unauthorised,
                "a dead session came back"
            );
            return;
        }
        let want = self.model.promote(h, parent, child);
        let got = self.store.promote(h, parent, child).await.expect("promote");
        assert_eq!(got, want, "promote {h}; log:\n{}", self.log.join("\n"));
        // Invariant: promotion never revokes.
        if !matches!(got, PromoteOutcome::Unauthorised) {
            assert!(
                self.store.get(h).await.expect("get").is_some(),
                "promotion revoked {h}"
            );
        }
    }

    /// `n` refreshes of session `h` with the same token, in flight at once.
    async fn race(&mut self, h: &str, pick: Pick, n: usize) {
        let presented = self.token(h, pick);
        // Preconditions that keep the model deterministic: the racers' children must not
        // evict one another (their order is up to the store).
        if let Some(f) = self.model.live.get(h) {
            if f.head == presented.hash && f.children.len() + n > MAX_CHILDREN {
                return;
            }
        }
        let head_before = self
            .model
            .live
            .get(h)
            .map(|f| (f.head.clone(), f.generation));
        let was_child =
            self.model.live.get(h).is_some_and(|f| {
                f.family == presented.family && f.children.contains(&presented.hash)
            });
        let children: Vec<String> = (0..n).map(|_| fresh("race")).collect();
        let expires = self.model.now + 1000;
        let futures = children
            .iter()
            .map(|c| self.store.rotate(h, presented.presented(), c, at(expires)));
        let results = futures_util::future::join_all(futures).await;
        let results: Vec<RotateOutcome> = results.into_iter().map(|r| r.expect("rotate")).collect();

        // Model: every serial order gives the same answers here (a head or a child
        // presented: all rotate; an earlier token: the first is theft and the rest find the
        // session gone; otherwise all unauthorised). Only the order of the racers' children
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
        // was promoted exactly once (one generation on), and all racers' children are the
        // children of the one new head.
        if was_child && want.iter().all(|w| *w == Rot::Rotated) {
            let f = self.model.live.get(h).expect("live");
            assert_eq!(f.head, presented.hash);
            let (_, generation_before) = head_before.expect("live before");
            assert_eq!(f.generation, generation_before + 1, "promoted once");
            assert_eq!(f.children.len(), n);
            let racers: BTreeSet<&String> = children.iter().collect();
            assert_eq!(f.children.iter().collect::<BTreeSet<_>>(), racers);
            // The store agrees: each racer's child promotes only by refresh now (several
            // children), and the head is the presented child.
            assert_eq!(
                self.store
                    .promote(h, &presented.hash, &children[0])
                    .await
                    .expect("promote"),
                if n > 1 {
                    PromoteOutcome::Deferred
                } else {
                    PromoteOutcome::Promoted
                }
            );
            if n == 1 {
                // Keep the model in step with the promotion just made.
                self.model.promote(h, &presented.hash, &children[0]);
            }
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
        let family = fresh("family");
        let token = |hash: &str, generation| Token {
            hash: hash.to_owned(),
            generation,
            family: family.clone(),
        };
        let (rt0, rt1) = (token(&fresh("t0"), 0), token(&fresh("t1"), 1));
        rt.block_on(async {
            store
                .create(NewSession {
                    handle: "h".into(),
                    user_id: "u".into(),
                    tenant_id: "public".into(),
                    payload: None,
                    refresh_hash: rt0.hash.clone(),
                    family_hash: family.clone(),
                    expires_at: exp,
                })
                .await
                .expect("create");
            assert!(matches!(
                store.rotate("h", rt0.presented(), &rt1.hash, exp).await,
                Ok(RotateOutcome::Rotated { .. })
            ));
        });
        let outcomes: Vec<RotateOutcome> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let (store, rt1) = (store.clone(), rt1.clone());
                    scope.spawn(move || {
                        runtime()
                            .block_on(store.rotate("h", rt1.presented(), &fresh("c"), exp))
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
                    .rotate("h", rt0.presented(), &fresh("x"), exp)
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
