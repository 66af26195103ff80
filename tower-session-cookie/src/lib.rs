//! A tower layer that reads and writes SuperTokens-compatible session tokens.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use tower_domain_guard::{DomainError, SharedDomain};
