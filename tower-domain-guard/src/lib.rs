//! Tower layers that turn away requests whose `Host` (or, for state-changing requests,
//! `Origin`) lies outside one shared parent domain.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod domain;

pub use domain::{DomainError, SharedDomain};
