//! `multi-api-demo`: one sign-in on `api.example.test`, used by `api2` and `api3`, with
//! foreign hosts turned away. The contract (flags, hosts, routes, status codes) is
//! `spec/demo-contract.md`; `README.md` beside this file sums it up.

mod app;
mod args;
mod serve;

use std::{io::Write, process::ExitCode};

use args::Args;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    if std::env::args().skip(1).any(|a| a == "--help" || a == "-h") {
        println!("{}", args::USAGE);
        return ExitCode::SUCCESS;
    }
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(args.listen).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("error: --listen: cannot bind {}: {err}", args.listen);
            return ExitCode::from(2);
        }
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(err) => {
            eprintln!("error: --listen: {err}");
            return ExitCode::FAILURE;
        }
    };
    // The defaults of --api-domain and --website-domain use the bound port, so the
    // configuration is checked only now (still before anything is served).
    let app = match app::build(&args, addr.port()).await {
        Ok(app) => app,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(2);
        }
    };

    let limits = serve::Limits {
        header_timeout: args.header_timeout,
        request_timeout: args.request_timeout,
        max_connections: args.max_connections,
    };
    tracing::info!(
        header_timeout = ?limits.header_timeout,
        request_timeout = ?limits.request_timeout,
        max_connections = limits.max_connections,
        "connection limits"
    );
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();

    serve::run(listener, app, limits, shutdown_signal()).await;
    ExitCode::SUCCESS
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
