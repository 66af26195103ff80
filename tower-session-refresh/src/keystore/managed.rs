//! [`ManagedKeys`]: a [`KeySet`] kept in step with a [`KeyStore`], rotated on a schedule.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant, SystemTime};

use super::{to_millis, KeyStore, StoredKey, StoredKeySet};
use crate::keys::{KeyError, KeySet};
use crate::store::{StoreError, StoreErrorKind};
use crate::token::{AccessTokenVerifier, KeyFuture, KeySource, VerifyError};

/// Default rotation interval: 7 days.
pub const DEFAULT_ROTATION_INTERVAL: Duration = Duration::from_secs(7 * 24 * 3600);
/// Default minimum time between two reloads caused by unknown `kid`s.
pub const DEFAULT_RELOAD_COOLDOWN: Duration = Duration::from_millis(500);
/// The longest period between two background maintenance runs.
pub const MAX_MAINTAIN_PERIOD: Duration = Duration::from_secs(30);

const MIN_ROTATION_INTERVAL: Duration = Duration::from_secs(1);
const MIN_MAINTAIN_PERIOD: Duration = Duration::from_millis(50);
const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_secs(2);
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(2);
/// How many times one maintenance run reloads after losing a compare-and-set race.
const MAX_ATTEMPTS: usize = 8;

/// Configuration of [`ManagedKeys`].
///
/// ```
/// use std::time::Duration;
/// use tower_session_refresh::keystore::ManagedKeysConfig;
///
/// let config = ManagedKeysConfig::new(Duration::from_secs(604_800), Duration::from_secs(3600))
///     .leeway(Duration::from_secs(5));
/// assert_eq!(config.maintain_period(), Duration::from_secs(30));
/// // a key stops verifying 1 h + 5 s + 30 s + 1 s after it stopped signing
/// assert_eq!(config.verify_after_retirement(), Duration::from_secs(3636));
/// ```
#[derive(Clone, Debug)]
pub struct ManagedKeysConfig {
    rotation_interval: Duration,
    access_token_lifetime: Duration,
    leeway: Duration,
    maintain_period: Option<Duration>,
    reload_cooldown: Duration,
    store_timeout: Duration,
}

impl ManagedKeysConfig {
    /// Keys rotated every `rotation_interval` (at least 1 s; shorter values are raised),
    /// for access tokens that live `access_token_lifetime` (the session configuration's).
    pub fn new(rotation_interval: Duration, access_token_lifetime: Duration) -> Self {
        Self {
            rotation_interval: rotation_interval.max(MIN_ROTATION_INTERVAL),
            access_token_lifetime,
            leeway: Duration::ZERO,
            maintain_period: None,
            reload_cooldown: DEFAULT_RELOAD_COOLDOWN,
            store_timeout: DEFAULT_STORE_TIMEOUT,
        }
    }

    /// The verifiers' clock leeway (default 0): old keys verify that much longer.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// How often the background task reloads, rotates and drops (default
    /// `min(interval / 4, 30 s)`, at least 50 ms).
    pub fn with_maintain_period(mut self, period: Duration) -> Self {
        self.maintain_period = Some(period.max(MIN_MAINTAIN_PERIOD));
        self
    }

    /// Minimum time between two reloads caused by unknown `kid`s (default 500 ms).
    pub fn reload_cooldown(mut self, cooldown: Duration) -> Self {
        self.reload_cooldown = cooldown;
        self
    }

    /// How long one store operation may take (default 2 s).
    pub fn store_timeout(mut self, timeout: Duration) -> Self {
        self.store_timeout = timeout;
        self
    }

    /// The rotation interval.
    pub fn rotation_interval(&self) -> Duration {
        self.rotation_interval
    }

    /// The access-token lifetime.
    pub fn access_token_lifetime(&self) -> Duration {
        self.access_token_lifetime
    }

    /// The period of the background maintenance.
    pub fn maintain_period(&self) -> Duration {
        self.maintain_period.unwrap_or_else(|| {
            (self.rotation_interval / 4).clamp(MIN_MAINTAIN_PERIOD, MAX_MAINTAIN_PERIOD)
        })
    }

    /// How long a key keeps verifying after it stopped signing: access-token lifetime +
    /// leeway + one maintenance period (another process may sign with it that long before
    /// it notices the rotation) + 1 s of slack for clocks and whole-second `exp`.
    pub fn verify_after_retirement(&self) -> Duration {
        self.access_token_lifetime
            .saturating_add(self.leeway)
            .saturating_add(self.maintain_period())
            .saturating_add(Duration::from_secs(1))
    }
}

