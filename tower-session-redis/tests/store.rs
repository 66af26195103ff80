//! `RedisStore` against a real Redis (127.0.0.1:6379, or `REDIS_URL`): the conformance
//! suite, two stores sharing one Redis, an outage of a Redis this test starts itself, and
//! expiry of sessions and user indexes.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use redis::Commands;
use serde_json::{json, Map};
use tower_session_redis::{RedisStore, RedisStoreConfig};
use tower_session_refresh::store::{
    conformance, NewSession, Presented, PromoteOutcome, RotateOutcome, SessionStore, StoreErrorKind,
};
use tower_session_testkit::redis::OwnRedis;

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

fn hash(label: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, label.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The family hash of every session these tests create.
fn family() -> String {
    hash("family")
}

/// The token `label` of generation `generation`, in the tests' family.
fn token(label: &str, generation: u64) -> (String, u64, String) {
    (hash(label), generation, family())
}

fn presented(token: &(String, u64, String)) -> Presented<'_> {
    Presented {
        hash: &token.0,
        generation: token.1,
        family_hash: &token.2,
    }
}

fn later(secs: u64) -> SystemTime {
    SystemTime::now() + Duration::from_secs(secs)
}

/// Deletes every key of one test run's prefix when dropped (also when the test panics).
struct Prefix {
    url: String,
    prefix: String,
}

