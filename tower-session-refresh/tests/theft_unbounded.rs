//! Theft detection that cannot be outrun, through real HTTP on loopback, on the memory
//! store and on a real Redis (127.0.0.1:6379 or `REDIS_URL`):
//!
//! - a thief rotates a stolen refresh token 34, 100 and 1000 times in a chain, then the
//!   victim presents the original: theft, the session is revoked, the thief's newest token
//!   is dead, and a warning is logged;
//! - a 50-way concurrent refresh race, one child promoted, then each sibling: theft;
//! - the legitimate races (a lost response, concurrent refreshes, two tabs sharing one
//!   cookie jar, two origins racing and then calling the API) never look like theft;
//! - a token forged from the public session handle never signs anyone out.

mod server_common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use http::{Method, StatusCode};
use server_common::{auth_server, Auth, AuthOptions, Browser};
use tower_session_refresh::store::{MemoryStore, SessionStore};

/// Log lines written while a test runs (this thread's subscriber: the servers of these
/// tests run on the test's current-thread runtime).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

async fn server(store: Arc<dyn SessionStore>) -> Auth {
    auth_server(AuthOptions {
        store: Some(store),
        ..AuthOptions::default()
    })
    .await
}

/// The thief rotates the stolen token `rotations` times (each new token used at once, so
/// every rotation is a promotion), then the victim comes back with the original.
async fn chain_then_original(auth: &Auth, rotations: usize) {
    let (logs, _guard) = capture_logs();
    let mut victim = Browser::header_mode(auth.addr);
    victim.login().await;
    let mut thief = victim.clone();
    for i in 0..rotations {
        let reply = thief.refresh().await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "thief's rotation {i}: {reply:?}"
        );
    }
    let reply = victim.refresh().await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "after {rotations}: {reply:?}"
    );
    assert_eq!(
        reply.message(),
        "token theft detected",
        "the victim's original token after {rotations} rotations"
    );
    let reply = thief.refresh().await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.message(),
        "unauthorised",
        "the session is revoked: the thief's newest token is dead"
    );
    let reply = thief.me().await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "the thief's newest access token carries a parent: its promotion finds no session"
    );
    let text = logs.text();
    assert!(
        text.contains("WARN") && text.contains("refresh token theft detected"),
        "a warning names the theft: {text}"
    );
}

#[tokio::test]
async fn a_chain_of_34_100_and_1000_rotations_cannot_outrun_detection() {
    let auth = server(Arc::new(MemoryStore::new())).await;
    for rotations in [34, 100, 1000] {
        chain_then_original(&auth, rotations).await;
    }
}

/// 50 refreshes race with one token; one child is then used (promoted); every other
/// child, presented afterwards, is theft. One session per sibling (theft revokes it).
async fn each_sibling_after_a_race(auth: &Auth) {
    for sibling in 0..50usize {
        let promoted = (sibling + 17) % 50;
        let mut browser = Browser::header_mode(auth.addr);
        browser.login().await;
        let racers: Vec<_> = (0..50)
            .map(|_| {
                let mut tab = browser.clone();
                async move {
                    let reply = tab.refresh().await;
                    assert_eq!(reply.status, StatusCode::OK, "no false theft in the race");
                    tab
                }
            })
            .collect();
        let mut tabs = futures_util::future::join_all(racers).await;
        let reply = tabs[promoted].refresh().await;
        assert_eq!(reply.status, StatusCode::OK, "a child is promoted");
        let reply = tabs[sibling].refresh().await;
        assert_eq!(
            reply.message(),
            "token theft detected",
            "sibling {sibling} after child {promoted} was promoted"
        );
        assert_eq!(
            tabs[promoted].refresh().await.message(),
            "unauthorised",
            "the session is revoked"
        );
    }
}

#[tokio::test]
async fn every_sibling_of_a_fifty_way_race_is_theft_after_promotion() {
    let auth = server(Arc::new(MemoryStore::new())).await;
    each_sibling_after_a_race(&auth).await;
}

/// The races the SDK produces by itself: none of them is theft, and the session carries on.
async fn legitimate_races(auth: &Auth) {
    // A lost response: the parent is presented again.
    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    let parent = browser.refresh_token().expect("refresh token");
    assert_eq!(browser.refresh().await.status, StatusCode::OK);
    browser.set_refresh_token(&parent);
    assert_eq!(
        browser.refresh().await.status,
        StatusCode::OK,
        "lost response"
    );
    assert_eq!(browser.me().await.status, StatusCode::OK);
    assert_eq!(browser.refresh().await.status, StatusCode::OK);

    // Concurrent refreshes with one token; the cookie jar keeps the last answer.
    let racers: Vec<_> = (0..20)
        .map(|_| {
            let mut tab = browser.clone();
            async move { (tab.refresh().await.status, tab) }
        })
        .collect();
    let results = futures_util::future::join_all(racers).await;
    assert!(results.iter().all(|(s, _)| *s == StatusCode::OK));
    let mut jar = results.into_iter().last().expect("a tab").1;
    assert_eq!(jar.me().await.status, StatusCode::OK);
    assert_eq!(jar.refresh().await.status, StatusCode::OK);
    assert_eq!(jar.me().await.status, StatusCode::OK);

    // Two tabs on two origins refresh at once, and each calls the API with the access
    // token it got before the other answer lands in the shared cookie jar. Neither call
    // decides which child wins (the next refresh does), so nobody is signed out.
    let mut www = jar.clone();
    let mut app = jar.clone();
    assert_eq!(www.refresh().await.status, StatusCode::OK);
    assert_eq!(app.refresh().await.status, StatusCode::OK);
    assert_eq!(www.me().await.status, StatusCode::OK, "www's call");
    assert_eq!(app.me().await.status, StatusCode::OK, "app's call");
    // The jar holds the answer that landed last (app's): it carries on.
    assert_eq!(app.me().await.status, StatusCode::OK);
    assert_eq!(app.refresh().await.status, StatusCode::OK);
    assert_eq!(app.me().await.status, StatusCode::OK);
    assert_eq!(app.refresh().await.status, StatusCode::OK);
}

