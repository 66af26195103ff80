//! `ManagedKeys` on PostgreSQL (the shared server, a schema per test): processes starting
//! together create one key set, processes rotating together rotate once per interval, and
//! each verifies the other's tokens.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tower_session_postgres::{PostgresConfig, PostgresKeyStore, PostgresStore};
use tower_session_refresh::keystore::{KeyStore, ManagedKeys, ManagedKeysConfig};
use tower_session_refresh::token::{refresh_token_hash, AccessTokenClaims, TokenError};
use tower_session_testkit::postgres::{shared_url, TestSchema};

async fn key_store(schema: &TestSchema) -> PostgresKeyStore {
    let store = PostgresKeyStore::new(&shared_url(), PostgresConfig::new(schema.as_str()))
        .expect("key store");
    store.migrate().await.expect("migrate");
    store
}

fn week() -> ManagedKeysConfig {
    ManagedKeysConfig::new(Duration::from_secs(604_800), Duration::from_secs(3600))
}

fn sign(keys: &tower_session_refresh::keys::KeySet) -> Result<String, TokenError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    keys.sign(&AccessTokenClaims::new(
        "user-1",
        "handle-1",
        refresh_token_hash("rt"),
        now,
        60,
    ))
}

#[tokio::test]
async fn three_processes_starting_at_the_same_instant_create_one_key_set() {
    for _ in 0..5 {
        let schema = TestSchema::new("keys_start");
        let (ka, kb, kc) = (
            key_store(&schema).await,
            key_store(&schema).await,
            key_store(&schema).await,
        );
        let (a, b, c) = tokio::join!(
            ManagedKeys::start(ka, week()),
            ManagedKeys::start(kb, week()),
            ManagedKeys::start(kc, week()),
        );
        let kids = a.key_set().kids();
        assert_eq!(kids.len(), 1);
        assert_eq!(b.key_set().kids(), kids);
        assert_eq!(c.key_set().kids(), kids);
        let stored = key_store(&schema)
            .await
            .load()
            .await
            .expect("load")
            .expect("set");
        assert_eq!(stored.version, 1, "created once");
    }
}

#[tokio::test]
async fn compare_and_set_lets_one_writer_win() {
    let schema = TestSchema::new("keys_cas");
    let store = PostgresStore::connect(&shared_url(), PostgresConfig::new(schema.as_str()))
        .await
        .expect("connect");
    let keys = store.key_store();
    assert!(keys.load().await.expect("load").is_none());
    let managed = ManagedKeys::start(keys.clone(), week()).await;
    let first = keys.load().await.expect("load").expect("set");
    assert_eq!(first.version, 1);
    // Ten writers with the same expected version: exactly one wins.
    let mut next = first.clone();
    next.version = 2;
    let results = futures_join(&keys, Some(1), &next, 10).await;
    assert_eq!(results.iter().filter(|w| **w).count(), 1, "{results:?}");
    // A stale expected version, or "none yet", writes nothing.
    assert!(!keys.put_if_version(Some(1), &next).await.expect("put"));
    assert!(!keys.put_if_version(None, &next).await.expect("put"));
    assert_eq!(keys.load().await.expect("load").expect("set").version, 2);
    drop(managed);
}

async fn futures_join(
    keys: &PostgresKeyStore,
    expected: Option<u64>,
    new: &tower_session_refresh::keystore::StoredKeySet,
    n: usize,
) -> Vec<bool> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (keys, new) = (keys.clone(), new.clone());
            tokio::spawn(async move { keys.put_if_version(expected, &new).await })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for task in tasks {
        out.push(task.await.expect("join").expect("put"));
    }
    out
}

#[tokio::test]
async fn two_processes_rotating_on_one_database_rotate_once_per_interval() {
    let schema = TestSchema::new("keys_rotate");
    let config = ManagedKeysConfig::new(Duration::from_secs(1), Duration::from_secs(1))
        .with_maintain_period(Duration::from_millis(50));
    let (ka, kb) = (key_store(&schema).await, key_store(&schema).await);
    let (a, b) = tokio::join!(
        ManagedKeys::start(ka, config.clone()),
        ManagedKeys::start(kb, config.clone()),
    );
    tokio::time::sleep(Duration::from_millis(2_600)).await;
    let reader = key_store(&schema).await;
    let stored = reader.load().await.expect("load").expect("set");
    let created: Vec<SystemTime> = stored.keys.iter().map(|k| k.created_at()).collect();
    for pair in created.windows(2) {
        let gap = pair[1].duration_since(pair[0]).expect("creation order");
        assert!(
            gap >= Duration::from_millis(990),
            "double rotation: {stored:?}"
        );
    }
    assert!(stored.keys.len() >= 2, "rotated: {stored:?}");
    let mut converged = false;
    for _ in 0..20 {
        let stored = reader.load().await.expect("load").expect("set");
        let signer = stored.signing().map(|k| k.kid().to_owned());
        if a.key_set().signing_kid() == signer && b.key_set().signing_kid() == signer {
            converged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert!(converged, "both processes sign with the stored signing key");
    let from_a = sign(&a.key_set()).expect("a signs");
    let from_b = sign(&b.key_set()).expect("b signs");
    b.verifier().verify(&from_a).await.expect("b verifies a");
    a.verifier().verify(&from_b).await.expect("a verifies b");
}
