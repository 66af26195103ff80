//! The store model check (`tower_session_testkit::model_store`) against `MemoryStore`,
//! whose clock the test moves; and racing refreshes from several OS threads.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use tower_session_refresh::store::{MemoryStore, NewSession, RotateOutcome, SessionStore};
use tower_session_testkit::model_store::{at, fresh, ops, runtime, Run, Token};

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
        let mut run = Run::new(&store, "m", Some(Box::new(set)));
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
                    session_data: Default::default(),
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