/// A [`KeySet`] shared by every auth process on one [`KeyStore`]: created once, loaded at
/// start, reloaded on an unknown `kid` and periodically, rotated on a schedule (see the
/// [module docs](super)).
///
/// Clone is cheap. Give [`key_set`](Self::key_set) to `SessionConfig::keys` and to the
/// `JwksService`, and use `self` as the verifier's [`KeySource`] (see
/// [`verifier`](Self::verifier)) so that tokens signed by a key another process just made
/// verify at once. The background task stops when the last clone is dropped.
#[derive(Clone)]
pub struct ManagedKeys {
    inner: Arc<Inner>,
}

struct Inner {
    store: Box<dyn KeyStore>,
    config: ManagedKeysConfig,
    keys: KeySet,
    /// Serialises maintenance runs of this process.
    lock: tokio::sync::Mutex<()>,
    ready: tokio::sync::watch::Sender<bool>,
    /// Set once the first maintenance run has ended, loaded or not.
    attempted: tokio::sync::watch::Sender<bool>,
    last_reload: Mutex<Option<Instant>>,
    warned: AtomicBool,
}

impl fmt::Debug for ManagedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagedKeys")
            .field("ready", &self.is_ready())
            .field("keys", &self.inner.keys)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl ManagedKeys {
    /// Loads the stored key set (creating it if there is none), then keeps it up to date
    /// in a background tokio task.
    ///
    /// Never fails: if the store cannot be reached, the key set stays empty (signing
    /// answers [`TokenError::NoSigningKey`](crate::token::TokenError::NoSigningKey)) and the
    /// task retries (every 200 ms, backing off to 2 s) until it loads. Must run inside a
    /// tokio runtime (with the time driver).
    pub async fn start(store: impl KeyStore, config: ManagedKeysConfig) -> Self {
        let keys = Self::new(store, config);
        if let Err(error) = keys.maintain().await {
            tracing::warn!(%error, "signing keys could not be loaded from the store; retrying in the background, auth routes answer 503 meanwhile");
        }
        keys.spawn_maintenance();
        keys
    }

    /// [`start`](Self::start) for a caller that cannot wait: returns at once and loads the
    /// keys in a background task on the current tokio runtime (the key set cannot sign
    /// until [`is_ready`](Self::is_ready)). `None` outside a tokio runtime.
    pub fn spawn(store: impl KeyStore, config: ManagedKeysConfig) -> Option<Self> {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let keys = Self::new(store, config);
        let first = keys.clone();
        runtime.spawn(async move {
            if let Err(error) = first.maintain().await {
                tracing::warn!(%error, "signing keys could not be loaded from the store; retrying in the background, auth routes answer 503 meanwhile");
            }
            first.spawn_maintenance();
        });
        Some(keys)
    }

    /// A handle with no keys loaded and no background task; call
    /// [`maintain`](Self::maintain) yourself (e.g. on a schedule of your own).
    pub fn new(store: impl KeyStore, config: ManagedKeysConfig) -> Self {
        let (ready, _) = tokio::sync::watch::channel(false);
        let (attempted, _) = tokio::sync::watch::channel(false);
        Self {
            inner: Arc::new(Inner {
                store: Box::new(store),
                config,
                // An empty set: "no signing key" until the store answers.
                keys: empty_key_set(),
                lock: tokio::sync::Mutex::new(()),
                ready,
                attempted,
                last_reload: Mutex::new(None),
                warned: AtomicBool::new(false),
            }),
        }
    }

    /// The key set (shared: it changes in place on every reload and rotation).
    pub fn key_set(&self) -> KeySet {
        self.inner.keys.clone()
    }

    /// An access-token verifier whose keys come from `self` (unknown `kid` → reload), with
    /// the configured leeway.
    pub fn verifier(&self) -> AccessTokenVerifier {
        AccessTokenVerifier::builder(self.clone())
            .leeway(self.inner.config.leeway)
            .build()
            .unwrap_or_else(|_| AccessTokenVerifier::new(self.clone()))
    }

    /// The configuration.
    pub fn config(&self) -> &ManagedKeysConfig {
        &self.inner.config
    }

    /// Whether keys have been loaded from the store (the key set can sign).
    pub fn is_ready(&self) -> bool {
        *self.inner.ready.borrow()
    }

    /// Waits until keys have been loaded from the store.
    pub async fn wait_ready(&self) {
        let mut rx = self.inner.ready.subscribe();
        // Errors only if the sender is gone, which `self` prevents.
        let _ = rx.wait_for(|ready| *ready).await;
    }

    /// Waits until the first load from the store has been tried, whether it succeeded or
    /// not (what [`start`](Self::start) waits for; a store that is down does not hold it up
    /// longer than one attempt).
    pub async fn wait_first_attempt(&self) {
        let mut rx = self.inner.attempted.subscribe();
        let _ = rx.wait_for(|done| *done).await;
    }

    /// One maintenance step: reload the stored set (creating it if there is none), rotate
    /// when the signing key is due, drop keys past their `drop_at`, write the result with a
    /// compare-and-set (reloading and retrying if another process wrote first), and apply it
    /// to the key set. Runs in the background; call it directly only with
    /// [`new`](Self::new).
    pub async fn maintain(&self) -> Result<(), StoreError> {
        let _guard = self.inner.lock.lock().await;
        let result = self.maintain_locked().await;
        self.inner.attempted.send_replace(true);
        match &result {
            Ok(()) => {
                if self.inner.warned.swap(false, Ordering::Relaxed) {
                    tracing::info!("signing keys loaded from the store again");
                }
            }
            Err(error) => {
                self.inner.warned.store(true, Ordering::Relaxed);
                tracing::debug!(%error, "key store maintenance failed");
            }
        }
        result
    }

    async fn maintain_locked(&self) -> Result<(), StoreError> {
        let config = &self.inner.config;
        for _ in 0..MAX_ATTEMPTS {
            let current = self.timed(self.inner.store.load()).await?;
            let now = SystemTime::now();
            let next = match &current {
                None => Some(StoredKeySet {
                    version: 1,
                    keys: vec![generate(now, config)?],
                }),
                Some(set) => next_state(set, now, config)?,
            };
            let applied = match next {
                None => current,
                Some(next) => {
                    let expected = current.as_ref().map(|s| s.version);
                    if !self
                        .timed(self.inner.store.put_if_version(expected, &next))
                        .await?
                    {
                        continue; // another process wrote first: reload
                    }
                    log_change(current.as_ref(), &next);
                    Some(next)
                }
            };
            if let Some(set) = applied {
                self.apply(&set, now)?;
                return Ok(());
            }
        }
        Err(StoreError::new(
            StoreErrorKind::Unavailable,
            "the stored key set kept changing under this process (compare-and-set lost repeatedly)",
        ))
    }

    async fn timed<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.inner.config.store_timeout, fut).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::new(
                StoreErrorKind::Timeout,
                "key store did not answer in time",
            )),
        }
    }

    /// Makes the local key set match `set`: new keys verify, the last one signs, keys
    /// past `drop_at` (or gone from the store) are removed.
    fn apply(&self, set: &StoredKeySet, now: SystemTime) -> Result<(), StoreError> {
        let keys = &self.inner.keys;
        let live = live_keys(set, now);
        let Some((signer, older)) = live.split_last() else {
            return Err(StoreError::new(
                StoreErrorKind::Corrupt,
                "the stored key set has no keys",
            ));
        };
        let local = keys.kids();
        for key in older {
            if local.iter().any(|k| k == key.kid()) {
                continue;
            }
            match key.signing_key() {
                Ok(signing) => {
                    if let Err(error) = keys.add_verification_key(signing.verifying_key().clone()) {
                        tracing::warn!(kid = key.kid(), %error, "stored key not added");
                    }
                }
                Err(error) => {
                    tracing::warn!(kid = key.kid(), %error, "stored key is unreadable; skipped")
                }
            }
        }
        if keys.signing_kid().as_deref() != Some(signer.kid()) {
            let signing = signer.signing_key().map_err(corrupt_key)?;
            if local.iter().any(|k| k == signer.kid()) {
                keys.remove_key(signer.kid()).map_err(corrupt_key)?;
            }
            keys.rotate(signing).map_err(corrupt_key)?;
            tracing::info!(kid = signer.kid(), "signing with key");
        }
        for kid in keys.kids() {
            if !live.iter().any(|k| k.kid() == kid) {
                keys.remove_key(&kid).map_err(corrupt_key)?;
                tracing::info!(kid = %kid, "key dropped: every token it signed has expired");
            }
        }
        self.inner.ready.send_replace(true);
        Ok(())
    }

    fn spawn_maintenance(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("ManagedKeys::start outside a tokio runtime: no background maintenance");
            return;
        };
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let period = self.inner.config.maintain_period();
        let mut delay = if self.is_ready() { period } else { RETRY_FIRST };
        runtime.spawn(async move {
            let mut retry = RETRY_FIRST;
            loop {
                tokio::time::sleep(delay).await;
                let Some(inner) = weak.upgrade() else { break };
                let keys = ManagedKeys { inner };
                match keys.maintain().await {
                    Ok(()) => {
                        retry = RETRY_FIRST;
                        delay = period;
                    }
                    Err(error) => {
                        tracing::warn!(%error, ready = keys.is_ready(), "key store maintenance failed; retrying");
                        delay = retry.min(period.max(RETRY_FIRST));
                        retry = (retry * 2).min(RETRY_MAX);
                    }
                }
            }
        });
    }

    /// Reloads for an unknown `kid`, at most once per cool-down (callers within the
    /// cool-down wait for a reload in flight instead).
    async fn reload_for(&self, kid: &str) -> Result<(), VerifyError> {
        if self.inner.keys.key(kid).is_some() {
            return Ok(());
        }
        let due = {
            let mut last = self
                .inner
                .last_reload
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let due = last.is_none_or(|t| t.elapsed() >= self.inner.config.reload_cooldown);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if due {
            self.maintain()
                .await
                .map_err(|e| VerifyError::KeysUnavailable(e.to_string()))?;
        } else {
            drop(self.inner.lock.lock().await);
            if !self.is_ready() {
                return Err(VerifyError::KeysUnavailable(
                    "signing keys not loaded from the store yet".to_owned(),
                ));
            }
        }
        Ok(())
    }
}

