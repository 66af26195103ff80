//! `demo-client`: a Rust caller using the client-side session layer the way a service or
//! CLI would (see `spec/demo-contract.md`, "The demo client").
//!
//! Signs in through `POST {base}/demo/signin`, optionally waits (so the access token
//! expires), then calls `GET /sessioninfo` on the given hosts, `--calls` times with
//! `--concurrency` in flight. The last stdout line is `{"ok":N,"failed":N,"refreshes":N}`;
//! the exit status is 0 only when every call succeeded, 2 for bad flags.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::{header, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::BodyExt as _;
use tower::Layer;
use tower_session_client::connect::{http_client, Connector, FullBody, HttpClient};
use tower_session_client::{
    ClientConfig, ClientError, SessionClient, SessionClientLayer, SharedDomain, TransferMethod,
};

const USAGE: &str = "usage: demo-client [--api-domain URL] [--cookie-domain D] [--connect ADDR] \
[--user ID] [--mode cookie|header] [--hosts LIST] [--calls N] [--concurrency C] [--sleep-before SECS]";

struct Args {
    api_domain: String,
    cookie_domain: String,
    connect: Option<SocketAddr>,
    user: String,
    mode: TransferMethod,
    hosts: Vec<String>,
    calls: usize,
    concurrency: usize,
    sleep_before: f64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        api_domain: "http://api.example.test:3000".into(),
        cookie_domain: ".example.test".into(),
        connect: None,
        user: "alice".into(),
        mode: TransferMethod::Header,
        hosts: vec!["api2".into(), "api3".into()],
        calls: 10,
        concurrency: 1,
        sleep_before: 0.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (flag.clone(), None),
        };
        let value = match inline.or_else(|| it.next()) {
            Some(v) => v,
            None => return Err(format!("{name}: missing value")),
        };
        match name.as_str() {
            "--api-domain" => a.api_domain = value,
            "--cookie-domain" => a.cookie_domain = value,
            "--connect" => {
                a.connect = Some(value.parse().map_err(|_| {
                    format!("--connect {value:?}: expected IP:PORT, e.g. 127.0.0.1:3000")
                })?)
            }
            "--user" => a.user = value,
            "--mode" => {
                a.mode = match value.as_str() {
                    "cookie" => TransferMethod::Cookie,
                    "header" => TransferMethod::Header,
                    _ => return Err(format!("--mode {value:?}: expected cookie or header")),
                }
            }
            "--hosts" => {
                a.hosts = value
                    .split(',')
                    .map(|h| h.trim().to_owned())
                    .filter(|h| !h.is_empty())
                    .collect();
                if a.hosts.is_empty() {
                    return Err("--hosts: give at least one host label, e.g. api2,api3".into());
                }
            }
            "--calls" => {
                a.calls = value
                    .parse()
                    .map_err(|_| format!("--calls {value:?}: expected a number"))?
            }
            "--concurrency" => {
                a.concurrency = value
                    .parse()
                    .ok()
                    .filter(|c| *c > 0)
                    .ok_or_else(|| format!("--concurrency {value:?}: expected a number > 0"))?
            }
            "--sleep-before" => {
                a.sleep_before = value
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| format!("--sleep-before {value:?}: expected seconds >= 0"))?
            }
            other => return Err(format!("unknown flag {other:?}\n{USAGE}")),
        }
    }
    Ok(a)
}

fn summary(ok: usize, failed: usize, refreshes: u64) {
    // Keys in the contract's order.
    println!("{{\"ok\":{ok},\"failed\":{failed},\"refreshes\":{refreshes}}}");
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("demo-client: {e}");
            return ExitCode::from(2);
        }
    };
    let shared = match SharedDomain::parse(&args.cookie_domain) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("demo-client: --cookie-domain: {e}");
            return ExitCode::from(2);
        }
    };
    let config = match ClientConfig::builder(&args.api_domain)
        .shared_domain(shared.clone())
        .transfer_method(args.mode)
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("demo-client: --api-domain: {e}");
            return ExitCode::from(2);
        }
    };
    // The API hosts share the API domain's scheme and port.
    let api: Uri = match args.api_domain.parse() {
        Ok(u) => u,
        Err(e) => {
            eprintln!("demo-client: --api-domain: {e}");
            return ExitCode::from(2);
        }
    };
    let scheme = api.scheme_str().unwrap_or("http").to_owned();
    let port = api.port_u16().map(|p| format!(":{p}")).unwrap_or_default();
    let sign_in_uri: Uri =
        match format!("{}/auth/demo/signin", args.api_domain.trim_end_matches('/')).parse() {
            Ok(u) => u,
            Err(e) => {
                eprintln!("demo-client: --api-domain: {e}");
                return ExitCode::from(2);
            }
        };

    let connector = args.connect.map(Connector::fixed).unwrap_or_default();
    let layer = SessionClientLayer::new(config);
    let handle = layer.handle();
    let client = layer.layer(http_client::<FullBody>(connector));

    if let Err(e) = sign_in(&client, sign_in_uri, &args.user).await {
        eprintln!("demo-client: sign-in as {:?} failed: {e}", args.user);
        summary(0, args.calls, handle.refresh_count());
        return ExitCode::FAILURE;
    }
    println!(
        "signed in as {} ({:?} mode)",
        handle.user_id().unwrap_or_default(),
        args.mode
    );
    if args.sleep_before > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(args.sleep_before)).await;
    }

    let urls: Arc<Vec<String>> = Arc::new(
        args.hosts
            .iter()
            .map(|h| format!("{scheme}://{h}.{}{port}/sessioninfo", shared.name()))
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..args.concurrency.min(args.calls.max(1)))
        .map(|_| {
            let (client, urls, next, ok, failed) = (
                client.clone(),
                urls.clone(),
                next.clone(),
                ok.clone(),
                failed.clone(),
            );
            let calls = args.calls;
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= calls {
                        return;
                    }
                    let url = &urls[i % urls.len()];
                    let req = match Request::get(url.as_str()).body(FullBody::default()) {
                        Ok(r) => r,
                        Err(e) => {
                            eprintln!("call {i}: {url}: {e}");
                            failed.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                    };
                    match client.call_once(req).await {
                        Ok(resp) if resp.status() == StatusCode::OK => {
                            ok.fetch_add(1, Ordering::Relaxed);
                            println!("call {i}: {url}: {}", resp.status());
                        }
                        Ok(resp) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            println!("call {i}: {url}: {}", resp.status());
                        }
                        Err(e) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            println!("call {i}: {url}: error: {e}");
                        }
                    }
                }
            })
        })
        .collect();
    for w in workers {
        if w.await.is_err() {
            eprintln!("demo-client: a worker panicked");
        }
    }
    let (ok, mut failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    failed += args.calls.saturating_sub(ok + failed);
    summary(ok, failed, handle.refresh_count());
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Signs in through the demo's route (`uri`, `POST {apiDomain}/auth/demo/signin`) with
/// `{"userId": user_id}`, in the configured transfer method. Fails unless the server
/// answered 2xx and sent a session.
async fn sign_in(
    client: &SessionClient<HttpClient>,
    uri: Uri,
    user_id: &str,
) -> Result<(), ClientError> {
    let body = serde_json::json!({ "userId": user_id }).to_string();
    let mut req = Request::new(FullBody::from(body));
    *req.method_mut() = Method::POST;
    *req.uri_mut() = uri;
    req.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let resp = client.call_once(req).await?;
    let status = resp.status();
    let _ = resp.into_body().collect().await;
    if status.is_success() && client.handle().exists() {
        Ok(())
    } else {
        Err(ClientError::UnexpectedStatus(status))
    }
}
