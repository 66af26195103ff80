//! The store conformance suite against `MemoryStore`, plus what only memory can show.
use std::{
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

#[cfg(feature = "conformance")]
use tower_session_refresh::store::conformance;
use tower_session_refresh::store::{
    MemoryStore, NewSession, Presented, PromoteOutcome, RotateOutcome, SessionStore,
};

const FAMILY: &str = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0";

fn token(hash: &str, generation: u64) -> Presented<'_> {
    Presented {
        hash,
        generation,
        family_hash: FAMILY,
    }
}

#[cfg(feature = "conformance")]
#[tokio::test]
async fn memory_store_passes_the_conformance_suite() {
    conformance::run_all(&MemoryStore::new()).await;
}

#[tokio::test]
async fn expired_sessions_are_swept_so_memory_stays_bounded() {
    let now = Arc::new(Mutex::new(SystemTime::now()));
    let clock = now.clone();
    let store = MemoryStore::with_clock(Arc::new(move || *clock.lock().expect("clock")));
    let start = *now.lock().expect("clock");
    for i in 0..MemoryStore::SWEEP_EVERY {
        store
            .create(NewSession {
                handle: format!("old-{i}"),
                user_id: format!("user-{i}"),
                tenant_id: "public".into(),
                payload: None,
                refresh_hash: "00".repeat(32),
                family_hash: FAMILY.into(),
                expires_at: start + Duration::from_secs(10),
                session_data: Default::default(),
            })
            .await
            .expect("create");
    }
    assert_eq!(store.len(), MemoryStore::SWEEP_EVERY as usize);
    *now.lock().expect("clock") = start + Duration::from_secs(11);
    // The writes that follow trigger a sweep: the expired sessions are dropped even
    // though nobody touches them again.
    for i in 0..MemoryStore::SWEEP_EVERY {
        store
            .create(NewSession {
                handle: format!("new-{i}"),
                user_id: "bob".into(),
                tenant_id: "public".into(),
                payload: None,
                refresh_hash: "11".repeat(32),
                family_hash: FAMILY.into(),
                expires_at: start + Duration::from_secs(100),
                session_data: Default::default(),
            })
            .await
            .expect("create");
    }
    assert!(
        store.len() <= MemoryStore::SWEEP_EVERY as usize,
        "len {}",
        store.len()
    );
    assert_eq!(store.list("user-1").await.expect("list"), vec![]);
}

fn hash(label: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, label.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The memory store shared by tasks on several worker threads: 50 refreshes from one
/// parent at once all succeed; then one child's first uses race with API calls that carry
/// its access token: no theft, one head, and the old parent is then theft.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotations_race_across_threads() {
    let store = Arc::new(MemoryStore::new());
    let expires = SystemTime::now() + Duration::from_secs(600);
    store
        .create(NewSession {
            handle: "h".into(),
            user_id: "alice".into(),
            tenant_id: "public".into(),
            payload: None,
            refresh_hash: hash("rt0"),
            family_hash: FAMILY.into(),
            expires_at: expires,
            session_data: Default::default(),
        })
        .await
        .expect("create");
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .rotate(
                        "h",
                        token(&hash("rt0"), 0),
                        &hash(&format!("c{i}")),
                        expires,
                    )
                    .await
                    .expect("rotate")
            })
        })
        .collect();
    for task in tasks {
        assert!(matches!(
            task.await.expect("task"),
            RotateOutcome::Rotated { .. }
        ));
    }
    let uses: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    let outcome = store
                        .rotate("h", token(&hash("c9"), 1), &hash(&format!("d{i}")), expires)
                        .await
                        .expect("rotate");
                    matches!(outcome, RotateOutcome::Rotated { .. })
                } else {
                    let outcome = store
                        .promote("h", &hash("rt0"), &hash("c9"))
                        .await
                        .expect("promote");
                    // Before a refresh with c9 promoted it, c9 is one of 50 children.
                    matches!(
                        outcome,
                        PromoteOutcome::Deferred | PromoteOutcome::AlreadyPromoted
                    )
                }
            })
        })
        .collect();
    for task in uses {
        assert!(task.await.expect("task"), "no theft, no refusal");
    }
    assert_eq!(
        store
            .promote("h", &hash("rt0"), &hash("c9"))
            .await
            .expect("promote"),
        PromoteOutcome::AlreadyPromoted,
        "c9 is the head"
    );
    assert!(matches!(
        store
            .rotate("h", token(&hash("rt0"), 0), &hash("x"), expires)
            .await
            .expect("rotate"),
        RotateOutcome::Theft { .. }
    ));
}

/// Touching an expired session (get, rotate, list) evicts it and its user-index entry at
/// once, without waiting for a sweep; time is moved with the test clock.
#[tokio::test]
async fn expired_sessions_are_evicted_when_touched() {
    let now = Arc::new(Mutex::new(SystemTime::now()));
    let clock = now.clone();
    let store = MemoryStore::with_clock(Arc::new(move || *clock.lock().expect("clock")));
    let start = *now.lock().expect("clock");
    for handle in ["a", "b", "c"] {
        store
            .create(NewSession {
                handle: handle.into(),
                user_id: "alice".into(),
                tenant_id: "public".into(),
                payload: None,
                refresh_hash: hash(handle),
                family_hash: FAMILY.into(),
                expires_at: start + Duration::from_secs(10),
                session_data: Default::default(),
            })
            .await
            .expect("create");
    }
    // Rotation slides "c" past the others' expiry.
    assert!(matches!(
        store
            .rotate(
                "c",
                token(&hash("c"), 0),
                &hash("c1"),
                start + Duration::from_secs(100)
            )
            .await
            .expect("rotate"),
        RotateOutcome::Rotated { .. }
    ));
    *now.lock().expect("clock") = start + Duration::from_secs(11);
    assert_eq!(store.len(), 3, "nothing swept yet");
    assert!(store.get("a").await.expect("get").is_none());
    assert_eq!(store.len(), 2, "get evicted a");
    let listed: Vec<String> = store
        .list("alice")
        .await
        .expect("list")
        .into_iter()
        .map(|s| s.handle)
        .collect();
    assert_eq!(listed, ["c"]);
    assert_eq!(store.len(), 1, "list evicted b");
    assert_eq!(
        store.revoke_all("alice").await.expect("revoke_all"),
        ["c"],
        "the index holds exactly the live session"
    );
    assert!(store.is_empty());
}
