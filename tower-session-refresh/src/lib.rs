//! Access tokens verified without a store, rotating refresh tokens with theft detection,
//! and the SuperTokens-compatible refresh and sign-out endpoints, as tower services.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod jwks;
pub mod keys;
pub mod token;
