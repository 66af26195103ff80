//! Refreshes per second through the whole auth stack (guard + cookie layer + `RefreshService`),
//! in process, on a 2-worker multi-thread runtime:
//! `refresh_load <memory|redis://127.0.0.1:6379> <clients> <seconds>`.
//!
//! Each client signs in once (its own session) and then refreshes in a loop, presenting the
//! refresh token the previous response set (the SDK's behaviour: every refresh rotates).
//! With a Redis URL, the store uses a unique key prefix, the run reports the Redis commands
//! per refresh (`INFO commandstats` deltas over the run), and the keys are deleted afterwards.

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
    let (Some(store), Some(Ok(clients)), Some(Ok(secs))) = (
        args.first(),
        args.get(1).map(|s| s.parse::<usize>()),
        args.get(2).map(|s| s.parse::<f64>()),
    ) else {
        eprintln!("usage: refresh_load <memory|redis://HOST:PORT> <clients> <seconds>");
        return ExitCode::from(2);
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    match rt.block_on(run(store, clients, Duration::from_secs_f64(secs))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("refresh_load: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(store: &str, clients: usize, duration: Duration) -> Result<(), String> {
    let backend = ours::StoreBackend::parse(store)?;
    let (config, cleanup) = ours::session_config_with(ours::Alg::EdDsa, true, &backend).await?;
    let router = ours::auth_router(&config);
    let path = config.refresh_path().to_owned();
    let mut tokens = Vec::with_capacity(clients);
    for _ in 0..clients {
        tokens.push(ours::sign_in(&router).await);
    }
    // one refresh each before counting, so every client runs the steady-state rotation
    for t in &mut tokens {
        *t = refresh_once(&router, &path, t).await?;
    }
    let stats_before = backend.command_stats().await?;
    let done = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for mut token in tokens {
        let (router, path) = (router.clone(), path.clone());
        let (done, count, failed) = (done.clone(), count.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                match refresh_once(&router, &path, &token).await {
                    Ok(next) => {
                        token = next;
                        count.fetch_add(1, Ordering::Relaxed);
                        // the memory store never returns Pending: without this, 16 busy
                        // tasks keep both workers from parking, and the timer never fires
                        tokio::task::yield_now().await;
                    }
                    Err(_) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
            }
        }));
    }
    tokio::time::sleep(duration).await;
    done.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.map_err(|e| e.to_string())?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let n = count.load(Ordering::Relaxed);
    let stats_after = backend.command_stats().await?;
    println!(
        "store={} clients={clients} refreshes={n} failed={} seconds={elapsed:.2} refreshes_per_sec={:.0}",
        backend.name(),
        failed.load(Ordering::Relaxed),
        n as f64 / elapsed
    );
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
