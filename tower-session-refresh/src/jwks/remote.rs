//! A JWKS fetched from a URL, for API servers that verify tokens with no secret and no store.
//!
//! The keys come over HTTPS (rustls on ring) with the system's trust store plus any CA the
//! user names: whoever can hand a verify-only server its keys can mint sessions on it, so
//! plain `http://` needs [`RemoteJwksBuilder::allow_insecure_http`].

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{header, Request, StatusCode, Uri};
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use rustls::RootCertStore;
use rustls_pki_types::{pem::PemObject as _, CertificateDer};
use tokio::sync::watch;

use crate::keys::{parse_jwks, KeyError, VerifyingKey};
use crate::token::{KeyFuture, KeySource, VerifyError};

/// Default minimum time between two fetches triggered by unknown kids (as SuperTokens'
/// jose cache).
pub const DEFAULT_COOLDOWN: Duration = Duration::from_millis(500);
/// Default interval after which keys are refetched in the background.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(4 * 3600);
/// Default fetch timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default cap on the JWKS (and discovery document) response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024;

use super::remote_paths::DISCOVERY_PATH;

const NEVER: u64 = u64::MAX;

/// Why a remote JWKS could not be configured or fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteJwksError {
    /// The URL is not an absolute `https://host[:port]/path` (or `http://`) URL.
    #[error("invalid JWKS URL {0:?}: expected https://host[:port]/path")]
    InvalidUrl(String),
    /// A plain `http://` URL without [`RemoteJwksBuilder::allow_insecure_http`].
    #[error(
        "refusing plain http:// JWKS URL {0:?}: anyone on the network path could hand this \
         server keys and mint sessions; use https://, or allow_insecure_http(true) for a \
         loopback test setup"
    )]
    InsecureUrl(String),
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    /// A CA certificate given with `ca_file` / `ca_pem` cannot be used.
    #[error("bad CA certificate: {0}")]
    Ca(String),
    /// The TLS handshake failed: untrusted issuer, wrong host name, expired certificate...
    #[error("TLS with the JWKS server failed: {0}")]
    Tls(String),
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
    /// The OpenID discovery document is unusable (not JSON, no `jwks_uri`, another issuer).
    #[error("bad OpenID discovery document: {0}")]
    Discovery(String),
}

/// Verification keys fetched from a JWKS URL (e.g. the auth server's
/// `https://api.example.com/auth/jwt/jwks.json`), cached, refetched on an unknown kid (at
/// most once per cool-down, default 500 ms) and in the background every refresh interval
/// (default 4 h).
///
/// * Transport: HTTPS with rustls; trust from the operating system's store (so CA updates
///   the operators roll out apply without a rebuild) plus any CA given with
///   [`ca_file`](RemoteJwksBuilder::ca_file) / [`ca_pem`](RemoteJwksBuilder::ca_pem).
///   Plain `http://` only with [`allow_insecure_http`](RemoteJwksBuilder::allow_insecure_http),
///   and a warning is logged.
/// * Bounds: responses are capped (default 64 KiB), fetches time out (default 5 s).
/// * One fetch at a time, off the request path: a token with an unknown kid waits for the
///   one shared fetch (started in its own task, so a cancelled request does not cancel it);
///   tokens with known kids never wait.
/// * If a fetch fails, the keys already known stay in use (logged once per outage).
///
/// Use it as the [`KeySource`] of an [`AccessTokenVerifier`](crate::token::AccessTokenVerifier).
/// Clone is cheap (`Arc` inside). Needs a tokio runtime when fetching.
///
/// ```no_run
/// use tower_session_refresh::jwks::RemoteJwks;
/// use tower_session_refresh::token::AccessTokenVerifier;
/// # async fn demo(token: &str) -> Result<(), Box<dyn std::error::Error>> {
/// let jwks = RemoteJwks::builder("https://api.example.com/auth/jwt/jwks.json")
///     .ca_file("/etc/ssl/private-ca.pem") // optional: one more trusted CA
///     .build()?;
/// jwks.refresh().await?; // optional warm-up; otherwise the first token triggers a fetch
/// // or, from the issuer's OpenID discovery document:
/// let jwks = RemoteJwks::discover("https://api.example.com/auth").await?;
/// let verifier = AccessTokenVerifier::new(jwks);
/// let claims = verifier.verify(token).await?;
/// println!("user {}", claims.sub);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RemoteJwks {
    inner: Arc<Inner>,
}

type HttpsClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// The HTTP(S) client and its bounds, shared by discovery and the JWKS fetches.
#[derive(Clone)]
struct Fetcher {
    client: HttpsClient,
    timeout: Duration,
    max_bytes: usize,
}

/// The result of one shared fetch, `None` while it runs.
type FetchResult = Option<Result<(), RemoteJwksError>>;

struct Inner {
    uri: Uri,
    fetcher: Fetcher,
    cooldown: Duration,
    refresh_interval: Duration,
    keys: RwLock<Arc<Vec<VerifyingKey>>>,
    generation: AtomicU64,
    base: Instant,
    /// Milliseconds since `base`, or `NEVER`.
    last_attempt_ms: AtomicU64,
    last_success_ms: AtomicU64,
    /// The last fetch failed (an outage is under way; logged when it starts and ends).
    last_failed: AtomicBool,
    last_error: Mutex<Option<RemoteJwksError>>,
    /// The fetch under way, if any: every caller that needs keys waits on this one.
    inflight: Mutex<Option<watch::Receiver<FetchResult>>>,
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

#[derive(Debug, Clone)]
enum CaSource {
    File(PathBuf),
    Pem(Vec<u8>),
}

/// Builder for [`RemoteJwks`].
#[derive(Debug)]
pub struct RemoteJwksBuilder {
    url: String,
    cooldown: Duration,
    refresh_interval: Duration,
    timeout: Duration,
    max_bytes: usize,
    allow_insecure_http: bool,
    system_roots: bool,
    cas: Vec<CaSource>,
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
    /// Accept plain `http://` URLs (default: refused with
    /// [`RemoteJwksError::InsecureUrl`]). Anyone on the network path can then hand this
    /// server keys and mint sessions: for loopback tests and demos only. A warning is
    /// logged once when the `RemoteJwks` is built.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }
    /// Trust the operating system's root certificates (default `true`), read once at
    /// [`build`](Self::build).
    pub fn system_roots(mut self, on: bool) -> Self {
        self.system_roots = on;
        self
    }
    /// One more trusted CA: a PEM file with one or more certificates, read at
    /// [`build`](Self::build). May be given several times.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.cas.push(CaSource::File(path.into()));
        self
    }
    /// One more trusted CA from PEM text (one or more certificates).
    pub fn ca_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.cas.push(CaSource::Pem(pem.as_ref().to_vec()));
        self
    }

    /// Validates the configuration and loads the trusted roots. Does not fetch.
    pub fn build(self) -> Result<RemoteJwks, RemoteJwksError> {
        let uri = self.check_url(&self.url)?;
        let fetcher = self.fetcher(uri.scheme_str() == Some("https"))?;
        Ok(self.finish(uri, fetcher, None))
    }

    /// Treats the URL as an OpenID issuer (e.g. `https://api.example.com/auth`, SuperTokens'
    /// api domain + base path): fetches `{issuer}/.well-known/openid-configuration`, checks
    /// that it names the same `issuer`, and uses its `jwks_uri` (under the same scheme
    /// rules). The discovery fetch uses this builder's trust, limits and timeout.
    pub async fn discover(self) -> Result<RemoteJwks, RemoteJwksError> {
        let (issuer, doc_url) = match self.url.trim_end_matches('/') {
            u if u.ends_with(DISCOVERY_PATH) => {
                (u[..u.len() - DISCOVERY_PATH.len()].to_owned(), u.to_owned())
            }
            u => (u.to_owned(), format!("{u}{DISCOVERY_PATH}")),
        };
        let doc_uri = self.check_url(&doc_url)?;
        // An https issuer needs roots now; an https jwks_uri of a plain-http issuer (an
        // allowed loopback setup) without any root fails at its first fetch, as a TLS error.
        let fetcher = self.fetcher(doc_uri.scheme_str() == Some("https"))?;
        let body = fetcher.get(&doc_uri).await?;
        #[derive(serde::Deserialize)]
        struct Doc {
            issuer: Option<String>,
            jwks_uri: Option<String>,
        }
        let doc: Doc = serde_json::from_slice(&body)
            .map_err(|e| RemoteJwksError::Discovery(format!("not a JSON object: {e}")))?;
        match doc.issuer.as_deref().map(|i| i.trim_end_matches('/')) {
            Some(i) if i == issuer => {}
            Some(other) => {
                return Err(RemoteJwksError::Discovery(format!(
                    "issuer {other:?} is not the one asked for, {issuer:?}"
                )))
            }
            None => return Err(RemoteJwksError::Discovery("no \"issuer\"".into())),
        }
        let jwks_url = doc
            .jwks_uri
            .ok_or_else(|| RemoteJwksError::Discovery("no \"jwks_uri\"".into()))?;
        let uri = self.check_url(&jwks_url)?;
        let via = (doc_uri.scheme_str() == Some("http")).then_some(doc_uri);
        Ok(self.finish(uri, fetcher, via))
    }

    /// [`build`](Self::build) when the URL names a JWKS document (its path ends in
    /// `.json`), else [`discover`](Self::discover): for configuration that accepts either.
    pub async fn build_or_discover(self) -> Result<RemoteJwks, RemoteJwksError> {
        let is_document = self
            .url
            .parse::<Uri>()
            .is_ok_and(|u| u.path().ends_with(".json"));
        if is_document {
            self.build()
        } else {
            self.discover().await
        }
    }

    fn check_url(&self, url: &str) -> Result<Uri, RemoteJwksError> {
        let uri: Uri = url
            .parse()
            .map_err(|_| RemoteJwksError::InvalidUrl(url.to_owned()))?;
        if uri.authority().is_none() {
            return Err(RemoteJwksError::InvalidUrl(url.to_owned()));
        }
        match uri.scheme_str() {
            Some("https") => Ok(uri),
            Some("http") if self.allow_insecure_http => Ok(uri),
            Some("http") => Err(RemoteJwksError::InsecureUrl(url.to_owned())),
            _ => Err(RemoteJwksError::InvalidUrl(url.to_owned())),
        }
    }

    fn fetcher(&self, https: bool) -> Result<Fetcher, RemoteJwksError> {
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
        let roots = self.roots()?;
        if https && roots.is_empty() {
            return Err(RemoteJwksError::Config(
                "no trusted root certificate: the system store is empty or turned off, and no CA was given",
            ));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| RemoteJwksError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http() // http:// got past check_url only when explicitly allowed
            .enable_http1()
            .build();
        Ok(Fetcher {
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout: self.timeout,
            max_bytes: self.max_bytes,
        })
    }

    fn roots(&self) -> Result<RootCertStore, RemoteJwksError> {
        let mut roots = RootCertStore::empty();
        if self.system_roots {
            let found = rustls_native_certs::load_native_certs();
            if !found.errors.is_empty() {
                tracing::debug!(errors = ?found.errors, "some system root certificates could not be read");
            }
            let (added, ignored) = roots.add_parsable_certificates(found.certs);
            tracing::debug!(added, ignored, "system root certificates loaded");
        }
        for ca in &self.cas {
            let (what, certs): (String, Vec<CertificateDer<'static>>) = match ca {
                CaSource::File(path) => (
                    path.display().to_string(),
                    CertificateDer::pem_file_iter(path)
                        .and_then(Iterator::collect)
                        .map_err(|e| RemoteJwksError::Ca(format!("{}: {e}", path.display())))?,
                ),
                CaSource::Pem(pem) => (
                    "PEM text".to_owned(),
                    CertificateDer::pem_slice_iter(pem)
                        .collect::<Result<_, _>>()
                        .map_err(|e| RemoteJwksError::Ca(format!("PEM text: {e}")))?,
                ),
            };
            if certs.is_empty() {
                return Err(RemoteJwksError::Ca(format!("{what}: no CERTIFICATE block")));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| RemoteJwksError::Ca(format!("{what}: {e}")))?;
            }
        }
        Ok(roots)
    }

    fn finish(self, uri: Uri, fetcher: Fetcher, insecure_discovery: Option<Uri>) -> RemoteJwks {
        const RISK: &str = "JWKS over plain http:// (allow_insecure_http): anyone on the network path can hand this server keys and mint sessions; use https:// outside loopback tests";
        match insecure_discovery {
            Some(doc) => tracing::warn!(url = %uri, discovery = %doc, "{RISK}"),
            None if uri.scheme_str() == Some("http") => tracing::warn!(url = %uri, "{RISK}"),
            None => {}
        }
        RemoteJwks {
            inner: Arc::new(Inner {
                uri,
                fetcher,
                cooldown: self.cooldown,
                refresh_interval: self.refresh_interval,
                keys: RwLock::new(Arc::new(Vec::new())),
                generation: AtomicU64::new(0),
                base: Instant::now(),
                last_attempt_ms: AtomicU64::new(NEVER),
                last_success_ms: AtomicU64::new(NEVER),
                last_failed: AtomicBool::new(false),
                last_error: Mutex::new(None),
                inflight: Mutex::new(None),
            }),
        }
    }
}