impl Prefix {
    fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            prefix: format!("{}:", unique("tsr-test")),
        }
    }

    fn config(&self) -> RedisStoreConfig {
        RedisStoreConfig::new(self.prefix.clone())
    }

    fn keys(&self) -> Vec<String> {
        let mut connection = sync_connection(&self.url);
        let keys: Vec<String> = connection
            .scan_match::<_, String>(format!("{}*", self.prefix))
            .expect("scan")
            .map(|k| k.expect("scan key"))
            .collect();
        keys
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

fn sync_connection(url: &str) -> redis::Connection {
    redis::Client::open(url)
        .expect("redis url")
        .get_connection()
        .expect("redis connection")
}

async fn store(prefix: &Prefix) -> RedisStore {
    RedisStore::connect(&url(), prefix.config())
        .await
        .expect("connect to redis")
}

async fn create(store: &RedisStore, user: &str, first: &str, expires_at: SystemTime) -> String {
    let handle = unique("h");
    store
        .create(NewSession {
            handle: handle.clone(),
            user_id: user.to_owned(),
            tenant_id: "public".to_owned(),
            payload: Some(Map::from_iter([("role".to_owned(), json!("admin"))])),
            refresh_hash: hash(first),
            family_hash: family(),
            expires_at,
            session_data: Default::default(),
        })
        .await
        .expect("create");
    handle
}

async fn rotate(
    store: &RedisStore,
    handle: &str,
    (label, generation): (&str, u64),
    child: impl AsRef<str>,
) -> RotateOutcome {
    let child = child.as_ref();
    let token = token(label, generation);
    store
        .rotate(handle, presented(&token), &hash(child), later(600))
        .await
        .expect("rotate")
}

#[tokio::test]
async fn redis_store_passes_the_conformance_suite() {
    let prefix = Prefix::new(&url());
    let store = store(&prefix).await;
    conformance::run_all(&store).await;
    drop(store);
    drop(prefix);
}

#[tokio::test]
async fn cleanup_removes_every_key_of_the_prefix() {
    let prefix = Prefix::new(&url());
    let store = store(&prefix).await;
    create(&store, &unique("u"), "rt0", later(600)).await;
    assert_eq!(prefix.keys().len(), 2, "one session key and one user index");
    let (url, name) = (prefix.url.clone(), prefix.prefix.clone());
    drop(prefix);
    let left: Vec<String> = sync_connection(&url)
        .scan_match::<_, String>(format!("{name}*"))
        .expect("scan")
        .map(|k| k.expect("key"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn session_layout_is_compact_versioned_and_hash_tagged() {
    let prefix = Prefix::new(&url());
    let store = store(&prefix).await;
    let user = unique("u");
    let handle = create(&store, &user, "rt0", later(600)).await;
    assert!(matches!(
        rotate(&store, &handle, ("rt0", 0), "rt1").await,
        RotateOutcome::Rotated { .. }
    ));

    let key = store.session_key(&handle);
    assert_eq!(key, format!("{}s:{{{handle}}}", prefix.prefix));
    assert_eq!(
        store.user_key(&user),
        format!("{}u:{{{user}}}", prefix.prefix)
    );

    let mut connection = sync_connection(&url());
    let fields: std::collections::BTreeMap<String, String> =
        connection.hgetall(&key).expect("hgetall");
    let names: Vec<&str> = fields.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["c", "e", "f", "g", "h", "k", "p", "t", "u", "v", "x"]
    );
    assert_eq!(fields["v"], "2");
    assert_eq!(fields["u"], user);
    assert_eq!(fields["t"], "public");
    assert_eq!(fields["f"], family());
    assert_eq!(fields["h"], hash("rt0"));
    assert_eq!(fields["g"], "0");
    assert_eq!(fields["c"], format!("[\"{}\"]", hash("rt1")));
    let size: usize = fields.iter().map(|(k, v)| k.len() + v.len()).sum();
    assert!(size < 450, "compact: {size} bytes");

    // A second child, then the first one's use: a promotion, one generation on. Nothing
    // is kept of the rotated-away tokens.
    for (presented, child) in [(("rt0", 0), "rt1b"), (("rt1", 1), "rt2")] {
        assert!(matches!(
            rotate(&store, &handle, presented, child).await,
            RotateOutcome::Rotated { .. }
        ));
    }
    let fields: std::collections::BTreeMap<String, String> =
        connection.hgetall(&key).expect("hgetall");
    assert_eq!(fields["h"], hash("rt1"));
    assert_eq!(fields["g"], "1");
    assert_eq!(fields["c"], format!("[\"{}\"]", hash("rt2")));
    let names: Vec<&str> = fields.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["c", "e", "f", "g", "h", "k", "p", "t", "u", "v", "x"]
    );

    // 200 rotations later the session is no bigger.
    for g in 2..202u64 {
        let (presented_label, child) = (format!("rt{g}"), format!("rt{}", g + 1));
        assert!(matches!(
            rotate(&store, &handle, (&presented_label, g), child).await,
            RotateOutcome::Rotated { .. }
        ));
    }
    let fields: std::collections::BTreeMap<String, String> =
        connection.hgetall(&key).expect("hgetall");
    assert_eq!(fields["g"], "201");
    let after: usize = fields.iter().map(|(k, v)| k.len() + v.len()).sum();
    assert!(after <= size + 2, "bounded: {size} then {after} bytes");

    // An unknown layout version is refused, not misread.
    let _: () = connection.hset(&key, "v", "3").expect("hset");
    let err = store.get(&handle).await.expect_err("version 3 is unknown");
    assert_eq!(err.kind(), StoreErrorKind::Corrupt);
    let t = token("rt0", 0);
    let err = store
        .rotate(&handle, presented(&t), &hash("x"), later(600))
        .await
        .expect_err("version 3 is unknown");
    assert_eq!(err.kind(), StoreErrorKind::Corrupt);

    // A foreign value under a session key is refused too.
    let _: () = connection.set(&key, "not a hash").expect("set");
    let err = store
        .get(&handle)
        .await
        .expect_err("a string is no session");
    assert_eq!(err.kind(), StoreErrorKind::Corrupt);
    let err = store
        .revoke(&handle)
        .await
        .expect_err("a string is no session");
    assert_eq!(err.kind(), StoreErrorKind::Corrupt);
}

#[tokio::test]
async fn prefix_with_braces_is_refused() {
    let err = RedisStore::lazy(&url(), RedisStoreConfig::new("a{b}:")).expect_err("braces");
    assert_eq!(err.kind(), StoreErrorKind::Unavailable);
}

/// Two auth processes (two stores, two connections) on one Redis behave like one.
#[tokio::test]
async fn two_stores_on_one_redis_behave_like_one() {
    let prefix = Prefix::new(&url());
    let a = store(&prefix).await;
    let b = store(&prefix).await;
    let handle = create(&a, &unique("u"), "rt0", later(600)).await;

    // 50 refreshes from one parent, split across A and B, all at once.
    let children: Vec<String> = (0..50).map(|i| format!("child-{i}")).collect();
    let outcomes = futures_util::future::join_all(children.iter().enumerate().map(|(i, c)| {
        let store = if i % 2 == 0 { &a } else { &b };
        rotate(store, &handle, ("rt0", 0), c)
    }))
    .await;
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, RotateOutcome::Rotated { .. })),
        "no false theft: {outcomes:?}"
    );

    // One child's token, used 50 times at once on both stores (lost responses, tabs sharing
    // one cookie jar): one use promotes it, the others find it the head: all succeed.
    let chosen = &children[31];
    let uses = futures_util::future::join_all((0..50).map(|i| {
        let store = if i % 2 == 0 { &b } else { &a };
        rotate(store, &handle, (chosen, 1), format!("next-{i}"))
    }))
    .await;
    assert!(
        uses.iter()
            .all(|o| matches!(o, RotateOutcome::Rotated { .. })),
        "no false theft while a child is promoted: {uses:?}"
    );

    // One family, seen the same from both stores: the chosen child is the head and its
    // own children are pending.
    for store in [&a, &b] {
        assert_eq!(
            store
                .promote(&handle, &hash("rt0"), &hash(chosen))
                .await
                .expect("promote"),
            PromoteOutcome::AlreadyPromoted,
            "the chosen child is the head on both stores"
        );
    }

    // An API call with one of the head's 50 children decides nothing, on either store;
    // a refresh with it on A promotes it; the head, now rotated away, replayed on B is
    // theft.
    for store in [&a, &b] {
        assert_eq!(
            store
                .promote(&handle, &hash(chosen), &hash("next-7"))
                .await
                .expect("promote"),
            PromoteOutcome::Deferred
        );
    }
    assert!(matches!(
        rotate(&a, &handle, ("next-7", 2), "next-8").await,
        RotateOutcome::Rotated { .. }
    ));
    assert_eq!(
        b.promote(&handle, &hash(chosen), &hash("next-7"))
            .await
            .expect("promote"),
        PromoteOutcome::AlreadyPromoted
    );
    assert!(matches!(
        rotate(&b, &handle, (chosen, 1), "stolen").await,
        RotateOutcome::Theft { .. }
    ));
    assert!(a.get(&handle).await.expect("get").is_none());
    assert!(b.get(&handle).await.expect("get").is_none());
    assert_eq!(
        rotate(&a, &handle, ("next-8", 3), "x").await,
        RotateOutcome::Unauthorised,
        "revoked for both"
    );
}

