//! [`RefreshService`]: `POST {apiBasePath}/session/refresh`.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use serde_json::Map;
use subtle::ConstantTimeEq;
use tower_service::Service;
use tower_session_cookie::{ClearScope, SessionTokens, TransferMethod};

use super::body::JsonBody;
use super::config::{AntiCsrf, SessionConfig, SessionConfigError};
use super::error::{is_grpc, json_response, Rejection};
use super::hooks::RefreshInfo;
use super::issue;
use super::store::{Presented, RotateOutcome, SessionStore};
use super::verify::BoxFuture;
use crate::keys::KeySet;
use crate::token::{refresh_token_hash, AccessTokenClaims};

/// The tower service for `POST {apiBasePath}/session/refresh` (mount it at
/// [`SessionConfig::refresh_path`]; the `SessionCookieLayer` must run outside it).
///
/// It reads the refresh token from the request's
/// [`SessionTokens`] handle (`Authorization: Bearer` wins over the `sRefreshToken`
/// cookie), rotates it in the store in one atomic operation, and answers (spec 7.4, 11):
///
/// | outcome | status, body | tokens |
/// |---|---|---|
/// | rotated | 200 `{}` | new access + refresh token in the request's transfer method, **always** a `front-token` (and `anti-csrf` in `ViaToken` mode); tokens sent in the other method are cleared |
/// | no refresh token | 401 `{"message":"unauthorised"}` | cleared, `front-token: remove` (a fresh browser's first call settles, spec 4.2) |
/// | `ViaCustomHeader` and a cookie refresh without `rid`; `ViaToken` and a wrong `anti-csrf` | 401 `unauthorised` | cleared |
/// | unknown, expired or revoked session, malformed token | 401 `unauthorised` | cleared |
/// | token theft (an earlier token of the session came back, however many rotations ago; the store revoked the session) | 401 `{"message":"token theft detected"}` | cleared in every transfer method |
/// | store error | 503 `{"message":"session store unavailable"}` | **nothing** cleared, no `front-token` |
///
/// Requests refused **without signing anyone out** (not 401, so `supertokens-website` keeps
/// its session and hands the error to the calling code once; nothing cleared but what is
/// named; no `front-token`):
///
/// | situation | status, body |
/// |---|---|
/// | two `sRefreshToken` cookies (spec 2.2: a cookie-domain change, or one planted by a sibling subdomain) | 400 `{"message":"duplicate refresh token cookies"}`; with an `older_cookie_domain` its cookies are cleared (as supertokens-node does), so the next refresh finds one cookie |
/// | two `sAccessToken` cookies, no `older_cookie_domain` | 400 `{"message":"duplicate session cookies"}` |
/// | two `Authorization` headers; in `ViaToken` mode two `anti-csrf` headers | 400 `{"message":"more than one Authorization header"}` / `"more than one anti-csrf header"` |
/// | `Cookie` headers over `max_cookie_header_bytes` and no header token | 431 `{"message":"Cookie header too large: session cookies not read"}`, and a warning (a "cookie bomb" set by another subdomain is the usual cause) |
///
/// Which of two refresh cookies is current is unknowable, and guessing is unsafe: the first
/// one may belong to the attacker's session (login CSRF), and a rotated-away one would be
/// taken for theft. supertokens-node refuses too (200 without tokens, or 500 without an
/// older domain). Two **access** cookies with an `older_cookie_domain` do not make the
/// refresh ambiguous: the old-domain cookies are cleared **and** the refresh completes in
/// the same response, `front-token` included (supertokens-node answers without a
/// `front-token`, which `supertokens-website` 20.1.6 treats as fatal). Every duplicate
/// without an older domain also logs a warning that names the fix (`older_cookie_domain`).
///
/// A request that also carries the legacy `sIdRefreshToken` cookie (a session of an SDK
/// before CDI 2.18; session-protected routes answer it with try-refresh) gets that cookie
/// expired (`Path=/`) whenever it succeeds or clears the session tokens, as
/// supertokens-node 24 does.
///
/// Methods other than `POST` get 405. gRPC requests are refused with `grpc-status: 12`.
///
/// ```
/// use axum::Router;
/// use tower_session_cookie::{SessionCookieConfig, SessionCookieLayer};
/// use tower_session_refresh::keys::{KeySet, SigningKey};
/// use tower_session_refresh::session::{RefreshService, SessionConfig};
/// use tower_session_refresh::store::MemoryStore;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let cookies = SessionCookieConfig::builder()
///     .api_domain("https://api.example.com")
///     .website_domain("https://www.example.com")
///     .build()?;
/// let config = SessionConfig::builder(cookies.clone())
///     .keys(KeySet::new(SigningKey::generate_ed25519("k1")?))
///     .store(MemoryStore::new())
///     .build()?;
/// let app: Router = Router::new()
///     .route_service(config.refresh_path(), RefreshService::new(config.clone())?)
///     .layer(SessionCookieLayer::new(cookies));
/// # drop(app);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RefreshService {
    shared: Arc<RefreshShared>,
}

