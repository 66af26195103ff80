//! Redis helpers for the refresh runs: the store, `INFO commandstats`, and cleanup.
//! Until `RedisStore` lands, asking for Redis is an error.

use std::collections::BTreeMap;

use tower_session_refresh::store::MemoryStore;

/// A `RedisStore` at `url` with key prefix `prefix`.
pub async fn store(url: &str, prefix: &str) -> Result<MemoryStore, String> {
    let _ = (url, prefix);
    Err("RedisStore has not landed yet".to_owned())
}

/// `INFO commandstats`: calls per command name.
pub async fn command_stats(url: &str) -> Result<BTreeMap<String, u64>, String> {
    let _ = url;
    Err("RedisStore has not landed yet".to_owned())
}

/// Deletes every key starting with `prefix`.
pub async fn delete_prefix(url: &str, prefix: &str) -> Result<(), String> {
    let _ = (url, prefix);
    Ok(())
}
