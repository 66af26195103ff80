//! [`SessionCookieLayer`], its [`SessionCookie`] service and [`ResponseFuture`].

mod future;
mod service;

pub use future::ResponseFuture;
pub use service::SessionCookie;

use tower_layer::Layer;

use crate::config::SessionCookieConfig;

/// Applies [`SessionCookie`] to a service: puts a [`SessionTokens`](crate::SessionTokens)
/// handle in every request's extensions and writes its recorded changes to the response.
///
/// ```
/// use tower::ServiceBuilder;
/// use tower_session_cookie::{SessionCookieConfig, SessionCookieLayer};
///
/// let config = SessionCookieConfig::builder()
///     .api_domain("https://api.example.com")
///     .website_domain("https://www.example.com")
///     .build()?;
/// let service = ServiceBuilder::new()
///     .layer(SessionCookieLayer::new(config))
///     .service_fn(|_request: http::Request<String>| async {
///         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
///     });
/// # drop(service);
/// # Ok::<(), tower_session_cookie::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct SessionCookieLayer {
    config: SessionCookieConfig,
}

impl SessionCookieLayer {
    /// A layer using `config` (already validated by its builder).
    pub fn new(config: SessionCookieConfig) -> Self {
        SessionCookieLayer { config }
    }

    /// The layer's configuration.
    pub fn config(&self) -> &SessionCookieConfig {
        &self.config
    }
}

impl<S> Layer<S> for SessionCookieLayer {
    type Service = SessionCookie<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionCookie::new(inner, self.config.clone())
    }
}
