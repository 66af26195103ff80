//! Session claims in the shape the SuperTokens frontend SDKs read: `payload[key] =
//! {"v": value, "t": <ms timestamp>}` in the access-token payload.
//!
//! A [`SessionClaim`] knows its key and how to fetch its value (from the user id, the
//! tenant and the request); [`BooleanClaim`], [`PrimitiveClaim`] and
//! [`PrimitiveArrayClaim`] are the SDK's claim kinds, each with supertokens-node's
//! validators ([`SessionClaimValidator`]) and their exact failure reasons, so that the
//! 403 body (`{"message":"invalid claim","claimValidationErrors":[{"id":…,"reason":…}]}`)
//! is the one the SDK's `API_INVALID_CLAIM` handling expects.
//!
//! Claims registered on the configuration ([`SessionConfigBuilder::claim`](crate::session::SessionConfigBuilder::claim))
//! are fetched when a session is created; global validators
//! ([`SessionConfigBuilder::global_claim_validator`](crate::session::SessionConfigBuilder::global_claim_validator))
//! run on every protected route unless the route overrides them
//! ([`RequireSessionLayer::override_global_claim_validators`](crate::session::RequireSessionLayer::override_global_claim_validators)).
//! Before validating, every validator whose `should_refetch` is true has its claim fetched
//! again, and the new access token (and `front-token`) goes out with the response.
//!
//! # Differences from supertokens-node 24 kept on purpose
//!
//! - Values are compared as JSON values: `1` and `1.0` differ (JavaScript's `===` takes
//!   them as equal), and an object in an array claim matches an equal object (node compares
//!   objects by reference, so never).
//! - `{"v": null}` counts as no value (JSON has no `undefined`): it is refetched, and
//!   fails with `value does not exist`.
//! - A max age is whole seconds (a `Duration` is truncated); `ageInSeconds` is the age in
//!   ms / 1000, written as an integer when whole, as `JSON.stringify` does.
//! - The keys of a reason object are in `serde_json`'s order (sorted unless the
//!   `preserve_order` feature is on), not node's insertion order; the JSON is the same.
//!   node's quirk is kept: `includesAny` on a missing value reports `expectedToNotInclude`.
//! - A fetch error answers 503 (nothing cleared) where node's thrown error becomes a 500.
//! - Custom validators ([`SessionClaimValidator::custom`]) are synchronous on the payload.
//! - `override_global_claim_validators` runs once, when the layer is built (node calls it
//!   per request with the session).
//! - On a verify-only server (no signing key), a refetched value is validated but no new
//!   access token is issued; the next refresh on the auth server fetches nothing either,
//!   so register claims on the auth server and refetch there.
//! - `merge_into_access_token_payload` refuses a protected claim name in the update
//!   (`SessionError::ProtectedClaim`, 400) instead of passing it on to the core.
//!
//! ```
//! use tower_session_refresh::claims::BooleanClaim;
//!
//! let email_verified = BooleanClaim::new("st-ev", |_input| async { Ok(Some(false)) });
//! let mut payload = serde_json::Map::new();
//! email_verified.add_to_payload(&mut payload, true);
//! assert_eq!(payload["st-ev"]["v"], true);
//! assert!(email_verified.is_true().validate(&payload).is_ok());
//! let reason = email_verified.is_false().validate(&payload).expect_err("fails");
//! assert_eq!(reason, serde_json::json!({"message": "wrong value", "expectedValue": false, "actualValue": true}));
//! ```

mod array;
mod boolean;
mod primitive;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use serde_json::{Map, Value};

pub use array::PrimitiveArrayClaim;
pub use boolean::BooleanClaim;
pub use primitive::PrimitiveClaim;

use crate::session::ClaimValidationError;

/// Why a claim's value could not be fetched (a database down, …): the request is answered
/// 503 and nothing is cleared.
pub type ClaimFetchError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The future [`SessionClaim::fetch_value`] returns: the value as JSON, `None` when the
/// claim has no value for this user (then nothing is added to the payload, as in node).
pub type FetchFuture = Pin<Box<dyn Future<Output = Result<Option<Value>, ClaimFetchError>> + Send>>;

