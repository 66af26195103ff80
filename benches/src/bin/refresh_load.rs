//! Refreshes per second through the whole auth stack (guard + cookie layer + `RefreshService`),
//! in process, on a 2-worker multi-thread runtime:
//! `refresh_load <memory|redis://127.0.0.1:6379|postgres://postgres@127.0.0.1:5432/test|cluster|cluster-nowait> <clients[,clients...]> <seconds> [live sessions]`.
//!
//! `live`: other sessions put in the store before the runs (each of its own user). By
//! default they are created through the store API directly (`SessionStore::create`, 64 at
//! a time, so Redis pipelines them on its connection; 4 at a time on the cluster with
//! `WAIT`, whose `WAIT`s block the shared connection, so 64 time out; `FILL_TASKS=N`), and
//! for PostgreSQL with batched `INSERT … SELECT FROM generate_series` of 50,000 rows into
//! the store's table (rows of the shape `create` writes), then `VACUUM ANALYZE` and
//! `CHECKPOINT` (the state of a table that has been live for a while); `FILL=http` signs
//! each one in through the stack instead (slow: an EdDSA signature each). The fill time is reported, and how much
//! the store grew per filled session: the process RSS for the memory store, Redis
//! `used_memory` (summed over the masters of a cluster), the table size for PostgreSQL.
//! Several client counts (`1,16`) run one after the other on the same filled store.
//!
//! Each client signs in once (its own session) and then refreshes in a loop, presenting the
//! refresh token the previous response set (the SDK's behaviour: every refresh rotates).
//! With a Redis URL, the store uses a unique key prefix, the run reports the Redis commands
//! per refresh (`INFO commandstats` deltas over the run), and the keys are deleted afterwards.
//! With a PostgreSQL URL, the store lives in a database of the run's own on that server
//! (dropped afterwards), and the run reports statements per refresh (the database's
//! transaction counter: every store statement is one transaction and one round trip).
//! With `cluster`, the commands are summed over the cluster's masters (replicas' `REPLCONF`
//! answers are listed but not added). Every run reports the p50/p99/p99.9/max latency of one
//! refresh and the load average; for Redis and PostgreSQL, the bytes one session takes
//! (Redis: `MEMORY USAGE`, over a sample of 20,000 keys above that).

