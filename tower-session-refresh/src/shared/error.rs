//! [`SharedSessionError`]: what [`SharedSessionBuilder::build`](super::SharedSessionBuilder::build)
//! refuses, naming the option.

use std::fmt;

/// A mistake in the [`SharedSession`](super::SharedSession) configuration. Its `Display`
/// starts with the builder option at fault (`cookie_domain`, `api_domain`,
/// `website_domain`, `api_base_path`, `verify_only`, …), then says why.
///
/// ```
/// use tower_session_refresh::SharedSession;
/// let error = SharedSession::builder(".co.uk")
///     .api_domain("https://api.example.co.uk")
///     .website_domain("https://www.example.co.uk")
///     .build()
///     .unwrap_err();
/// assert_eq!(error.option(), "cookie_domain");
/// assert!(error.to_string().starts_with("cookie_domain: "));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedSessionError {
    option: &'static str,
    reason: String,
}

impl SharedSessionError {
    pub(crate) fn new(option: &'static str, reason: impl fmt::Display) -> Self {
        Self {
            option,
            reason: reason.to_string(),
        }
    }

    /// The builder option at fault, as the method is named (`"api_domain"`).
    pub fn option(&self) -> &'static str {
        self.option
    }

    /// Why it was refused.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for SharedSessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.option, self.reason)
    }
}

impl std::error::Error for SharedSessionError {}
