//! [`PrimitiveArrayClaim`]: an array of values under a key (roles `st-role`, permissions
//! `st-perm`).

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::primitive::Fetcher;
use super::{
    add_to_payload, value_from_payload, Check, ClaimFetchError, FetchFuture, FetchInput,
    SessionClaim, SessionClaimValidator,
};

/// A claim holding an array (node's `PrimitiveArrayClaim`), e.g. roles.
///
/// ```
/// use tower_session_refresh::claims::PrimitiveArrayClaim;
///
/// let roles = PrimitiveArrayClaim::<String>::new("st-role", |_input| async {
///     Ok(Some(vec!["admin".to_owned()]))
/// });
/// let mut payload = serde_json::Map::new();
/// roles.add_to_payload(&mut payload, vec!["admin".to_owned()]);
/// assert!(roles.includes("admin".to_owned()).validate(&payload).is_ok());
/// assert!(roles.excludes("admin".to_owned()).validate(&payload).is_err());
/// ```
pub struct PrimitiveArrayClaim<T> {
    inner: Arc<Fetcher<Vec<T>>>,
    default_max_age: Option<u64>,
}

impl<T> Clone for PrimitiveArrayClaim<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            default_max_age: self.default_max_age,
        }
    }
}

impl<T> fmt::Debug for PrimitiveArrayClaim<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrimitiveArrayClaim")
            .field("key", &self.inner.key_str())
            .field("default_max_age_secs", &self.default_max_age)
            .finish()
    }
}

fn json<T: Serialize>(value: T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl<T> PrimitiveArrayClaim<T>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    /// A claim under `key`, fetched by `fetch`.
    pub fn new<F, Fut>(key: impl Into<String>, fetch: F) -> Self
    where
        F: Fn(FetchInput) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<Vec<T>>, ClaimFetchError>> + Send + 'static,
    {
        Self {
            inner: Arc::new(Fetcher::new(key, fetch)),
            default_max_age: None,
        }
    }

    /// The default max age of this claim's validators (node's `defaultMaxAgeInSeconds`).
    pub fn default_max_age(mut self, max_age: Duration) -> Self {
        self.default_max_age = Some(max_age.as_secs());
        self
    }

    /// The claim as a [`SessionClaim`].
    pub fn claim(&self) -> Arc<dyn SessionClaim> {
        self.inner.clone()
    }

    /// The payload key.
    pub fn key(&self) -> &str {
        SessionClaim::key(&*self.inner)
    }

    /// Puts `{"v": values, "t": now}` under the key.
    pub fn add_to_payload(&self, payload: &mut Map<String, Value>, values: Vec<T>) {
        add_to_payload(payload, self.key(), json(values));
    }

    /// The values in `payload`, if any.
    pub fn get_value(&self, payload: &Map<String, Value>) -> Option<Vec<T>> {
        value_from_payload(payload, self.key()).and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    fn validator(&self, check: Check) -> SessionClaimValidator {
        SessionClaimValidator::builtin(self.claim(), check, self.default_max_age)
    }

    /// node's `includes(val)`.
    pub fn includes(&self, value: T) -> SessionClaimValidator {
        self.validator(Check::Includes(json(value)))
    }

    /// node's `excludes(val)`.
    pub fn excludes(&self, value: T) -> SessionClaimValidator {
        self.validator(Check::Excludes(json(value)))
    }

    /// node's `includesAll(vals)`.
    pub fn includes_all(&self, values: Vec<T>) -> SessionClaimValidator {
        self.validator(Check::IncludesAll(values.into_iter().map(json).collect()))
    }

    /// node's `includesAny(vals)`.
    pub fn includes_any(&self, values: Vec<T>) -> SessionClaimValidator {
        self.validator(Check::IncludesAny(values.into_iter().map(json).collect()))
    }

    /// node's `excludesAll(vals)`.
    pub fn excludes_all(&self, values: Vec<T>) -> SessionClaimValidator {
        self.validator(Check::ExcludesAll(values.into_iter().map(json).collect()))
    }
}

impl<T> SessionClaim for PrimitiveArrayClaim<T>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    fn key(&self) -> &str {
        SessionClaim::key(&*self.inner)
    }

    fn fetch_value(&self, input: FetchInput) -> FetchFuture {
        self.inner.fetch_value(input)
    }
}
