//! The store conformance suite, written once and run against every [`SessionStore`].
//!
//! A store's test calls [`run_all`] (or the single checks) on a store it owns; every check
//! uses fresh random handles and user ids, so a shared server (Redis) can run it under a
//! test prefix. The checks panic with a message naming the broken rule.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! tower_session_refresh::store::conformance::run_all(
//!     &tower_session_refresh::store::MemoryStore::new(),
//! ).await;
//! # });
//! ```

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde_json::{json, Map};

use super::{NewSession, Presented, PromoteOutcome, RotateOutcome, SessionStore, MAX_CHILDREN};

/// Runs every check, one after the other.
pub async fn run_all<S: SessionStore>(store: &S) {
    create_and_get(store).await;
    parent_stays_valid_until_child_is_used(store).await;
    child_use_promotes_and_old_token_is_theft(store).await;
    sibling_after_promotion_is_theft(store).await;
    unknown_token_is_unauthorised_without_revoking(store).await;
    another_family_never_revokes(store).await;
    theft_detection_is_unbounded(store).await;
    promote_by_access_token(store).await;
    promote_never_revokes(store).await;
    revoke_and_revoke_all(store).await;
    is_live_now_agrees_with_get(store).await;
    list_only_that_users_sessions(store).await;
    update_payload(store).await;
    session_data(store).await;
    concurrent_rotations_with_one_parent(store).await;
    expiry(store).await;
}

