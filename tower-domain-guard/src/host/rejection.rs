//! Why a request was turned away by the host guard.

use std::fmt;

use crate::HostSyntaxError;

/// The reason a request was rejected by [`HostGuard`](crate::HostGuard).
///
/// It is put in the rejection response's extensions (also when the response was replaced
/// with [`HostGuardLayer::on_rejection`](crate::HostGuardLayer::on_rejection)), so outer
/// layers and tests can inspect it:
///
/// ```
/// # use tower_domain_guard::{HostRejection, HostRejectionKind};
/// # fn inspect<B>(res: &http::Response<B>) {
/// if let Some(rejection) = res.extensions().get::<HostRejection>() {
///     if rejection.kind() == HostRejectionKind::OutsideDomain { /* ... */ }
/// }
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostRejection {
    kind: HostRejectionKind,
    grpc: bool,
}

/// What was wrong with the request's host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HostRejectionKind {
    /// No `Host` header and no authority in the request target (400).
    MissingHost,
    /// More than one `Host` header line (400).
    DuplicateHost,
    /// A `Host` header that names another host than the request target's authority
    /// (`:authority` in HTTP/2 and HTTP/3, an absolute-form target in HTTP/1.x) (400).
    AuthorityMismatch,
    /// A request target whose scheme is neither `http` nor `https` (400).
    UnsupportedScheme,
    /// The host (from `Host`, the request target or a trusted forwarded header) is not a
    /// well-formed host (400).
    Malformed(HostSyntaxError),
    /// A trusted `Forwarded`/`X-Forwarded-Host` header with a malformed host (400).
    MalformedForwarded(HostSyntaxError),
    /// A well-formed host outside the shared domain and not an allowed extra host (421).
    OutsideDomain,
    /// A well-formed host with a port that is not in the allowed ports (421).
    PortNotAllowed,
}

impl HostRejection {
    pub(crate) fn new(kind: HostRejectionKind, grpc: bool) -> Self {
        Self { kind, grpc }
    }

    /// What was wrong.
    pub fn kind(&self) -> HostRejectionKind {
        self.kind
    }

    /// Whether the input was malformed (answered with 400 by default) rather than
    /// well-formed but not ours (421 by default).
    pub fn is_malformed(&self) -> bool {
        !matches!(
            self.kind,
            HostRejectionKind::OutsideDomain | HostRejectionKind::PortNotAllowed
        )
    }

    /// Whether the rejected request was a gRPC call (`content-type: application/grpc…`).
    pub fn is_grpc(&self) -> bool {
        self.grpc
    }
}

impl fmt::Display for HostRejectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingHost => f.write_str("missing Host header"),
            Self::DuplicateHost => f.write_str("more than one Host header"),
            Self::AuthorityMismatch => {
                f.write_str("Host header differs from the target's authority")
            }
            Self::UnsupportedScheme => f.write_str("request target scheme is not http or https"),
            Self::Malformed(e) => write!(f, "malformed host: {e}"),
            Self::MalformedForwarded(e) => write!(f, "malformed forwarded host: {e}"),
            Self::OutsideDomain => f.write_str("host outside the shared domain"),
            Self::PortNotAllowed => f.write_str("port not allowed"),
        }
    }
}

impl fmt::Display for HostRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}

impl std::error::Error for HostRejection {}
