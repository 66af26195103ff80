//! Redis helpers for the refresh runs: the store, `INFO commandstats`, and cleanup.

use std::collections::BTreeMap;

use tower_session_redis::{RedisStore, RedisStoreConfig};

/// A `RedisStore` at `url` with key prefix `prefix`.
pub async fn store(url: &str, prefix: &str) -> Result<RedisStore, String> {
    RedisStore::connect(url, RedisStoreConfig::new(prefix))
        .await
        .map_err(|e| format!("cannot connect to {url}: {e}"))
}

fn connection(url: &str) -> Result<redis::Connection, String> {
    redis::Client::open(url)
        .and_then(|c| c.get_connection())
        .map_err(|e| format!("{url}: {e}"))
}

/// `INFO commandstats`: calls per command name (lowercase, e.g. `evalsha`).
pub async fn command_stats(url: &str) -> Result<BTreeMap<String, u64>, String> {
    let mut con = connection(url)?;
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut con)
        .map_err(|e| e.to_string())?;
    Ok(info
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest.split(',').find_map(|kv| kv.strip_prefix("calls="))?;
            Some((name.to_owned(), calls.parse().ok()?))
        })
        .collect())
}

/// Deletes every key starting with `prefix`.
pub async fn delete_prefix(url: &str, prefix: &str) -> Result<(), String> {
    let mut con = connection(url)?;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(&mut con)
        .map_err(|e| e.to_string())?;
    for chunk in keys.chunks(500) {
        redis::cmd("DEL")
            .arg(chunk)
            .query::<()>(&mut con)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