fn unique(what: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{what}-{}-{nanos:x}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn hash(label: &str) -> String {
    // Any 64-hex string works: stores compare hashes, they never compute them.
    let mut out = String::with_capacity(64);
    let digest = ring::digest::digest(&ring::digest::SHA256, label.as_bytes());
    for byte in digest.as_ref() {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

fn later(secs: u64) -> SystemTime {
    SystemTime::now() + Duration::from_secs(secs)
}

/// Stores may keep expiries in milliseconds.
fn assert_close(actual: SystemTime, expected: SystemTime, what: &str) {
    let diff = match actual.duration_since(expected) {
        Ok(later) => later,
        Err(earlier) => earlier.duration(),
    };
    assert!(
        diff < Duration::from_millis(2),
        "{what}: {actual:?} vs {expected:?}"
    );
}

/// One session as a client of the store sees it: its handle and its family.
struct Family {
    handle: String,
    family: String,
}

impl Family {
    /// The refresh token labelled `label` of generation `generation` of this family.
    async fn rotate<S: SessionStore>(
        &self,
        store: &S,
        (label, generation): (&str, u64),
        child: &str,
    ) -> RotateOutcome {
        self.rotate_as(store, &self.family, (label, generation), child)
            .await
    }

    /// The same, claiming the family hash `family`.
    async fn rotate_as<S: SessionStore>(
        &self,
        store: &S,
        family: &str,
        (label, generation): (&str, u64),
        child: &str,
    ) -> RotateOutcome {
        let presented = hash(label);
        store
            .rotate(
                &self.handle,
                Presented {
                    hash: &presented,
                    generation,
                    family_hash: family,
                },
                &hash(child),
                later(600),
            )
            .await
            .expect("rotate")
    }

    async fn promote<S: SessionStore>(
        &self,
        store: &S,
        parent: &str,
        child: &str,
    ) -> PromoteOutcome {
        store
            .promote(&self.handle, &hash(parent), &hash(child))
            .await
            .expect("promote")
    }
}

async fn new_session<S: SessionStore>(store: &S, user: &str, first: &str) -> Family {
    let handle = unique("h");
    let family = hash(&unique("family"));
    store
        .create(NewSession {
            handle: handle.clone(),
            user_id: user.to_owned(),
            tenant_id: "tenant-a".to_owned(),
            payload: Some(Map::from_iter([("role".to_owned(), json!("admin"))])),
            refresh_hash: hash(first),
            family_hash: family.clone(),
            expires_at: later(600),
            session_data: Map::from_iter([("cart".to_owned(), json!(["apple", 2]))]),
        })
        .await
        .expect("create");
    Family { handle, family }
}

fn is_rotated(outcome: &RotateOutcome) -> bool {
    matches!(outcome, RotateOutcome::Rotated { .. })
}

fn is_theft(outcome: &RotateOutcome) -> bool {
    matches!(outcome, RotateOutcome::Theft { .. })
}

async fn is_live<S: SessionStore>(store: &S, handle: &str) -> bool {
    store.get(handle).await.expect("get").is_some()
}

/// A created session can be read back, with its payload and user.
pub async fn create_and_get<S: SessionStore>(store: &S) {
    let user = unique("u");
    let session = new_session(store, &user, "rt0").await;
    let info = store
        .get(&session.handle)
        .await
        .expect("get")
        .expect("session exists");
    assert_eq!(info.user_id, user);
    assert_eq!(info.handle, session.handle);
    assert_eq!(info.tenant_id, "tenant-a");
    assert_eq!(
        info.payload.as_ref().and_then(|p| p.get("role")),
        Some(&json!("admin"))
    );
    assert!(store.get(&unique("missing")).await.expect("get").is_none());
}

/// A lost response: refreshing twice with the same parent works both times. A rotation
/// reports the session (expiry slid to the new one) and the parent of the new token.
pub async fn parent_stays_valid_until_child_is_used<S: SessionStore>(store: &S) {
    let user = unique("u");
    let s = new_session(store, &user, "rt0").await;
    let expires = later(900);
    let presented = hash("rt0");
    match store
        .rotate(
            &s.handle,
            Presented {
                hash: &presented,
                generation: 0,
                family_hash: &s.family,
            },
            &hash("rt1a"),
            expires,
        )
        .await
        .expect("rotate")
    {
        RotateOutcome::Rotated {
            session,
            parent_hash,
        } => {
            assert_eq!(parent_hash, hash("rt0"), "the new token's parent");
            assert_eq!(session.handle, s.handle);
            assert_eq!(session.user_id, user);
            assert_eq!(session.tenant_id, "tenant-a");
            assert_eq!(
                session.payload.as_ref().and_then(|p| p.get("role")),
                Some(&json!("admin"))
            );
            assert_close(session.expires_at, expires, "rotation slides the expiry");
        }
        other => panic!("first refresh: expected a rotation, got {other:?}"),
    }
    let stored = store.get(&s.handle).await.expect("get").expect("live");
    assert_close(stored.expires_at, expires, "the slid expiry is stored");
    assert!(
        is_rotated(&s.rotate(store, ("rt0", 0), "rt1b").await),
        "parent must stay valid"
    );
    assert!(is_live(store, &s.handle).await, "session lives");
}

/// The child's first use promotes it; the rotated-away parent is then theft.
pub async fn child_use_promotes_and_old_token_is_theft<S: SessionStore>(store: &S) {
    let user = unique("u");
    let s = new_session(store, &user, "rt0").await;
    assert!(is_rotated(&s.rotate(store, ("rt0", 0), "rt1").await));
    match s.rotate(store, ("rt1", 1), "rt2").await {
        RotateOutcome::Rotated { parent_hash, .. } => {
            assert_eq!(
                parent_hash,
                hash("rt1"),
                "the promoted child is the new parent"
            )
        }
        other => panic!("child use: expected a rotation, got {other:?}"),
    }
    assert!(
        is_rotated(&s.rotate(store, ("rt2", 2), "rt3").await),
        "the promoted child's own child promotes in turn"
    );
    assert_eq!(
        s.rotate(store, ("rt0", 0), "x").await,
        RotateOutcome::Theft { user_id: user },
        "a token two generations back is theft"
    );
    assert!(
        !is_live(store, &s.handle).await,
        "theft revokes the session"
    );
    assert_eq!(
        s.rotate(store, ("rt3", 3), "rt4").await,
        RotateOutcome::Unauthorised,
        "a revoked session stays revoked"
    );
}

/// Two refreshes from one parent; once one child is used, the other is an earlier token
/// (as in the SuperTokens core): presenting it is theft and revokes the session.
pub async fn sibling_after_promotion_is_theft<S: SessionStore>(store: &S) {
    let user = unique("u");
    let s = new_session(store, &user, "rt0").await;
    assert!(is_rotated(&s.rotate(store, ("rt0", 0), "a").await));
    assert!(is_rotated(&s.rotate(store, ("rt0", 0), "b").await));
    assert!(
        is_rotated(&s.rotate(store, ("a", 1), "a2").await),
        "a promotes"
    );
    assert_eq!(
        s.rotate(store, ("b", 1), "b2").await,
        RotateOutcome::Theft { user_id: user },
        "the sibling has the head's generation"
    );
    assert!(
        !is_live(store, &s.handle).await,
        "theft revokes the session"
    );
}

/// Tokens of this family that the session never issued at a later generation than its
/// head (a child dropped past the bound), and tokens of sessions that do not exist, change
/// nothing.
pub async fn unknown_token_is_unauthorised_without_revoking<S: SessionStore>(store: &S) {
    let s = new_session(store, &unique("u"), "rt0").await;
    assert_eq!(
        s.rotate(store, ("never-issued", 1), "x").await,
        RotateOutcome::Unauthorised,
        "a later generation than the head's"
    );
    assert_eq!(
        s.rotate(store, ("never-issued", 7), "x").await,
        RotateOutcome::Unauthorised,
        "a future generation"
    );
    assert!(is_live(store, &s.handle).await);
    assert!(
        is_rotated(&s.rotate(store, ("rt0", 0), "rt1").await),
        "the real token still works"
    );
    // Children past MAX_CHILDREN push the oldest out: it is no longer a child, and at
    // the head's generation + 1 it is not an earlier token either.
    for i in 0..MAX_CHILDREN {
        assert!(is_rotated(
            &s.rotate(store, ("rt0", 0), &format!("c{i}")).await
        ));
    }
    assert_eq!(
        s.rotate(store, ("rt1", 1), "x").await,
        RotateOutcome::Unauthorised,
        "an evicted child"
    );
    assert!(is_live(store, &s.handle).await);
    assert!(
        is_rotated(&s.rotate(store, ("c0", 1), "next").await),
        "the oldest child still held promotes"
    );
    let gone = Family {
        handle: unique("nohandle"),
        family: s.family.clone(),
    };
    assert_eq!(
        gone.rotate(store, ("rt0", 0), "x").await,
        RotateOutcome::Unauthorised
    );
}

/// A token with another family secret is not a token of this session (the handle is
/// public: anyone can make one up). Whatever its hash and generation, it changes nothing
/// and never revokes.
pub async fn another_family_never_revokes<S: SessionStore>(store: &S) {
    let s = new_session(store, &unique("u"), "rt0").await;
    assert!(is_rotated(&s.rotate(store, ("rt0", 0), "rt1").await));
    assert!(is_rotated(&s.rotate(store, ("rt1", 1), "rt2").await));
    let forged = hash("forged family");
    for (label, generation) in [("rt0", 0), ("rt1", 1), ("other", 0), ("rt2", 2), ("rt1", 9)] {
        assert_eq!(
            s.rotate_as(store, &forged, (label, generation), "x").await,
            RotateOutcome::Unauthorised,
            "{label} of generation {generation} with another family"
        );
    }
    assert!(is_live(store, &s.handle).await, "nothing was revoked");
    assert!(
        is_rotated(&s.rotate(store, ("rt2", 2), "rt3").await),
        "the real token still works"
    );
}

/// However many rotations lie behind the head (here 100, each a promotion), any earlier
/// token is theft: detection does not depend on remembering rotated-away tokens.
pub async fn theft_detection_is_unbounded<S: SessionStore>(store: &S) {
    const CHAIN: u64 = 100;
    let user = unique("u");
    let s = new_session(store, &user, "t0").await;
    for g in 0..CHAIN {
        assert!(
            is_rotated(
                &s.rotate(store, (&format!("t{g}"), g), &format!("t{}", g + 1))
                    .await
            ),
            "rotation {g}"
        );
    }
    // Head: t{CHAIN - 1} (generation CHAIN - 1); t{CHAIN} is its child.
    assert_eq!(
        s.rotate(store, ("t0", 0), "x").await,
        RotateOutcome::Theft { user_id: user },
        "the first token after {CHAIN} rotations"
    );
    assert!(!is_live(store, &s.handle).await);
    assert_eq!(
        s.rotate(store, (&format!("t{CHAIN}"), CHAIN), "x").await,
        RotateOutcome::Unauthorised,
        "the newest token is dead"
    );

    // Each generation behind the head is recognised.
    for back in [1, 2, 50, CHAIN - 1] {
        let user = unique("u");
        let s = new_session(store, &user, "t0").await;
        for g in 0..CHAIN {
            s.rotate(store, (&format!("t{g}"), g), &format!("t{}", g + 1))
                .await;
        }
        let g = CHAIN - 1 - back;
        assert_eq!(
            s.rotate(store, (&format!("t{g}"), g), "x").await,
            RotateOutcome::Theft { user_id: user },
            "{back} generations behind the head"
        );
    }
}

/// An API call with the child's access token promotes the child.
pub async fn promote_by_access_token<S: SessionStore>(store: &S) {
    let s = new_session(store, &unique("u"), "rt0").await;
    assert!(is_rotated(&s.rotate(store, ("rt0", 0), "rt1").await));
    assert_eq!(
        s.promote(store, "rt0", "nope").await,
        PromoteOutcome::Stale,
        "not a child"
    );
    assert_eq!(
        s.promote(store, "rt0", "rt1").await,
        PromoteOutcome::Promoted
    );
    assert_eq!(
        s.promote(store, "rt0", "rt1").await,
        PromoteOutcome::AlreadyPromoted
    );
    assert!(is_live(store, &s.handle).await);
    assert!(
        is_rotated(&s.rotate(store, ("rt1", 1), "rt2").await),
        "the promoted child is the head: refreshing with it adds a child"
    );
    assert!(
        is_rotated(&s.rotate(store, ("rt1", 1), "rt2b").await),
        "and it stays valid (it is the head, not a child)"
    );
    assert_eq!(
        s.promote(store, "rt1", "rt2").await,
        PromoteOutcome::Deferred,
        "one of two children: the next refresh decides"
    );
    assert!(
        is_rotated(&s.rotate(store, ("rt2b", 2), "rt3").await),
        "a deferred promotion changed nothing: the other child promotes"
    );
    assert!(
        is_theft(&s.rotate(store, ("rt0", 0), "x").await),
        "generation 0 lies behind the head"
    );
    assert_eq!(
        store
            .promote(&unique("gone"), &hash("a"), &hash("b"))
            .await
            .expect("promote"),
        PromoteOutcome::Unauthorised
    );
}

/// An access token of an earlier refresh token (a late request, or a sibling of the
/// promoted child) is stale: nothing changes, nothing is revoked (access tokens are
/// signed; the refresh that follows finds out what the client holds).
pub async fn promote_never_revokes<S: SessionStore>(store: &S) {
    let s = new_session(store, &unique("u"), "rt0").await;
    assert!(is_rotated(&s.rotate(store, ("rt0", 0), "a").await));
    assert!(is_rotated(&s.rotate(store, ("rt0", 0), "b").await));
    assert!(is_rotated(&s.rotate(store, ("a", 1), "a2").await));
    assert_eq!(
        s.promote(store, "rt0", "b").await,
        PromoteOutcome::Stale,
        "a sibling of the promoted child"
    );
    assert!(is_rotated(&s.rotate(store, ("a2", 2), "a3").await));
    assert_eq!(
        s.promote(store, "rt0", "a").await,
        PromoteOutcome::Stale,
        "two generations back"
    );
    assert_eq!(
        s.promote(store, "x", "y").await,
        PromoteOutcome::Stale,
        "never issued"
    );
    assert!(is_live(store, &s.handle).await, "nothing was revoked");
    assert_eq!(
        s.promote(store, "a2", "a3").await,
        PromoteOutcome::Promoted,
        "the current child still promotes"
    );
}

/// Revoking one session, and all sessions of a user.
pub async fn revoke_and_revoke_all<S: SessionStore>(store: &S) {
    let user = unique("u");
    let other = unique("u");
    let one = new_session(store, &user, "a").await;
    let two = new_session(store, &user, "b").await;
    let three = new_session(store, &user, "c").await;
    let theirs = new_session(store, &other, "d").await;
    assert!(store.revoke(&one.handle).await.expect("revoke"));
    assert!(
        !store.revoke(&one.handle).await.expect("revoke"),
        "revoking twice reports false"
    );
    assert_eq!(
        one.rotate(store, ("a", 0), "x").await,
        RotateOutcome::Unauthorised
    );
    let mut expected = vec![two.handle.clone(), three.handle.clone()];
    expected.sort();
    let mut revoked = store.revoke_all(&user).await.expect("revoke_all");
    revoked.sort();
    assert_eq!(
        revoked, expected,
        "revoke_all returns the live sessions it revoked"
    );
    for s in [&two, &three] {
        assert!(!is_live(store, &s.handle).await);
    }
    assert!(
        is_live(store, &theirs.handle).await,
        "other users keep theirs"
    );
    assert!(store.list(&user).await.expect("list").is_empty());
    assert!(
        store
            .revoke_all(&user)
            .await
            .expect("revoke_all")
            .is_empty(),
        "nothing left to revoke"
    );
}

/// A store that answers [`is_live_now`](SessionStore::is_live_now) answers as `get` does:
/// live and that user's, or not (another user, revoked, unknown).
pub async fn is_live_now_agrees_with_get<S: SessionStore>(store: &S) {
    let user = unique("u");
    let session = new_session(store, &user, "a").await;
    let answers = [
        (session.handle.clone(), user.clone(), true),
        (session.handle.clone(), unique("u"), false),
        (unique("missing"), user.clone(), false),
    ];
    for (handle, who, expected) in &answers {
        if let Some(live) = store.is_live_now(handle, who) {
            assert_eq!(live.expect("is_live_now"), *expected, "{handle} for {who}");
        }
    }
    assert!(store.revoke(&session.handle).await.expect("revoke"));
    if let Some(live) = store.is_live_now(&session.handle, &user) {
        assert!(!live.expect("is_live_now"), "revoked");
    }
}

/// Listing returns exactly the user's live sessions.
pub async fn list_only_that_users_sessions<S: SessionStore>(store: &S) {
    let user = unique("u");
    let mut mine = vec![
        new_session(store, &user, "a").await.handle,
        new_session(store, &user, "b").await.handle,
    ];
    new_session(store, &unique("u"), "c").await;
    mine.sort();
    let mut listed: Vec<String> = store
        .list(&user)
        .await
        .expect("list")
        .into_iter()
        .map(|s| s.handle)
        .collect();
    listed.sort();
    assert_eq!(listed, mine);
}

/// The payload can be replaced, and refreshes carry the new one.
pub async fn update_payload<S: SessionStore>(store: &S) {
    let s = new_session(store, &unique("u"), "rt0").await;
    let payload = Map::from_iter([("plan".to_owned(), json!("pro"))]);
    assert!(store
        .update_payload(&s.handle, payload.clone())
        .await
        .expect("update"));
    match s.rotate(store, ("rt0", 0), "rt1").await {
        RotateOutcome::Rotated { session, .. } => assert_eq!(session.payload, Some(payload)),
        other => panic!("expected a rotation, got {other:?}"),
    }
    assert!(!store
        .update_payload(&unique("gone"), Map::new())
        .await
        .expect("update"));
}

/// Server-side session data: kept from creation, with the creation time; replaced by
/// `update_session_data` (not merged), read back by `get` and `list`, carried unchanged by
/// rotations, untouched by payload updates; `false` for a session that is gone.
pub async fn session_data<S: SessionStore>(store: &S) {
    let before = SystemTime::now() - Duration::from_secs(1);
    let user = unique("u");
    let s = new_session(store, &user, "rt0").await;
    let after = SystemTime::now() + Duration::from_secs(1);
    let info = store.get(&s.handle).await.expect("get").expect("live");
    assert_eq!(
        info.session_data,
        Map::from_iter([("cart".to_owned(), json!(["apple", 2]))]),
        "the data given at creation"
    );
    assert!(
        info.time_created >= before && info.time_created <= after,
        "time_created is the creation time: {:?}",
        info.time_created
    );
    let data = Map::from_iter([
        ("nested".to_owned(), json!({"a": [1, null, "x"], "b": true})),
        ("n".to_owned(), json!(1.5)),
    ]);
    assert!(store
        .update_session_data(&s.handle, data.clone())
        .await
        .expect("update"));
    let info = store.get(&s.handle).await.expect("get").expect("live");
    assert_eq!(info.session_data, data, "replaced, not merged");
    assert_eq!(
        info.payload.as_ref().and_then(|p| p.get("role")),
        Some(&json!("admin")),
        "the payload is not touched"
    );
    let created = info.time_created;
    match s.rotate(store, ("rt0", 0), "rt1").await {
        RotateOutcome::Rotated { session, .. } => {
            assert_eq!(session.session_data, data, "a rotation carries the data");
            assert_eq!(session.time_created, created, "and the creation time");
        }
        other => panic!("expected a rotation, got {other:?}"),
    }
    assert!(store
        .update_payload(&s.handle, Map::new())
        .await
        .expect("update payload"));
    let listed = store.list(&user).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].session_data, data,
        "a payload update keeps the data"
    );
    assert_eq!(listed[0].time_created, created);
    assert!(store
        .update_session_data(&s.handle, Map::new())
        .await
        .expect("update"));
    assert!(store
        .get(&s.handle)
        .await
        .expect("get")
        .expect("live")
        .session_data
        .is_empty());
    assert!(
        !store
            .update_session_data(&unique("gone"), data.clone())
            .await
            .expect("update"),
        "no such session"
    );
    assert!(store.revoke(&s.handle).await.expect("revoke"));
    assert!(
        !store
            .update_session_data(&s.handle, data)
            .await
            .expect("update"),
        "a revoked session takes no data"
    );
}

/// 50 refreshes racing with one parent: all succeed, none is theft, the session lives;
/// then one child is used: it becomes the head, and **every** other child is then theft
/// (one session per sibling, since theft revokes).
pub async fn concurrent_rotations_with_one_parent<S: SessionStore>(store: &S) {
    const RACERS: usize = 50;
    let race = |promoted: usize| async move {
        let s = new_session(store, &unique("u"), "rt0").await;
        let children: Vec<String> = (0..RACERS).map(|i| format!("child-{i}")).collect();
        let outcomes =
            futures_util::future::join_all(children.iter().map(|c| s.rotate(store, ("rt0", 0), c)))
                .await;
        assert!(
            outcomes.iter().all(is_rotated),
            "every racing refresh succeeds: {outcomes:?}"
        );
        assert!(
            is_live(store, &s.handle).await,
            "no refresh revoked the session"
        );
        assert_eq!(
            s.promote(store, "rt0", &children[promoted]).await,
            PromoteOutcome::Deferred,
            "an API call does not pick among racers"
        );
        assert!(
            is_rotated(&s.rotate(store, (&children[promoted], 1), "next").await),
            "a child promotes"
        );
        assert!(
            is_rotated(&s.rotate(store, (&children[promoted], 1), "next2").await),
            "one head: the promoted child"
        );
        assert_eq!(
            s.promote(store, "rt0", &children[promoted]).await,
            PromoteOutcome::AlreadyPromoted
        );
        (s, children)
    };
    for sibling in 0..RACERS {
        let promoted = (sibling + 17) % RACERS;
        let (s, children) = race(promoted).await;
        assert!(
            is_theft(&s.rotate(store, (&children[sibling], 1), "z").await),
            "sibling {sibling} of the promoted child {promoted}"
        );
        assert!(!is_live(store, &s.handle).await);
    }
}

/// A session whose refresh token expired is gone, also from its user's list.
pub async fn expiry<S: SessionStore>(store: &S) {
    let user = unique("u");
    let s = Family {
        handle: unique("h"),
        family: hash(&unique("family")),
    };
    store
        .create(NewSession {
            handle: s.handle.clone(),
            user_id: user.clone(),
            tenant_id: "public".to_owned(),
            payload: None,
            refresh_hash: hash("rt0"),
            family_hash: s.family.clone(),
            expires_at: SystemTime::now() + Duration::from_millis(1200),
            session_data: Map::new(),
        })
        .await
        .expect("create");
    assert_eq!(store.list(&user).await.expect("list").len(), 1);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(!is_live(store, &s.handle).await, "expired session is gone");
    assert!(
        store.list(&user).await.expect("list").is_empty(),
        "and out of the user index"
    );
    assert_eq!(
        s.rotate(store, ("rt0", 0), "x").await,
        RotateOutcome::Unauthorised
    );
}
