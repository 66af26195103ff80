//! A JWKS fetched from a URL, for API servers that verify tokens with no secret and no store.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{header, Request, StatusCode, Uri};
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

use crate::keys::{parse_jwks, KeyError, VerifyingKey};
use crate::token::{KeyFuture, KeySource, VerifyError};

/// Default minimum time between two fetches triggered by unknown kids (as SuperTokens'
/// jose cache).
pub const DEFAULT_COOLDOWN: Duration = Duration::from_millis(500);
/// Default interval after which keys are refetched in the background.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(4 * 3600);
/// Default fetch timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default cap on the JWKS response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024;

const NEVER: u64 = u64::MAX;

/// Why a remote JWKS could not be configured or fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteJwksError {
    /// The URL is not an absolute `http://host[:port]/path` URL.
    #[error("invalid JWKS URL {0:?}: expected http://host[:port]/path (https is not supported)")]
    InvalidUrl(String),
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    /// The request failed (connection refused, reset, ...).
    #[error("JWKS request failed: {0}")]
    Request(String),
    /// The server answered with a non-200 status.
    #[error("JWKS endpoint answered {0}")]
    Status(u16),
    /// The response body exceeded the configured cap.
    #[error("JWKS response over {0} bytes")]
    TooLarge(usize),
    /// The fetch did not finish within the timeout.
    #[error("JWKS fetch timed out after {0:?}")]
    Timeout(Duration),
    /// The body is not a JWKS document.
    #[error("bad JWKS document: {0}")]
    Parse(KeyError),
}

/// Verification keys fetched from a JWKS URL (e.g. the auth server's
/// `http://api.example.com/auth/jwt/jwks.json`), cached, refetched on an unknown kid (at most
/// once per cool-down, default 500 ms) and in the background every refresh interval
/// (default 4 h). Responses are capped (default 64 KiB) and fetches time out (default 5 s).
/// If a fetch fails, the keys already known stay in use.
///
/// Use it as the [`KeySource`] of an [`AccessTokenVerifier`](crate::token::AccessTokenVerifier).
/// Clone is cheap (`Arc` inside). Needs a tokio runtime when fetching. Plain `http` only.
///
/// ```no_run
/// use tower_session_refresh::jwks::RemoteJwks;
/// use tower_session_refresh::token::AccessTokenVerifier;
/// # async fn demo(token: &str) -> Result<(), Box<dyn std::error::Error>> {
/// let jwks = RemoteJwks::builder("http://api.example.com:3001/auth/jwt/jwks.json")
///     .cooldown(std::time::Duration::from_millis(500))
///     .build()?;
/// jwks.refresh().await?; // optional warm-up; otherwise the first token triggers a fetch
/// let verifier = AccessTokenVerifier::new(jwks);
/// let claims = verifier.verify(token).await?;
/// println!("user {}", claims.sub);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RemoteJwks {
    inner: Arc<Inner>,
}

struct Inner {
    uri: Uri,
    client: Client<HttpConnector, Empty<Bytes>>,
    cooldown: Duration,
    refresh_interval: Duration,
    timeout: Duration,
    max_bytes: usize,
    keys: RwLock<Arc<Vec<VerifyingKey>>>,
    generation: AtomicU64,
    base: Instant,
    /// Milliseconds since `base`, or `NEVER`.
    last_attempt_ms: AtomicU64,
    last_success_ms: AtomicU64,
    last_failed: AtomicBool,
    last_error: Mutex<Option<RemoteJwksError>>,
    background: AtomicBool,
    fetch_lock: tokio::sync::Mutex<()>,
}

impl fmt::Debug for RemoteJwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteJwks")
            .field("uri", &self.inner.uri)
            .field("kids", &self.kids())
            .field("cooldown", &self.inner.cooldown)
            .field("refresh_interval", &self.inner.refresh_interval)
            .finish_non_exhaustive()
    }
}

/// Builder for [`RemoteJwks`].
#[derive(Debug)]
pub struct RemoteJwksBuilder {
    url: String,
    cooldown: Duration,
    refresh_interval: Duration,
    timeout: Duration,
    max_bytes: usize,
}

