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

/// Whether the node at `url` is a master (`INFO replication`).
pub fn is_master(url: &str) -> Result<bool, String> {
    let info: String = redis::cmd("INFO")
        .arg("replication")
        .query(&mut connection(url)?)
        .map_err(|e| e.to_string())?;
    Ok(info.lines().any(|l| l.trim() == "role:master"))
}

/// `used_memory` of `INFO memory`, bytes.
pub fn used_memory(url: &str) -> Result<u64, String> {
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query(&mut connection(url)?)
        .map_err(|e| e.to_string())?;
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:")?.trim().parse().ok())
        .ok_or_else(|| format!("{url}: no used_memory in INFO memory"))
}

/// Every key matching `pattern` (`SCAN`, so a large key space does not block the server).
fn scan(con: &mut redis::Connection, pattern: &str) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(10_000)
            .query(con)
            .map_err(|e| e.to_string())?;
        keys.extend(batch);
        if next == 0 {
            return Ok(keys);
        }
        cursor = next;
    }
}

/// Deletes every key starting with `prefix` (`SCAN` and `UNLINK`, 1,000 at a time).
pub async fn delete_prefix(url: &str, prefix: &str) -> Result<(), String> {
    let mut con = connection(url)?;
    let keys = scan(&mut con, &format!("{prefix}*"))?;
    for chunk in keys.chunks(1_000) {
        redis::cmd("UNLINK")
            .arg(chunk)
            .query::<()>(&mut con)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// At most this many keys of each kind are asked `MEMORY USAGE` in [`bytes_per_session`].
pub const SAMPLE: usize = 20_000;

/// (sessions, average `MEMORY USAGE` of a session hash, of a session hash plus its share
/// of the user indexes) under `prefix`, over the given nodes (every master of a cluster).
/// Above [`SAMPLE`] keys of a kind, the average is over the first [`SAMPLE`] that `SCAN`
/// returns, and the index share is that average times the index count per session.
pub async fn bytes_per_session(
    nodes: &[String],
    prefix: &str,
) -> Result<(usize, f64, f64), String> {
    let mut totals = [(0usize, 0usize, 0u64); 2]; // (keys, sampled, bytes sampled)
    for url in nodes {
        let mut con = connection(url)?;
        for (k, kind) in ["s", "u"].iter().enumerate() {
            let keys = scan(&mut con, &format!("{prefix}{kind}:*"))?;
            let room = SAMPLE.saturating_sub(totals[k].1);
            let sampled = &keys[..keys.len().min(room)];
            let mut pipe = redis::pipe();
            for key in sampled {
                pipe.cmd("MEMORY").arg("USAGE").arg(key);
            }
            let bytes: Vec<Option<u64>> = if sampled.is_empty() {
                Vec::new()
            } else {
                pipe.query(&mut con).map_err(|e| e.to_string())?
            };
            totals[k].0 += keys.len();
            totals[k].1 += sampled.len();
            totals[k].2 += bytes.into_iter().flatten().sum::<u64>();
        }
    }
    let avg = |(_, sampled, bytes): (usize, usize, u64)| bytes as f64 / sampled.max(1) as f64;
    let sessions = totals[0].0;
    let hash = avg(totals[0]);
    let index = avg(totals[1]) * totals[1].0 as f64 / sessions.max(1) as f64;
    Ok((sessions, hash, hash + index))
}
