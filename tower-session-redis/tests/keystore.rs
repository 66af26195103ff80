//! `ManagedKeys` on Redis (127.0.0.1:6379, or `REDIS_URL`): two auth processes on one
//! Redis, a restarted auth process, and a Redis that is down when the process starts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::{Method, StatusCode};
use redis::Commands;
use tower_session_redis::{RedisKeyStore, RedisKeyStoreConfig, RedisStore, RedisStoreConfig};
use tower_session_refresh::keystore::{KeyStore, ManagedKeys, ManagedKeysConfig};
use tower_session_refresh::session::SessionConfig;
use tower_session_refresh::store::SessionStore;
use tower_session_refresh::token::{
    refresh_token_hash, AccessTokenClaims, TokenError, VerifyError,
};
use tower_session_testkit::auth::{auth_app, cookie_config, API};
use tower_session_testkit::browser::Browser;
use tower_session_testkit::redis::OwnRedis;
use tower_session_testkit::serve::serve;

fn url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn unique(what: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{what}-{}-{nanos:x}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A unique key prefix; every key under it is deleted (SCAN + DEL) when dropped.
struct Prefix {
    url: String,
    prefix: String,
}

impl Prefix {
    fn new() -> Self {
        Self {
            url: url(),
            prefix: format!("{}:", unique("tsr-keystore-test")),
        }
    }

    fn key_store(&self) -> RedisKeyStore {
        RedisKeyStore::new(&self.url, RedisKeyStoreConfig::new(self.prefix.clone()))
            .expect("key store")
    }

    async fn session_store(&self) -> RedisStore {
        RedisStore::connect(&self.url, RedisStoreConfig::new(self.prefix.clone()))
            .await
            .expect("session store")
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(self.url.as_str()) else {
            return;
        };
        let Ok(mut connection) = client.get_connection() else {
            return;
        };
        let keys: Vec<String> =
            match connection.scan_match::<_, String>(format!("{}*", self.prefix)) {
                Ok(iter) => iter.filter_map(Result::ok).collect(),
                Err(_) => return,
            };
        for chunk in keys.chunks(500) {
            let _: Result<(), _> = connection.del(chunk);
        }
    }
}

fn week() -> ManagedKeysConfig {
    ManagedKeysConfig::new(Duration::from_secs(604_800), Duration::from_secs(3600))
}

fn sign(keys: &tower_session_refresh::keys::KeySet) -> Result<String, TokenError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    keys.sign(&AccessTokenClaims::new(
        "user-1",
        "handle-1",
        refresh_token_hash("rt"),
        now,
        60,
    ))
}

/// One auth process: managed keys on Redis, sessions on Redis, served on 127.0.0.1.
struct AuthProcess {
    addr: std::net::SocketAddr,
    keys: ManagedKeys,
}

async fn auth_process(prefix: &Prefix, config: ManagedKeysConfig) -> AuthProcess {
    let keys = ManagedKeys::start(prefix.key_store(), config).await;
    assert!(keys.is_ready(), "redis is up: keys load at start");
    let store: Arc<dyn SessionStore> = Arc::new(prefix.session_store().await);
    let session = SessionConfig::builder(cookie_config())
        .api_domain(API)
        .keys(keys.key_set())
        .verifier(keys.verifier())
        .shared_store(store)
        .build()
        .expect("session config");
    let addr = serve(auth_app(session, keys.key_set())).await;
    AuthProcess { addr, keys }
}

#[tokio::test]
async fn two_processes_starting_at_the_same_instant_create_one_key_set() {
    let prefix = Prefix::new();
    for _ in 0..5 {
        let round = Prefix::new();
        let (a, b, c) = tokio::join!(
            ManagedKeys::start(round.key_store(), week()),
            ManagedKeys::start(round.key_store(), week()),
            ManagedKeys::start(round.key_store(), week()),
        );
        let kids = a.key_set().kids();
        assert_eq!(kids.len(), 1);
        assert_eq!(b.key_set().kids(), kids);
        assert_eq!(c.key_set().kids(), kids);
        let stored = round.key_store().load().await.expect("load").expect("set");
        assert_eq!(stored.version, 1, "created once");
    }

    // The layout: one hash, `version` and `set`, nothing else under the prefix.
    let keys = ManagedKeys::start(prefix.key_store(), week()).await;
    let mut connection = redis::Client::open(url())
        .expect("url")
        .get_connection()
        .expect("connection");
    let fields: std::collections::BTreeMap<String, String> = connection
        .hgetall(format!("{}keys", prefix.prefix))
        .expect("hgetall");
    assert_eq!(fields.keys().collect::<Vec<_>>(), ["set", "version"]);
    assert_eq!(fields["version"], "1");
    let set: serde_json::Value = serde_json::from_str(&fields["set"]).expect("json");
    assert_eq!(
        set["keys"][0]["kid"].as_str(),
        keys.key_set().signing_kid().as_deref()
    );
}

