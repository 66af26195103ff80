//! `PostgresStore` against the shared PostgreSQL (127.0.0.1:5432, db `test`, or
//! `POSTGRES_URL`), each test in a schema of its own, dropped after: the conformance suite,
//! migrations, sweeping, what a row holds, and failures.

use std::time::{Duration, SystemTime};

use tower_session_postgres::{PostgresConfig, PostgresStore};
use tower_session_refresh::store::{
    conformance, NewSession, Presented, RotateOutcome, SessionStore, StoreErrorKind,
};
use tower_session_refresh::token::refresh_token_hash;
use tower_session_testkit::postgres::{execute, shared_url, TestSchema};

/// The tests check answers, not latency: a generous timeout, since a 50-way race on one
/// row opens the pool's connections on a loaded 2-core CI machine.
fn config(schema: &TestSchema) -> PostgresConfig {
    PostgresConfig {
        response_timeout: Duration::from_secs(5),
        ..PostgresConfig::new(schema.as_str())
    }
}

async fn store(schema: &TestSchema) -> PostgresStore {
    PostgresStore::connect(&shared_url(), config(schema))
        .await
        .expect("connect to postgres")
}

fn session(handle: &str, user: &str, expires_at: SystemTime) -> NewSession {
    NewSession {
        handle: handle.to_owned(),
        user_id: user.to_owned(),
        tenant_id: "public".to_owned(),
        payload: None,
        refresh_hash: refresh_token_hash(&format!("{handle}-rt0")),
        family_hash: refresh_token_hash(&format!("{handle}-family")),
        expires_at,
        session_data: Default::default(),
    }
}

/// Rows of `schema`'s session table, read with a connection of its own.
async fn count_rows(schema: &TestSchema) -> i64 {
    let (client, connection) = tokio_postgres::connect(&shared_url(), tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
        .query_one(
            &format!("SELECT count(*) FROM \"{}\".tsr_sessions", schema.as_str()),
            &[],
        )
        .await
        .expect("count")
        .get(0)
}

#[tokio::test]
async fn postgres_store_passes_the_conformance_suite() {
    let schema = TestSchema::new("conformance");
    let store = store(&schema).await;
    conformance::run_all(&store).await;
}

#[tokio::test]
async fn migrations_are_idempotent_and_safe_when_processes_start_together() {
    let schema = TestSchema::new("migrate");
    let config = PostgresConfig::new(schema.as_str());
    // Eight processes' worth of stores migrating one fresh schema at the same moment.
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let config = config.clone();
            tokio::spawn(async move { PostgresStore::connect(&shared_url(), config).await })
        })
        .collect();
    for racer in racers {
        racer.await.expect("join").expect("concurrent migrate");
    }
    let store = store(&schema).await;
    store.migrate().await.expect("migrate again");
    store
        .create(session(
            "h1",
            "u1",
            SystemTime::now() + Duration::from_secs(60),
        ))
        .await
        .expect("create");
    store.migrate().await.expect("migrate keeps data");
    assert!(store.get("h1").await.expect("get").is_some());
}

#[tokio::test]
async fn a_schema_from_a_newer_version_is_refused() {
    let schema = TestSchema::new("newer");
    let store = store(&schema).await;
    execute(
        &shared_url(),
        &format!(
            "INSERT INTO \"{}\".tsr_migrations (version) VALUES (999)",
            schema.as_str()
        ),
    )
    .expect("insert");
    let err = store.migrate().await.expect_err("newer schema");
    assert_eq!(err.kind(), StoreErrorKind::Corrupt);
}

#[tokio::test]
async fn invalid_schema_names_are_refused_at_construction() {
    for bad in [
        "",
        "Upper",
        "1st",
        "a-b",
        "a\"b",
        "x; DROP TABLE y",
        &"a".repeat(64),
    ] {
        assert!(
            PostgresStore::lazy(&shared_url(), PostgresConfig::new(bad)).is_err(),
            "{bad:?}"
        );
    }
    assert!(PostgresStore::lazy("not a url", PostgresConfig::default()).is_err());
}

