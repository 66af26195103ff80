//! [`PrimitiveClaim`]: one JSON value (string, number, boolean) under a key.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{
    add_to_payload, value_from_payload, Check, ClaimFetchError, FetchFuture, FetchInput,
    SessionClaim, SessionClaimValidator,
};

type Fetch<T> = dyn Fn(
        FetchInput,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Option<T>, ClaimFetchError>> + Send>>
    + Send
    + Sync;

/// The fetcher behind the typed claims: a key and an async function giving a `T`.
pub(crate) struct Fetcher<T> {
    key: String,
    fetch: Box<Fetch<T>>,
    _t: PhantomData<fn() -> T>,
}

impl<T> Fetcher<T> {
    pub(crate) fn key_str(&self) -> &str {
        &self.key
    }
}

impl<T> Fetcher<T>
where
    T: Serialize + Send + 'static,
{
    pub(crate) fn new<F, Fut>(key: impl Into<String>, fetch: F) -> Self
    where
        F: Fn(FetchInput) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<T>, ClaimFetchError>> + Send + 'static,
    {
        Self {
            key: key.into(),
            fetch: Box::new(move |input| Box::pin(fetch(input))),
            _t: PhantomData,
        }
    }
}

impl<T> SessionClaim for Fetcher<T>
where
    T: Serialize + Send + 'static,
{
    fn key(&self) -> &str {
        &self.key
    }

    fn fetch_value(&self, input: FetchInput) -> FetchFuture {
        let future = (self.fetch)(input);
        Box::pin(async move {
            match future.await? {
                Some(value) => Ok(Some(serde_json::to_value(value)?)),
                None => Ok(None),
            }
        })
    }
}

/// A claim holding one value (node's `PrimitiveClaim`), e.g. a plan name or a tenant role.
///
/// ```
/// use tower_session_refresh::claims::PrimitiveClaim;
///
/// let plan = PrimitiveClaim::<String>::new("plan", |input| async move {
///     Ok(Some(if input.user_id == "alice" { "pro".to_owned() } else { "free".to_owned() }))
/// });
/// let mut payload = serde_json::Map::new();
/// plan.add_to_payload(&mut payload, "pro".to_owned());
/// assert_eq!(plan.get_value(&payload).as_deref(), Some("pro"));
/// assert!(plan.has_value("pro".to_owned()).validate(&payload).is_ok());
/// ```
pub struct PrimitiveClaim<T> {
    inner: Arc<Fetcher<T>>,
    default_max_age: Option<u64>,
}

impl<T> Clone for PrimitiveClaim<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            default_max_age: self.default_max_age,
        }
    }
}

impl<T> fmt::Debug for PrimitiveClaim<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrimitiveClaim")
            .field("key", &self.inner.key)
            .field("default_max_age_secs", &self.default_max_age)
            .finish()
    }
}

impl<T> PrimitiveClaim<T>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    /// A claim under `key`, fetched by `fetch` (`Ok(None)`: no value, nothing added).
    pub fn new<F, Fut>(key: impl Into<String>, fetch: F) -> Self
    where
        F: Fn(FetchInput) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<T>, ClaimFetchError>> + Send + 'static,
    {
        Self {
            inner: Arc::new(Fetcher::new(key, fetch)),
            default_max_age: None,
        }
    }

    /// The max age every validator of this claim gets unless it says otherwise (node's
    /// `defaultMaxAgeInSeconds`).
    pub fn default_max_age(mut self, max_age: Duration) -> Self {
        self.default_max_age = Some(max_age.as_secs());
        self
    }

    /// The claim as a [`SessionClaim`] (to register it, or refetch it).
    pub fn claim(&self) -> Arc<dyn SessionClaim> {
        self.inner.clone()
    }

    /// The payload key.
    pub fn key(&self) -> &str {
        &self.inner.key
    }

    /// Puts `{"v": value, "t": now}` in `payload` under the key.
    pub fn add_to_payload(&self, payload: &mut Map<String, Value>, value: T) {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        add_to_payload(payload, &self.inner.key, value);
    }

    /// The value in `payload`, if any (and if it reads as a `T`).
    pub fn get_value(&self, payload: &Map<String, Value>) -> Option<T> {
        value_from_payload(payload, &self.inner.key)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// node's `hasValue(val)`: the value must equal `val` (reasons `value does not
    /// exist`, `expired`, `wrong value` with `expectedValue` / `actualValue`).
    pub fn has_value(&self, value: T) -> SessionClaimValidator {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        SessionClaimValidator::builtin(self.claim(), Check::HasValue(value), self.default_max_age)
    }
}

impl<T> SessionClaim for PrimitiveClaim<T>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    fn key(&self) -> &str {
        &self.inner.key
    }

    fn fetch_value(&self, input: FetchInput) -> FetchFuture {
        self.inner.fetch_value(input)
    }
}
