//! Theft detection that cannot be outrun, on the shared PostgreSQL, through real HTTP: the
//! scenarios of `tower_session_testkit::theft`, which the memory and Redis stores run too.

use std::sync::Arc;

use tower_session_postgres::{PostgresConfig, PostgresStore};
use tower_session_testkit::auth::Auth;
use tower_session_testkit::postgres::{shared_url, TestSchema};
use tower_session_testkit::theft::{
    chain_then_original, each_sibling_after_a_race, legitimate_races, server,
};

async fn postgres_server(schema: &TestSchema) -> Auth {
    let store = PostgresStore::connect(&shared_url(), PostgresConfig::new(schema.as_str()))
        .await
        .expect("connect to postgres");
    server(Arc::new(store)).await
}

#[tokio::test]
async fn a_chain_of_34_100_and_1000_rotations_cannot_outrun_detection() {
    let schema = TestSchema::new("theft_chain");
    let auth = postgres_server(&schema).await;
    for rotations in [34, 100, 1000] {
        chain_then_original(&auth, rotations).await;
    }
}

#[tokio::test]
async fn every_sibling_of_a_fifty_way_race_is_theft_after_promotion() {
    let schema = TestSchema::new("theft_race");
    let auth = postgres_server(&schema).await;
    each_sibling_after_a_race(&auth).await;
}

#[tokio::test]
async fn legitimate_races_are_never_theft() {
    let schema = TestSchema::new("theft_legit");
    let auth = postgres_server(&schema).await;
    legitimate_races(&auth).await;
}