/// Siblings issued on two stores: once one is used on A, another presented on B is theft.
#[tokio::test]
async fn sibling_on_b_after_promotion_on_a_is_theft() {
    let prefix = Prefix::new(&url());
    let a = store(&prefix).await;
    let b = store(&prefix).await;
    let user = unique("u");
    let handle = create(&a, &user, "rt0", later(600)).await;
    assert!(matches!(
        rotate(&a, &handle, ("rt0", 0), "from-a").await,
        RotateOutcome::Rotated { .. }
    ));
    assert!(matches!(
        rotate(&b, &handle, ("rt0", 0), "from-b").await,
        RotateOutcome::Rotated { .. }
    ));
    assert!(matches!(
        rotate(&a, &handle, ("from-a", 1), "a2").await,
        RotateOutcome::Rotated { .. }
    ));
    assert_eq!(
        rotate(&b, &handle, ("from-b", 1), "b2").await,
        RotateOutcome::Theft { user_id: user }
    );
    assert!(a.get(&handle).await.expect("get").is_none());
}

/// An older token replayed on B right after A promoted its child is theft.
#[tokio::test]
async fn replay_on_b_after_promotion_on_a_is_theft() {
    let prefix = Prefix::new(&url());
    let a = store(&prefix).await;
    let b = store(&prefix).await;
    let user = unique("u");
    let handle = create(&a, &user, "rt0", later(600)).await;
    assert!(matches!(
        rotate(&b, &handle, ("rt0", 0), "rt1").await,
        RotateOutcome::Rotated { .. }
    ));
    assert!(matches!(
        rotate(&a, &handle, ("rt1", 1), "rt2").await,
        RotateOutcome::Rotated { .. }
    ));
    assert_eq!(
        rotate(&b, &handle, ("rt0", 0), "evil").await,
        RotateOutcome::Theft {
            user_id: user.clone()
        }
    );
    assert!(a.get(&handle).await.expect("get").is_none());
    assert!(a.list(&user).await.expect("list").is_empty());
    let mut connection = sync_connection(&url());
    let member: Option<f64> = connection
        .zscore(a.user_key(&user), &handle)
        .expect("zscore");
    assert_eq!(
        member, None,
        "theft removes the session from its user index"
    );
}

