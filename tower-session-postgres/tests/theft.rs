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
    let store = PostgresStore::connect(
        &shared_url(),
        PostgresConfig {
            // Answers, not latency, are checked: room for a loaded CI machine.
            response_timeout: std::time::Duration::from_secs(5),
            ..PostgresConfig::new(schema.as_str())
        },
    )
    .await
    .expect("connect to postgres");
    server(Arc::new(store)).await
}

/// The three scenarios one after the other in one test: the chain asserts a warning
/// captured by a thread-local subscriber, and a parallel test hitting the same callsite
/// while no subscriber is registered can leave it disabled (tracing's interest cache).
#[tokio::test]
async fn theft_cannot_be_outrun_and_legitimate_races_are_never_theft() {
    {
        let schema = TestSchema::new("theft_chain");
        let auth = postgres_server(&schema).await;
        for rotations in [34, 100, 1000] {
            chain_then_original(&auth, rotations).await;
        }
    }
    {
        // Every sibling of a fifty-way race is theft after promotion.
        let schema = TestSchema::new("theft_race");
        let auth = postgres_server(&schema).await;
        each_sibling_after_a_race(&auth).await;
    }
    {
        let schema = TestSchema::new("theft_legit");
        let auth = postgres_server(&schema).await;
        legitimate_races(&auth).await;
    }
}