impl KeySource for ManagedKeys {
    fn key(&self, kid: &str) -> Option<crate::keys::VerifyingKey> {
        self.inner.keys.key(kid)
    }

    fn generation(&self) -> u64 {
        self.inner.keys.generation()
    }

    /// An unknown `kid` reloads the stored set (at most once per cool-down). A store that
    /// cannot be reached is [`VerifyError::KeysUnavailable`] (503: an outage signs nobody
    /// out).
    fn fetch_key<'a>(&'a self, kid: &'a str) -> KeyFuture<'a> {
        Box::pin(async move {
            self.reload_for(kid).await?;
            Ok(self.inner.keys.key(kid))
        })
    }
}

/// A key set with no keys: "no signing key" until the store answers.
fn empty_key_set() -> KeySet {
    // `verify_only` fails only on duplicate kids, which an empty list cannot have.
    KeySet::verify_only(Vec::new()).unwrap_or_else(|_| empty_key_set())
}

fn corrupt_key(error: KeyError) -> StoreError {
    StoreError::new(StoreErrorKind::Corrupt, error)
}

fn generate(now: SystemTime, config: &ManagedKeysConfig) -> Result<StoredKey, StoreError> {
    StoredKey::generate_ed25519(now, config.rotation_interval)
        .map_err(|e| StoreError::new(StoreErrorKind::Unavailable, e))
}

