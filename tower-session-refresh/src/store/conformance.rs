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

use super::{NewSession, PromoteOutcome, RotateOutcome, SessionStore};

/// Runs every check, one after the other.
pub async fn run_all<S: SessionStore>(store: &S) {
    create_and_get(store).await;
    parent_stays_valid_until_child_is_used(store).await;
    child_use_promotes_and_old_token_is_theft(store).await;
    sibling_after_promotion_is_theft(store).await;
    unknown_token_is_unauthorised_without_revoking(store).await;
    promote_by_access_token(store).await;
    promote_with_rotated_away_token_is_theft(store).await;
    revoke_and_revoke_all(store).await;
    list_only_that_users_sessions(store).await;
    update_payload(store).await;
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

async fn new_session<S: SessionStore>(store: &S, user: &str, first: &str) -> String {
    let handle = unique("h");
    store
        .create(NewSession {
            handle: handle.clone(),
            user_id: user.to_owned(),
            tenant_id: "tenant-a".to_owned(),
            payload: Some(Map::from_iter([("role".to_owned(), json!("admin"))])),
            refresh_hash: hash(first),
            expires_at: later(600),
        })
        .await
        .expect("create");
    handle
}

async fn rotate<S: SessionStore>(
    store: &S,
    handle: &str,
    presented: &str,
    child: &str,
) -> RotateOutcome {
    store
        .rotate(handle, &hash(presented), &hash(child), later(600))
        .await
        .expect("rotate")
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
    let handle = new_session(store, &user, "rt0").await;
    let info = store
        .get(&handle)
        .await
        .expect("get")
        .expect("session exists");
    assert_eq!(info.user_id, user);
    assert_eq!(info.handle, handle);
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
    let handle = new_session(store, &user, "rt0").await;
    let expires = later(900);
    match store
        .rotate(&handle, &hash("rt0"), &hash("rt1a"), expires)
        .await
        .expect("rotate")
    {
        RotateOutcome::Rotated {
            session,
            parent_hash,
        } => {
            assert_eq!(parent_hash, hash("rt0"), "the new token's parent");
            assert_eq!(session.handle, handle);
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
    let stored = store.get(&handle).await.expect("get").expect("live");
    assert_close(stored.expires_at, expires, "the slid expiry is stored");
    assert!(
        is_rotated(&rotate(store, &handle, "rt0", "rt1b").await),
        "parent must stay valid"
    );
    assert!(
        store.get(&handle).await.expect("get").is_some(),
        "session lives"
    );
}

/// The child's first use promotes it; the rotated-away parent is then theft.
pub async fn child_use_promotes_and_old_token_is_theft<S: SessionStore>(store: &S) {
    let user = unique("u");
    let handle = new_session(store, &user, "rt0").await;
    assert!(is_rotated(&rotate(store, &handle, "rt0", "rt1").await));
    match rotate(store, &handle, "rt1", "rt2").await {
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
        is_rotated(&rotate(store, &handle, "rt2", "rt3").await),
        "the promoted child's own child promotes in turn"
    );
    assert_eq!(
        rotate(store, &handle, "rt0", "x").await,
        RotateOutcome::Theft { user_id: user },
        "a token two generations back is theft"
    );
    assert!(
        store.get(&handle).await.expect("get").is_none(),
        "theft revokes the session"
    );
    assert_eq!(
        rotate(store, &handle, "rt3", "rt4").await,
        RotateOutcome::Unauthorised,
        "a revoked session stays revoked"
    );
}

/// Two refreshes from one parent; once one child is used, the other is a rotated-away
/// token (as in the SuperTokens core): presenting it is theft and revokes the session.
pub async fn sibling_after_promotion_is_theft<S: SessionStore>(store: &S) {
    let user = unique("u");
    let handle = new_session(store, &user, "rt0").await;
    assert!(is_rotated(&rotate(store, &handle, "rt0", "a").await));
    assert!(is_rotated(&rotate(store, &handle, "rt0", "b").await));
    assert!(
        is_rotated(&rotate(store, &handle, "a", "a2").await),
        "a promotes"
    );
    assert_eq!(
        rotate(store, &handle, "b", "b2").await,
        RotateOutcome::Theft { user_id: user },
        "the sibling was retired at promotion"
    );
    assert!(!is_live(store, &handle).await, "theft revokes the session");
}

/// A token the session never issued changes nothing.
pub async fn unknown_token_is_unauthorised_without_revoking<S: SessionStore>(store: &S) {
    let handle = new_session(store, &unique("u"), "rt0").await;
    assert_eq!(
        rotate(store, &handle, "forged", "x").await,
        RotateOutcome::Unauthorised
    );
    assert!(store.get(&handle).await.expect("get").is_some());
    assert!(
        is_rotated(&rotate(store, &handle, "rt0", "rt1").await),
        "the real token still works"
    );
    assert_eq!(
        rotate(store, &unique("nohandle"), "rt0", "x").await,
        RotateOutcome::Unauthorised
    );
}

/// An API call with the child's access token promotes the child.
pub async fn promote_by_access_token<S: SessionStore>(store: &S) {
    let handle = new_session(store, &unique("u"), "rt0").await;
    assert!(is_rotated(&rotate(store, &handle, "rt0", "rt1").await));
    let promote = |parent: &'static str, child: &'static str| {
        let handle = handle.clone();
        async move {
            store
                .promote(&handle, &hash(parent), &hash(child))
                .await
                .expect("promote")
        }
    };
    assert_eq!(
        promote("rt0", "nope").await,
        PromoteOutcome::Unauthorised,
        "not a child"
    );
    assert_eq!(promote("rt0", "rt1").await, PromoteOutcome::Promoted);
    assert_eq!(promote("rt0", "rt1").await, PromoteOutcome::AlreadyPromoted);
    assert!(is_live(store, &handle).await);
    assert!(
        is_rotated(&rotate(store, &handle, "rt1", "rt2").await),
        "the promoted child is the head: refreshing with it adds a child"
    );
    assert!(
        is_rotated(&rotate(store, &handle, "rt1", "rt2b").await),
        "and it stays valid (it is the head, not a child)"
    );
    assert!(
        is_theft(&rotate(store, &handle, "rt0", "x").await),
        "parent rotated away"
    );
    assert_eq!(
        store
            .promote(&unique("gone"), &hash("a"), &hash("b"))
            .await
            .expect("promote"),
        PromoteOutcome::Unauthorised
    );
}

/// An API call whose access token belongs to a rotated-away token is theft: the parent
/// was retired (a sibling was promoted first), or the child itself was.
pub async fn promote_with_rotated_away_token_is_theft<S: SessionStore>(store: &S) {
    // Two refreshes from rt0; "a" is used first; the access token of "b" comes later.
    let handle = new_session(store, &unique("u"), "rt0").await;
    assert!(is_rotated(&rotate(store, &handle, "rt0", "a").await));
    assert!(is_rotated(&rotate(store, &handle, "rt0", "b").await));
    assert!(is_rotated(&rotate(store, &handle, "a", "a2").await));
    assert_eq!(
        store
            .promote(&handle, &hash("rt0"), &hash("b"))
            .await
            .expect("promote"),
        PromoteOutcome::Theft
    );
    assert!(!is_live(store, &handle).await, "theft revokes the session");

    // A child promoted, then rotated away two generations later, used with its old parent.
    let handle = new_session(store, &unique("u"), "rt0").await;
    assert!(is_rotated(&rotate(store, &handle, "rt0", "rt1").await));
    assert!(is_rotated(&rotate(store, &handle, "rt1", "rt2").await));
    assert!(is_rotated(&rotate(store, &handle, "rt2", "rt3").await));
    assert_eq!(
        store
            .promote(&handle, &hash("rt0"), &hash("rt1"))
            .await
            .expect("promote"),
        PromoteOutcome::Theft
    );
    assert!(!is_live(store, &handle).await, "theft revokes the session");

    // Not theft: a parent and child the session never issued.
    let handle = new_session(store, &unique("u"), "rt0").await;
    assert_eq!(
        store
            .promote(&handle, &hash("x"), &hash("y"))
            .await
            .expect("promote"),
        PromoteOutcome::Unauthorised
    );
    assert!(is_live(store, &handle).await);
}

/// Revoking one session, and all sessions of a user.
pub async fn revoke_and_revoke_all<S: SessionStore>(store: &S) {
    let user = unique("u");
    let other = unique("u");
    let one = new_session(store, &user, "a").await;
    let two = new_session(store, &user, "b").await;
    let three = new_session(store, &user, "c").await;
    let theirs = new_session(store, &other, "d").await;
    assert!(store.revoke(&one).await.expect("revoke"));
    assert!(
        !store.revoke(&one).await.expect("revoke"),
        "revoking twice reports false"
    );
    assert_eq!(
        rotate(store, &one, "a", "x").await,
        RotateOutcome::Unauthorised
    );
    let mut expected = vec![two.clone(), three.clone()];
    expected.sort();
    let mut revoked = store.revoke_all(&user).await.expect("revoke_all");
    revoked.sort();
    assert_eq!(
        revoked, expected,
        "revoke_all returns the live sessions it revoked"
    );
    for handle in [&two, &three] {
        assert!(store.get(handle).await.expect("get").is_none());
    }
    assert!(
        store.get(&theirs).await.expect("get").is_some(),
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

/// Listing returns exactly the user's live sessions.
pub async fn list_only_that_users_sessions<S: SessionStore>(store: &S) {
    let user = unique("u");
    let mut mine = vec![
        new_session(store, &user, "a").await,
        new_session(store, &user, "b").await,
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
    let handle = new_session(store, &unique("u"), "rt0").await;
    let payload = Map::from_iter([("plan".to_owned(), json!("pro"))]);
    assert!(store
        .update_payload(&handle, payload.clone())
        .await
        .expect("update"));
    match rotate(store, &handle, "rt0", "rt1").await {
        RotateOutcome::Rotated { session, .. } => assert_eq!(session.payload, Some(payload)),
        other => panic!("expected a rotation, got {other:?}"),
    }
    assert!(!store
        .update_payload(&unique("gone"), Map::new())
        .await
        .expect("update"));
}

/// 50 refreshes racing with one parent: all succeed, none is theft, the session lives;
/// then one child is used: it becomes the head, and its siblings are retired.
pub async fn concurrent_rotations_with_one_parent<S: SessionStore>(store: &S) {
    let handle = new_session(store, &unique("u"), "rt0").await;
    let children: Vec<String> = (0..50).map(|i| format!("child-{i}")).collect();
    let outcomes =
        futures_util::future::join_all(children.iter().map(|c| rotate(store, &handle, "rt0", c)))
            .await;
    assert!(
        outcomes.iter().all(is_rotated),
        "every racing refresh succeeds: {outcomes:?}"
    );
    assert!(
        is_live(store, &handle).await,
        "no refresh revoked the session"
    );
    // One more after the race: certainly the newest sibling.
    assert!(is_rotated(&rotate(store, &handle, "rt0", "late").await));
    assert!(
        is_rotated(&rotate(store, &handle, "child-17", "next").await),
        "a child promotes"
    );
    assert!(
        is_rotated(&rotate(store, &handle, "child-17", "next2").await),
        "one head: child-17"
    );
    assert_eq!(
        store
            .promote(&handle, &hash("rt0"), &hash("child-17"))
            .await
            .expect("promote"),
        PromoteOutcome::AlreadyPromoted
    );
    assert!(
        is_theft(&rotate(store, &handle, "late", "z").await),
        "a sibling of the promoted child was retired"
    );
    assert!(!is_live(store, &handle).await);
}

/// A session whose refresh token expired is gone, also from its user's list.
pub async fn expiry<S: SessionStore>(store: &S) {
    let user = unique("u");
    let handle = unique("h");
    store
        .create(NewSession {
            handle: handle.clone(),
            user_id: user.clone(),
            tenant_id: "public".to_owned(),
            payload: None,
            refresh_hash: hash("rt0"),
            expires_at: SystemTime::now() + Duration::from_millis(1200),
        })
        .await
        .expect("create");
    assert_eq!(store.list(&user).await.expect("list").len(), 1);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(
        store.get(&handle).await.expect("get").is_none(),
        "expired session is gone"
    );
    assert!(
        store.list(&user).await.expect("list").is_empty(),
        "and out of the user index"
    );
    assert_eq!(
        rotate(store, &handle, "rt0", "x").await,
        RotateOutcome::Unauthorised
    );
}