#[tokio::test]
async fn lost_responses_concurrent_refreshes_and_two_tabs_are_never_theft() {
    let auth = server(Arc::new(MemoryStore::new())).await;
    legitimate_races(&auth).await;
}

/// A late request with an access token of a rotated-away refresh token is asked to refresh
/// (nothing is revoked); the client's current refresh token then carries on.
#[tokio::test]
async fn a_late_call_with_a_stale_access_token_asks_for_a_refresh_and_signs_nobody_out() {
    let auth = server(Arc::new(MemoryStore::new())).await;
    let mut browser = Browser::header_mode(auth.addr);
    browser.login().await;
    assert_eq!(browser.refresh().await.status, StatusCode::OK);
    let late = browser.access_token().expect("access token with a parent");
    // Two more generations go by.
    for _ in 0..2 {
        assert_eq!(browser.me().await.status, StatusCode::OK);
        assert_eq!(browser.refresh().await.status, StatusCode::OK);
    }
    assert_eq!(browser.me().await.status, StatusCode::OK);
    let mut delayed = browser.clone();
    delayed.set_access_token(&late);
    let reply = delayed.me().await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    assert_eq!(reply.message(), "try refresh token");
    assert!(reply.clearing_cookies().is_empty());
    assert_eq!(reply.header("st-access-token"), None, "nothing cleared");
    // The SDK refreshes with the token it holds, and carries on.
    assert_eq!(delayed.refresh().await.status, StatusCode::OK);
    assert_eq!(delayed.me().await.status, StatusCode::OK);
}

/// The session handle is public (it is in every access token and front-token). A refresh
/// token made up from it must never revoke the victim's session.
#[tokio::test]
async fn a_token_forged_from_the_session_handle_never_signs_the_victim_out() {
    let auth = server(Arc::new(MemoryStore::new())).await;
    let mut victim = Browser::header_mode(auth.addr);
    victim.login().await;
    // Two promotions, so generations 0 and 1 lie behind the head.
    for _ in 0..2 {
        assert_eq!(victim.refresh().await.status, StatusCode::OK);
        assert_eq!(victim.me().await.status, StatusCode::OK);
    }
    let me = victim.me().await;
    let handle = me.json()["handle"].as_str().expect("handle").to_owned();
    let b64 = "A".repeat(43);
    let forged = [
        format!("{handle}.{b64}"),
        format!("{handle}.0.{b64}.{b64}"),
        format!("{handle}.1.{b64}.{b64}"),
        format!("{handle}.2.{b64}.{b64}"),
        format!("{handle}.3.{b64}.{b64}"),
    ];
    for token in forged {
        let mut attacker = Browser::header_mode(auth.addr);
        attacker.set_refresh_token(&token);
        let reply = attacker.refresh().await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(reply.message(), "unauthorised", "{token}");
    }
    assert_eq!(
        victim.refresh().await.status,
        StatusCode::OK,
        "victim unharmed"
    );
    assert_eq!(victim.send(Method::GET, "/me").await.status, StatusCode::OK);
}

#[cfg(feature = "redis")]
mod redis_store {
    use super::*;
    use redis::Commands;
    use tower_session_refresh::store::{RedisStore, RedisStoreConfig};

    fn url() -> String {
        std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
    }

    /// Deletes the keys of one test's prefix when dropped.
    struct Prefix(String);

    impl Prefix {
        fn new(what: &str) -> Self {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            Self(format!(
                "tsr-theft-{what}-{}-{nanos:x}:",
                std::process::id()
            ))
        }
    }

    impl Drop for Prefix {
        fn drop(&mut self) {
            let Ok(client) = redis::Client::open(url().as_str()) else {
                return;
            };
            let Ok(mut c) = client.get_connection() else {
                return;
            };
            let keys: Vec<String> = match c.scan_match::<_, String>(format!("{}*", self.0)) {
                Ok(iter) => iter.filter_map(Result::ok).collect(),
                Err(_) => return,
            };
            for chunk in keys.chunks(500) {
                let _: Result<(), _> = c.del(chunk);
            }
        }
    }

    async fn redis_server(prefix: &Prefix) -> Auth {
        let store = RedisStore::connect(&url(), RedisStoreConfig::new(prefix.0.clone()))
            .await
            .expect("connect to redis");
        server(Arc::new(store)).await
    }

    #[tokio::test]
    async fn on_redis_a_chain_of_34_100_and_1000_rotations_cannot_outrun_detection() {
        let prefix = Prefix::new("chain");
        let auth = redis_server(&prefix).await;
        for rotations in [34, 100, 1000] {
            chain_then_original(&auth, rotations).await;
        }
    }

    #[tokio::test]
    async fn on_redis_every_sibling_of_a_fifty_way_race_is_theft_after_promotion() {
        let prefix = Prefix::new("race");
        let auth = redis_server(&prefix).await;
        each_sibling_after_a_race(&auth).await;
    }

    #[tokio::test]
    async fn on_redis_legitimate_races_are_never_theft() {
        let prefix = Prefix::new("legit");
        let auth = redis_server(&prefix).await;
        legitimate_races(&auth).await;
    }
}