/// The session key expires with the refresh token, and so does its user-index entry.
#[tokio::test]
async fn expired_session_is_gone_from_redis_and_from_its_user_index() {
    let prefix = Prefix::new(&url());
    let store = store(&prefix).await;
    let user = unique("u");
    let handle = create(
        &store,
        &user,
        "rt0",
        SystemTime::now() + Duration::from_millis(1200),
    )
    .await;
    let mut connection = sync_connection(&url());
    let session_key = store.session_key(&handle);
    let user_key = store.user_key(&user);
    let ttl: i64 = connection.pttl(&session_key).expect("pttl");
    assert!(
        ttl > 0 && ttl <= 1200,
        "session TTL follows the expiry: {ttl}"
    );
    let ttl: i64 = connection.pttl(&user_key).expect("pttl");
    assert!(
        ttl > 0 && ttl <= 1200,
        "index TTL follows its last member: {ttl}"
    );

    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Redis itself dropped both keys: nothing called the store in between.
    let exists: (bool, bool) = redis::pipe()
        .exists(&session_key)
        .exists(&user_key)
        .query(&mut connection)
        .expect("exists");
    assert_eq!(exists, (false, false));
    assert!(store.get(&handle).await.expect("get").is_none());
    assert!(store.list(&user).await.expect("list").is_empty());
    assert!(store
        .revoke_all(&user)
        .await
        .expect("revoke_all")
        .is_empty());
}

/// Expired members of a user index are removed when the index is next written, so an
/// active user's index holds only (about) their live sessions.
#[tokio::test]
async fn user_index_drops_expired_members() {
    let prefix = Prefix::new(&url());
    let store = store(&prefix).await;
    let user = unique("u");
    for i in 0..20 {
        create(
            &store,
            &user,
            &format!("short-{i}"),
            SystemTime::now() + Duration::from_millis(300),
        )
        .await;
    }
    let long = create(&store, &user, "long", later(600)).await;
    let mut connection = sync_connection(&url());
    let members: usize = connection.zcard(store.user_key(&user)).expect("zcard");
    assert_eq!(members, 21);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let fresh = create(&store, &user, "fresh", later(600)).await;
    let mut members: Vec<String> = connection
        .zrange(store.user_key(&user), 0, -1)
        .expect("zrange");
    members.sort();
    let mut expected = vec![long, fresh];
    expected.sort();
    assert_eq!(members, expected);
}

/// Rotation slides the session's expiry; the user index follows, so a session kept alive by
/// refreshes stays listed and revocable after its first expiry has passed.
#[tokio::test]
async fn rotation_slides_expiry_and_the_index_follows() {
    let prefix = Prefix::new(&url());
    let store = store(&prefix).await;
    let user = unique("u");
    let handle = create(
        &store,
        &user,
        "rt0",
        SystemTime::now() + Duration::from_millis(800),
    )
    .await;
    assert!(matches!(
        rotate(&store, &handle, ("rt0", 0), "rt1").await,
        RotateOutcome::Rotated { .. }
    ));
    let mut connection = sync_connection(&url());
    let ttl: i64 = connection.pttl(store.session_key(&handle)).expect("pttl");
    assert!(ttl > 590_000, "TTL slid to the new expiry: {ttl}");
    let score: f64 = connection
        .zscore(store.user_key(&user), &handle)
        .expect("zscore");
    let new_expiry = later(600)
        .duration_since(UNIX_EPOCH)
        .expect("epoch")
        .as_millis() as f64;
    assert!(
        score >= new_expiry - 5_000.0,
        "index score raised past the new expiry"
    );

    tokio::time::sleep(Duration::from_millis(1000)).await;
    let listed = store.list(&user).await.expect("list");
    assert_eq!(listed.len(), 1, "still listed after the first expiry");
    assert_eq!(
        store.revoke_all(&user).await.expect("revoke_all"),
        vec![handle.clone()]
    );
    assert!(store.get(&handle).await.expect("get").is_none());
}

