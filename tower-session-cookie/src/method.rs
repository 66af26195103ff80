//! The transfer-method vocabulary: how a token travels, and which ways an API accepts.

/// How a token travels between the browser and the API.
///
/// ```
/// use tower_session_cookie::TransferMethod;
/// assert_ne!(TransferMethod::Cookie, TransferMethod::Header);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransferMethod {
    /// `sAccessToken` / `sRefreshToken` HttpOnly cookies.
    Cookie,
    /// `Authorization: Bearer` on requests, `st-access-token` / `st-refresh-token` on responses.
    Header,
}

/// Which transfer methods the API accepts (supertokens' `getTokenTransferMethod`).
///
/// Default: [`TransferPolicy::Any`].
///
/// ```
/// use tower_session_cookie::TransferPolicy;
/// assert_eq!(TransferPolicy::default(), TransferPolicy::Any);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TransferPolicy {
    /// Only cookies: the `Authorization` header is ignored and new sessions use cookies.
    Cookie,
    /// Only headers: `Cookie` headers are not even parsed and new sessions use headers.
    Header,
    /// Both; a bearer token wins over a cookie, new sessions follow `st-auth-mode`.
    #[default]
    Any,
}