impl RemoteJwks {
    /// A builder for the JWKS at `url` (`https://...`; `http://` with
    /// [`allow_insecure_http`](RemoteJwksBuilder::allow_insecure_http)), or for the issuer
    /// `url` with [`discover`](RemoteJwksBuilder::discover).
    pub fn builder(url: impl Into<String>) -> RemoteJwksBuilder {
        RemoteJwksBuilder {
            url: url.into(),
            cooldown: DEFAULT_COOLDOWN,
            refresh_interval: DEFAULT_REFRESH_INTERVAL,
            timeout: DEFAULT_TIMEOUT,
            max_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            allow_insecure_http: false,
            system_roots: true,
            cas: Vec::new(),
        }
    }

    /// The JWKS at the `https://` `url` with the default settings.
    pub fn new(url: impl Into<String>) -> Result<Self, RemoteJwksError> {
        Self::builder(url).build()
    }

    /// The JWKS named by the OpenID discovery document of the `https://` issuer
    /// (`{issuer}/.well-known/openid-configuration`), with the default settings.
    pub async fn discover(issuer: impl Into<String>) -> Result<Self, RemoteJwksError> {
        Self::builder(issuer).discover().await
    }

    /// The JWKS URL the keys are fetched from.
    pub fn jwks_url(&self) -> String {
        self.inner.uri.to_string()
    }