use std::{
    process::ExitCode,
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use http::HeaderValue;
use tower::ServiceExt;
use tower_session_refresh::{session::SessionConfig, store::NewSession};
use tower_shared_session_benches::{ours, postgres_util, redis_util, workload};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let live = match args.get(3).map(|s| s.parse::<usize>()) {
        None => Ok(0),
        Some(Ok(n)) => Ok(n),
        Some(Err(e)) => Err(e),
    };
    let clients: Option<Result<Vec<usize>, _>> = args
        .get(1)
        .map(|s| s.split(',').map(str::parse::<usize>).collect());
    let (Some(store), Some(Ok(clients)), Some(Ok(secs)), Ok(live)) = (
        args.first(),
        clients,
        args.get(2).map(|s| s.parse::<f64>()),
        live,
    ) else {
        eprintln!(
            "usage: refresh_load <memory|redis://HOST:PORT|postgres://USER@HOST:PORT/DB|cluster|cluster-nowait> <clients[,clients...]> <seconds> [live sessions]"
        );
        return ExitCode::from(2);
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    match rt.block_on(run(store, &clients, Duration::from_secs_f64(secs), live)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("refresh_load: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The Redis nodes whose counters a run reads: the server, or every master of the cluster.
fn redis_nodes(cleanup: &ours::Cleanup) -> Vec<String> {
    match (cleanup.redis(), cleanup.cluster()) {
        (Some((url, _)), _) => vec![url.to_owned()],
        (None, Some(cluster)) => cluster
            .urls()
            .into_iter()
            .filter(|url| redis_util::is_master(url).unwrap_or(false))
            .collect(),
        (None, None) => Vec::new(),
    }
}

/// The key prefix of the run's Redis keys.
fn redis_prefix(cleanup: &ours::Cleanup) -> Option<&str> {
    match (cleanup.redis(), cleanup.cluster()) {
        (Some((_, prefix)), _) => Some(prefix),
        (None, Some(_)) => Some(ours::CLUSTER_PREFIX),
        (None, None) => None,
    }
}

async fn command_stats(
    nodes: &[String],
) -> Result<Option<std::collections::BTreeMap<String, u64>>, String> {
    if nodes.is_empty() {
        return Ok(None);
    }
    let mut sum = std::collections::BTreeMap::new();
    for url in nodes {
        for (cmd, calls) in redis_util::command_stats(url).await? {
            *sum.entry(cmd).or_insert(0) += calls;
        }
    }
    Ok(Some(sum))
}

/// Resident set size of this process, bytes (`/proc/self/statm`).
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// `uuid`-shaped text (36 chars) from the first 16 bytes of `digest`, as handles are.
fn uuid_shaped(digest: &[u8]) -> String {
    let hex: String = digest[..16].iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn sha256(parts: &[&[u8]]) -> Vec<u8> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for p in parts {
        ctx.update(p);
    }
    ctx.finish().as_ref().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|x| format!("{x:02x}")).collect()
}

/// Filled session `i`: its own user, handle, token and family hashes, the shape
/// `SessionManager::create` stores (payload `{}`, no session data).
fn filled_session(i: u64, expires_at: SystemTime) -> NewSession {
    let n = i.to_le_bytes();
    NewSession {
        handle: uuid_shaped(&sha256(&[b"handle", &n])),
        user_id: uuid_shaped(&sha256(&[b"user", &n])),
        tenant_id: "public".to_owned(),
        payload: Some(serde_json::Map::new()),
        refresh_hash: hex(&sha256(&[b"refresh", &n])),
        family_hash: hex(&sha256(&[b"family", &n])),
        expires_at,
        session_data: serde_json::Map::new(),
    }
}

/// Puts `live` sessions in the store without the HTTP stack; see the module docs.
async fn bulk_fill(
    config: &SessionConfig,
    cleanup: &ours::Cleanup,
    live: usize,
    wait: bool,
) -> Result<(), String> {
    let expires_at = SystemTime::now() + config.refresh_token_lifetime();
    if let Some((url, db)) = cleanup.postgres() {
        let expires_ms = expires_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis()) as i64;
        return postgres_util::bulk_fill(url, db, live as i64, expires_ms, 50_000).await;
    }
    let store = config.store().ok_or("no store")?.clone();
    let tasks = std::env::var("FILL_TASKS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&t| t > 0)
        .unwrap_or(if wait { 4 } else { 64 });
    let live = live as u64;
    let tasks: Vec<_> = (0..tasks)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut i = t;
                while i < live {
                    store
                        .create(filled_session(i, expires_at))
                        .await
                        .map_err(|e| format!("create {i}: {e}"))?;
                    i += tasks;
                }
                Ok::<(), String>(())
            })
        })
        .collect();
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok(())
}

/// `WRITE_TIMES=1`: times 4,096 more `create`s one by one after the fill (the memory
/// store sweeps expired sessions every 1,024th write) and prints the slowest and the median.
async fn write_times(config: &SessionConfig, live: usize) -> Result<(), String> {
    let store = config.store().ok_or("no store")?.clone();
    let expires_at = SystemTime::now() + config.refresh_token_lifetime();
    let mut times = Vec::with_capacity(4096);
    for i in 0..4096u64 {
        let session = filled_session(live as u64 + i, expires_at);
        let began = Instant::now();
        store.create(session).await.map_err(|e| e.to_string())?;
        times.push(began.elapsed().as_secs_f64() * 1000.0);
    }
    let slow = times.iter().filter(|&&t| t > 1.0).count();
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "single creates after the fill: median {:.4} ms, max {:.3} ms, {slow} of 4096 over 1 ms (at {:?})",
        sorted[2048],
        sorted[4095],
        times
            .iter()
            .enumerate()
            .filter(|(_, &t)| t > 1.0)
            .map(|(i, t)| format!("#{i} {t:.1} ms"))
            .collect::<Vec<_>>()
    );
    Ok(())
}

