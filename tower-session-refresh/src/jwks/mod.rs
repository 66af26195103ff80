//! Publishing public keys as a JWKS ([`JwksService`]) with OpenID discovery
//! ([`OpenIdDiscoveryService`]), and fetching a remote JWKS over HTTPS for verify-only API
//! servers (`RemoteJwks`, feature `remote-jwks`).

mod discovery;
#[cfg(feature = "remote-jwks")]
mod remote;

pub use discovery::{OpenIdDiscoveryService, OpenIdDiscoveryServiceBuilder};

/// Paths shared by the services and the remote side.
mod remote_paths {
    /// The path of the OpenID discovery document under an issuer URL.
    pub(crate) const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
}

#[cfg(feature = "remote-jwks")]
#[cfg_attr(docsrs, doc(cfg(feature = "remote-jwks")))]
pub use remote::{
    RemoteJwks, RemoteJwksBuilder, RemoteJwksError, DEFAULT_COOLDOWN, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REFRESH_INTERVAL, DEFAULT_TIMEOUT,
};

use std::convert::Infallible;
use std::fmt;
use std::future::{ready, Ready};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};

use crate::keys::KeySet;

/// Default `Cache-Control: max-age` of the JWKS response.
pub const DEFAULT_JWKS_MAX_AGE: Duration = Duration::from_secs(60);

/// Why a [`JwksService`] configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwksConfigError {
    /// The API base path contains `?`, `#`, whitespace or another character a path
    /// cannot hold (`tower_session_cookie::normalise_api_base_path`).
    #[error(
        "invalid api base path {0:?}: it must contain no '?', '#', ';', ',', a backslash, a quote or whitespace"
    )]
    BasePath(String),
    /// The api domain must be an `http(s)://host[:port]` origin with no path.
    #[error("invalid api domain {0:?}: expected an origin such as https://api.example.com")]
    ApiDomain(String),
}

/// A tower `Service` answering `GET {apiBasePath}/jwt/jwks.json` (SuperTokens' path; default
/// base `/auth`) with the key set's public keys, `{"keys":[...]}`.
///
/// `content-type: application/json`, `cache-control: max-age=60, must-revalidate` (the
/// max-age is configurable), `access-control-allow-origin: *` (public keys, fetchable from
/// any origin, as SuperTokens' core serves them). `HEAD` is answered too; other methods get 405, other paths 404.
/// HS256 keys are never published. Rotations of the [`KeySet`] show up at once.
///
/// ```
/// use tower::ServiceExt as _;
/// use tower_session_refresh::jwks::JwksService;
/// use tower_session_refresh::keys::{KeySet, SigningKey};
/// use http_body_util::BodyExt as _;
///
/// # tokio_test(async {
/// let keys = KeySet::new(SigningKey::generate_ed25519("k1")?);
/// let svc = JwksService::new(keys);
/// let req = http::Request::get("/auth/jwt/jwks.json").body(())?;
/// let res = svc.oneshot(req).await?;
/// assert_eq!(res.status(), 200);
/// assert_eq!(res.headers()["cache-control"], "max-age=60, must-revalidate");
/// let body = res.into_body().collect().await?.to_bytes();
/// let json: serde_json::Value = serde_json::from_slice(&body)?;
/// assert_eq!(json["keys"][0]["kid"], "k1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # });
/// # fn tokio_test<F: std::future::Future<Output = Result<(), Box<dyn std::error::Error>>>>(f: F) {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f).unwrap()
/// # }
/// ```
///
/// With axum: `Router::new().route_service(svc.path(), svc.clone())`.
#[derive(Clone)]
pub struct JwksService {
    keys: KeySet,
    path: Arc<str>,
    cache_control: HeaderValue,
    rendered: Arc<Mutex<Option<(u64, Bytes)>>>,
}

impl fmt::Debug for JwksService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksService")
            .field("path", &self.path)
            .field("cache_control", &self.cache_control)
            .field("keys", &self.keys)
            .finish()
    }
}

/// Builder for [`JwksService`].
#[derive(Debug)]
pub struct JwksServiceBuilder {
    keys: KeySet,
    base_path: String,
    max_age: Duration,
}

impl JwksServiceBuilder {
    /// The API base path (default `/auth`); the service answers `{base}/jwt/jwks.json`.
    /// `""` or `"/"` means the root.
    pub fn api_base_path(mut self, base: impl Into<String>) -> Self {
        self.base_path = base.into();
        self
    }

