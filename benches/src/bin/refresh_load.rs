//! Refreshes per second through the whole auth stack (guard + cookie layer + `RefreshService`),
//! in process, on a 2-worker multi-thread runtime:
//! `refresh_load <memory|redis://127.0.0.1:6379|postgres://postgres@127.0.0.1:5432/test> <clients> <seconds>`.
//!
//! Each client signs in once (its own session) and then refreshes in a loop, presenting the
//! refresh token the previous response set (the SDK's behaviour: every refresh rotates).
//! With a Redis URL, the store uses a unique key prefix, the run reports the Redis commands
//! per refresh (`INFO commandstats` deltas over the run), and the keys are deleted afterwards.
//! With a PostgreSQL URL, the store lives in a database of the run's own on that server
//! (dropped afterwards), and the run reports statements per refresh (the database's
//! transaction counter: every store statement is one transaction and one round trip).
//! Every run reports p50/p99 latency of one refresh and, for Redis and PostgreSQL, the bytes
//! one session takes.

use std::{
    process::ExitCode,
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
    sync::Arc,
    time::{Duration, Instant},
};

use http::HeaderValue;
use tower::ServiceExt;
use tower_shared_session_benches::{ours, workload};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let live = match args.get(3).map(|s| s.parse::<usize>()) {
        None => Ok(0),
        Some(Ok(n)) => Ok(n),
        Some(Err(e)) => Err(e),
    };
    let (Some(store), Some(Ok(clients)), Some(Ok(secs)), Ok(live)) = (
        args.first(),
        args.get(1).map(|s| s.parse::<usize>()),
        args.get(2).map(|s| s.parse::<f64>()),
        live,
    ) else {
        eprintln!(
            "usage: refresh_load <memory|redis://HOST:PORT|postgres://USER@HOST:PORT/DB> <clients> <seconds> [live sessions]"
        );
        return ExitCode::from(2);
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    match rt.block_on(run(store, clients, Duration::from_secs_f64(secs), live)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("refresh_load: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(store: &str, clients: usize, duration: Duration, live: usize) -> Result<(), String> {
    let backend = ours::StoreBackend::parse(store)?;
    let (config, cleanup) = ours::session_config_with(ours::Alg::EdDsa, true, &backend).await?;
    let router = ours::auth_router(&config);
    let path = config.refresh_path().to_owned();
    // Other live sessions in the store (each a real sign-in), 16 at a time: the refresh
    // cost should not grow with them.
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
    let mut tokens = Vec::with_capacity(clients);
    for _ in 0..clients {
        tokens.push(ours::sign_in(&router).await);
    }
    // one refresh each before counting, so every client runs the steady-state rotation
    for t in &mut tokens {
        *t = refresh_once(&router, &path, t).await?;
    }
    let stats_before = backend.command_stats().await?;
    let xacts_before = match cleanup.postgres() {
        Some((url, db)) => {
            // A backend publishes its counters when idle, at the latest after 10 s.
            tokio::time::sleep(Duration::from_millis(11_000)).await;
            Some(tower_shared_session_benches::postgres_util::transactions(url, db).await?)
        }
        None => None,
    };
    let done = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for mut token in tokens {
        let (router, path) = (router.clone(), path.clone());
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
    let stats_after = backend.command_stats().await?;
    latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        f64::from(latencies[i]) / 1000.0
    };
    println!(
        "store={} clients={clients} live_sessions={} refreshes={n} failed={} seconds={elapsed:.2} refreshes_per_sec={:.0} p50_ms={:.3} p99_ms={:.3}",
        backend.name(),
        live + clients,
        failed.load(Ordering::Relaxed),
        n as f64 / elapsed,
        pct(0.50),
        pct(0.99),
    );
    if let (Some(before), Some((url, db))) = (xacts_before, cleanup.postgres()) {
        tokio::time::sleep(Duration::from_millis(11_000)).await;
        let after = tower_shared_session_benches::postgres_util::transactions(url, db).await?;
        println!(
            "postgres statements (= round trips) per refresh: {:.2}",
            after.saturating_sub(before) as f64 / n.max(1) as f64
        );
        let (rows, row, total) =
            tower_shared_session_benches::postgres_util::bytes_per_session(url, db).await?;
        println!(
            "postgres bytes per session: row {row:.0}, with indexes and free space {total:.0} ({rows} rows)"
        );
    }
    if let Some((url, prefix)) = cleanup.redis() {
        let (sessions, hash, with_index) =
            tower_shared_session_benches::redis_util::bytes_per_session(url, prefix).await?;
        println!(
            "redis bytes per session (MEMORY USAGE): hash {hash:.0}, with the user index {with_index:.0} ({sessions} sessions)"
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
        let total: f64 = per.iter().map(|(_, d)| d).sum();
        let detail: Vec<String> = per.iter().map(|(c, d)| format!("{c}={d:.2}")).collect();
        println!(
            "redis commands per refresh: {total:.2} ({})",
            detail.join(", ")
        );
    }
    cleanup.run().await;
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
