//! `ManagedKeys` on the in-memory key store: creation, sharing, rotation with a short
//! interval (JWKS over real HTTP, a `RemoteJwks` verifier following it), reload on an
//! unknown kid, and a store that is down at start.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tower_session_refresh::keys::KeySet;
use tower_session_refresh::keystore::{
    KeyStore, KeyStoreFuture, ManagedKeys, ManagedKeysConfig, MemoryKeyStore, StoredKeySet,
};
use tower_session_refresh::store::{StoreError, StoreErrorKind};
use tower_session_refresh::token::{
    refresh_token_hash, AccessTokenClaims, InvalidReason, TokenError, VerifyError,
};

#[cfg(feature = "remote-jwks")]
fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// A token that expires `lifetime` from now, rounded up to whole seconds (the longest a
/// token the session layer issues can live).
fn sign(keys: &KeySet, lifetime: Duration) -> Result<String, TokenError> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
    let mut claims = AccessTokenClaims::new(
        "user-1",
        "handle-1",
        refresh_token_hash("rt"),
        now.as_secs(),
        0,
    );
    let exp = now + lifetime;
    claims.exp = exp.as_secs() + u64::from(exp.subsec_nanos() > 0);
    keys.sign(&claims)
}

fn kid_of(token: &str) -> String {
    use base64::Engine as _;
    let header = token.split('.').next().expect("header");
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .expect("base64");
    let value: serde_json::Value = serde_json::from_slice(&json).expect("json");
    value["kid"].as_str().expect("kid").to_owned()
}

fn week() -> ManagedKeysConfig {
    ManagedKeysConfig::new(Duration::from_secs(604_800), Duration::from_secs(3600))
}

