//! PostgreSQL around the refresh runs: a database of the run's own (so that its transaction
//! counters see only the run), statements per refresh from those counters, bytes per
//! session, and the database dropped afterwards.

use tokio_postgres::NoTls;
use tower_session_postgres::{PostgresConfig, PostgresStore};

/// Opens `url`'s server at database `db` (same user, host and port).
pub fn with_database(url: &str, db: &str) -> String {
    let server = url.rsplit_once('/').map_or(url, |(s, _)| s);
    format!("{server}/{db}")
}

async fn client(url: &str) -> Result<tokio_postgres::Client, String> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| format!("postgres {url}: {e}"))?;
    tokio::spawn(connection);
    Ok(client)
}

/// Creates database `db` on `url`'s server and a store in it (schema `tower_sessions`).
pub async fn store(url: &str, db: &str) -> Result<PostgresStore, String> {
    client(url)
        .await?
        .batch_execute(&format!("CREATE DATABASE \"{db}\""))
        .await
        .map_err(|e| e.to_string())?;
    PostgresStore::connect(&with_database(url, db), PostgresConfig::default())
        .await
        .map_err(|e| e.to_string())
}

/// Committed plus rolled-back transactions of database `db` so far: every store statement
/// is one transaction (and one round trip), so deltas count statements per refresh.
/// PostgreSQL publishes these counters about once a second: call after a pause.
pub async fn transactions(url: &str, db: &str) -> Result<u64, String> {
    let row = client(url)
        .await?
        .query_one(
            "SELECT (xact_commit + xact_rollback)::bigint FROM pg_stat_database WHERE datname = $1",
            &[&db],
        )
        .await
        .map_err(|e| e.to_string())?;
    let n: i64 = row.get(0);
    Ok(n.unsigned_abs())
}

/// (live rows, average row bytes, table + index + TOAST bytes per row) of the sessions.
pub async fn bytes_per_session(url: &str, db: &str) -> Result<(i64, f64, f64), String> {
    let row = client(&with_database(url, db))
        .await?
        .query_one(
            "SELECT count(*), coalesce(avg(pg_column_size(t.*)), 0)::float8,
                    pg_total_relation_size('tower_sessions.tsr_sessions')::float8
             FROM tower_sessions.tsr_sessions t",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    let n: i64 = row.get(0);
    let total: f64 = row.get(2);
    Ok((n, row.get(1), total / n.max(1) as f64))
}

/// Puts `n` sessions into the store's table of database `db`, `batch` rows per
/// `INSERT … SELECT FROM generate_series` (one transaction each), then `VACUUM ANALYZE`s
/// it and forces a `CHECKPOINT` (so the writes of the fill are not flushed during the run): rows
/// of the shape `PostgresStore::create` writes (uuid-shaped handle and user id of their
/// own, tenant `public`, payload `{}`, SHA-256 hex token and family hashes, generation 0,
/// no children, no session data), expiring at `expires_ms`.
pub async fn bulk_fill(
    url: &str,
    db: &str,
    n: i64,
    expires_ms: i64,
    batch: i64,
) -> Result<(), String> {
    let client = client(&with_database(url, db)).await?;
    let insert = client
        .prepare(
            "INSERT INTO tower_sessions.tsr_sessions
                 (handle, user_id, tenant_id, payload, family_hash, head_hash, generation,
                  children, expires_at, time_created, session_data)
             SELECT md5('handle' || g)::uuid::text, md5('user' || g)::uuid::text, 'public',
                    '{}', encode(sha256(('family' || g)::bytea), 'hex'),
                    encode(sha256(('refresh' || g)::bytea), 'hex'), 0, '{}', $3::bigint,
                    (extract(epoch FROM now()) * 1000)::bigint, NULL
             FROM generate_series($1::bigint, $2::bigint) AS g",
        )
        .await
        .map_err(|e| e.to_string())?;
    let mut from = 0;
    while from < n {
        let to = (from + batch).min(n) - 1;
        client
            .execute(&insert, &[&from, &to, &expires_ms])
            .await
            .map_err(|e| e.to_string())?;
        from = to + 1;
    }
    // one statement per call: VACUUM refuses to run in a multi-statement query
    for sql in ["VACUUM ANALYZE tower_sessions.tsr_sessions", "CHECKPOINT"] {
        client
            .batch_execute(sql)
            .await
            .map_err(|e| format!("{sql}: {e:?}"))?;
    }
    Ok(())
}

/// Drops database `db` (its connections too).
pub async fn drop_database(url: &str, db: &str) -> Result<(), String> {
    client(url)
        .await?
        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"))
        .await
        .map_err(|e| e.to_string())
}