/// Other live sessions in the store, each a real sign-in, 16 at a time (`FILL=http`).
async fn http_fill(router: &axum::Router, live: usize) -> Result<(), String> {
    let fillers: Vec<_> = (0..16)
        .map(|i| {
            let router = router.clone();
            let share = live / 16 + usize::from(i < live % 16);
            tokio::spawn(async move {
                for _ in 0..share {
                    ours::sign_in(&router).await;
                }
            })
        })
        .collect();
    for f in fillers {
        f.await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

async fn redis_used_memory(nodes: &[String]) -> Result<u64, String> {
    let mut sum = 0;
    for url in nodes {
        sum += redis_util::used_memory(url)?;
    }
    Ok(sum)
}

async fn run(
    store: &str,
    clients_list: &[usize],
    duration: Duration,
    live: usize,
) -> Result<(), String> {
    let backend = ours::StoreBackend::parse(store)?;
    let (config, cleanup) = ours::session_config_with(ours::Alg::EdDsa, true, &backend).await?;
    // the run's keys, database or cluster go away even when the run fails
    let result = runs(&backend, &config, &cleanup, clients_list, duration, live).await;
    cleanup.run().await;
    result
}

async fn runs(
    backend: &ours::StoreBackend,
    config: &SessionConfig,
    cleanup: &ours::Cleanup,
    clients_list: &[usize],
    duration: Duration,
    live: usize,
) -> Result<(), String> {
    let router = ours::auth_router(config);
    let path = config.refresh_path().to_owned();
    let nodes = redis_nodes(cleanup);
    let http = std::env::var("FILL").is_ok_and(|v| v == "http");
    if live > 0 {
        let rss_before = rss_bytes();
        let redis_before = redis_used_memory(&nodes).await?;
        let began = Instant::now();
        if http {
            http_fill(&router, live).await?;
        } else {
            let wait = matches!(backend, ours::StoreBackend::Cluster(true));
            bulk_fill(config, cleanup, live, wait).await?;
        }
        let secs = began.elapsed().as_secs_f64();
        let grew = match (backend.name(), cleanup.postgres()) {
            ("memory", _) => format!(
                "process RSS +{:.0} bytes per session",
                rss_bytes().saturating_sub(rss_before) as f64 / live as f64
            ),
            (_, Some((url, db))) => {
                let (rows, _, total) = postgres_util::bytes_per_session(url, db).await?;
                format!("table + indexes {total:.0} bytes per row ({rows} rows)")
            }
            _ => format!(
                "redis used_memory +{:.0} bytes per session ({} node(s))",
                redis_used_memory(&nodes)
                    .await?
                    .saturating_sub(redis_before) as f64
                    / live as f64,
                nodes.len()
            ),
        };
        if std::env::var("WRITE_TIMES").is_ok() {
            write_times(config, live).await?;
        }
        println!(
            "store={} fill={} live={live} fill_seconds={secs:.1} fill_per_sec={:.0} {grew}",
            backend.name(),
            match (http, cleanup.postgres()) {
                (true, _) => "http",
                (false, Some(_)) => "sql-batches",
                (false, None) => "store-api",
            },
            live as f64 / secs
        );
    }
    let mut signed_in = 0;
    for &clients in clients_list {
        measure(
            backend, cleanup, &router, &path, &nodes, clients, duration, live, signed_in,
        )
        .await?;
        signed_in += clients;
    }
    if let Some(prefix) = redis_prefix(cleanup) {
        let (sessions, hash, with_index) = redis_util::bytes_per_session(&nodes, prefix).await?;
        println!(
            "redis bytes per session (MEMORY USAGE{}): hash {hash:.0}, with the user index {with_index:.0} ({sessions} sessions)",
            if sessions > redis_util::SAMPLE { ", a sample" } else { "" }
        );
    }
    if let Some((url, db)) = cleanup.postgres() {
        let (rows, row, total) = postgres_util::bytes_per_session(url, db).await?;
        println!(
            "postgres bytes per session: row {row:.0}, with indexes and free space {total:.0} ({rows} rows)"
        );
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn measure(
    backend: &ours::StoreBackend,
    cleanup: &ours::Cleanup,
    router: &axum::Router,
    path: &str,
    nodes: &[String],
    clients: usize,
    duration: Duration,
    live: usize,
    signed_in: usize,
) -> Result<(), String> {
    let mut tokens = Vec::with_capacity(clients);
    for _ in 0..clients {
        tokens.push(ours::sign_in(router).await);
    }
    // one refresh each before counting, so every client runs the steady-state rotation
    for t in &mut tokens {
        *t = refresh_once(router, path, t).await?;
    }
    let stats_before = command_stats(nodes).await?;
    let xacts_before = match cleanup.postgres() {
        Some((url, db)) => {
            // A backend publishes its counters when idle, at the latest after 10 s.
            tokio::time::sleep(Duration::from_millis(11_000)).await;
            Some(postgres_util::transactions(url, db).await?)
        }
        None => None,
    };
    let done = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for mut token in tokens {
        let (router, path) = (router.clone(), path.to_owned());
        let (done, count, failed) = (done.clone(), count.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies: Vec<u32> = Vec::new();
            while !done.load(Ordering::Relaxed) {
                let began = Instant::now();
                match refresh_once(&router, &path, &token).await {
                    Ok(next) => {
                        latencies
                            .push(u32::try_from(began.elapsed().as_micros()).unwrap_or(u32::MAX));
                        token = next;
                        count.fetch_add(1, Ordering::Relaxed);
                        // the memory store never returns Pending: without this, 16 busy
                        // tasks keep both workers from parking, and the timer never fires
                        tokio::task::yield_now().await;
                    }
                    Err(e) => {
                        if failed.fetch_add(1, Ordering::Relaxed) == 0 {
                            eprintln!("first failed refresh: {e}");
                        }
                        break;
                    }
                }
            }
            latencies
        }));
    }
    tokio::time::sleep(duration).await;
    done.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.map_err(|e| e.to_string())?);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let n = count.load(Ordering::Relaxed);
    let stats_after = command_stats(nodes).await?;
    latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        f64::from(latencies[i]) / 1000.0
    };
    println!(
        "store={} clients={clients} live_sessions={} refreshes={n} failed={} seconds={elapsed:.2} refreshes_per_sec={:.0} p50_ms={:.3} p99_ms={:.3} p999_ms={:.3} max_ms={:.3} load={}",
        backend.name(),
        live + signed_in + clients,
        failed.load(Ordering::Relaxed),
        n as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        pct(0.999),
        pct(1.0),
        std::fs::read_to_string("/proc/loadavg")
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default(),
    );
    if let (Some(before), Some((url, db))) = (xacts_before, cleanup.postgres()) {
        tokio::time::sleep(Duration::from_millis(11_000)).await;
        let after = postgres_util::transactions(url, db).await?;
        println!(
            "postgres statements (= round trips) per refresh: {:.2}",
            after.saturating_sub(before) as f64 / n.max(1) as f64
        );
    }
    if let (Some(before), Some(after)) = (stats_before, stats_after) {
        let mut per: Vec<(String, f64)> = after
            .iter()
            .filter(|(cmd, _)| cmd.as_str() != "info")
            .map(|(cmd, calls)| {
                let prev = before.get(cmd).copied().unwrap_or(0);
                (cmd.clone(), (calls - prev) as f64 / n.max(1) as f64)
            })
            .filter(|(_, d)| *d > 0.0)
            .collect();
        per.sort_by(|a, b| a.0.cmp(&b.0));
        // REPLCONF ACK: a replica telling its master its offset, not a client command
        let total: f64 = per
            .iter()
            .filter(|(c, _)| c.as_str() != "replconf")
            .map(|(_, d)| d)
            .sum();
        let detail: Vec<String> = per.iter().map(|(c, d)| format!("{c}={d:.2}")).collect();
        println!(
            "redis commands per refresh ({} node(s)), without replconf: {total:.2} ({})",
            nodes.len(),
            detail.join(", ")
        );
    }
    if failed.load(Ordering::Relaxed) > 0 {
        return Err("some refreshes failed".to_owned());
    }
    Ok(())
}

async fn refresh_once(router: &axum::Router, path: &str, token: &str) -> Result<String, String> {
    let cookie: HeaderValue = workload::cookie_header(&format!("sRefreshToken={token}"));
    let res = match router
        .clone()
        .oneshot(ours::refresh_request(path, &cookie))
        .await
    {
        Ok(res) => res,
        Err(never) => match never {},
    };
    if res.status() != 200 {
        return Err(format!("refresh answered {}", res.status()));
    }
    ours::set_cookie_value(res.headers(), "sRefreshToken")
        .ok_or_else(|| "refresh set no sRefreshToken".to_owned())
}
