//! [`BooleanClaim`]: `true` / `false` under a key (email verification: `st-ev`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use super::{
    ClaimFetchError, FetchFuture, FetchInput, PrimitiveClaim, SessionClaim, SessionClaimValidator,
};

/// A boolean claim (node's `BooleanClaim`), e.g. the email-verification claim `st-ev`.
///
/// ```
/// use tower_session_refresh::claims::BooleanClaim;
///
/// let verified = BooleanClaim::new("st-ev", |_input| async { Ok(Some(false)) });
/// let reason = verified.is_true().validate(&serde_json::Map::new()).expect_err("fails");
/// assert_eq!(reason, serde_json::json!({"message": "value does not exist", "expectedValue": true}));
/// ```
#[derive(Clone, Debug)]
pub struct BooleanClaim {
    inner: PrimitiveClaim<bool>,
}

impl BooleanClaim {
    /// A boolean claim under `key`, fetched by `fetch`.
    pub fn new<F, Fut>(key: impl Into<String>, fetch: F) -> Self
    where
        F: Fn(FetchInput) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<bool>, ClaimFetchError>> + Send + 'static,
    {
        Self {
            inner: PrimitiveClaim::new(key, fetch),
        }
    }

    /// The default max age of this claim's validators.
    pub fn default_max_age(self, max_age: Duration) -> Self {
        Self {
            inner: self.inner.default_max_age(max_age),
        }
    }

    /// The claim as a [`SessionClaim`].
    pub fn claim(&self) -> Arc<dyn SessionClaim> {
        self.inner.claim()
    }

    /// The payload key.
    pub fn key(&self) -> &str {
        self.inner.key()
    }

    /// Puts `{"v": value, "t": now}` under the key.
    pub fn add_to_payload(&self, payload: &mut Map<String, Value>, value: bool) {
        self.inner.add_to_payload(payload, value);
    }

    /// The value in `payload`, if any.
    pub fn get_value(&self, payload: &Map<String, Value>) -> Option<bool> {
        self.inner.get_value(payload)
    }

    /// node's `hasValue(val)`.
    pub fn has_value(&self, value: bool) -> SessionClaimValidator {
        self.inner.has_value(value)
    }

    /// node's `isTrue()`: `hasValue(true)`.
    pub fn is_true(&self) -> SessionClaimValidator {
        self.inner.has_value(true)
    }

    /// node's `isFalse()`: `hasValue(false)`.
    pub fn is_false(&self) -> SessionClaimValidator {
        self.inner.has_value(false)
    }
}

impl SessionClaim for BooleanClaim {
    fn key(&self) -> &str {
        self.inner.key()
    }

    fn fetch_value(&self, input: FetchInput) -> FetchFuture {
        SessionClaim::fetch_value(&self.inner, input)
    }
}
