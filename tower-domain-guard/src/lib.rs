//! Tower layers that turn away requests whose `Host` (or, for state-changing requests,
//! `Origin`) lies outside one shared parent domain.
//!
//! Most services want `tower_session_refresh::SharedSession`, which puts both guards in
//! front of the session layers from one configuration; use them on their own to guard a
//! service that has no sessions, or to compose a stack by hand.
//!
//! # Overview
//!
//! One login session shared across `www.example.com`, `api.example.com` and
//! `api2.example.com` means a session cookie with `Domain=example.com`, which the browser
//! sends to every subdomain. This crate holds the pieces that keep such a deployment inside
//! its domain:
//!
//! * [`SharedDomain`]: the parent domain, parsed and validated once (SuperTokens-compatible
//!   normalisation, public suffixes and `localhost` refused), with allocation-free
//!   label-boundary matching. The cookie and session crates take their cookie `Domain` and
//!   client-side scope from the same value, so the three can never disagree.
//! * [`HostGuardLayer`]: decides each request's effective host (RFC 9112 §3.2,
//!   RFC 9113 §8.3.1), answers `421` for hosts outside the domain and `400` for malformed
//!   ones (gRPC status for gRPC calls), and gives handlers the accepted [`EffectiveHost`].
//! * [`OriginGuardLayer`]: cross-origin protection for unsafe methods, accepting origins
//!   inside the shared domain (sibling subdomains included) and refusing the rest.
//!
//! Both layers are generic over request and response bodies, keep the inner service's
//! error type (no `HandleErrorLayer` needed in axum) and answer rejections themselves with
//! a [`GuardBody`], an [`http_body::Body`] that is either the inner body or a short text.
//!
//! # Example server (axum)
//!
//! ```
//! use axum::{routing::get, Router};
//! use tower::ServiceBuilder;
//! use tower_domain_guard::{EffectiveHost, HostGuardLayer, OriginGuardLayer, SharedDomain};
//!
//! # fn main() -> Result<(), tower_domain_guard::DomainError> {
//! let domain: SharedDomain = ".example.com".parse()?;
//! let app: Router = Router::new()
//!     .route("/", get(|req: axum::extract::Request| async move {
//!         req.extensions().get::<EffectiveHost>().map(ToString::to_string).unwrap_or_default()
//!     }))
//!     .layer(
//!         ServiceBuilder::new()
//!             .layer(HostGuardLayer::new(domain.clone()).allow_host("127.0.0.1")?)
//!             .layer(OriginGuardLayer::new(domain)),
//!     );
//! # let _ = app; Ok(()) }
//! ```
//!
//! # Example server (tonic)
//!
//! ```no_run
//! use tower_domain_guard::HostGuardLayer;
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (_reporter, health) = tonic_health::server::health_reporter();
//! tonic::transport::Server::builder()
//!     .layer(HostGuardLayer::for_domain(".example.com")?)
//!     .add_service(health)
//!     .serve("127.0.0.1:50051".parse()?)
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # Example server (hyper)
//!
//! ```no_run
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::Full;
//! use hyper_util::rt::{TokioExecutor, TokioIo};
//! use hyper_util::server::conn::auto::Builder;
//! use hyper_util::service::TowerToHyperService;
//! use tower::{service_fn, ServiceBuilder};
//! use tower_domain_guard::HostGuardLayer;
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let svc = ServiceBuilder::new()
//!     .layer(HostGuardLayer::for_domain(".example.com")?)
//!     .service(service_fn(|_req: Request<hyper::body::Incoming>| async {
//!         Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from("hello"))))
//!     }));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! loop {
//!     let (stream, _peer) = listener.accept().await?;
//!     let svc = TowerToHyperService::new(svc.clone());
//!     tokio::spawn(async move {
//!         let _ = Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), svc).await;
//!     });
//! }
//! # }
//! ```
//!
//! # Feature flags
//!
//! * `axum`: [`EffectiveHost`] implements axum's `FromRequestParts`.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config_origin;
mod domain;
mod extensions;
#[doc(hidden)]
pub mod grpc;
mod host;
mod hostname;
mod origin;
mod response;

pub use config_origin::{Origin, OriginError};
pub use domain::{DomainError, SharedDomain};
pub use extensions::presized_extensions;
#[cfg(feature = "axum")]
pub use host::MissingEffectiveHost;
pub use host::{
    EffectiveHost, HostGuard, HostGuardLayer, HostRejection, HostRejectionKind, PeerAddr,
};
pub use hostname::HostSyntaxError;
pub use origin::{OriginGuard, OriginGuardLayer, OriginRejection, OriginRejectionKind};
pub use response::{GuardBody, ResponseFuture};
