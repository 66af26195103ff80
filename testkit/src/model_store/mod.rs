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
//! `tower-session-refresh`'s `tests/model_store.rs` runs it against `MemoryStore` (clock
//! controlled by the test), `tower-session-redis`'s against `RedisStore` on 127.0.0.1:6379
//! (or `REDIS_URL`). Redis has no test clock, so the expire op is left out of the Redis
//! runs (its real-time expiry is covered by that crate's `tests/store.rs`).
//!
//! ```text
//! model.rs   the reference model of the rotation rules
//! ops.rs     the operations proptest draws
//! mod.rs     the driver: applies each op to the store and the model, compares
//! ```

mod model;
mod ops;

use std::{
    collections::{BTreeSet, VecDeque},
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, SystemTime},
};

use tower_session_refresh::{
    store::{NewSession, PromoteOutcome, RotateOutcome, SessionStore, MAX_CHILDREN},
    token::refresh_token_hash,
};

pub use model::Token;
use model::{Family, Model, Rot};
pub use ops::{ops, Op, Pick};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A refresh-token hash nobody issued before, in this process.
pub fn fresh(what: &str) -> String {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    refresh_token_hash(&format!("{what}-{}-{n}", std::process::id()))
}

const EPOCH_SECS: u64 = 1_900_000_000;

/// `secs` after the model's epoch (2030).
pub fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(EPOCH_SECS + secs)
}

/// A key prefix nobody used before, for runs against a shared server.
pub fn unique_tag(what: &str) -> String {
    format!(
        "{what}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// One run: a store, the model, and what the run created.
pub struct Run<'a, S> {
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

impl<'a, S: SessionStore> Run<'a, S> {
    /// A run on `store`; handles start with `tag`. `set_clock` moves the store's clock to
    /// [`at`]`(secs)` (a store with a test clock); without it, expire ops do nothing.
    pub fn new(store: &'a S, tag: &str, set_clock: Option<Box<dyn Fn(u64) + 'a>>) -> Self {
        Self {
            store,
            model: Model::default(),
            handles: Vec::new(),
            tag: tag.to_owned(),
            set_clock,
            raced: BTreeSet::new(),
            log: Vec::new(),
        }
    }

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

    /// Applies `op` to the store and the model and compares their answers.
    pub async fn step(&mut self, op: &Op) {
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
                        session_data: Default::default(),
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

/// A current-thread runtime for one proptest case.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}
