//! Instruction-count driver: `callgrind_target <variant> <N>` builds the stack (or token
//! primitive) called `<variant>` and N requests, makes 100 warm-up calls, then makes N calls
//! inside `run_calls`, so that
//! `valgrind --tool=callgrind --toggle-collect='*run_calls*' callgrind_target <variant> N`
//! counts exactly the N calls. Responses are kept and dropped after the counted region.
//! `callgrind_target --list` prints every variant name.

use std::{fmt::Debug, hint::black_box, process::ExitCode};

use axum::body::Body;
use http::{Request, Response, StatusCode};
use tokio::runtime::Runtime;
use tower::ServiceExt;
use tower_shared_session_benches::variants::{self, StackVisitor};

const WARM_UP: usize = 100;

/// Drives the calls; shared by the warm-up and the counted region.
#[inline(never)]
fn drive<S, B>(rt: &Runtime, svc: &S, reqs: Vec<Request<Body>>, out: &mut Vec<Response<B>>)
where
    S: tower::Service<Request<Body>, Response = Response<B>> + Clone,
    S::Error: Debug,
{
    rt.block_on(async {
        for req in reqs {
            out.push(svc.clone().oneshot(req).await.expect("stack error"));
        }
    });
}

/// The counted region: callgrind collects only inside this function.
#[inline(never)]
fn run_calls<S, B>(rt: &Runtime, svc: &S, reqs: Vec<Request<Body>>, out: &mut Vec<Response<B>>)
where
    S: tower::Service<Request<Body>, Response = Response<B>> + Clone,
    S::Error: Debug,
{
    drive(rt, svc, reqs, out);
}

/// The counted region for token primitives.
#[inline(never)]
fn run_calls_primitive(n: usize, f: &mut dyn FnMut()) {
    for _ in 0..n {
        f();
    }
}

struct Counted<'a> {
    rt: &'a Runtime,
    n: usize,
}

impl StackVisitor for Counted<'_> {
    type Out = Result<(), String>;

    fn visit<S, B, F>(self, svc: S, mut make_req: F) -> Self::Out
    where
        S: tower::Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send,
        S::Error: Debug,
        B: Send + 'static,
        F: FnMut() -> Request<Body>,
    {
        let warm: Vec<_> = (0..WARM_UP).map(|_| make_req()).collect();
        let mut out = Vec::with_capacity(WARM_UP);
        drive(self.rt, &svc, warm, &mut out);
        check(&out)?;
        drop(out);

        let reqs: Vec<_> = (0..self.n).map(|_| make_req()).collect();
        let mut out = Vec::with_capacity(self.n);
        run_calls(self.rt, &svc, reqs, &mut out);
        check(&out)?;
        drop(black_box(out));
        Ok(())
    }
}

fn check<B>(out: &[Response<B>]) -> Result<(), String> {
    let bad = out.iter().filter(|r| r.status() != StatusCode::OK).count();
    match out.iter().find(|r| r.status() != StatusCode::OK) {
        None => Ok(()),
        Some(r) => Err(format!(
            "{bad} responses were not 200 (first: {})",
            r.status()
        )),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--list") {
        for name in variants::stack_names() {
            println!("{name}");
        }
        for name in variants::primitive_names() {
            println!("{name}");
        }
        return ExitCode::SUCCESS;
    }
    let (Some(name), Some(Ok(n))) = (args.first(), args.get(1).map(|s| s.parse::<usize>())) else {
        eprintln!("usage: callgrind_target <variant> <N> | --list");
        return ExitCode::from(2);
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let result = match variants::visit_stack(name, &rt, Counted { rt: &rt, n }) {
        Some(r) => r,
        None => match variants::primitive(name) {
            Some(mut f) => {
                for _ in 0..WARM_UP {
                    f();
                }
                run_calls_primitive(n, &mut *f);
                Ok(())
            }
            None => Err(format!("unknown variant {name:?} (see --list)")),
        },
    };
    rt.block_on(tower_shared_session_benches::ours::cleanup_all());
    match result {
        Ok(()) => {
            eprintln!("{name}: {n} calls, all 200");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}