impl RemoteJwksBuilder {
    /// Minimum time between fetches caused by unknown kids (default 500 ms).
    pub fn cooldown(mut self, d: Duration) -> Self {
        self.cooldown = d;
        self
    }
    /// Age after which the keys are refetched in the background (default 4 h).
    pub fn refresh_interval(mut self, d: Duration) -> Self {
        self.refresh_interval = d;
        self
    }
    /// Fetch timeout, connect to last body byte (default 5 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }
    /// Cap on the response body (default 64 KiB).
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_bytes = n;
        self
    }

    /// Validates the configuration. Does not fetch.
    pub fn build(self) -> Result<RemoteJwks, RemoteJwksError> {
        let uri: Uri = self
            .url
            .parse()
            .map_err(|_| RemoteJwksError::InvalidUrl(self.url.clone()))?;
        if uri.scheme_str() != Some("http") || uri.authority().is_none() {
            return Err(RemoteJwksError::InvalidUrl(self.url));
        }
        if self.timeout.is_zero() || self.timeout > Duration::from_secs(120) {
            return Err(RemoteJwksError::Config("timeout must be in (0, 120 s]"));
        }
        if self.refresh_interval < Duration::from_secs(1) {
            return Err(RemoteJwksError::Config(
                "refresh interval must be at least 1 s",
            ));
        }
        if self.cooldown > self.refresh_interval {
            return Err(RemoteJwksError::Config(
                "cool-down must not exceed the refresh interval",
            ));
        }
        if !(64..=16 << 20).contains(&self.max_bytes) {
            return Err(RemoteJwksError::Config(
                "max response bytes must be between 64 B and 16 MiB",
            ));
        }
        let client = Client::builder(TokioExecutor::new()).build_http();
        Ok(RemoteJwks {
            inner: Arc::new(Inner {
                uri,
                client,
                cooldown: self.cooldown,
                refresh_interval: self.refresh_interval,
                timeout: self.timeout,
                max_bytes: self.max_bytes,
                keys: RwLock::new(Arc::new(Vec::new())),
                generation: AtomicU64::new(0),
                base: Instant::now(),
                last_attempt_ms: AtomicU64::new(NEVER),
                last_success_ms: AtomicU64::new(NEVER),
                last_failed: AtomicBool::new(false),
                last_error: Mutex::new(None),
                background: AtomicBool::new(false),
                fetch_lock: tokio::sync::Mutex::new(()),
            }),
        })
    }
}

impl RemoteJwks {
    /// A builder for the JWKS at `url` (`http://...`).
    pub fn builder(url: impl Into<String>) -> RemoteJwksBuilder {
        RemoteJwksBuilder {
            url: url.into(),
            cooldown: DEFAULT_COOLDOWN,
            refresh_interval: DEFAULT_REFRESH_INTERVAL,
            timeout: DEFAULT_TIMEOUT,
            max_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// The JWKS at `url` with the default settings.
    pub fn new(url: impl Into<String>) -> Result<Self, RemoteJwksError> {
        Self::builder(url).build()
    }

    /// Fetches the keys now (ignoring the cool-down), e.g. to warm up at start.
    pub async fn refresh(&self) -> Result<(), RemoteJwksError> {
        let _guard = self.inner.fetch_lock.lock().await;
        self.inner.fetch_and_store().await
    }

    /// The kids currently known.
    pub fn kids(&self) -> Vec<String> {
        self.inner
            .snapshot()
            .iter()
            .map(|k| k.kid().to_owned())
            .collect()
    }

    /// The error of the last fetch, if it failed.
    pub fn last_error(&self) -> Option<RemoteJwksError> {
        self.inner
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Inner {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_millis()).unwrap_or(NEVER - 1)
    }

    fn elapsed_since(&self, stamp: &AtomicU64) -> Option<Duration> {
        match stamp.load(Ordering::Acquire) {
            NEVER => None,
            ms => Some(Duration::from_millis(self.now_ms().saturating_sub(ms))),
        }
    }

    fn snapshot(&self) -> Arc<Vec<VerifyingKey>> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn lookup(&self, kid: &str) -> Option<VerifyingKey> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|k| k.kid() == kid)
            .cloned()
    }

    fn in_cooldown(&self) -> bool {
        self.elapsed_since(&self.last_attempt_ms)
            .is_some_and(|e| e < self.cooldown)
    }