/// What a claim's value is fetched from (node's `fetchValue(userId, recipeUserId,
/// tenantId, currentPayload, userContext)`).
#[derive(Clone, Debug, Default)]
pub struct FetchInput {
    /// The user id (`sub`).
    pub user_id: String,
    /// The tenant (`tId`, `public` by default).
    pub tenant_id: String,
    /// The application payload of the access token as it is now (empty at creation).
    pub payload: Map<String, Value>,
    /// The request's headers, when the fetch happens during a request through a layer
    /// (refetch before validation); `None` from application calls without a request.
    pub headers: Option<HeaderMap>,
}

/// A claim kept in the access-token payload as `{"v": value, "t": ms}` under its key.
///
/// Implemented by [`BooleanClaim`], [`PrimitiveClaim`] and [`PrimitiveArrayClaim`];
/// implement it for a claim kind of your own.
pub trait SessionClaim: Send + Sync + 'static {
    /// The payload key (`st-ev`, `st-role`, …).
    fn key(&self) -> &str;

    /// Fetches the claim's current value for a user.
    fn fetch_value(&self, input: FetchInput) -> FetchFuture;
}

impl fmt::Debug for dyn SessionClaim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionClaim")
            .field("key", &self.key())
            .finish()
    }
}

/// Milliseconds since the Unix epoch (the `t` of a claim).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis() as u64
}

/// Puts `{"v": value, "t": now}` under `key` (node's `addToPayload_internal`).
pub fn add_to_payload(payload: &mut Map<String, Value>, key: &str, value: Value) {
    add_at(payload, key, value, now_ms());
}

fn add_at(payload: &mut Map<String, Value>, key: &str, value: Value, t: u64) {
    let mut entry = Map::with_capacity(2);
    entry.insert("v".to_owned(), value);
    entry.insert("t".to_owned(), Value::from(t));
    payload.insert(key.to_owned(), Value::Object(entry));
}

/// The value under `key` (`payload[key].v`), if any. A `null` value counts as none
/// (JSON has no `undefined`).
pub fn value_from_payload<'a>(payload: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    payload.get(key)?.get("v").filter(|v| !v.is_null())
}

/// When the value under `key` was fetched (`payload[key].t`, ms), if any.
pub fn last_refetch_time(payload: &Map<String, Value>, key: &str) -> Option<u64> {
    let t = payload.get(key)?.get("t")?;
    t.as_u64().or_else(|| t.as_f64().map(|f| f as u64))
}

/// What a validator checks (node's validator kinds).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Check {
    /// `hasValue(val)`: the value equals `val`.
    HasValue(Value),
    /// `includes(val)`.
    Includes(Value),
    /// `excludes(val)`.
    Excludes(Value),
    /// `includesAll(vals)`.
    IncludesAll(Vec<Value>),
    /// `includesAny(vals)`.
    IncludesAny(Vec<Value>),
    /// `excludesAll(vals)`.
    ExcludesAll(Vec<Value>),
}

/// A custom check: `Ok(())` when the payload is acceptable, else the reason (any JSON).
type CustomCheck = dyn Fn(&Map<String, Value>) -> Result<(), Value> + Send + Sync;
/// A custom refetch rule.
type CustomRefetch = dyn Fn(&Map<String, Value>) -> bool + Send + Sync;

#[derive(Clone)]
enum Kind {
    Builtin {
        check: Check,
        max_age_secs: Option<u64>,
    },
    Custom {
        check: Arc<CustomCheck>,
        refetch: Option<Arc<CustomRefetch>>,
    },
}

/// A claim validator (node's `SessionClaimValidator`): an id (the claim's key unless
/// changed with [`with_id`](Self::with_id)), the claim it refetches, a `should_refetch`
/// rule and a check with node's failure reasons.
///
/// Made by the claims' methods ([`BooleanClaim::is_true`], [`PrimitiveArrayClaim::includes`], …)
/// or by [`custom`](Self::custom).
#[derive(Clone)]
pub struct SessionClaimValidator {
    id: String,
    key: String,
    claim: Option<Arc<dyn SessionClaim>>,
    kind: Kind,
}

impl fmt::Debug for SessionClaimValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("SessionClaimValidator");
        d.field("id", &self.id).field("key", &self.key);
        if let Kind::Builtin {
            check,
            max_age_secs,
        } = &self.kind
        {
            d.field("check", check).field("max_age_secs", max_age_secs);
        }
        d.finish_non_exhaustive()
    }
}

