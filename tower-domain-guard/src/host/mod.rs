//! The host guard: [`HostGuardLayer`], its [`HostGuard`] service, the decision it makes
//! and the [`EffectiveHost`] it hands on (see [`HostGuardLayer`] for the rules).

mod decide;
mod effective_host;
mod layer;
mod rejection;
mod service;

pub use self::effective_host::EffectiveHost;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use self::effective_host::MissingEffectiveHost;
pub use self::layer::{HostGuardLayer, PeerAddr};
pub use self::rejection::{HostRejection, HostRejectionKind};
pub use self::service::HostGuard;