#[tokio::test]
async fn two_auth_processes_on_one_redis_verify_each_others_tokens() {
    let prefix = Prefix::new();
    let (a, b) = tokio::join!(auth_process(&prefix, week()), auth_process(&prefix, week()));
    assert_eq!(a.keys.key_set().kids(), b.keys.key_set().kids());

    // Signed in on A: B's protected API accepts it, and B refreshes it.
    let mut browser = Browser::header_mode(a.addr);
    assert_eq!(
        browser.send(Method::POST, "/login").await.status,
        StatusCode::OK
    );
    let mut on_b = browser.at(b.addr);
    assert_eq!(on_b.me().await.status, StatusCode::OK);
    assert_eq!(
        on_b.send(Method::POST, "/auth/session/refresh")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(on_b.me().await.status, StatusCode::OK);
    // Signed in on B: A accepts it.
    let mut browser = Browser::cookie_mode(b.addr);
    assert_eq!(
        browser.send(Method::POST, "/login").await.status,
        StatusCode::OK
    );
    assert_eq!(browser.at(a.addr).me().await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_restarted_auth_process_verifies_its_old_tokens_and_refreshes() {
    let prefix = Prefix::new();
    let before = auth_process(&prefix, week()).await;
    let mut browser = Browser::header_mode(before.addr);
    assert_eq!(
        browser.send(Method::POST, "/login").await.status,
        StatusCode::OK
    );
    assert_eq!(browser.me().await.status, StatusCode::OK);
    let kid = before.keys.key_set().signing_kid();
    drop(before); // the old server keeps its port; the new process is a fresh set of objects

    let after = auth_process(&prefix, week()).await;
    assert_eq!(
        after.keys.key_set().signing_kid(),
        kid,
        "same keys after the restart"
    );
    let mut browser = browser.at(after.addr);
    assert_eq!(
        browser.me().await.status,
        StatusCode::OK,
        "old token verifies"
    );
    let old_access = browser.access_token();
    assert_eq!(
        browser
            .send(Method::POST, "/auth/session/refresh")
            .await
            .status,
        StatusCode::OK
    );
    assert_ne!(browser.access_token(), old_access, "a new access token");
    assert_eq!(browser.me().await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_redis_down_at_start_means_503_until_it_is_back() {
    let mut redis = OwnRedis::new();
    let store = RedisKeyStore::new(&redis.url(), RedisKeyStoreConfig::default()).expect("url");
    let started = Instant::now();
    let keys = ManagedKeys::start(store, week()).await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "start does not hang"
    );
    assert!(!keys.is_ready());
    assert_eq!(sign(&keys.key_set()), Err(TokenError::NoSigningKey));
    assert!(
        TokenError::NoSigningKey
            .to_string()
            .contains("no signing key"),
        "a clear error"
    );
    let elsewhere = ManagedKeys::start(
        tower_session_refresh::keystore::MemoryKeyStore::new(),
        week(),
    )
    .await;
    let token = sign(&elsewhere.key_set()).expect("sign");
    assert!(matches!(
        keys.verifier().verify(&token).await,
        Err(VerifyError::KeysUnavailable(_))
    ));

    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!keys.is_ready(), "still down");
    redis.start();
    tokio::time::timeout(Duration::from_secs(10), keys.wait_ready())
        .await
        .expect("keys load once redis is up");
    let token = sign(&keys.key_set()).expect("signs now");
    assert_eq!(
        keys.verifier().verify(&token).await.expect("verifies").sub,
        "user-1"
    );
}

#[tokio::test]
async fn two_processes_rotating_on_one_redis_rotate_once_per_interval() {
    let prefix = Prefix::new();
    let config = ManagedKeysConfig::new(Duration::from_secs(1), Duration::from_secs(1))
        .with_maintain_period(Duration::from_millis(50));
    let (a, b) = tokio::join!(
        ManagedKeys::start(prefix.key_store(), config.clone()),
        ManagedKeys::start(prefix.key_store(), config.clone()),
    );
    tokio::time::sleep(Duration::from_millis(2_600)).await;
    let stored = prefix.key_store().load().await.expect("load").expect("set");
    // Two rotations in 2.6 s, whichever process made them: never two keys for one turn.
    let created: Vec<SystemTime> = stored.keys.iter().map(|k| k.created_at()).collect();
    for pair in created.windows(2) {
        let gap = pair[1].duration_since(pair[0]).expect("creation order");
        assert!(
            gap >= Duration::from_millis(990),
            "double rotation: {stored:?}"
        );
    }
    assert!(stored.keys.len() >= 2, "rotated: {stored:?}");
    // Both processes converge on the stored signing key (within a maintenance period or
    // two; a new rotation may land meanwhile, hence the retries).
    let mut converged = false;
    for _ in 0..20 {
        let stored = prefix.key_store().load().await.expect("load").expect("set");
        let signer = stored.signing().map(|k| k.kid().to_owned());
        if a.key_set().signing_kid() == signer && b.key_set().signing_kid() == signer {
            converged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert!(converged, "both processes sign with the stored signing key");
    // Each verifies the other's newest tokens.
    let from_a = sign(&a.key_set()).expect("a signs");
    let from_b = sign(&b.key_set()).expect("b signs");
    b.verifier().verify(&from_a).await.expect("b verifies a");
    a.verifier().verify(&from_b).await.expect("a verifies b");
}