impl SessionClaimValidator {
    pub(crate) fn builtin(
        claim: Arc<dyn SessionClaim>,
        check: Check,
        max_age_secs: Option<u64>,
    ) -> Self {
        let key = claim.key().to_owned();
        Self {
            id: key.clone(),
            key,
            claim: Some(claim),
            kind: Kind::Builtin {
                check,
                max_age_secs,
            },
        }
    }

    /// A validator of your own: `check` returns `Err(reason)` to fail with `reason` under
    /// `id`. Without a claim it never refetches.
    ///
    /// ```
    /// use tower_session_refresh::claims::SessionClaimValidator;
    /// let v = SessionClaimValidator::custom("has-org", |payload| {
    ///     if payload.contains_key("org") { Ok(()) } else { Err(serde_json::json!({"message": "no org"})) }
    /// });
    /// assert!(v.validate(&serde_json::Map::new()).is_err());
    /// ```
    pub fn custom(
        id: impl Into<String>,
        check: impl Fn(&Map<String, Value>) -> Result<(), Value> + Send + Sync + 'static,
    ) -> Self {
        let id = id.into();
        Self {
            key: id.clone(),
            id,
            claim: None,
            kind: Kind::Custom {
                check: Arc::new(check),
                refetch: None,
            },
        }
    }

    /// A custom validator that refetches `claim` when `should_refetch` says so.
    pub fn custom_with_claim(
        claim: Arc<dyn SessionClaim>,
        should_refetch: impl Fn(&Map<String, Value>) -> bool + Send + Sync + 'static,
        check: impl Fn(&Map<String, Value>) -> Result<(), Value> + Send + Sync + 'static,
    ) -> Self {
        let key = claim.key().to_owned();
        Self {
            id: key.clone(),
            key,
            claim: Some(claim),
            kind: Kind::Custom {
                check: Arc::new(check),
                refetch: Some(Arc::new(should_refetch)),
            },
        }
    }

    /// The same validator under another id (node's `id` argument).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// The same validator with a maximum age (node's `maxAgeInSeconds` argument): an
    /// older value is refetched, and fails with `{"message":"expired",…}` if still old.
    /// No effect on custom validators.
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        if let Kind::Builtin { max_age_secs, .. } = &mut self.kind {
            *max_age_secs = Some(max_age.as_secs());
        }
        self
    }

    /// The same validator without a maximum age (overrides the claim's default).
    pub fn without_max_age(mut self) -> Self {
        if let Kind::Builtin { max_age_secs, .. } = &mut self.kind {
            *max_age_secs = None;
        }
        self
    }

    /// The id reported in `claimValidationErrors`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The claim this validator refetches, if any.
    pub fn claim(&self) -> Option<&Arc<dyn SessionClaim>> {
        self.claim.as_ref()
    }

    /// node's `shouldRefetch`: no value yet, or (with a max age) `t` older than it.
    pub fn should_refetch(&self, payload: &Map<String, Value>) -> bool {
        matches!(
            self.evaluate(payload, &mut LazyNow::default(), true),
            Eval::Refetch
        )
    }

    /// Validates the payload: `Err(reason)` with node's reason object.
    pub fn validate(&self, payload: &Map<String, Value>) -> Result<(), Value> {
        match self.evaluate(payload, &mut LazyNow::default(), false) {
            Eval::Invalid(reason) => Err(reason),
            Eval::Valid | Eval::Refetch => Ok(()),
        }
    }

    /// One pass over the payload: with `refetch`, [`Eval::Refetch`] when node's
    /// `shouldRefetch` is true; else node's `validate`. The clock is read only for a max age.
    pub(crate) fn evaluate(
        &self,
        payload: &Map<String, Value>,
        now: &mut LazyNow,
        refetch: bool,
    ) -> Eval {
        let refetch = refetch && self.claim.is_some();
        let (check, max_age_secs) = match &self.kind {
            Kind::Custom {
                check,
                refetch: rule,
            } => {
                if refetch && rule.as_ref().is_some_and(|f| f(payload)) {
                    return Eval::Refetch;
                }
                return match check(payload) {
                    Ok(()) => Eval::Valid,
                    Err(reason) => Eval::Invalid(reason),
                };
            }
            Kind::Builtin {
                check,
                max_age_secs,
            } => (check, *max_age_secs),
        };
        let entry = payload.get(&self.key);
        let Some(actual) = entry.and_then(|e| e.get("v")).filter(|v| !v.is_null()) else {
            if refetch {
                return Eval::Refetch;
            }
            // node's `actualValue: undefined` is dropped by JSON.stringify.
            let mut reason = reason("value does not exist");
            let (name, expected) = check.expected();
            reason.insert(name.to_owned(), expected);
            return Eval::Invalid(Value::Object(reason));
        };
        if let Some(max) = max_age_secs {
            let t = entry
                .and_then(|e| e.get("t"))
                .and_then(|t| t.as_u64().or_else(|| t.as_f64().map(|f| f as u64)));
            let now = now.get();
            if refetch && t.is_none_or(|t| t < now.saturating_sub(max.saturating_mul(1000))) {
                return Eval::Refetch;
            }
            let age = now.saturating_sub(t.unwrap_or(0)) as f64 / 1000.0;
            if age > max as f64 {
                let mut reason = reason("expired");
                reason.insert("ageInSeconds".to_owned(), number(age));
                reason.insert("maxAgeInSeconds".to_owned(), Value::from(max));
                return Eval::Invalid(Value::Object(reason));
            }
        }
        let items = actual.as_array().map(Vec::as_slice).unwrap_or(&[]);
        let ok = match check {
            Check::HasValue(val) => actual == val,
            Check::Includes(val) => items.contains(val),
            Check::Excludes(val) => !items.contains(val),
            Check::IncludesAll(vals) => vals.iter().all(|v| items.contains(v)),
            Check::IncludesAny(vals) => vals.iter().any(|v| items.contains(v)),
            Check::ExcludesAll(vals) => vals.iter().all(|v| !items.contains(v)),
        };
        if ok {
            return Eval::Valid;
        }
        let mut reason = reason("wrong value");
        let (name, expected) = check.wrong_value_expected();
        reason.insert(name.to_owned(), expected);
        reason.insert("actualValue".to_owned(), actual.clone());
        Eval::Invalid(Value::Object(reason))
    }
}