#[cfg(feature = "remote-jwks")]
async fn eventually(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < timeout, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn first_start_creates_one_key_and_the_layout_round_trips() {
    let store = MemoryKeyStore::new();
    let keys = ManagedKeys::start(store.clone(), week()).await;
    assert!(keys.is_ready());
    let set = store.load().await.expect("load").expect("created");
    assert_eq!(set.version, 1);
    assert_eq!(set.keys.len(), 1);
    let key = &set.keys[0];
    assert_eq!(keys.key_set().signing_kid().as_deref(), Some(key.kid()));
    assert_eq!(key.drop_at(), None);
    let lifetime = key
        .retire_at()
        .duration_since(key.created_at())
        .expect("order");
    assert_eq!(lifetime, Duration::from_secs(604_800));

    // The stored JSON: versioned, private key as PKCS#8, and it reads back the same.
    let json = set.to_json();
    let value: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(value["format"], 1);
    assert_eq!(value["version"], 1);
    let stored = &value["keys"][0];
    assert_eq!(stored["alg"], "EdDSA");
    assert_eq!(stored["kid"], key.kid());
    assert!(stored["drop_at_ms"].is_null());
    let pkcs8 = stored["pkcs8"].as_str().expect("pkcs8").to_owned();
    assert!(pkcs8.len() > 60, "{pkcs8}");
    assert_eq!(StoredKeySet::from_json(&json).expect("reads back"), set);

    // Private key material never shows in Debug output.
    for debug in [
        format!("{set:?}"),
        format!("{keys:?}"),
        format!("{store:?}"),
        format!("{key:?}"),
    ] {
        assert!(!debug.contains(&pkcs8), "{debug}");
        assert!(!debug.contains(&pkcs8[20..40]), "{debug}");
    }
    assert!(format!("{key:?}").contains(key.kid()));

    // A second process (or a restart) loads the same set; nothing is written.
    let again = ManagedKeys::start(store.clone(), week()).await;
    assert_eq!(again.key_set().kids(), keys.key_set().kids());
    assert_eq!(store.load().await.expect("load").expect("set").version, 1);
}

#[tokio::test]
async fn corrupt_or_unknown_layouts_are_refused_without_echoing_them() {
    let error = StoredKeySet::from_json(r#"{"format":2,"version":1,"keys":[]}"#)
        .expect_err("format 2 is unknown");
    assert_eq!(error.kind(), StoreErrorKind::Corrupt);
    let error = StoredKeySet::from_json("{\"secret-looking\": MC4CAQAwBQ").expect_err("not json");
    assert_eq!(error.kind(), StoreErrorKind::Corrupt);
    assert!(!error.to_string().contains("MC4CAQAwBQ"), "{error}");
}

#[tokio::test]
async fn two_processes_started_together_share_one_key_set() {
    let store = MemoryKeyStore::new();
    let (a, b) = tokio::join!(
        ManagedKeys::start(store.clone(), week()),
        ManagedKeys::start(store.clone(), week())
    );
    assert_eq!(a.key_set().kids(), b.key_set().kids());
    assert_eq!(a.key_set().kids().len(), 1);
    let from_a = sign(&a.key_set(), Duration::from_secs(60)).expect("sign a");
    let from_b = sign(&b.key_set(), Duration::from_secs(60)).expect("sign b");
    assert_eq!(
        b.verifier()
            .verify(&from_a)
            .await
            .expect("b verifies a")
            .sub,
        "user-1"
    );
    assert_eq!(
        a.verifier()
            .verify(&from_b)
            .await
            .expect("a verifies b")
            .sub,
        "user-1"
    );
}

#[tokio::test]
async fn an_unknown_kid_reloads_at_once_and_rotation_happens_once() {
    let store = MemoryKeyStore::new();
    let config = ManagedKeysConfig::new(Duration::from_secs(1), Duration::from_secs(60))
        // No background maintenance within this test: only explicit calls and reloads.
        .with_maintain_period(Duration::from_secs(600))
        .reload_cooldown(Duration::from_millis(100));
    let a = ManagedKeys::start(store.clone(), config.clone()).await;
    let b = ManagedKeys::start(store.clone(), config).await;
    let k1 = a.key_set().signing_kid().expect("k1");
    let verifier_b = b.verifier();

    tokio::time::sleep(Duration::from_millis(1_050)).await;
    // Both processes find the key due; the compare-and-set lets exactly one rotate.
    let (ra, rb) = tokio::join!(a.maintain(), b.maintain());
    ra.expect("a");
    rb.expect("b");
    let set = store.load().await.expect("load").expect("set");
    assert_eq!(set.keys.len(), 2, "{set:?}");
    assert_eq!(set.version, 2, "one rotation, written once");
    assert_eq!(a.key_set().signing_kid(), b.key_set().signing_kid());
    let k2 = a.key_set().signing_kid().expect("k2");
    assert_ne!(k1, k2);

    // A third process rotates later; `b` meets its kid first in a token.
    tokio::time::sleep(Duration::from_millis(1_050)).await;
    let c = ManagedKeys::start(store.clone(), a.config().clone()).await;
    let k3 = c.key_set().signing_kid().expect("k3");
    assert_ne!(k3, k2);
    assert_eq!(b.key_set().signing_kid().as_deref(), Some(k2.as_str()));
    let token = sign(&c.key_set(), Duration::from_secs(60)).expect("sign");
    assert_eq!(kid_of(&token), k3);
    assert_eq!(
        verifier_b.verify_sync(&token),
        Err(VerifyError::Invalid(InvalidReason::UnknownKid)),
        "not known before the reload"
    );
    assert_eq!(
        verifier_b.verify(&token).await.expect("reloaded").sub,
        "user-1"
    );
    assert_eq!(b.key_set().signing_kid().as_deref(), Some(k3.as_str()));

    // A kid that does not exist stays unknown (and costs at most one reload per cool-down).
    let stranger = KeySet::new(
        tower_session_refresh::keys::SigningKey::generate_ed25519("stranger").expect("key"),
    );
    let forged = sign(&stranger, Duration::from_secs(60)).expect("sign");
    assert_eq!(
        verifier_b.verify(&forged).await,
        Err(VerifyError::Invalid(InvalidReason::UnknownKid))
    );
}

/// A key store that can be switched off, around a memory store.
#[derive(Clone, Default)]
struct Switchable {
    inner: MemoryKeyStore,
    down: Arc<AtomicBool>,
}

impl Switchable {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::new(
                StoreErrorKind::Unavailable,
                "connection refused",
            ))
        } else {
            Ok(())
        }
    }
}

impl KeyStore for Switchable {
    fn load(&self) -> KeyStoreFuture<'_, Option<StoredKeySet>> {
        Box::pin(async move {
            self.check()?;
            self.inner.load().await
        })
    }
    fn put_if_version<'a>(
        &'a self,
        expected: Option<u64>,
        new: &'a StoredKeySet,
    ) -> KeyStoreFuture<'a, bool> {
        Box::pin(async move {
            self.check()?;
            self.inner.put_if_version(expected, new).await
        })
    }
}

#[tokio::test]
async fn a_store_down_at_start_answers_unavailable_until_it_is_back() {
    let store = Switchable::default();
    store.down.store(true, Ordering::SeqCst);
    let started = Instant::now();
    let keys = ManagedKeys::start(store.clone(), week()).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "start does not wait for the store"
    );
    assert!(!keys.is_ready());
    assert_eq!(
        sign(&keys.key_set(), Duration::from_secs(60)),
        Err(TokenError::NoSigningKey)
    );
    assert_eq!(keys.key_set().jwks_json(), r#"{"keys":[]}"#);

    // Tokens cannot be checked either: 503, not 401 (an outage signs nobody out).
    let other = ManagedKeys::start(MemoryKeyStore::new(), week()).await;
    let token = sign(&other.key_set(), Duration::from_secs(60)).expect("sign");
    assert!(matches!(
        keys.verifier().verify(&token).await,
        Err(VerifyError::KeysUnavailable(_))
    ));

    // Still down a while later: the background task keeps retrying without giving up.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!keys.is_ready());

    store.down.store(false, Ordering::SeqCst);
    tokio::time::timeout(Duration::from_secs(5), keys.wait_ready())
        .await
        .expect("ready once the store is back");
    let token = sign(&keys.key_set(), Duration::from_secs(60)).expect("signs now");
    assert_eq!(
        keys.verifier().verify(&token).await.expect("verifies").sub,
        "user-1"
    );
}

