//! `sdk-test-server`: the backend that `supertokens-website`'s own mocha suite drives
//! (`test/server/index.js` in the SDK's repository), built on `SharedSession` instead of
//! supertokens-node and a SuperTokens core. The suite talks to it on `localhost:8080` (and
//! `localhost:8082` for its cross-domain tests, one process per port, `NODE_PORT`), through
//! the same control routes; `README.md` beside this file says how to run the suite.
//!
//! "An app in the core" (`/test/setup/app`) is an isolated session state in Redis: its id
//! and settings travel in the opaque URL the route answers, so the two processes, given the
//! same URL by `/test/setup/st`, share its sessions and signing keys as two supertokens-node
//! processes share one core.

mod app;
mod args;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    if std::env::args().skip(1).any(|a| a == "--help" || a == "-h") {
        println!("{}", args::USAGE);
        return ExitCode::SUCCESS;
    }
    let args = match args::Args::parse(std::env::args().skip(1), std::env::var("NODE_PORT").ok()) {
        Ok(args) => args,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(2);
        }
    };
    // As the original (`::`): the browser may reach `localhost` over IPv6 or IPv4; a
    // machine without IPv6 gets IPv4 loopback.
    let listener = match tokio::net::TcpListener::bind(("::", args.port)).await {
        Ok(listener) => listener,
        Err(_) => match tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await {
            Ok(listener) => listener,
            Err(err) => {
                eprintln!("error: NODE_PORT: cannot bind port {}: {err}", args.port);
                return ExitCode::from(2);
            }
        },
    };
    let server = match app::Server::start(args).await {
        Ok(server) => server,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let port = server.port();
    println!("Server is running on port {port}");
    if let Err(err) = axum::serve(listener, server.router()).await {
        eprintln!("error: {err}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
