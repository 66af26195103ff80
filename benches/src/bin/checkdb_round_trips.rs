//! Redis round trips per request of a protected route with `check_database` (issue 17):
//! `checkdb_round_trips [N]` starts a `redis-server` of its own (so that nobody else's
//! commands are counted), stores the session of the sample HS256 token, and sends N
//! requests (default 10,000; 100 warm-up first) through the full stack without and with
//! `RequireSessionLayer::check_database(true)`, each with `CONFIG RESETSTAT` before and
//! `INFO commandstats` after: the commands the server ran, per request.

use std::process::ExitCode;

use tower::ServiceExt;
use tower_shared_session_benches::{ours, redis_util, workload};

fn main() -> ExitCode {
    let n = match std::env::args().nth(1).map(|s| s.parse::<u64>()) {
        None => 10_000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: checkdb_round_trips [N]");
            return ExitCode::from(2);
        }
    };
    let mut redis = tower_session_testkit::redis::OwnRedis::new();
    redis.start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match rt.block_on(run(&redis.url(), n)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("checkdb_round_trips: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(url: &str, n: u64) -> Result<(), String> {
    let backend = ours::StoreBackend::Redis(url.to_owned());
    let (config, cleanup) = ours::session_config_with(ours::Alg::Hs256, true, &backend).await?;
    ours::store_sample_session(&config).await?;
    let cookie = ours::our_cookie_header(&ours::sample_token(ours::Alg::Hs256));
    for (label, router) in [
        ("without check_database", ours::full_stack_router(&config)),
        (
            "with check_database",
            ours::full_stack_checkdb_router(&config),
        ),
    ] {
        for _ in 0..100 {
            call(&router, &cookie).await?;
        }
        let mut con = redis::Client::open(url)
            .and_then(|c| c.get_connection())
            .map_err(|e| e.to_string())?;
        redis::cmd("CONFIG")
            .arg("RESETSTAT")
            .query::<()>(&mut con)
            .map_err(|e| e.to_string())?;
        for _ in 0..n {
            call(&router, &cookie).await?;
        }
        let stats = redis_util::command_stats(url).await?;
        let per: Vec<String> = stats
            .iter()
            .filter(|(cmd, _)| !matches!(cmd.as_str(), "info" | "config|resetstat" | "config"))
            .map(|(cmd, calls)| format!("{cmd}={:.3}", *calls as f64 / n as f64))
            .collect();
        let total: u64 = stats
            .iter()
            .filter(|(cmd, _)| !matches!(cmd.as_str(), "info" | "config|resetstat" | "config"))
            .map(|(_, calls)| calls)
            .sum();
        println!(
            "{label}: {n} requests, all 200; redis commands per request {:.3} ({})",
            total as f64 / n as f64,
            if per.is_empty() {
                "none".to_owned()
            } else {
                per.join(", ")
            }
        );
    }
    cleanup.run().await;
    Ok(())
}

async fn call(router: &axum::Router, cookie: &http::HeaderValue) -> Result<(), String> {
    let res = match router.clone().oneshot(workload::get_request(cookie)).await {
        Ok(res) => res,
        Err(never) => match never {},
    };
    if res.status() != 200 {
        return Err(format!("the protected route answered {}", res.status()));
    }
    Ok(())
}
