//! The session state shared by every clone of the layer: tokens, cookie jar, stored copy.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use cookie_store::CookieStore;
use http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Method, Request};
use tower_session_cookie::TransferMethod;
use url::Url;

use super::body::ReplayableBody;
use super::config::ClientConfig;
use super::protocol::{
    now_ms, parse_front, Front, ANTI_CSRF, FDI_VERSION, FDI_VERSIONS, FRONT_TOKEN, RID, ST_ACCESS,
    ST_AUTH_MODE, ST_REFRESH,
};
use super::refresh::RefreshOutcome;
use super::store::{StoredSession, TokenStore};

pub(crate) struct Live {
    access: Option<String>,
    refresh: Option<String>,
    pub(crate) front: Option<Front>,
    anti_csrf: Option<String>,
    jar: CookieStore,
    /// Bumped whenever the session's tokens change (new front-token, removal, clear).
    gen: u64,
}

impl Live {
    fn from_stored(s: Option<StoredSession>) -> Self {
        let s = s.unwrap_or_default();
        let jar = s
            .cookies
            .as_deref()
            .and_then(|j| cookie_store::serde::json::load_all(j.as_bytes()).ok())
            .unwrap_or_default();
        Self {
            access: s.access_token,
            refresh: s.refresh_token,
            front: s.front_token.as_deref().and_then(parse_front),
            anti_csrf: s.anti_csrf,
            jar,
            gen: 0,
        }
    }

    fn snapshot(&self) -> Option<StoredSession> {
        let jar_empty = self.jar.iter_any().next().is_none();
        if self.access.is_none() && self.refresh.is_none() && self.front.is_none() && jar_empty {
            return None;
        }
        let cookies = (!jar_empty)
            .then(|| {
                let mut out = Vec::new();
                cookie_store::serde::json::save_incl_expired_and_nonpersistent(&self.jar, &mut out)
                    .ok()
                    .and_then(|()| String::from_utf8(out).ok())
            })
            .flatten();
        Some(StoredSession {
            access_token: self.access.clone(),
            refresh_token: self.refresh.clone(),
            front_token: self.front.as_ref().map(|f| f.raw.clone()),
            anti_csrf: self.anti_csrf.clone(),
            cookies,
        })
    }

    fn clear(&mut self) {
        self.access = None;
        self.refresh = None;
        self.front = None;
        self.anti_csrf = None;
        self.jar.clear();
        self.gen += 1;
    }
}

pub(crate) struct Shared {
    pub(crate) config: ClientConfig,
    store: Arc<dyn TokenStore>,
    live: Mutex<Live>,
    /// Held while a refresh runs; keeps the last outcome for the requests that waited.
    pub(crate) refresh_lock: tokio::sync::Mutex<Option<RefreshOutcome>>,
    /// Bumped when a refresh attempt finishes.
    pub(crate) epoch: AtomicU64,
    pub(crate) refreshes: AtomicU64,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .field("store", &self.store)
            .field("session_exists", &self.exists())
            .field("refreshes", &self.refreshes())
            .finish()
    }
}

impl Shared {
    pub(crate) fn new(config: ClientConfig, store: Arc<dyn TokenStore>) -> Self {
        let live = Live::from_stored(store.load());
        Self {
            config,
            store,
            live: Mutex::new(live),
            refresh_lock: tokio::sync::Mutex::new(None),
            epoch: AtomicU64::new(0),
            refreshes: AtomicU64::new(0),
        }
    }

    pub(crate) fn live(&self) -> MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn persist(&self, live: &Live) {
        match live.snapshot() {
            Some(s) => self.store.save(&s),
            None => self.store.clear(),
        }
    }

    pub(crate) fn exists(&self) -> bool {
        self.live().front.is_some()
    }

    pub(crate) fn gen(&self) -> u64 {
        self.live().gen
    }

    pub(crate) fn refreshes(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    pub(crate) fn clear(&self) {
        let mut live = self.live();
        live.clear();
        self.store.clear();
    }

    /// The URL of `req` if it is in scope (the session is attached), else `None`.
    pub(crate) fn target<B>(&self, req: &Request<B>) -> Option<Url> {
        let uri = req.uri();
        if uri
            .path_and_query()
            .is_some_and(|p| p.as_str().contains("superTokensDoNotDoInterception"))
        {
            return None;
        }
        let header_host = req
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok());
        let authority = match (uri.authority(), header_host) {
            (Some(a), _) => a.as_str().to_owned(),
            (None, Some(h)) => h.to_owned(),
            (None, None) => self.config.relative_host.clone()?,
        };
        if authority.contains('@') {
            return None;
        }
        let host = strip_port(&authority).to_ascii_lowercase();
        if !self.config.host_in_scope(&host) {
            return None;
        }
        let scheme = uri.scheme_str().unwrap_or(if host == self.config.api_host {
            self.config.scheme.as_str()
        } else {
            "http"
        });
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        Url::parse(&format!("{scheme}://{authority}{path}")).ok()
    }

    /// Whether a refresh may help: something to refresh with is known.
    pub(crate) fn can_refresh(&self) -> bool {
        let live = self.live();
        if live.front.is_some() || live.refresh.is_some() {
            return true;
        }
        let name = &self.config.refresh_cookie;
        refresh_url(&self.config).is_some_and(|url| {
            live.jar
                .matches(&url)
                .iter()
                .any(|c| c.name() == name.as_str())
        })
    }

