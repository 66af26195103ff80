//! [`SessionTokens`]: the per-request handle the layer puts in the request extensions.

use std::{
    fmt,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex, MutexGuard, PoisonError,
    },
    time::SystemTime,
};

use http::HeaderMap;

use crate::{
    config::SessionCookieConfig,
    front_token::FrontToken,
    http_date::ONE_YEAR,
    pending::{CookieWrite, HeaderWrite, Pending},
    received::{Received, ReceivedToken},
    request::read_request,
    response::write_changes,
    syntax::is_token_value,
    TransferMethod, TransferPolicy,
};

/// Which tokens [`SessionTokens::clear`] removes.
///
/// ```
/// use tower_session_cookie::{ClearScope, TransferMethod};
/// let _sign_out = ClearScope::Method(TransferMethod::Cookie);
/// let _theft = ClearScope::All;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClearScope {
    /// Only the tokens of one transfer method (sign-out clears the request's method).
    Method(TransferMethod),
    /// Cookies and headers alike (unauthorised refresh, token theft).
    All,
}

struct Shared {
    config: SessionCookieConfig,
    received: Received,
    /// Set once anything was recorded, so untouched responses skip the lock entirely.
    changed: AtomicBool,
    /// Boxed on the first write, so the handle of a request that writes nothing (most of
    /// them) stays small and is built without zeroing every pending slot.
    pending: Mutex<Option<Box<Pending>>>,
}

/// Per-request handle placed in the request extensions by
/// [`SessionCookieLayer`](crate::SessionCookieLayer). Cheap to clone (one `Arc`).
///
/// It answers what the request carried (read once, when the layer saw the request) and
/// records what the response should carry; the layer's response future writes the
/// recorded changes as `Set-Cookie` / `st-*` / `front-token` headers.
///
/// `Debug` never prints token values.
///
/// ```
/// use http::{header, HeaderMap, HeaderValue};
/// use tower_session_cookie::{SessionCookieConfig, SessionTokens, TransferMethod};
///
/// let config = SessionCookieConfig::builder()
///     .api_domain("https://api.example.com")
///     .website_domain("https://www.example.com")
///     .build()?;
/// let mut request_headers = HeaderMap::new();
/// request_headers.insert(header::COOKIE, HeaderValue::from_static("sAccessToken=abc.def.ghi"));
/// let tokens = SessionTokens::from_request_headers(&config, "/orders", &request_headers);
/// assert_eq!(tokens.access_token().map(|t| t.method), Some(TransferMethod::Cookie));
///
/// tokens.set_anti_csrf("csrf-token".into());
/// let mut response_headers = HeaderMap::new();
/// tokens.apply_to_response_headers(&mut response_headers);
/// assert_eq!(response_headers["anti-csrf"], "csrf-token");
/// assert_eq!(response_headers[header::CACHE_CONTROL], "no-store");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SessionTokens {
    shared: Arc<Shared>,
}

impl SessionTokens {
    /// Reads the tokens of a request the way the layer does. The layer calls this for you;
    /// it is public for services that are tested or driven without the layer.
    pub fn from_request_headers(
        config: &SessionCookieConfig,
        path: &str,
        headers: &HeaderMap,
    ) -> Self {
        let received = read_request(&config.inner, path, headers);
        SessionTokens {
            shared: Arc::new(Shared {
                config: config.clone(),
                received,
                changed: AtomicBool::new(false),
                pending: Mutex::new(None),
            }),
        }
    }

    /// The access token: `Authorization: Bearer` wins over the access cookie.
    pub fn access_token(&self) -> Option<&ReceivedToken> {
        self.shared.received.access_token.as_ref()
    }

    /// The access cookie of a request whose `Authorization: Bearer` took the
    /// [`access_token`](Self::access_token) slot (`None` otherwise, or without an access
    /// cookie). A session layer falls back to it when the bearer value is not one of its
    /// access tokens (`Bearer undefined`, another service's token), as supertokens-node
    /// ignores a bearer that does not have its access token's structure.
    pub fn shadowed_access_cookie(&self) -> Option<&ReceivedToken> {
        self.shared.received.shadowed_access_cookie.as_ref()
    }