    /// `Cache-Control: max-age` (default 60 s). Verifiers refetch anyway on an unknown kid.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Validates the configuration.
    pub fn build(self) -> Result<JwksService, JwksConfigError> {
        // The cookie configuration's normaliser: "auth" and "/auth" mean the same here too.
        let base = tower_session_cookie::normalise_api_base_path(&self.base_path)
            .map_err(|_| JwksConfigError::BasePath(self.base_path.clone()))?;
        let cache_control = HeaderValue::try_from(format!(
            "max-age={}, must-revalidate",
            self.max_age.as_secs()
        ))
        .map_err(|_| JwksConfigError::BasePath(self.base_path.clone()))?;
        Ok(JwksService {
            keys: self.keys,
            path: format!("{base}/jwt/jwks.json").into(),
            cache_control,
            rendered: Arc::new(Mutex::new(None)),
        })
    }
}

impl JwksService {
    /// Serves `keys` at `/auth/jwt/jwks.json` with the default max-age.
    pub fn new(keys: KeySet) -> Self {
        JwksService {
            keys,
            path: "/auth/jwt/jwks.json".into(),
            cache_control: HeaderValue::from_static("max-age=60, must-revalidate"),
            rendered: Arc::new(Mutex::new(None)),
        }
    }

    /// A builder, to set the base path or max-age.
    ///
    /// ```
    /// use tower_session_refresh::jwks::JwksService;
    /// use tower_session_refresh::keys::{KeySet, SigningKey};
    /// let svc = JwksService::builder(KeySet::new(SigningKey::generate_ed25519("k")?))
    ///     .api_base_path("/api/auth/")
    ///     .max_age(std::time::Duration::from_secs(300))
    ///     .build()?;
    /// assert_eq!(svc.path(), "/api/auth/jwt/jwks.json");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(keys: KeySet) -> JwksServiceBuilder {
        JwksServiceBuilder {
            keys,
            base_path: "/auth".to_owned(),
            max_age: DEFAULT_JWKS_MAX_AGE,
        }
    }

    /// The path this service answers.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn body(&self) -> Bytes {
        let generation = self.keys.generation();
        let mut guard = self.rendered.lock().unwrap_or_else(PoisonError::into_inner);
        match &*guard {
            Some((g, bytes)) if *g == generation => bytes.clone(),
            _ => {
                let bytes = Bytes::from(self.keys.jwks_json());
                *guard = Some((generation, bytes.clone()));
                bytes
            }
        }
    }

    fn respond(&self, method: &Method, path: &str) -> Response<JwksBody> {
        static_json(method, path, &self.path, Some(&self.cache_control), || {
            self.body()
        })
    }
}

/// The one responder of the public JSON documents (the JWKS, the OpenID discovery
/// document): `path` must be `expected` (else 404), `GET`/`HEAD` only (else 405 with
/// `Allow`), `application/json`, `access-control-allow-origin: *`, the optional
/// `cache-control`, a `content-length`, and the body for `GET` only.
pub(crate) fn static_json(
    method: &Method,
    path: &str,
    expected: &str,
    cache_control: Option<&HeaderValue>,
    body: impl FnOnce() -> Bytes,
) -> Response<JwksBody> {
    let mut res = Response::new(JwksBody::empty());
    if path != expected {
        *res.status_mut() = StatusCode::NOT_FOUND;
        return res;
    }
    if method != Method::GET && method != Method::HEAD {
        *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        res.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return res;
    }
    let body = body();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(cache_control) = cache_control {
        headers.insert(header::CACHE_CONTROL, cache_control.clone());
    }
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    if method == Method::GET {
        *res.body_mut() = JwksBody::new(body);
    }
    res
}

impl<B> tower_service::Service<Request<B>> for JwksService {
    type Response = Response<JwksBody>;
    type Error = Infallible;
    type Future = Ready<Result<Response<JwksBody>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        ready(Ok(self.respond(req.method(), req.uri().path())))
    }
}

/// The response body of [`JwksService`]: the whole JSON document in one frame.
#[derive(Debug, Default)]
pub struct JwksBody {
    data: Option<Bytes>,
}

impl JwksBody {
    fn new(data: Bytes) -> Self {
        Self { data: Some(data) }
    }
    fn empty() -> Self {
        Self { data: None }
    }
}

impl Body for JwksBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.get_mut().data.take().map(|d| Ok(Frame::data(d))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}