struct RefreshShared {
    config: SessionConfig,
    keys: KeySet,
    store: Arc<dyn SessionStore>,
}

impl fmt::Debug for RefreshService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshService")
            .field("path", &self.shared.config.refresh_path())
            .finish_non_exhaustive()
    }
}

impl RefreshService {
    /// The refresh service of an auth server (the configuration needs keys and a store).
    pub fn new(config: SessionConfig) -> Result<Self, SessionConfigError> {
        let (keys, store) = config.issuing("RefreshService")?;
        Ok(Self {
            shared: Arc::new(RefreshShared {
                config,
                keys,
                store,
            }),
        })
    }

    /// Where to mount it: `{apiBasePath}/session/refresh`.
    pub fn path(&self) -> &str {
        self.shared.config.refresh_path()
    }
}

impl<B> Service<Request<B>> for RefreshService
where
    B: Send + 'static,
{
    type Response = Response<JsonBody>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response<JsonBody>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let shared = self.shared.clone();
        let (parts, _body) = request.into_parts();
        Box::pin(async move {
            let tokens = parts.extensions.get::<SessionTokens>();
            let grpc = is_grpc(&parts.headers);
            if parts.method != Method::POST || grpc {
                return Ok(not_allowed(grpc));
            }
            let result = shared.refresh(&parts.headers, tokens).await;
            if let Some(tokens) = tokens.filter(|t| t.has_legacy_id_refresh_cookie()) {
                // supertokens-node 24 clears the legacy `sIdRefreshToken` cookie after a
                // refresh, and whenever the refresh clears the session tokens; never on a
                // refusal that keeps the session (400, 431, 503).
                let clears = match &result {
                    Ok(()) => true,
                    Err(Rejection::Unauthorised { clear, .. }) => *clear,
                    Err(Rejection::Theft) => true,
                    Err(_) => false,
                };
                if clears {
                    tokens.clear_legacy_id_refresh_cookie();
                }
            }
            let response = match result {
                Ok(()) => json_response(StatusCode::OK, Bytes::from_static(b"{}")),
                Err(rejection) => rejection.into_configured_response(&shared.config, tokens, false),
            };
            Ok(response.map(JsonBody::new))
        })
    }
}

fn not_allowed(grpc: bool) -> Response<JsonBody> {
    if grpc {
        return tower_domain_guard::grpc::response(12, "not a gRPC method", JsonBody::default());
    }
    let mut response = json_response(
        StatusCode::METHOD_NOT_ALLOWED,
        Bytes::from_static(br#"{"message":"method not allowed"}"#),
    );
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static("POST"));
    response.map(JsonBody::new)
}

