//! One criterion run of every variant: the per-request stacks (peers and ours, `oneshot`
//! through the same axum `Router` workload), the refresh route, and the token primitives.
//! `benches/scripts/criterion.sh` runs it three times and prints the report.
//! Pairs are variants of one stack, e.g. `stack/stack_hs256_cached` and
//! `stack/stack_hs256_cached_checkdb_memory` (the same route with `check_database`, issue
//! 17): `REF=stack/stack_hs256_cached benches/scripts/criterion.sh '^stack/stack_hs256_cached'`
//! reports each run's ratio to the first.

#![allow(missing_docs)] // `criterion_group!` generates an undocumented `pub fn`

use std::{fmt::Debug, time::Duration};

use axum::body::Body;
use criterion::{
    criterion_group, criterion_main, measurement::WallTime, BatchSize, BenchmarkGroup, Criterion,
};
use http::{Request, Response};
use tokio::runtime::Runtime;
use tower::ServiceExt;
use tower_shared_session_benches::variants::{self, StackVisitor};

struct Crit<'a, 'g> {
    group: &'a mut BenchmarkGroup<'g, WallTime>,
    rt: &'a Runtime,
    name: &'static str,
}

impl StackVisitor for Crit<'_, '_> {
    type Out = ();

    fn visit<S, B, F>(self, svc: S, mut make_req: F)
    where
        S: tower::Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send,
        S::Error: Debug,
        B: Send + 'static,
        F: FnMut() -> Request<Body>,
    {
        let first = self
            .rt
            .block_on(svc.clone().oneshot(make_req()))
            .expect("stack error");
        assert_eq!(first.status(), 200, "{} must answer 200", self.name);
        self.group.bench_function(self.name, |b| {
            b.to_async(self.rt).iter_batched(
                &mut make_req,
                |req| svc.clone().oneshot(req),
                BatchSize::SmallInput,
            );
        });
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn stacks(c: &mut Criterion) {
    let rt = runtime();
    for group_name in ["stack", "refresh"] {
        let mut group = c.benchmark_group(group_name);
        for name in variants::stack_names() {
            let in_group = if name.starts_with("refresh_") {
                "refresh"
            } else {
                "stack"
            };
            if in_group != group_name {
                continue;
            }
            let crit = Crit {
                group: &mut group,
                rt: &rt,
                name,
            };
            variants::visit_stack(name, &rt, crit).expect("listed variant exists");
        }
        group.finish();
    }
    rt.block_on(tower_shared_session_benches::ours::cleanup_all());
}

fn primitives(c: &mut Criterion) {
    let names = variants::primitive_names();
    let mut ops: Vec<&str> = names
        .iter()
        .map(|n| n.split_once('/').map_or(*n, |(op, _)| op))
        .collect();
    ops.dedup();
    for op in ops {
        let mut group = c.benchmark_group(op);
        if op.starts_with("rs256_sign") {
            group.sample_size(20);
        }
        for name in names.iter().filter(|n| n.split('/').next() == Some(op)) {
            let id = name.split_once('/').map_or(*name, |(_, imp)| imp);
            let mut f = variants::primitive(name).expect("listed primitive exists");
            group.bench_function(id, |b| b.iter(&mut f));
        }
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = stacks, primitives
}
criterion_main!(benches);
