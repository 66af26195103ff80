//! What a response should carry: the changes recorded on the handle, written by the
//! layer's response future.

use std::time::SystemTime;

/// A pending cookie write.
#[derive(Debug)]
pub(crate) enum CookieWrite {
    Set { value: String, expires: SystemTime },
    Clear,
}

/// A pending `st-access-token` / `st-refresh-token` / `front-token` header write.
#[derive(Debug)]
pub(crate) enum HeaderWrite {
    Set(String),
    /// Empty value for the token headers, `remove` for `front-token`.
    Clear,
}

/// Changes recorded for the response.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    pub(crate) access_cookie: Option<CookieWrite>,
    pub(crate) refresh_cookie: Option<CookieWrite>,
    pub(crate) access_header: Option<HeaderWrite>,
    pub(crate) refresh_header: Option<HeaderWrite>,
    pub(crate) front_token: Option<HeaderWrite>,
    pub(crate) anti_csrf: Option<String>,
    pub(crate) clear_older_domain: bool,
    /// Expire the legacy `sIdRefreshToken` cookie.
    pub(crate) clear_legacy_id_refresh: bool,
}
