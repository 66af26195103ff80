//! Memory of the verified-token cache: `cache_memory [N] [plain]` (default 100,000) builds a
//! default verifier, signs N access tokens of N users (HS256; the sample claims plus an
//! `st-ev` payload claim `{"v":false,"t":..}`, or without it given `plain`), then verifies each once,
//! and prints the resident memory the verifier took up front and per cached token (RSS
//! deltas from `/proc/self/statm`, so allocator overhead is included).

use std::process::ExitCode;
use std::sync::Arc;

use tower_session_refresh::token::{AccessTokenVerifier, DEFAULT_CACHE_CAPACITY};
use tower_shared_session_benches::ours::{key_set, sample_claims, Alg};

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn main() -> ExitCode {
    let plain = std::env::args().nth(2).as_deref() == Some("plain");
    let n: usize = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 100_000,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("usage: cache_memory [N] [plain]");
            return ExitCode::from(2);
        }
    };
    let keys = key_set(Alg::Hs256);
    let base = sample_claims();
    let tokens: Vec<String> = (0..n)
        .map(|i| {
            let mut c = base.clone();
            c.sub = format!("{i:08x}{}", &base.sub[8..]);
            c.rsub = c.sub.clone();
            c.session_handle = format!("{i:08x}{}", &base.session_handle[8..]);
            if !plain {
                c.payload.insert(
                    "st-ev".into(),
                    serde_json::json!({"v": false, "t": 1_764_374_400_000u64}),
                );
            }
            keys.sign(&c).expect("signing works")
        })
        .collect();
    let before = rss_bytes();
    let verifier = AccessTokenVerifier::new(keys);
    let built = rss_bytes();
    // Weak handles (8 B each, subtracted below) tell afterwards which entries are still
    // cached: an evicted entry's claims are freed, so its handle no longer upgrades.
    let mut first = Vec::with_capacity(n);
    for t in &tokens {
        match verifier.verify_sync(t) {
            Ok(c) => first.push(Arc::downgrade(&c)),
            Err(_) => {
                eprintln!("a token did not verify");
                return ExitCode::FAILURE;
            }
        }
    }
    let filled = rss_bytes() - 8 * n as u64;
    let hits = tokens
        .iter()
        .zip(&first)
        .filter(|(t, w)| {
            let again = verifier.verify_sync(t).ok();
            matches!((w.upgrade(), again), (Some(a), Some(b)) if Arc::ptr_eq(&a, &b))
        })
        .count();
    let per = |b: u64| b as f64 / n as f64;
    println!(
        "default capacity {DEFAULT_CACHE_CAPACITY}; {n} tokens of {} B",
        tokens[0].len()
    );
    println!(
        "up front: {:.1} MiB ({:.1} B per entry of capacity)",
        (built - before) as f64 / 1048576.0,
        (built - before) as f64 / DEFAULT_CACHE_CAPACITY as f64
    );
    println!(
        "after caching {n} tokens: +{:.1} MiB, {:.0} B per cached token",
        (filled - built) as f64 / 1048576.0,
        per(filled - built)
    );
    println!(
        "second pass: {hits} of {n} served from the cache ({:.1}%)",
        100.0 * hits as f64 / n as f64
    );
    ExitCode::SUCCESS
}
