//! Tower layers that turn away requests whose `Host` (or, for state-changing requests,
//! `Origin`) lies outside one shared parent domain.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod domain;
mod hostname;

pub use domain::{DomainError, SharedDomain};
pub use hostname::HostSyntaxError;
