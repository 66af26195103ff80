//! Access tokens verified without a store, rotating refresh tokens with theft detection,
//! and the SuperTokens-compatible refresh and sign-out endpoints, as tower services.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod jwks;
pub mod keys;
pub mod session;
pub mod store;
pub mod token;

pub use jwks::JwksService;
#[cfg(feature = "remote-jwks")]
pub use jwks::RemoteJwks;
pub use keys::{Algorithm, KeyError, KeySet, SigningKey, VerifyingKey};
pub use session::{
    AntiCsrf, RefreshService, RequireSessionLayer, Session, SessionConfig, SessionError,
    SessionManager, SignOutService,
};
pub use token::{
    refresh_token_hash, AccessTokenClaims, AccessTokenVerifier, InvalidReason, KeySource,
    TokenError, VerifiedToken, VerifyError,
};
#[cfg(feature = "client")]
pub mod client;