#[cfg(feature = "remote-jwks")]
mod over_http {
    use super::*;
    use tower_session_refresh::jwks::{JwksService, RemoteJwks};

    async fn serve_jwks(keys: KeySet) -> String {
        let service = JwksService::builder(keys)
            .max_age(Duration::ZERO)
            .build()
            .expect("jwks");
        let app = axum::Router::new().route_service("/auth/jwt/jwks.json", service);
        let addr = tower_session_testkit::serve::serve(app).await;
        format!("http://{addr}/auth/jwt/jwks.json")
    }

    /// The kids the JWKS lists, fetched over HTTP by an independent client.
    async fn published(url: &str) -> Vec<String> {
        let jwks = RemoteJwks::builder(url)
            .allow_insecure_http(true)
            .build()
            .expect("url");
        jwks.refresh().await.expect("fetch");
        jwks.kids()
    }

    #[tokio::test]
    async fn rotation_keeps_old_tokens_valid_until_they_expire_and_verifiers_follow() {
        let access = Duration::from_secs(1);
        let config = ManagedKeysConfig::new(Duration::from_secs(2), access)
            .with_maintain_period(Duration::from_millis(100))
            .reload_cooldown(Duration::from_millis(50));
        let store = MemoryKeyStore::new();
        let auth = ManagedKeys::start(store.clone(), config).await;
        let keys = auth.key_set();
        let url = serve_jwks(keys.clone()).await;
        let k1 = keys.signing_kid().expect("k1");
        assert_eq!(published(&url).await, vec![k1.clone()]);

        // A verify-only API server on another port: keys from the JWKS only.
        let remote = RemoteJwks::builder(&url)
            .allow_insecure_http(true)
            .cooldown(Duration::from_millis(50))
            .build()
            .expect("remote");
        let api_verifier = tower_session_refresh::token::AccessTokenVerifier::new(remote);
        let first = sign(&keys, access).expect("sign");
        api_verifier.verify(&first).await.expect("api verifies k1");

        // The last token k1 signs, shortly before the rotation.
        let k1_entry = store.load().await.expect("load").expect("set").keys[0].clone();
        let before = k1_entry
            .retire_at()
            .checked_sub(Duration::from_millis(250))
            .expect("time");
        if let Ok(wait) = before.duration_since(SystemTime::now()) {
            tokio::time::sleep(wait).await;
        }
        let old = sign(&keys, access).expect("sign");
        assert_eq!(kid_of(&old), k1);
        let old_exp =
            UNIX_EPOCH + Duration::from_secs(auth.verifier().verify_sync(&old).expect("valid").exp);

        eventually("rotation", Duration::from_secs(3), || {
            keys.signing_kid().as_deref() != Some(k1.as_str())
        })
        .await;
        let k2 = keys.signing_kid().expect("k2");
        let listed = published(&url).await;
        assert!(listed.contains(&k1) && listed.contains(&k2), "{listed:?}");
        assert_eq!(listed[0], k2, "the signing key first");

        let new = sign(&keys, access).expect("sign");
        assert_eq!(kid_of(&new), k2);
        // The API server meets k2 for the first time: refetch on unknown kid, no restart.
        api_verifier.verify(&new).await.expect("api verifies k2");
        // The old token still verifies everywhere until it expires.
        auth.verifier()
            .verify(&old)
            .await
            .expect("auth verifies old");
        api_verifier.verify(&old).await.expect("api verifies old");

        // Then it expires (still "expired", not "unknown key": the key outlives its tokens).
        let expired_at = UNIX_EPOCH + Duration::from_secs(now_secs() + 3);
        assert_eq!(
            auth.verifier().verify_at(&old, expired_at).await,
            Err(VerifyError::Expired)
        );

        // And k1 leaves the key set and the JWKS once no token it signed can be valid.
        let dropped_by = k1_entry.retire_at() + Duration::from_secs(5);
        let mut listed = published(&url).await;
        while listed.contains(&k1) {
            assert!(
                SystemTime::now() < dropped_by,
                "k1 still listed: {listed:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
            listed = published(&url).await;
        }
        assert!(keys.key(&k1).is_none());
        let stored = store.load().await.expect("load").expect("set");
        assert!(stored.keys.iter().all(|k| k.kid() != k1), "{stored:?}");
        // k1 was dropped no earlier than its last token's expiry.
        assert!(SystemTime::now() >= old_exp);
        assert!(api_verifier.verify(&old).await.is_err());
        // The newest key verifies on both sides throughout.
        let newest = sign(&keys, access).expect("sign");
        api_verifier.verify(&newest).await.expect("api follows");
    }
}