#[tokio::test]
async fn expired_rows_are_swept_in_bounded_batches() {
    let schema = TestSchema::new("sweep");
    let config = PostgresConfig {
        sweep_batch: 7,
        ..PostgresConfig::new(schema.as_str())
    };
    let store = PostgresStore::connect(&shared_url(), config)
        .await
        .expect("connect");
    let past = SystemTime::now() - Duration::from_secs(1);
    let future = SystemTime::now() + Duration::from_secs(600);
    for i in 0..30 {
        store
            .create(session(&format!("dead{i}"), "u", past))
            .await
            .expect("create");
    }
    for i in 0..5 {
        store
            .create(session(&format!("live{i}"), "u", future))
            .await
            .expect("create");
    }
    assert_eq!(
        count_rows(&schema).await,
        35,
        "expired rows stay until swept"
    );
    assert_eq!(
        store.list("u").await.expect("list").len(),
        5,
        "but are invisible"
    );
    assert_eq!(store.sweep_expired().await.expect("sweep"), 30);
    assert_eq!(count_rows(&schema).await, 5);
    assert_eq!(store.sweep_expired().await.expect("sweep"), 0);
}

#[tokio::test]
async fn rows_hold_hashes_only() {
    let schema = TestSchema::new("hashes");
    let store = store(&schema).await;
    let token = "handle1.0.familysecret.tokensecret";
    let mut new = session("handle1", "u", SystemTime::now() + Duration::from_secs(600));
    new.refresh_hash = refresh_token_hash(token);
    store.create(new.clone()).await.expect("create");
    let child = refresh_token_hash("handle1.1.familysecret.childsecret");
    let outcome = store
        .rotate(
            "handle1",
            Presented {
                hash: &new.refresh_hash,
                generation: 0,
                family_hash: &new.family_hash,
            },
            &child,
            SystemTime::now() + Duration::from_secs(900),
        )
        .await
        .expect("rotate");
    assert!(matches!(outcome, RotateOutcome::Rotated { .. }));
    let (client, connection) = tokio_postgres::connect(&shared_url(), tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let row = client
        .query_one(
            &format!(
                "SELECT t::text, pg_column_size(t.*) FROM \"{}\".tsr_sessions t",
                schema.as_str()
            ),
            &[],
        )
        .await
        .expect("row");
    let text: String = row.get(0);
    assert!(!text.contains("secret"), "{text}");
    assert!(text.contains(&new.refresh_hash) && text.contains(&child));
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable_not_unauthorised() {
    // Nothing listens on port 1.
    let store = PostgresStore::lazy(
        "postgres://postgres@127.0.0.1:1/test",
        PostgresConfig::default(),
    )
    .expect("lazy");
    let err = store.get("h").await.expect_err("unreachable");
    assert!(
        matches!(
            err.kind(),
            StoreErrorKind::Unavailable | StoreErrorKind::Timeout
        ),
        "{err}"
    );
    let err = store
        .rotate(
            "h",
            Presented {
                hash: "a",
                generation: 0,
                family_hash: "b",
            },
            "c",
            SystemTime::now(),
        )
        .await
        .expect_err("unreachable");
    assert!(matches!(
        err.kind(),
        StoreErrorKind::Unavailable | StoreErrorKind::Timeout
    ));
    assert!(PostgresStore::connect(
        "postgres://postgres@127.0.0.1:1/test",
        PostgresConfig::default()
    )
    .await
    .is_err());
}

#[tokio::test]
async fn a_store_that_was_not_migrated_answers_unavailable() {
    let schema = TestSchema::new("unmigrated");
    let config = PostgresConfig {
        auto_migrate: false,
        ..PostgresConfig::new(schema.as_str())
    };
    let store = PostgresStore::lazy(&shared_url(), config).expect("lazy");
    let err = store.get("h").await.expect_err("no table");
    assert_eq!(err.kind(), StoreErrorKind::Unavailable);
    store.migrate().await.expect("migrate");
    assert_eq!(store.get("h").await.expect("get"), None);
}

#[tokio::test]
async fn a_lazy_store_migrates_before_its_first_operation() {
    let schema = TestSchema::new("lazy");
    let store =
        PostgresStore::lazy(&shared_url(), PostgresConfig::new(schema.as_str())).expect("lazy");
    let keys = store.key_store();
    // Concurrent first operations: one migration, every operation answers.
    let (a, b, c) = tokio::join!(
        store.get("h"),
        store.create(session(
            "h2",
            "u",
            SystemTime::now() + Duration::from_secs(60)
        )),
        tower_session_refresh::keystore::KeyStore::load(&keys),
    );
    assert_eq!(a.expect("get"), None);
    b.expect("create");
    assert!(c.expect("load").is_none());
    assert!(store.get("h2").await.expect("get").is_some());
}
