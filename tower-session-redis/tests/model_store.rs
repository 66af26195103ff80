//! The store model check (`tower_session_testkit::model_store`) against `RedisStore` on
//! 127.0.0.1:6379 (or `REDIS_URL`): no expire op (Redis has no test clock; real-time
//! expiry is covered by `store.rs`).

use proptest::prelude::*;
use redis::Commands;
use tower_session_redis::{RedisStore, RedisStoreConfig};
use tower_session_testkit::model_store::{ops, unique_tag, Run};

fn url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(url().as_str()) else {
            return;
        };
        let Ok(mut c) = client.get_connection() else {
            return;
        };
        let keys: Vec<String> = match c.scan_match::<_, String>(format!("{}*", self.0)) {
            Ok(iter) => iter.filter_map(Result::ok).collect(),
            Err(_) => return,
        };
        for chunk in keys.chunks(500) {
            let _: Result<(), _> = c.del(chunk);
        }
    }
}

fn redis_runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The same model against Redis; no expire op (no test clock), and sessions expire
    /// far in the future of the real clock (`at(0)` is in 2030).
    #[test]
    fn redis_store_follows_the_rotation_model(ops in ops(false)) {
        let tag = unique_tag("tsr-model");
        let _cleanup = Cleanup(format!("{tag}:"));
        redis_runtime().block_on(async {
            let store = RedisStore::connect(&url(), RedisStoreConfig::new(format!("{tag}:")))
                .await
                .expect("connect to redis");
            let mut run = Run::new(&store, &tag, None);
            for op in &ops {
                run.step(op).await;
            }
        });
    }
}
