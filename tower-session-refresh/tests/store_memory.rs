//! The store conformance suite against `MemoryStore`, plus what only memory can show.
use std::{
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use tower_session_refresh::store::{conformance, MemoryStore, NewSession, SessionStore};

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
                payload: None,
                refresh_hash: "00".repeat(32),
                expires_at: start + Duration::from_secs(10),
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
                payload: None,
                refresh_hash: "11".repeat(32),
                expires_at: start + Duration::from_secs(100),
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