/// Every operation, each expected to fail with a `StoreError` within `budget`.
async fn assert_all_fail_fast(store: &RedisStore, handle: &str, budget: Duration) {
    let started = Instant::now();
    let errors = [
        store
            .create(NewSession {
                handle: handle.to_owned(),
                user_id: "u".into(),
                tenant_id: "public".into(),
                payload: None,
                refresh_hash: hash("rt0"),
                family_hash: family(),
                expires_at: later(600),
                session_data: Default::default(),
            })
            .await
            .err(),
        store.get(handle).await.err(),
        store
            .rotate(
                handle,
                presented(&token("rt0", 0)),
                &hash("rt1"),
                later(600),
            )
            .await
            .err(),
        store
            .promote(handle, &hash("rt0"), &hash("rt1"))
            .await
            .err(),
        store.revoke(handle).await.err(),
        store.revoke_all("u").await.err(),
        store.list("u").await.err(),
        store.update_payload(handle, Map::new()).await.err(),
    ];
    let elapsed = started.elapsed();
    for (i, error) in errors.iter().enumerate() {
        let error = error
            .as_ref()
            .unwrap_or_else(|| panic!("operation {i} succeeded with Redis down"));
        assert!(
            matches!(
                error.kind(),
                StoreErrorKind::Unavailable | StoreErrorKind::Timeout
            ),
            "operation {i}: {error}"
        );
    }
    assert!(
        elapsed <= budget * errors.len() as u32,
        "{} operations took {elapsed:?}",
        errors.len()
    );
}