/// What [`SessionClaimValidator::evaluate`] found.
pub(crate) enum Eval {
    Valid,
    Invalid(Value),
    Refetch,
}

/// The clock, read at most once per check.
#[derive(Default)]
pub(crate) struct LazyNow(Option<u64>);

impl LazyNow {
    fn get(&mut self) -> u64 {
        *self.0.get_or_insert_with(now_ms)
    }
}

impl Check {
    /// The expected-value field of the "value does not exist" reason, as node names it
    /// (including node's `expectedToNotInclude` for `includesAny`).
    fn expected(&self) -> (&'static str, Value) {
        match self {
            Check::HasValue(v) => ("expectedValue", v.clone()),
            Check::Includes(v) => ("expectedToInclude", v.clone()),
            Check::Excludes(v) => ("expectedToNotInclude", v.clone()),
            Check::IncludesAll(v) => ("expectedToInclude", Value::Array(v.clone())),
            Check::IncludesAny(v) | Check::ExcludesAll(v) => {
                ("expectedToNotInclude", Value::Array(v.clone()))
            }
        }
    }

    /// The expected-value field of the "wrong value" reason.
    fn wrong_value_expected(&self) -> (&'static str, Value) {
        match self {
            Check::IncludesAny(v) => ("expectedToIncludeAtLeastOneOf", Value::Array(v.clone())),
            other => other.expected(),
        }
    }
}

fn reason(message: &str) -> Map<String, Value> {
    let mut reason = Map::with_capacity(3);
    reason.insert("message".to_owned(), Value::from(message));
    reason
}