    /// The refresh token. On the refresh route (`config().refresh_path()`) a bearer value
    /// is the refresh token (the SDK sends it that way) and wins over the refresh cookie.
    pub fn refresh_token(&self) -> Option<&ReceivedToken> {
        self.shared.received.refresh_token.as_ref()
    }

    /// More than one access cookie was sent (e.g. an old host-only and a new shared-domain one).
    pub fn has_duplicate_access_cookie(&self) -> bool {
        self.shared.received.duplicate_access_cookie
    }

    /// More than one refresh cookie was sent.
    pub fn has_duplicate_refresh_cookie(&self) -> bool {
        self.shared.received.duplicate_refresh_cookie
    }

    /// More than one `Authorization` header line was sent (and the transfer policy reads
    /// bearer tokens). Which one holds the session is ambiguous, as with duplicate cookies;
    /// the first one's bearer is still what [`access_token`](Self::access_token) reports.
    pub fn has_duplicate_authorization(&self) -> bool {
        self.shared.received.duplicate_authorization
    }

    /// Whether the request carried session tokens in `method`, usable or not: a session
    /// cookie of either name (as far as the cookies were read: not under
    /// [`TransferPolicy::Header`], not past the size limit), or an `Authorization: Bearer`
    /// line. The refresh service clears the other method's tokens by it (spec 7.3).
    ///
    /// ```
    /// use http::{header, HeaderMap, HeaderValue};
    /// use tower_session_cookie::{SessionCookieConfig, SessionTokens, TransferMethod};
    ///
    /// let config = SessionCookieConfig::builder()
    ///     .api_domain("https://api.example.com")
    ///     .website_domain("https://www.example.com")
    ///     .build()?;
    /// let mut headers = HeaderMap::new();
    /// headers.insert(header::COOKIE, HeaderValue::from_static("sRefreshToken=; prefs=1"));
    /// let tokens = SessionTokens::from_request_headers(&config, "/orders", &headers);
    /// assert!(tokens.carried(TransferMethod::Cookie)); // an empty value still counts
    /// assert!(!tokens.carried(TransferMethod::Header));
    /// headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
    /// let tokens = SessionTokens::from_request_headers(&config, "/orders", &headers);
    /// assert!(tokens.carried(TransferMethod::Header));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn carried(&self, method: TransferMethod) -> bool {
        match method {
            TransferMethod::Cookie => self.shared.received.cookie_sent,
            TransferMethod::Header => self.shared.received.bearer_sent,
        }
    }

    /// The `Cookie` headers were larger than
    /// [`max_cookie_header_bytes`](crate::SessionCookieConfigBuilder::max_cookie_header_bytes),
    /// so no cookie token was read. A refresh service may prefer not to clear cookies then.
    pub fn cookie_header_too_large(&self) -> bool {
        self.shared.received.cookie_header_too_large
    }

    /// The SDK's preference from `st-auth-mode`; absent or unknown values give `None`.
    pub fn requested_method(&self) -> Option<TransferMethod> {
        self.shared.received.requested_method
    }

    /// The method a new session should use: the requested one, else `Header`
    /// (SuperTokens' default), constrained by the transfer policy.
    ///
    /// ```
    /// # use http::{HeaderMap, HeaderValue};
    /// # use tower_session_cookie::{SessionCookieConfig, SessionTokens, TransferMethod};
    /// # let config = SessionCookieConfig::builder().api_domain("https://api.example.com")
    /// #     .website_domain("https://www.example.com").build()?;
    /// let tokens = SessionTokens::from_request_headers(&config, "/login", &HeaderMap::new());
    /// assert_eq!(tokens.method_for_new_session(), TransferMethod::Header);
    /// # Ok::<(), tower_session_cookie::ConfigError>(())
    /// ```
    pub fn method_for_new_session(&self) -> TransferMethod {
        match self.shared.config.transfer_policy() {
            TransferPolicy::Cookie => TransferMethod::Cookie,
            TransferPolicy::Header => TransferMethod::Header,
            TransferPolicy::Any => self.requested_method().unwrap_or(TransferMethod::Header),
        }
    }

    /// The layer's configuration.
    pub fn config(&self) -> &SessionCookieConfig {
        &self.shared.config
    }

    /// Sends a new access token: cookie `sAccessToken` (`Path=/`, `Expires` now + 1 year,
    /// as supertokens-node does; the JWT's own `exp` is what limits it) or header
    /// `st-access-token`.
    ///
    /// A token with characters outside the token alphabet (`;`, whitespace, control
    /// characters, …) is not recorded, so it can never inject cookie attributes.
    pub fn set_access_token(&self, method: TransferMethod, token: String) {
        if !valid_to_write(&token, "access token") {
            return;
        }
        self.record(|pending| match method {
            TransferMethod::Cookie => {
                pending.access_cookie = Some(CookieWrite::Set {
                    value: token,
                    expires: SystemTime::now() + ONE_YEAR,
                });
            }
            TransferMethod::Header => pending.access_header = Some(HeaderWrite::Set(token)),
        });
    }

    /// Sends a new refresh token: cookie `sRefreshToken` scoped to the refresh path and
    /// expiring with the token (`expires`), or header `st-refresh-token`.
    pub fn set_refresh_token(&self, method: TransferMethod, token: String, expires: SystemTime) {
        if !valid_to_write(&token, "refresh token") {
            return;
        }
        self.record(|pending| match method {
            TransferMethod::Cookie => {
                pending.refresh_cookie = Some(CookieWrite::Set {
                    value: token,
                    expires,
                });
            }
            TransferMethod::Header => pending.refresh_header = Some(HeaderWrite::Set(token)),
        });
    }

    /// Sends `front-token` (needed whenever a new access token is issued).
    pub fn set_front_token(&self, front: FrontToken) {
        self.record(|pending| pending.front_token = Some(HeaderWrite::Set(front.encode())));
    }

    /// Sends the `anti-csrf` header (anti-CSRF mode `VIA_TOKEN` only).
    pub fn set_anti_csrf(&self, token: String) {
        if !valid_to_write(&token, "anti-csrf token") {
            return;
        }
        self.record(|pending| pending.anti_csrf = Some(token));
    }

    /// Clears the session tokens of `scope` with exactly the attributes that set them,
    /// sends `front-token: remove`, and drops everything recorded before (pending sets,
    /// `anti-csrf`). Call it **before** recording new tokens in the same response.
    ///
    /// ```
    /// # use http::{header, HeaderMap};
    /// # use tower_session_cookie::{ClearScope, SessionCookieConfig, SessionTokens};
    /// # let config = SessionCookieConfig::builder().api_domain("https://api.example.com")
    /// #     .website_domain("https://www.example.com").build()?;
    /// let tokens = SessionTokens::from_request_headers(&config, "/auth/signout", &HeaderMap::new());
    /// tokens.clear(ClearScope::All);
    /// let mut headers = HeaderMap::new();
    /// tokens.apply_to_response_headers(&mut headers);
    /// assert_eq!(headers["front-token"], "remove");
    /// assert_eq!(headers["st-access-token"], "");
    /// assert_eq!(headers.get_all(header::SET_COOKIE).iter().count(), 2);
    /// # Ok::<(), tower_session_cookie::ConfigError>(())
    /// ```
    pub fn clear(&self, scope: ClearScope) {
        self.record(|pending| {
            let clear_older_domain = pending.clear_older_domain;
            let clear_legacy_id_refresh = pending.clear_legacy_id_refresh;
            let (cookies_cleared, headers_cleared) = (
                matches!(pending.access_cookie, Some(CookieWrite::Clear)),
                matches!(pending.access_header, Some(HeaderWrite::Clear)),
            );
            *pending = Pending {
                clear_older_domain,
                clear_legacy_id_refresh,
                ..Pending::default()
            };
            let clear_cookies = cookies_cleared
                || matches!(
                    scope,
                    ClearScope::All | ClearScope::Method(TransferMethod::Cookie)
                );
            let clear_headers = headers_cleared
                || matches!(
                    scope,
                    ClearScope::All | ClearScope::Method(TransferMethod::Header)
                );
            if clear_cookies {
                pending.access_cookie = Some(CookieWrite::Clear);
                pending.refresh_cookie = Some(CookieWrite::Clear);
            }
            if clear_headers {
                pending.access_header = Some(HeaderWrite::Clear);
                pending.refresh_header = Some(HeaderWrite::Clear);
            }
            pending.front_token = Some(HeaderWrite::Clear);
        });
    }

    /// Emits clearing cookies for both session cookies with the configured older domain
    /// (or without `Domain` when it was `""`), written before any new cookie in the same
    /// response. A no-op when no older domain is configured.
    pub fn clear_older_domain_cookies(&self) {
        if !self.shared.config.older_cookie_domain_configured() {
            tracing::debug!("clear_older_domain_cookies called without an older_cookie_domain");
            return;
        }
        self.record(|pending| pending.clear_older_domain = true);
    }

    /// The request carried the legacy `sIdRefreshToken` cookie of supertokens-node before
    /// CDI 2.18 (any value; not read under [`TransferPolicy::Header`] or past the cookie
    /// size limit). supertokens-node 24 answers such a session-protected request with
    /// try-refresh, and its refresh route clears the cookie
    /// ([`clear_legacy_id_refresh_cookie`](Self::clear_legacy_id_refresh_cookie)).
    ///
    /// ```
    /// # use http::{header, HeaderMap, HeaderValue};
    /// # use tower_session_cookie::{SessionCookieConfig, SessionTokens};
    /// # let config = SessionCookieConfig::builder().api_domain("https://api.example.com")
    /// #     .website_domain("https://www.example.com").build()?;
    /// let mut headers = HeaderMap::new();
    /// headers.insert(header::COOKIE, HeaderValue::from_static("sIdRefreshToken=asdf; a=1"));
    /// let tokens = SessionTokens::from_request_headers(&config, "/orders", &headers);
    /// assert!(tokens.has_legacy_id_refresh_cookie());
    /// tokens.clear_legacy_id_refresh_cookie();
    /// let mut response = HeaderMap::new();
    /// tokens.apply_to_response_headers(&mut response);
    /// assert!(response[header::SET_COOKIE].to_str()?.starts_with("sIdRefreshToken=; Path=/; Expires=Thu, 01 Jan 1970"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn has_legacy_id_refresh_cookie(&self) -> bool {
        self.shared.received.legacy_id_refresh_cookie
    }

    /// Expires the legacy `sIdRefreshToken` cookie with the access cookie's attributes
    /// (`Path=/`), as supertokens-node's refresh does. Survives [`clear`](Self::clear); does
    /// not touch the session tokens or `front-token`.
    pub fn clear_legacy_id_refresh_cookie(&self) {
        self.record(|pending| pending.clear_legacy_id_refresh = true);
    }

    /// Whether anything was recorded for the response.
    pub fn has_changes(&self) -> bool {
        self.shared.changed.load(Ordering::Acquire)
    }

    /// Writes the recorded changes into response headers (what the layer does for you).
    /// Calling it again writes nothing more: the changes are taken.
    pub fn apply_to_response_headers(&self, headers: &mut HeaderMap) {
        if !self.shared.changed.swap(false, Ordering::AcqRel) {
            return;
        }
        let pending = self.lock().take();
        if let Some(pending) = pending {
            write_changes(&self.shared.config.inner, *pending, headers);
        }
    }

    fn record(&self, change: impl FnOnce(&mut Pending)) {
        change(self.lock().get_or_insert_with(Box::default));
        self.shared.changed.store(true, Ordering::Release);
    }

    fn lock(&self) -> MutexGuard<'_, Option<Box<Pending>>> {
        // A panic while holding the lock leaves plain data behind; keep using it.
        self.shared
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn valid_to_write(token: &str, what: &'static str) -> bool {
    let valid = is_token_value(token.as_bytes());
    if !valid {
        tracing::debug!(
            what,
            len = token.len(),
            "refusing to write a token with invalid characters"
        );
    }
    valid
}

impl fmt::Debug for SessionTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let received = &self.shared.received;
        f.debug_struct("SessionTokens")
            .field("access_token", &received.access_token)
            .field("refresh_token", &received.refresh_token)
            .field("duplicate_access_cookie", &received.duplicate_access_cookie)
            .field(
                "duplicate_refresh_cookie",
                &received.duplicate_refresh_cookie,
            )
            .field("requested_method", &received.requested_method)
            .field("cookie_header_too_large", &received.cookie_header_too_large)
            .field("duplicate_authorization", &received.duplicate_authorization)
            .field("has_changes", &self.has_changes())
            .finish_non_exhaustive()
    }
}
