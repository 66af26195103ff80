//! Theft-detection scenarios over real HTTP, shared by the memory and the Redis runs:
//! chains of rotations the victim's original token must still catch, every sibling of a
//! race after one child is promoted, and the races the SDK makes by itself, which must
//! never look like theft.

use std::sync::Arc;

use http::StatusCode;
use tower_session_refresh::store::SessionStore;

use crate::auth::{auth_server, Auth, AuthOptions};
use crate::browser::Browser;
use crate::logs::capture_logs;

/// An auth server (see [`auth_server`]) on `store`.
pub async fn server(store: Arc<dyn SessionStore>) -> Auth {
    auth_server(AuthOptions {
        store: Some(store),
        ..AuthOptions::default()
    })
    .await
}

/// The thief rotates the stolen token `rotations` times (each new token used at once, so
/// every rotation is a promotion), then the victim comes back with the original.
pub async fn chain_then_original(auth: &Auth, rotations: usize) {
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

/// 50 refreshes race with one token; one child is then used (promoted); every other
/// child, presented afterwards, is theft. One session per sibling (theft revokes it).
pub async fn each_sibling_after_a_race(auth: &Auth) {
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

/// The races the SDK produces by itself: none of them is theft, and the session carries on.
pub async fn legitimate_races(auth: &Auth) {
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