const UNAUTHORISED_CLEAR: fn(&'static str) -> Rejection =
    |why| Rejection::Unauthorised { why, clear: true };

impl RefreshShared {
    async fn refresh(
        &self,
        headers: &HeaderMap,
        tokens: Option<&SessionTokens>,
    ) -> Result<(), Rejection> {
        let tokens = tokens.ok_or(Rejection::LayerMissing)?;
        if tokens.has_duplicate_authorization() {
            return Err(Rejection::DUPLICATE_AUTHORIZATION);
        }
        let Some(presented) = tokens.refresh_token() else {
            if tokens.cookie_header_too_large() {
                // The cookies may be fine, just too many of them: not a 401, which would
                // make the SDK sign the user out.
                return Err(Rejection::cookie_header_too_large(tokens));
            }
            // spec 4.2 / 11.1: clears (also a lone access cookie, supertokens-node#790) and
            // sends `front-token: remove` so a fresh browser settles.
            return Err(UNAUTHORISED_CLEAR("no refresh token"));
        };
        let method = presented.method;

        // Duplicates first, as supertokens-node: with two refresh cookies, which one the
        // anti-CSRF check below would look at is itself ambiguous.
        let duplicates = method == TransferMethod::Cookie
            && (tokens.has_duplicate_access_cookie() || tokens.has_duplicate_refresh_cookie());
        let older_domain = self.config.cookies().older_cookie_domain_configured();
        if duplicates && tokens.has_duplicate_refresh_cookie() {
            // Which refresh cookie is current cannot be known (one may be planted by a
            // sibling subdomain), and trying one could sign the victim into the planter's
            // session: refuse, and clear what can safely go, as supertokens-node does.
            if older_domain {
                tokens.clear_older_domain_cookies();
                tracing::warn!(
                    "refresh request carries duplicate refresh token cookies: answering 400 and \
                     clearing the cookies of the older cookie domain; the next refresh can proceed"
                );
            } else {
                tracing::warn!(
                    "refresh request carries duplicate refresh token cookies and no \
                     older_cookie_domain is configured: answering 400; configure \
                     older_cookie_domain (the previous cookie domain, or \"\" for host-only \
                     cookies) so they can be cleared"
                );
            }
            return Err(Rejection::DUPLICATE_REFRESH_COOKIES);
        }
        if duplicates && !older_domain {
            tracing::warn!(
                "refresh request carries duplicate access token cookies and no \
                 older_cookie_domain is configured: answering 400; configure older_cookie_domain \
                 (the previous cookie domain, or \"\" for host-only cookies) so they can be cleared"
            );
            return Err(Rejection::DUPLICATE_COOKIES);
        }

        if method == TransferMethod::Cookie {
            match self.config.anti_csrf() {
                AntiCsrf::ViaCustomHeader if !headers.contains_key("rid") => {
                    return Err(UNAUTHORISED_CLEAR("cookie refresh without rid header"));
                }
                AntiCsrf::ViaToken => {
                    let mut sent = headers
                        .get_all(tower_session_cookie::headers::ANTI_CSRF)
                        .iter();
                    let (first, second) = (sent.next(), sent.next());
                    if second.is_some() {
                        return Err(Rejection::DUPLICATE_ANTI_CSRF);
                    }
                    let expected = issue::anti_csrf_for(presented.as_str());
                    let ok = first
                        .is_some_and(|sent| bool::from(sent.as_bytes().ct_eq(expected.as_bytes())));
                    if !ok {
                        return Err(UNAUTHORISED_CLEAR("anti-csrf token missing or wrong"));
                    }
                }
                _ => {}
            }
        }

        let Some(parsed) = issue::parse_refresh_token(presented.as_str()) else {
            return Err(UNAUTHORISED_CLEAR("malformed refresh token"));
        };
        let handle = parsed.handle;
        let presented_hash = refresh_token_hash(presented.as_str());
        let family_hash = parsed.family_hash();
        let new_refresh = issue::next_refresh_token(&parsed)
            .map_err(|_| Rejection::Unavailable("random number generator failed"))?;
        let new_hash = refresh_token_hash(&new_refresh);
        let now = SystemTime::now();
        let refresh_expires = now + self.config.refresh_token_lifetime();

        let token = Presented {
            hash: &presented_hash,
            generation: parsed.generation,
            family_hash: &family_hash,
        };
        let outcome = self
            .store
            .rotate(handle, token, &new_hash, refresh_expires)
            .await
            .map_err(|error| {
                tracing::warn!(%error, session_handle = handle, "refresh failed: store error");
                Rejection::Unavailable("session store unavailable")
            })?;
        let record = match outcome {
            RotateOutcome::Rotated { session, .. } => session,
            RotateOutcome::Theft { user_id } => {
                tracing::warn!(
                    session_handle = handle,
                    generation = parsed.generation,
                    "refresh token theft detected: an earlier refresh token of the session was presented; session revoked"
                );
                self.config.inner.hooks.token_theft(&user_id, handle);
                return Err(Rejection::Theft);
            }
            RotateOutcome::Unauthorised => {
                return Err(UNAUTHORISED_CLEAR("unknown, expired or revoked session"))
            }
        };

        let iat = issue::now_secs();
        let mut claims = AccessTokenClaims::new(
            record.user_id.clone(),
            handle,
            new_hash,
            iat,
            self.config.access_token_lifetime().as_secs(),
        );
        claims.exp = issue::expiry_secs(self.config.access_token_lifetime());
        claims.parent_refresh_token_hash1 = Some(presented_hash);
        claims.iss = self.config.issuer().map(str::to_owned);
        claims.t_id = self.config.inner.tenant.clone();
        claims.payload = record.payload.clone().unwrap_or_else(Map::new);
        let info = RefreshInfo {
            user_id: &record.user_id,
            session_handle: handle,
            tenant_id: &record.tenant_id,
        };
        self.config.inner.hooks.refresh(&info, &mut claims.payload);
        if self.config.inner.hooks.on_refresh.is_some() {
            claims
                .payload
                .retain(|k, _| !crate::token::PROTECTED_CLAIMS.contains(&k.as_str()));
        }
        // As node: no anti-CSRF token for header-mode sessions (a header is not sent by the
        // browser on its own, so there is nothing to forge).
        if self.config.anti_csrf() == AntiCsrf::ViaToken && method == TransferMethod::Cookie {
            claims.anti_csrf_token = Some(issue::anti_csrf_for(&new_refresh));
        }
        let access = self.keys.sign(&claims).map_err(|error| {
            tracing::error!(%error, "could not sign the refreshed access token");
            Rejection::Unavailable("could not issue an access token")
        })?;

        // Tokens that came in the other transfer method go (spec 7.3); `clear` must come
        // before the new tokens are recorded.
        let other = match method {
            TransferMethod::Cookie => TransferMethod::Header,
            TransferMethod::Header => TransferMethod::Cookie,
        };
        if tokens.carried(other) {
            tokens.clear(ClearScope::Method(other));
        }
        if duplicates {
            tokens.clear_older_domain_cookies();
        }
        issue::write_session(
            tokens,
            method,
            access,
            &claims,
            new_refresh,
            refresh_expires,
        );
        tracing::debug!(session_handle = handle, "session refreshed");
        Ok(())
    }
}