/// Keys still verifying at `now` (the last one always: it signs).
fn live_keys(set: &StoredKeySet, now: SystemTime) -> Vec<&StoredKey> {
    let last = set.keys.len().saturating_sub(1);
    set.keys
        .iter()
        .enumerate()
        .filter(|(i, k)| *i == last || k.drop_at.is_none_or(|d| d > now))
        .map(|(_, k)| k)
        .collect()
}

/// The set to write, if anything is due: rotation and/or dropping.
fn next_state(
    set: &StoredKeySet,
    now: SystemTime,
    config: &ManagedKeysConfig,
) -> Result<Option<StoredKeySet>, StoreError> {
    let mut keys: Vec<StoredKey> = live_keys(set, now).into_iter().cloned().collect();
    let mut changed = keys.len() != set.keys.len();
    let due = match keys.last() {
        None => true,
        Some(signer) => {
            // A shorter interval configured since the key was made counts too.
            let scheduled = signer.retire_at.min(
                signer
                    .created_at
                    .checked_add(config.rotation_interval)
                    .unwrap_or(signer.retire_at),
            );
            scheduled <= now
        }
    };
    if due {
        if let Some(old) = keys.last_mut() {
            old.retire_at = old.retire_at.min(to_millis(now));
            old.drop_at = Some(to_millis(
                now.checked_add(config.verify_after_retirement())
                    .unwrap_or(now),
            ));
        }
        keys.push(generate(now, config)?);
        changed = true;
    }
    Ok(changed.then(|| StoredKeySet {
        version: set.version.wrapping_add(1),
        keys,
    }))
}

fn log_change(before: Option<&StoredKeySet>, after: &StoredKeySet) {
    let kid = after.signing().map(StoredKey::kid).unwrap_or_default();
    match before {
        None => tracing::info!(kid, "created the stored signing key set"),
        Some(before) if before.signing().map(StoredKey::kid) != Some(kid) => {
            tracing::info!(kid, version = after.version, "rotated the signing key")
        }
        Some(_) => tracing::debug!(version = after.version, "dropped expired keys"),
    }
}
