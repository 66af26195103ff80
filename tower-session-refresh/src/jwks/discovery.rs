//! `GET {base}/.well-known/openid-configuration`: the OpenID discovery document that
//! supertokens-node's OpenID recipe serves, so verifiers can find the JWKS from the issuer.

use std::convert::Infallible;
use std::fmt;
use std::future::{ready, Ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Method, Request, Response};

use super::{JwksBody, JwksConfigError};
use crate::keys::{Algorithm, KeySet};

/// A tower `Service` answering `GET {apiBasePath}/.well-known/openid-configuration` (default
/// base `/auth`) with the discovery document of supertokens-node's OpenID recipe:
/// `issuer` = api domain + base path, `jwks_uri` = `{issuer}/jwt/jwks.json`,
/// `subject_types_supported`, `id_token_signing_alg_values_supported` (the algorithms of
/// the published keys) and `response_types_supported`. The OAuth2 endpoints that recipe also
/// lists are left out: nothing here serves them.
///
/// `Access-Control-Allow-Origin: *` as in supertokens-node (the document is public).
/// `HEAD` is answered too; other methods get 405, other paths 404.
///
/// ```
/// use tower::ServiceExt as _;
/// use tower_session_refresh::jwks::OpenIdDiscoveryService;
/// use tower_session_refresh::keys::{KeySet, SigningKey};
/// use http_body_util::BodyExt as _;
///
/// # tokio_test(async {
/// let keys = KeySet::new(SigningKey::generate_ed25519("k1")?);
/// let svc = OpenIdDiscoveryService::builder("https://api.example.com", keys).build()?;
/// assert_eq!(svc.path(), "/auth/.well-known/openid-configuration");
/// let res = svc.oneshot(http::Request::get(svc_path()).body(())?).await?;
/// let body = res.into_body().collect().await?.to_bytes();
/// let json: serde_json::Value = serde_json::from_slice(&body)?;
/// assert_eq!(json["issuer"], "https://api.example.com/auth");
/// assert_eq!(json["jwks_uri"], "https://api.example.com/auth/jwt/jwks.json");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # });
/// # fn svc_path() -> &'static str { "/auth/.well-known/openid-configuration" }
/// # fn tokio_test<F: std::future::Future<Output = Result<(), Box<dyn std::error::Error>>>>(f: F) {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f).unwrap()
/// # }
/// ```
#[derive(Clone)]
pub struct OpenIdDiscoveryService {
    keys: KeySet,
    path: Arc<str>,
    issuer: Arc<str>,
    jwks_uri: Arc<str>,
}

impl fmt::Debug for OpenIdDiscoveryService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenIdDiscoveryService")
            .field("path", &self.path)
            .field("issuer", &self.issuer)
            .field("jwks_uri", &self.jwks_uri)
            .finish_non_exhaustive()
    }
}

/// Builder for [`OpenIdDiscoveryService`].
#[derive(Debug)]
pub struct OpenIdDiscoveryServiceBuilder {
    api_domain: String,
    keys: KeySet,
    base_path: String,
}

impl OpenIdDiscoveryServiceBuilder {
    /// The API base path (default `/auth`), as given to the [`JwksService`](super::JwksService).
    pub fn api_base_path(mut self, base: impl Into<String>) -> Self {
        self.base_path = base.into();
        self
    }

    /// Validates the configuration.
    pub fn build(self) -> Result<OpenIdDiscoveryService, JwksConfigError> {
        // The workspace's one base-path normaliser ("auth", "/auth/" and "/auth" agree).
        let base = tower_session_cookie::normalise_api_base_path(&self.base_path)
            .map_err(|_| JwksConfigError::BasePath(self.base_path.clone()))?;
        // The workspace's one origin parser.
        let domain = tower_domain_guard::Origin::parse(&self.api_domain)
            .map_err(|_| JwksConfigError::ApiDomain(self.api_domain.clone()))?;
        let issuer = format!("{domain}{base}");
        Ok(OpenIdDiscoveryService {
            keys: self.keys,
            path: format!("{base}{}", super::remote_paths::DISCOVERY_PATH).into(),
            jwks_uri: format!("{issuer}/jwt/jwks.json").into(),
            issuer: issuer.into(),
        })
    }
}

impl OpenIdDiscoveryService {
    /// A builder: `api_domain` is the auth server's origin (`https://api.example.com`), the
    /// same as SuperTokens' `apiDomain`; `keys` are the keys the JWKS publishes.
    pub fn builder(api_domain: impl Into<String>, keys: KeySet) -> OpenIdDiscoveryServiceBuilder {
        OpenIdDiscoveryServiceBuilder {
            api_domain: api_domain.into(),
            keys,
            base_path: "/auth".to_owned(),
        }
    }

    /// The path this service answers.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The issuer it announces (api domain + base path).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    fn body(&self) -> Bytes {
        let mut algs: Vec<&'static str> = Vec::new();
        for kid in self.keys.kids() {
            if let Some(key) = self.keys.key(&kid) {
                let alg = key.algorithm();
                if alg != Algorithm::HS256 && !algs.contains(&alg.as_str()) {
                    algs.push(alg.as_str());
                }
            }
        }
        Bytes::from(
            serde_json::json!({
                "issuer": &*self.issuer,
                "jwks_uri": &*self.jwks_uri,
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": algs,
                "response_types_supported": ["code", "id_token", "id_token token"],
            })
            .to_string(),
        )
    }

    fn respond(&self, method: &Method, path: &str) -> Response<JwksBody> {
        super::static_json(method, path, &self.path, None, || self.body())
    }
}

impl<B> tower_service::Service<Request<B>> for OpenIdDiscoveryService {
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
