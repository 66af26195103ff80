//! Theft detection that cannot be outrun, on a real Redis (127.0.0.1:6379 or `REDIS_URL`),
//! through real HTTP: the scenarios of `tower_session_testkit::theft`, which
//! `tower-session-refresh`'s `tests/theft_unbounded.rs` runs on the memory store.

use std::sync::Arc;

use tower_session_redis::{RedisStore, RedisStoreConfig};
use tower_session_testkit::auth::Auth;
use tower_session_testkit::redis::{shared_url, KeyPrefix};
use tower_session_testkit::theft::{
    chain_then_original, each_sibling_after_a_race, legitimate_races, server,
};

async fn redis_server(prefix: &KeyPrefix) -> Auth {
    let store = RedisStore::connect(&shared_url(), RedisStoreConfig::new(prefix.as_str()))
        .await
        .expect("connect to redis");
    server(Arc::new(store)).await
}

#[tokio::test]
async fn a_chain_of_34_100_and_1000_rotations_cannot_outrun_detection() {
    let prefix = KeyPrefix::new("theft-chain");
    let auth = redis_server(&prefix).await;
    for rotations in [34, 100, 1000] {
        chain_then_original(&auth, rotations).await;
    }
}

#[tokio::test]
async fn every_sibling_of_a_fifty_way_race_is_theft_after_promotion() {
    let prefix = KeyPrefix::new("theft-race");
    let auth = redis_server(&prefix).await;
    each_sibling_after_a_race(&auth).await;
}

#[tokio::test]
async fn legitimate_races_are_never_theft() {
    let prefix = KeyPrefix::new("theft-legit");
    let auth = redis_server(&prefix).await;
    legitimate_races(&auth).await;
}