/// A JSON number from an `f64` (whole numbers stay integers, as `JSON.stringify` writes them).
fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x < 9e15 {
        Value::from(x as u64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

/// The outcome of refetching and validating.
pub(crate) struct Validated {
    /// The new application payload, when a refetch changed it.
    pub(crate) update: Option<Map<String, Value>>,
    /// The failed validators.
    pub(crate) errors: Vec<ClaimValidationError>,
}

/// The synchronous check of a request: `None` when some validator wants a refetch (then
/// [`refetch_and_validate`] runs), else the failures (empty: valid).
pub(crate) fn quick_check(
    validators: &[SessionClaimValidator],
    payload: &Map<String, Value>,
) -> Option<Vec<ClaimValidationError>> {
    let mut errors = Vec::new();
    let mut now = LazyNow::default();
    for validator in validators {
        match validator.evaluate(payload, &mut now, true) {
            Eval::Valid => {}
            Eval::Refetch => return None,
            Eval::Invalid(reason) => {
                errors.push(ClaimValidationError::new(validator.id.clone(), reason))
            }
        }
    }
    Some(errors)
}

/// Validates without refetching.
pub(crate) fn validate_all(
    validators: &[SessionClaimValidator],
    payload: &Map<String, Value>,
) -> Vec<ClaimValidationError> {
    let mut errors = Vec::new();
    let mut now = LazyNow::default();
    for validator in validators {
        if let Eval::Invalid(reason) = validator.evaluate(payload, &mut now, false) {
            errors.push(ClaimValidationError::new(validator.id.clone(), reason));
        }
    }
    errors
}

/// node's `validateClaims`: refetch what `should_refetch` asks for (in order, each seeing
/// the payload updated by the ones before), then validate everything.
pub(crate) async fn refetch_and_validate(
    validators: &[SessionClaimValidator],
    user_id: &str,
    tenant_id: &str,
    payload: &Map<String, Value>,
    headers: Option<&HeaderMap>,
) -> Result<Validated, ClaimFetchError> {
    let mut current: Option<Map<String, Value>> = None;
    for validator in validators {
        let now = payload_ref(&current, payload);
        let Some(claim) = validator.claim.as_ref() else {
            continue;
        };
        if !validator.should_refetch(now) {
            continue;
        }
        let input = FetchInput {
            user_id: user_id.to_owned(),
            tenant_id: tenant_id.to_owned(),
            payload: now.clone(),
            headers: headers.cloned(),
        };
        tracing::debug!(claim = claim.key(), "refetching session claim");
        if let Some(value) = claim.fetch_value(input).await? {
            let next = current.get_or_insert_with(|| payload.clone());
            add_to_payload(next, claim.key(), value);
        }
    }
    let errors = validate_all(validators, payload_ref(&current, payload));
    let update = current.filter(|c| c != payload);
    Ok(Validated { update, errors })
}

fn payload_ref<'a>(
    current: &'a Option<Map<String, Value>>,
    payload: &'a Map<String, Value>,
) -> &'a Map<String, Value> {
    current.as_ref().unwrap_or(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payload(v: Value, t: u64) -> Map<String, Value> {
        let mut p = Map::new();
        add_at(&mut p, "k", v, t);
        p
    }

    #[test]
    fn reasons_are_nodes() {
        let claim = PrimitiveArrayClaim::<String>::new("k", |_| async { Ok(None) });
        let p = payload(json!(["a", "b"]), now_ms());
        assert!(claim.includes("a".into()).validate(&p).is_ok());
        assert_eq!(
            claim.includes("c".into()).validate(&p).expect_err("fails"),
            json!({"message":"wrong value","expectedToInclude":"c","actualValue":["a","b"]})
        );
        assert_eq!(
            claim.excludes("a".into()).validate(&p).expect_err("fails"),
            json!({"message":"wrong value","expectedToNotInclude":"a","actualValue":["a","b"]})
        );
        assert_eq!(
            claim
                .includes_any(vec!["x".into()])
                .validate(&p)
                .expect_err("fails"),
            json!({"message":"wrong value","expectedToIncludeAtLeastOneOf":["x"],"actualValue":["a","b"]})
        );
        assert_eq!(
            claim
                .includes_any(vec!["x".into()])
                .validate(&Map::new())
                .expect_err("fails"),
            json!({"message":"value does not exist","expectedToNotInclude":["x"]})
        );
        assert!(claim
            .excludes_all(vec!["x".into(), "y".into()])
            .validate(&p)
            .is_ok());
        assert!(claim
            .includes_all(vec!["a".into(), "b".into()])
            .validate(&p)
            .is_ok());
        assert!(claim
            .includes_all(vec!["a".into(), "z".into()])
            .validate(&p)
            .is_err());
        let old = payload(json!(["a"]), now_ms() - 10_500);
        let v = claim
            .includes("a".into())
            .with_max_age(Duration::from_secs(5));
        assert!(v.should_refetch(&old));
        let r = v.validate(&old).expect_err("fails");
        assert_eq!(r["message"], "expired");
        assert_eq!(r["maxAgeInSeconds"], 5);
        assert!(r["ageInSeconds"].as_f64().unwrap_or(0.0) >= 10.5);
        assert!(!claim.includes("a".into()).should_refetch(&old));
        assert!(claim.includes("a".into()).should_refetch(&Map::new()));
    }
}
