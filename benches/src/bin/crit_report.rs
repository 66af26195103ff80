//! `crit_report DIR...` prints the criterion results of one or more runs (each DIR is a
//! copy of `target/criterion` after one run; default `target/criterion`) as markdown:
//! median of the run medians, the run medians, min–max of the per-sample means over all
//! runs, and the ratio to the group's reference measured in the same run (median of the
//! per-run ratios). References: `stack/bare` for the stacks and the refresh route,
//! `hs256_mac/raw_hmac_ring` for the token primitives; `REF=group/function` makes that
//! benchmark the reference of its group (e.g. `REF=stack/stack_hs256_cached`).

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

use serde_json::Value;

struct Run {
    /// bench id ("group/function") -> (median ns, per-sample means ns)
    benches: BTreeMap<String, (f64, Vec<f64>)>,
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&fs::read_to_string(path).ok()?).ok()
}

fn load_run(dir: &Path) -> Run {
    let mut benches = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if !p.is_dir() {
                continue;
            }
            if p.file_name().is_some_and(|n| n == "new") {
                let (Some(est), Some(sample), Some(bench)) = (
                    read_json(&p.join("estimates.json")),
                    read_json(&p.join("sample.json")),
                    read_json(&p.join("benchmark.json")),
                ) else {
                    continue;
                };
                let id = bench["full_id"].as_str().unwrap_or_default().to_owned();
                let median = est["median"]["point_estimate"].as_f64().unwrap_or(f64::NAN);
                let iters = sample["iters"].as_array().cloned().unwrap_or_default();
                let times = sample["times"].as_array().cloned().unwrap_or_default();
                let means = iters
                    .iter()
                    .zip(&times)
                    .filter_map(|(i, t)| Some(t.as_f64()? / i.as_f64()?))
                    .collect();
                benches.insert(id, (median, means));
            } else if p.file_name().is_some_and(|n| n != "report" && n != "base") {
                stack.push(p);
            }
        }
    }
    Run { benches }
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1_000_000.0 {
        format!("{:.2} ms", ns / 1_000_000.0)
    } else if ns >= 1_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{ns:.0} ns")
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn reference(id: &str) -> String {
    if let Ok(r) = std::env::var("REF") {
        if r.split('/').next() == id.split('/').next() {
            return r;
        }
    }
    if id.starts_with("stack/") || id.starts_with("refresh/") {
        "stack/bare".to_owned()
    } else {
        "hs256_mac/raw_hmac_ring".to_owned()
    }
}

fn main() {
    let mut dirs: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if dirs.is_empty() {
        dirs.push(PathBuf::from("target/criterion"));
    }
    let runs: Vec<Run> = dirs.iter().map(|d| load_run(d)).collect();
    let mut ids: Vec<&String> = runs.iter().flat_map(|r| r.benches.keys()).collect();
    ids.sort();
    ids.dedup();
    let order = |id: &str| -> usize {
        match id.split('/').next() {
            Some("stack") => 0,
            Some("refresh") => 1,
            _ => 2,
        }
    };
    ids.sort_by_key(|id| order(id));

    println!(
        "criterion, {} run(s): {}",
        runs.len(),
        dirs.iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!();
    println!("| benchmark | median of run medians | run medians | min–max of per-sample means | ratio to reference (same run) |");
    println!("|---|---|---|---|---|");
    for id in ids {
        let medians: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.benches.get(id).map(|b| b.0))
            .collect();
        let all_means: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.benches.get(id))
            .flat_map(|b| b.1.iter().copied())
            .collect();
        let min = all_means.iter().copied().fold(f64::INFINITY, f64::min);
        let max = all_means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let refid = reference(id);
        let ratios: Vec<f64> = runs
            .iter()
            .filter_map(|r| Some(r.benches.get(id)?.0 / r.benches.get(&refid)?.0))
            .collect();
        let ratio = if ratios.is_empty() {
            "–".to_owned()
        } else {
            format!(
                "{:.2}× {}",
                median(ratios),
                refid.rsplit('/').next().unwrap_or(&refid)
            )
        };
        println!(
            "| {id} | {} | {} | {}–{} | {ratio} |",
            fmt_ns(median(medians.clone())),
            medians
                .iter()
                .map(|m| fmt_ns(*m))
                .collect::<Vec<_>>()
                .join(", "),
            fmt_ns(min),
            fmt_ns(max),
        );
    }
}