/// Polls until `get` answers (the store reconnects by itself), at most 10 s.
async fn wait_until_serving(store: &RedisStore) -> Duration {
    let started = Instant::now();
    loop {
        if store.get("probe").await.is_ok() {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "store did not come back after Redis restarted"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn outage_answers_store_errors_in_time_and_the_same_store_recovers() {
    let mut redis = OwnRedis::new();
    let config = RedisStoreConfig {
        prefix: "outage:".into(),
        response_timeout: Duration::from_millis(300),
        connection_timeout: Duration::from_millis(300),
        ..RedisStoreConfig::default()
    };
    // Budget per operation: connecting plus one command, plus scheduling slack.
    let budget = Duration::from_millis(900);

    // Down when the process starts: `connect` fails, `lazy` builds and answers errors.
    let err = RedisStore::connect(&redis.url(), config.clone())
        .await
        .expect_err("nothing listens yet");
    assert!(matches!(
        err.kind(),
        StoreErrorKind::Unavailable | StoreErrorKind::Timeout
    ));
    let store = RedisStore::lazy(&redis.url(), config).expect("lazy store");
    assert_all_fail_fast(&store, "h-outage", budget).await;

    // Redis comes up: the same store serves.
    redis.start();
    wait_until_serving(&store).await;
    let user = "outage-user";
    let handle = create(&store, user, "rt0", later(600)).await;
    assert!(matches!(
        rotate(&store, &handle, ("rt0", 0), "rt1").await,
        RotateOutcome::Rotated { .. }
    ));

    // Redis dies mid-test: every operation fails within its timeout.
    redis.kill();
    assert_all_fail_fast(&store, &handle, budget).await;

    // Redis restarts on the same port (empty: no persistence): the store reconnects.
    redis.start();
    let took = wait_until_serving(&store).await;
    assert!(took < Duration::from_secs(5), "reconnected after {took:?}");
    assert!(store.get(&handle).await.expect("get").is_none());
    let handle = create(&store, user, "rt0", later(600)).await;
    assert!(matches!(
        rotate(&store, &handle, ("rt0", 0), "rt1").await,
        RotateOutcome::Rotated { .. }
    ));
    assert_eq!(store.list(user).await.expect("list").len(), 1);
}

/// Calls per command since the last `CONFIG RESETSTAT`, leaving out the test's own
/// `INFO` and `CONFIG`.
fn command_calls(url: &str) -> std::collections::BTreeMap<String, u64> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut sync_connection(url))
        .expect("info");
    info.lines()
        .filter_map(|line| {
            let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .filter(|(name, _)| !name.starts_with("info") && !name.starts_with("config"))
        .collect()
}

/// A refresh is one `EVALSHA`; the user index is written only when the expiry passes the
/// index horizon (on the first refresh, then about once per `index_slack`).
#[tokio::test]
async fn a_refresh_is_one_round_trip() {
    let mut redis = OwnRedis::new();
    redis.start();
    let store = RedisStore::connect(&redis.url(), RedisStoreConfig::new("rt:"))
        .await
        .expect("connect");
    let handle = create(&store, "u", "rt0", later(600)).await;
    // The first refresh moves the expiry past the index score: it raises the horizon.
    let first = store
        .rotate(
            &handle,
            presented(&token("rt0", 0)),
            &hash("first"),
            later(700),
        )
        .await
        .expect("rotate");
    assert!(matches!(first, RotateOutcome::Rotated { .. }));
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(&mut sync_connection(&redis.url()))
        .expect("resetstat");
    for i in 0..10 {
        assert!(matches!(
            rotate(&store, &handle, ("rt0", 0), format!("c{i}")).await,
            RotateOutcome::Rotated { .. }
        ));
    }
    // Redis counts the commands a script runs too: per refresh, one EVALSHA running
    // HMGET + HSET + PEXPIREAT on the session key, and nothing on the user index.
    let calls = command_calls(&redis.url());
    let expected = ["evalsha", "hmget", "hset", "pexpireat"].map(|c| (c.to_owned(), 10));
    assert_eq!(
        calls,
        std::collections::BTreeMap::from(expected),
        "ten refreshes, ten round trips"
    );
}

/// The payload is stored as the JSON the application gave: no number or empty-array
/// mangling through the scripts.
#[tokio::test]
async fn payload_round_trips_exactly() {
    let prefix = Prefix::new(&url());
    let store = store(&prefix).await;
    let payload: Map<String, serde_json::Value> = serde_json::from_value(json!({
        "big": 9_007_199_254_740_993_u64,
        "float": 0.1 + 0.2,
        "empty": [],
        "nested": {"list": [1, "two", null, {}]},
        "unicode": "z\u{00fc}rich \u{1f511}",
    }))
    .expect("payload");
    let handle = create(&store, &unique("u"), "rt0", later(600)).await;
    assert!(store
        .update_payload(&handle, payload.clone())
        .await
        .expect("update"));
    match rotate(&store, &handle, ("rt0", 0), "rt1").await {
        RotateOutcome::Rotated { session, .. } => {
            assert_eq!(session.payload.as_ref(), Some(&payload))
        }
        other => panic!("expected a rotation, got {other:?}"),
    }
    let info = store.get(&handle).await.expect("get").expect("live");
    assert_eq!(info.payload, Some(payload));
}

/// A Redis that hangs (stopped, connection open) makes operations time out, not wait.
#[tokio::test]
async fn hung_redis_times_out_within_the_response_timeout() {
    let mut redis = OwnRedis::new();
    redis.start();
    let config = RedisStoreConfig {
        prefix: "hang:".into(),
        response_timeout: Duration::from_millis(200),
        ..RedisStoreConfig::default()
    };
    let store = RedisStore::connect(&redis.url(), config)
        .await
        .expect("connect");
    let handle = create(&store, "u", "rt0", later(600)).await;
    redis.signal("STOP");
    let started = Instant::now();
    let t = token("rt0", 0);
    let err = store
        .rotate(&handle, presented(&t), &hash("rt1"), later(600))
        .await
        .expect_err("hung redis");
    let took = started.elapsed();
    redis.signal("CONT");
    assert_eq!(err.kind(), StoreErrorKind::Timeout, "{err}");
    assert!(took < Duration::from_millis(600), "took {took:?}");
    wait_until_serving(&store).await;
    assert!(store.get(&handle).await.expect("get").is_some());
}

/// A session written by layout 1 (a bounded `retired` list, before the family secret) is
/// not read: rotation and promotion refuse it as unauthorised with a warning that says the
/// user must sign in again, `get` and `list` do not return it, and revocation deletes it.
#[tokio::test]
async fn sessions_of_layout_1_are_refused_with_a_warning_and_can_be_revoked() {
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let prefix = Prefix::new(&url());
    let store = store(&prefix).await;
    let user = unique("u");
    let handle = unique("h");
    let expires = later(600)
        .duration_since(UNIX_EPOCH)
        .expect("time")
        .as_millis()
        .to_string();
    let mut connection = sync_connection(&url());
    let key = store.session_key(&handle);
    let _: () = connection
        .hset_multiple(
            &key,
            &[
                ("v", "1"),
                ("u", user.as_str()),
                ("t", "public"),
                ("h", hash("rt0").as_str()),
                ("c", "[]"),
                ("r", "[]"),
                ("e", expires.as_str()),
                ("x", expires.as_str()),
            ],
        )
        .expect("hset");
    let _: () = connection
        .zadd(store.user_key(&user), &handle, &expires)
        .expect("zadd");

    assert!(store.get(&handle).await.expect("get").is_none());
    assert!(store.list(&user).await.expect("list").is_empty());
    assert_eq!(
        rotate(&store, &handle, ("rt0", 0), "rt1").await,
        RotateOutcome::Unauthorised
    );
    assert_eq!(
        store
            .promote(&handle, &hash("rt0"), &hash("rt1"))
            .await
            .expect("promote"),
        PromoteOutcome::Unauthorised
    );
    assert!(!store
        .update_payload(&handle, Map::new())
        .await
        .expect("update"));
    let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
    assert_eq!(
        logs.matches("session of store layout 1").count(),
        2,
        "one warning for the rotation, one for the promotion: {logs}"
    );
    assert!(logs.contains("sign in again"), "{logs}");
    assert!(store.revoke(&handle).await.expect("revoke"), "revocable");
    let exists: bool = connection.exists(&key).expect("exists");
    assert!(!exists, "revocation deletes it");
}

/// Session data lives in field `d` of the session hash (JSON, as given), the creation time
/// in `k`; reading a session (what `check_database` does per request) is one `HMGET`, and
/// replacing its data one `EVALSHA`.
#[tokio::test]
async fn session_data_is_one_field_and_a_lookup_is_one_round_trip() {
    let mut redis = OwnRedis::new();
    redis.start();
    let store = RedisStore::connect(&redis.url(), RedisStoreConfig::new("sd:"))
        .await
        .expect("connect");
    let handle = create(&store, "u", "rt0", later(600)).await;
    let data = Map::from_iter([("cart".to_owned(), json!([1, 2.5, null, {"a": "b"}]))]);
    assert!(store
        .update_session_data(&handle, data.clone())
        .await
        .expect("update"));
    let mut connection = sync_connection(&redis.url());
    let raw: String = connection
        .hget(store.session_key(&handle), "d")
        .expect("hget d");
    assert_eq!(raw, r#"{"cart":[1,2.5,null,{"a":"b"}]}"#);
    let created: u64 = connection
        .hget(store.session_key(&handle), "k")
        .expect("hget k");
    let info = store.get(&handle).await.expect("get").expect("live");
    assert_eq!(
        info.time_created,
        SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(created)
    );
    assert_eq!(info.session_data, data);

    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(&mut connection)
        .expect("resetstat");
    for _ in 0..5 {
        assert!(store.get(&handle).await.expect("get").is_some());
    }
    let calls = command_calls(&redis.url());
    assert_eq!(
        calls,
        std::collections::BTreeMap::from([("hmget".to_owned(), 5)]),
        "five lookups, five round trips"
    );
}