    /// Whether the known access-token expiry has passed (with the skew and margin).
    pub(crate) fn needs_refresh_now(&self) -> bool {
        let live = self.live();
        let Some(front) = &live.front else {
            return false;
        };
        if front.ate_ms == 0 {
            return false;
        }
        let margin = i64::try_from(self.config.expiry_margin.as_millis()).unwrap_or(i64::MAX);
        let server_now = now_ms()
            .saturating_add(front.skew_ms)
            .saturating_add(margin);
        i64::try_from(front.ate_ms).unwrap_or(i64::MAX) <= server_now
    }

    pub(crate) fn expiry(&self) -> Option<SystemTime> {
        let live = self.live();
        let front = live.front.as_ref()?;
        // Translate the server-clock expiry to our clock.
        let ms = i64::try_from(front.ate_ms)
            .unwrap_or(i64::MAX)
            .saturating_sub(front.skew_ms);
        Some(UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
    }

    /// Adds the session to an in-scope request (SDK `doRequest`). Returns the token
    /// generation the request was sent with.
    pub(crate) fn decorate(&self, headers: &mut HeaderMap, url: &Url) -> u64 {
        let live = self.live();
        if !headers.contains_key(RID) {
            headers.insert(RID, HeaderValue::from_static("anti-csrf"));
        }
        if !headers.contains_key(ST_AUTH_MODE) {
            headers.insert(ST_AUTH_MODE, mode_value(self.config.method));
        }
        if live.front.is_some() {
            if let Some(v) = live.anti_csrf.as_deref().and_then(sensitive) {
                headers.insert(ANTI_CSRF, v);
            }
        }
        if !headers.contains_key(AUTHORIZATION) {
            if let Some(v) = live
                .access
                .as_deref()
                .and_then(|t| sensitive(&format!("Bearer {t}")))
            {
                headers.insert(AUTHORIZATION, v);
            }
        }
        add_cookies(&live.jar, headers, url);
        live.gen
    }

    /// Takes what an in-scope response says about the session (SDK
    /// `saveTokensFromHeaders`).
    pub(crate) fn absorb(&self, headers: &HeaderMap, url: &Url) {
        let mut live = self.live();
        let mut changed = false;
        for v in headers.get_all(SET_COOKIE) {
            if let Ok(s) = v.to_str() {
                if live.jar.parse(s, url).is_ok() {
                    changed = true;
                }
            }
        }
        if let Some(v) = headers.get(ST_REFRESH) {
            live.refresh = v.to_str().ok().filter(|s| !s.is_empty()).map(str::to_owned);
            changed = true;
        }
        if let Some(v) = headers.get(ST_ACCESS) {
            live.access = v.to_str().ok().filter(|s| !s.is_empty()).map(str::to_owned);
            changed = true;
        }
        if let Some(v) = headers.get(FRONT_TOKEN) {
            let v = v.to_str().unwrap_or("");
            if v == "remove" {
                live.clear();
            } else if let Some(front) = parse_front(v) {
                live.front = Some(front);
                live.gen += 1;
            }
            changed = true;
        }
        if let Some(v) = headers.get(ANTI_CSRF) {
            if live.front.is_some() {
                live.anti_csrf = v.to_str().ok().map(str::to_owned);
                changed = true;
            }
        }
        if changed {
            self.persist(&live);
        }
    }

    /// The refresh request (SDK `onUnauthorisedResponse`): `POST {api}{base}/session/refresh`,
    /// no body, `rid: session`, `fdi-version`, `st-auth-mode`, `anti-csrf`, and the refresh
    /// token as `Authorization: Bearer` (header mode) or in the cookie jar (cookie mode).
    pub(crate) fn refresh_request<B: ReplayableBody>(&self) -> Option<(Request<B>, Url)> {
        let url = refresh_url(&self.config)?;
        let mut req = Request::new(B::from_bytes(Bytes::new()));
        *req.method_mut() = Method::POST;
        *req.uri_mut() = self.config.refresh_uri();
        let live = self.live();
        let h = req.headers_mut();
        h.insert(RID, HeaderValue::from_static("session"));
        h.insert(FDI_VERSION, HeaderValue::from_static(FDI_VERSIONS));
        h.insert(ST_AUTH_MODE, mode_value(self.config.method));
        if let Some(v) = live.anti_csrf.as_deref().and_then(sensitive) {
            h.insert(ANTI_CSRF, v);
        }
        if let Some(v) = live
            .refresh
            .as_deref()
            .and_then(|t| sensitive(&format!("Bearer {t}")))
        {
            h.insert(AUTHORIZATION, v);
        }
        add_cookies(&live.jar, h, &url);
        Some((req, url))
    }
}

fn refresh_url(config: &ClientConfig) -> Option<Url> {
    Url::parse(&config.refresh_uri().to_string()).ok()
}

fn mode_value(m: TransferMethod) -> HeaderValue {
    match m {
        TransferMethod::Cookie => HeaderValue::from_static("cookie"),
        TransferMethod::Header => HeaderValue::from_static("header"),
    }
}

fn sensitive(s: &str) -> Option<HeaderValue> {
    let mut v = HeaderValue::from_str(s).ok()?;
    v.set_sensitive(true);
    Some(v)
}

fn add_cookies(jar: &CookieStore, headers: &mut HeaderMap, url: &Url) {
    let pairs: Vec<String> = jar
        .get_request_values(url)
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    if pairs.is_empty() {
        return;
    }
    let mut all: Vec<String> = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    all.extend(pairs);
    if let Some(v) = sensitive(&all.join("; ")) {
        headers.insert(COOKIE, v);
    }
}

/// `host[:port]` -> `host` (IPv6 literals keep their brackets).
fn strip_port(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority.find(']').map_or(authority, |i| &authority[..=i]);
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_stripped() {
        assert_eq!(strip_port("api.example.com:8080"), "api.example.com");
        assert_eq!(strip_port("api.example.com"), "api.example.com");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
    }
}