    /// Fetches the keys now (ignoring the cool-down), e.g. to warm up at start. A fetch
    /// already under way is waited for first, then a new one is made.
    pub async fn refresh(&self) -> Result<(), RemoteJwksError> {
        loop {
            match self.inner.join_fetch(true) {
                Joined::Fetch(rx, mine) => {
                    let result = wait(rx).await;
                    if mine {
                        return result;
                    }
                }
                Joined::Cooldown => unreachable_cooldown()?,
            }
        }
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

/// `join_fetch(true)` never answers `Cooldown`; kept as an error rather than a panic.
fn unreachable_cooldown() -> Result<(), RemoteJwksError> {
    Err(RemoteJwksError::Request(
        "fetch refused by the cool-down".into(),
    ))
}

enum Joined {
    /// Wait on this fetch; `true` when this call started it.
    Fetch(watch::Receiver<FetchResult>, bool),
    /// No fetch under way, and the cool-down forbids one.
    Cooldown,
}

async fn wait(mut rx: watch::Receiver<FetchResult>) -> Result<(), RemoteJwksError> {
    match rx.wait_for(Option::is_some).await {
        Ok(done) => done.clone().unwrap_or(Ok(())),
        // The task ended without an answer (runtime shutting down).
        Err(_) => Err(RemoteJwksError::Request(
            "the fetch task ended without an answer (no tokio runtime?)".into(),
        )),
    }
}

impl Fetcher {
    async fn get(&self, uri: &Uri) -> Result<Bytes, RemoteJwksError> {
        let req = Request::get(uri.clone())
            .header(header::ACCEPT, "application/json")
            .body(Empty::<Bytes>::new())
            .map_err(|e| RemoteJwksError::Request(e.to_string()))?;
        let max = self.max_bytes;
        let work = async {
            let res = self.client.request(req).await.map_err(|e| classify(&e))?;
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
                        classify(&*e)
                    }
                })?
                .to_bytes();
            Ok(body)
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| RemoteJwksError::Timeout(self.timeout))?
    }
}

