//! The store model check (`tower_session_testkit::model_store`) against `PostgresStore` on
//! the shared PostgreSQL, one schema per case. The store reads the time from a clock the
//! test moves (times are parameters of every statement), so the expire op runs too.

use std::sync::{Arc, Mutex, OnceLock};

use proptest::prelude::*;
use tower_session_postgres::{PostgresConfig, PostgresStore};
use tower_session_testkit::model_store::{at, ops, Run};
use tower_session_testkit::postgres::{shared_url, TestSchema};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn postgres_store_follows_the_rotation_model(ops in ops(true)) {
        let schema = TestSchema::new("model");
        let now = Arc::new(Mutex::new(at(0)));
        let clock = now.clone();
        let set = {
            let now = now.clone();
            move |t: u64| *now.lock().expect("clock") = at(t)
        };
        runtime().block_on(async {
            let store = PostgresStore::connect(&shared_url(), PostgresConfig {
        // Answers, not latency, are checked: room for a loaded CI machine.
        response_timeout: std::time::Duration::from_secs(5),
        ..PostgresConfig::new(schema.as_str())
    })
                .await
                .expect("connect to postgres")
                .with_clock(Arc::new(move || *clock.lock().expect("clock")));
            let mut run = Run::new(&store, schema.as_str(), Some(Box::new(set)));
            for op in &ops {
                run.step(op).await;
            }
        });
    }
}
