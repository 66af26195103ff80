//! Theft detection that cannot be outrun, through real HTTP on loopback, on the memory
//! store (`tower-session-redis`'s `tests/theft.rs` runs the same scenarios on a real Redis):
//!
//! - a thief rotates a stolen refresh token 34, 100 and 1000 times in a chain, then the
//!   victim presents the original: theft, the session is revoked, the thief's newest token
//!   is dead, and a warning is logged;
//! - a 50-way concurrent refresh race, one child promoted, then each sibling: theft;
//! - the legitimate races (a lost response, concurrent refreshes, two tabs sharing one
//!   cookie jar, two origins racing and then calling the API) never look like theft;
//! - a token forged from the public session handle never signs anyone out.

use std::sync::Arc;

use http::{Method, StatusCode};
use tower_session_refresh::store::MemoryStore;
use tower_session_testkit::browser::Browser;
use tower_session_testkit::theft::{
    chain_then_original, each_sibling_after_a_race, legitimate_races, server,
};

#[tokio::test]
async fn a_chain_of_34_100_and_1000_rotations_cannot_outrun_detection() {
    let auth = server(Arc::new(MemoryStore::new())).await;
    for rotations in [34, 100, 1000] {
        chain_then_original(&auth, rotations).await;
    }
}

#[tokio::test]
async fn every_sibling_of_a_fifty_way_race_is_theft_after_promotion() {
    let auth = server(Arc::new(MemoryStore::new())).await;
    each_sibling_after_a_race(&auth).await;
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