    async fn fetch(&self) -> Result<Vec<VerifyingKey>, RemoteJwksError> {
        let req = Request::get(self.uri.clone())
            .header(header::ACCEPT, "application/json")
            .body(Empty::<Bytes>::new())
            .map_err(|e| RemoteJwksError::Request(e.to_string()))?;
        let max = self.max_bytes;
        let work = async {
            let res = self
                .client
                .request(req)
                .await
                .map_err(|e| RemoteJwksError::Request(e.to_string()))?;
            if res.status() != StatusCode::OK {
                return Err(RemoteJwksError::Status(res.status().as_u16()));
            }
            let declared = res
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|n| n > max as u64) {
                return Err(RemoteJwksError::TooLarge(max));
            }
            let body = Limited::new(res.into_body(), max)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        RemoteJwksError::TooLarge(max)
                    } else {
                        RemoteJwksError::Request(e.to_string())
                    }
                })?
                .to_bytes();
            let text = std::str::from_utf8(&body)
                .map_err(|_| RemoteJwksError::Parse(KeyError::Jwk("not UTF-8".into())))?;
            parse_jwks(text).map_err(RemoteJwksError::Parse)
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| RemoteJwksError::Timeout(self.timeout))?
    }

    /// Fetches and installs the keys. Call with `fetch_lock` held.
    async fn fetch_and_store(&self) -> Result<(), RemoteJwksError> {
        self.last_attempt_ms.store(self.now_ms(), Ordering::Release);
        match self.fetch().await {
            Ok(keys) => {
                let changed = {
                    let old = self.snapshot();
                    old.len() != keys.len()
                        || old.iter().zip(&keys).any(|(a, b)| {
                            a.kid() != b.kid() || a.to_public_jwk() != b.to_public_jwk()
                        })
                };
                if changed {
                    *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
                    self.generation.fetch_add(1, Ordering::AcqRel);
                }
                self.last_success_ms.store(self.now_ms(), Ordering::Release);
                self.last_failed.store(false, Ordering::Release);
                *self
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = None;
                Ok(())
            }
            Err(e) => {
                tracing::warn!(url = %self.uri, error = %e, "JWKS fetch failed; keeping the keys already known");
                self.last_failed.store(true, Ordering::Release);
                *self
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(e.clone());
                Err(e)
            }
        }
    }

    fn unavailable(&self) -> VerifyError {
        let msg = self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or_else(|| "JWKS fetch failed".to_owned(), ToString::to_string);
        VerifyError::KeysUnavailable(msg)
    }
}

impl RemoteJwks {
    /// Starts a background refetch when the keys are older than the refresh interval.
    fn maybe_refresh_in_background(&self) {
        let inner = &self.inner;
        let stale = inner
            .elapsed_since(&inner.last_success_ms)
            .is_some_and(|age| age >= inner.refresh_interval);
        if !stale || inner.in_cooldown() || inner.background.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            inner.background.store(false, Ordering::Release);
            return;
        };
        let inner = Arc::clone(inner);
        handle.spawn(async move {
            {
                let _guard = inner.fetch_lock.lock().await;
                if !inner.in_cooldown() {
                    let _ = inner.fetch_and_store().await;
                }
            }
            inner.background.store(false, Ordering::Release);
        });
    }
}

impl KeySource for RemoteJwks {
    fn key(&self, kid: &str) -> Option<VerifyingKey> {
        let key = self.inner.lookup(kid);
        self.maybe_refresh_in_background();
        key
    }

    fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Acquire)
    }

    fn fetch_key<'a>(&'a self, kid: &'a str) -> KeyFuture<'a> {
        Box::pin(async move {
            let inner = &*self.inner;
            if let Some(key) = inner.lookup(kid) {
                return Ok(Some(key));
            }
            let _guard = inner.fetch_lock.lock().await;
            // Another task may have fetched while this one waited.
            if let Some(key) = inner.lookup(kid) {
                return Ok(Some(key));
            }
            if inner.in_cooldown() {
                return if inner.last_failed.load(Ordering::Acquire) {
                    Err(inner.unavailable())
                } else {
                    Ok(None)
                };
            }
            match inner.fetch_and_store().await {
                Ok(()) => Ok(inner.lookup(kid)),
                Err(_) => Err(inner.unavailable()),
            }
        })
    }
}