/// A TLS failure (named by rustls: "invalid peer certificate: UnknownIssuer", ...) or
/// another request error, with its whole chain of causes.
fn classify(err: &(dyn std::error::Error + 'static)) -> RemoteJwksError {
    let mut chain = Vec::new();
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return RemoteJwksError::Tls(tls.to_string());
        }
        chain.push(e.to_string());
        // io::Error::source skips the error it wraps (hyper-rustls nests two): look inside.
        cur = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    chain.dedup();
    RemoteJwksError::Request(chain.join(": "))
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

    /// Joins the fetch under way, or starts one in its own task (unless `force` is false
    /// and the cool-down forbids it).
    fn join_fetch(self: &Arc<Self>, force: bool) -> Joined {
        let mut inflight = self.inflight.lock().unwrap_or_else(PoisonError::into_inner);
        // (A sender gone without clearing this means the task died: start anew.)
        if let Some(rx) = inflight.as_ref().filter(|rx| rx.has_changed().is_ok()) {
            return Joined::Fetch(rx.clone(), false);
        }
        if !force && self.in_cooldown() {
            return Joined::Cooldown;
        }
        let (tx, rx) = watch::channel(None);
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            // No runtime to fetch on: `tx` is dropped, so the wait ends at once with an error.
            return Joined::Fetch(rx, true);
        };
        self.last_attempt_ms.store(self.now_ms(), Ordering::Release);
        *inflight = Some(rx.clone());
        drop(inflight);
        let inner = Arc::clone(self);
        drop(handle.spawn(async move {
            let result = inner.fetch_and_store().await;
            // Cleared before the answer is sent: a caller that finds no fetch under way
            // also finds the keys this one stored.
            *inner
                .inflight
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = None;
            let _ = tx.send(Some(result));
        }));
        Joined::Fetch(rx, true)
    }

    async fn fetch(&self) -> Result<Vec<VerifyingKey>, RemoteJwksError> {
        let body = self.fetcher.get(&self.uri).await?;
        let text = std::str::from_utf8(&body)
            .map_err(|_| RemoteJwksError::Parse(KeyError::Jwk("not UTF-8".into())))?;
        let keys = parse_jwks(text).map_err(RemoteJwksError::Parse)?;
        // An empty set would wipe the keys every live token needs: a broken auth server
        // must not log everyone out, so it counts as a failed fetch.
        if keys.is_empty() {
            return Err(RemoteJwksError::Parse(KeyError::Jwk(
                "no usable public key in the JWKS".into(),
            )));
        }
        Ok(keys)
    }

    /// Fetches and installs the keys; on failure the keys already known stay.
    async fn fetch_and_store(&self) -> Result<(), RemoteJwksError> {
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
                if self.last_failed.swap(false, Ordering::AcqRel) {
                    tracing::info!(url = %self.uri, "JWKS fetch works again");
                }
                *self
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = None;
                Ok(())
            }
            Err(e) => {
                // Once per outage: a down auth server must not flood the log.
                if !self.last_failed.swap(true, Ordering::AcqRel) {
                    tracing::warn!(
                        url = %self.uri,
                        error = %e,
                        known_keys = self.snapshot().len(),
                        "JWKS fetch failed; verifying with the keys already known until it works again"
                    );
                } else {
                    tracing::debug!(url = %self.uri, error = %e, "JWKS fetch failed again");
                }
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
        if stale && !inner.in_cooldown() && tokio::runtime::Handle::try_current().is_ok() {
            // Nobody waits on it; the keys already known serve meanwhile.
            let _ = inner.join_fetch(false);
        }
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
            let inner = &self.inner;
            if let Some(key) = inner.lookup(kid) {
                return Ok(Some(key));
            }
            match inner.join_fetch(false) {
                Joined::Fetch(rx, _) => {
                    let result = wait(rx).await;
                    match (inner.lookup(kid), result) {
                        (Some(key), _) => Ok(Some(key)),
                        (None, Ok(())) => Ok(None),
                        (None, Err(_)) => Err(inner.unavailable()),
                    }
                }
                // Within the cool-down: a fetch that ended meanwhile may have brought it.
                Joined::Cooldown => match inner.lookup(kid) {
                    Some(key) => Ok(Some(key)),
                    None if inner.last_failed.load(Ordering::Acquire) => Err(inner.unavailable()),
                    None => Ok(None),
                },
            }
        })
    }
}
