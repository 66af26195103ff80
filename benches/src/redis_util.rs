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

/// (sessions, average `MEMORY USAGE` of a session hash, of a session hash plus its share
/// of the user indexes) under `prefix`.
pub async fn bytes_per_session(url: &str, prefix: &str) -> Result<(usize, f64, f64), String> {
    let mut con = connection(url)?;
    let mut usage = |pattern: String| -> Result<(usize, u64), String> {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(pattern)
            .query(&mut con)
            .map_err(|e| e.to_string())?;
        let mut total = 0u64;
        for key in &keys {
            let bytes: Option<u64> = redis::cmd("MEMORY")
                .arg("USAGE")
                .arg(key)
                .query(&mut con)
                .map_err(|e| e.to_string())?;
            total += bytes.unwrap_or(0);
        }
        Ok((keys.len(), total))
    };
    let (sessions, session_bytes) = usage(format!("{prefix}s:*"))?;
    let (_, index_bytes) = usage(format!("{prefix}u:*"))?;
    let n = sessions.max(1) as f64;
    Ok((
        sessions,
        session_bytes as f64 / n,
        (session_bytes + index_bytes) as f64 / n,
    ))
}
