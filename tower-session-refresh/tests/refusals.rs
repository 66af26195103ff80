//! Requests refused without signing anyone out, through real HTTP on loopback: the answers
//! are not the SDK's session-expired status (401), nothing is cleared but what must go, and
//! no `front-token: remove` is sent, so `supertokens-website` keeps its session (a non-401
//! error from the refresh route reaches the calling code once, `fetch.js`).
//!
//! - two refresh cookies (one may be planted by a sibling subdomain): refused with 400,
//!   never guessed; with an `older_cookie_domain` the older-domain cookies are cleared, as
//!   supertokens-node does, so the next refresh finds one;
//! - a `Cookie` header over the limit (a "cookie bomb" a sibling subdomain can plant): 431
//!   with the reason in the body and in a warning;
//! - two `Authorization` or two `anti-csrf` headers: 400, as ambiguous as two cookies;
//! - an empty `rid` header counts as sent, as in supertokens-node (a decision, shown here).

use http::{Method, StatusCode};
use tower_session_cookie::SharedDomain;
use tower_session_refresh::session::AntiCsrf;
use tower_session_testkit::auth::*;
use tower_session_testkit::browser::*;
use tower_session_testkit::logs::capture_logs;

fn shared_cookies(older: Option<&str>) -> tower_session_cookie::SessionCookieConfig {
    let mut builder = tower_session_cookie::SessionCookieConfig::builder()
        .shared_domain(SharedDomain::parse(".example.com").expect("domain"))
        .api_domain("https://api.example.com")
        .website_domain("https://www.example.com");
    if let Some(older) = older {
        builder = builder.older_cookie_domain(older);
    }
    builder.build().expect("cookie config")
}

/// The SDK keeps its session: no 401, no `front-token`, no new tokens.
fn assert_kept(reply: &Reply, what: &str) {
    assert_ne!(reply.status, StatusCode::UNAUTHORIZED, "{what}: {reply:?}");
    assert_eq!(reply.front_token(), None, "{what}: no front-token");
    assert_eq!(reply.header("st-access-token"), None, "{what}");
    assert_eq!(reply.header("st-refresh-token"), None, "{what}");
    assert!(
        reply
            .set_cookies()
            .iter()
            .all(|c| c.contains("=;") && c.contains("1970")),
        "{what}: no new cookie: {:?}",
        reply.set_cookies()
    );
}

async fn user_of(browser: &mut Browser) -> String {
    let reply = browser.me().await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    reply.json()["user"].as_str().expect("user").to_owned()
}

#[tokio::test]
async fn two_refresh_cookies_with_an_older_domain_are_refused_and_the_older_ones_cleared() {
    let (logs, _guard) = capture_logs();
    let auth = auth_server(AuthOptions {
        cookies: shared_cookies(Some("")),
        ..AuthOptions::default()
    })
    .await;
    let mut victim = Browser::cookie_mode(auth.addr);
    victim.login().await;
    let mut attacker = Browser::cookie_mode(auth.addr);
    attacker
        .send_with(Method::POST, "/login", |b| b.header("x-user", "attacker"))
        .await;
    let theirs = attacker.refresh_token().expect("attacker's token");
    let mine = victim.refresh_token().expect("victim's token");

    for cookie in [
        format!("sRefreshToken={theirs}; sRefreshToken={mine}"),
        format!("sRefreshToken={mine}; sRefreshToken={theirs}"),
    ] {
        let mut tab = victim.clone();
        tab.cookies.remove("sRefreshToken");
        let reply = tab
            .send_with(Method::POST, "/auth/session/refresh", |b| {
                b.header("cookie", cookie.as_str())
            })
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{cookie}: {reply:?}");
        assert_eq!(reply.message(), "duplicate refresh token cookies");
        assert_kept(&reply, &cookie);
        // Like supertokens-node: the older-domain (here host-only) cookies are cleared,
        // the current ones are not.
        let clears = reply.clearing_cookies();
        assert_eq!(clears.len(), 2, "{clears:?}");
        assert!(clears.iter().all(|c| !c.contains("Domain=")), "{clears:?}");
    }
    // Neither session was refreshed or harmed: each carries on with its own token.
    assert_eq!(victim.refresh().await.status, StatusCode::OK);
    assert_eq!(user_of(&mut victim).await, "user-1");
    assert_eq!(attacker.refresh().await.status, StatusCode::OK);
    assert_eq!(user_of(&mut attacker).await, "attacker");
    assert!(
        logs.text().contains("duplicate refresh token cookies"),
        "{}",
        logs.text()
    );
}

#[tokio::test]
async fn two_refresh_cookies_without_an_older_domain_are_refused_without_signing_out() {
    let auth = auth_server(AuthOptions {
        cookies: shared_cookies(None),
        ..AuthOptions::default()
    })
    .await;
    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    let reply = browser
        .send_with(Method::POST, "/auth/session/refresh", |b| {
            b.header("cookie", "sRefreshToken=planted")
        })
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    assert_eq!(reply.message(), "duplicate refresh token cookies");
    assert_kept(&reply, "duplicates");
    assert!(
        reply.set_cookies().is_empty(),
        "nothing can be cleared safely"
    );
    assert_eq!(
        browser.refresh().await.status,
        StatusCode::OK,
        "session kept"
    );
}

fn cookie_bomb() -> String {
    // Ten cookies of 900 bytes: what a sibling subdomain can set for the parent domain.
    (0..10)
        .map(|i| format!("bomb{i}={}", "x".repeat(900)))
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test]
async fn an_oversized_cookie_header_is_431_with_the_reason_and_signs_nobody_out() {
    let (logs, _guard) = capture_logs();
    let auth = auth_server(AuthOptions::default()).await;
    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    let bomb = cookie_bomb();

    let reply = browser
        .send_with(Method::POST, "/auth/session/refresh", |b| {
            b.header("cookie", bomb.as_str())
        })
        .await;
    assert_eq!(reply.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert!(
        reply.message().contains("Cookie header too large"),
        "{}",
        reply.message()
    );
    assert_kept(&reply, "refresh");
    assert!(reply.set_cookies().is_empty());

    let reply = browser
        .send_with(Method::GET, "/me", |b| b.header("cookie", bomb.as_str()))
        .await;
    assert_eq!(reply.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert!(reply.message().contains("Cookie header too large"));
    assert_kept(&reply, "protected route");

    let text = logs.text();
    assert!(
        text.contains("WARN") && text.contains("cookie bomb"),
        "the log says why: {text}"
    );
    // Without the bomb the session is intact.
    assert_eq!(browser.refresh().await.status, StatusCode::OK);
    assert_eq!(browser.me().await.status, StatusCode::OK);

    // A header-mode request is not affected: its token is not in a cookie.
    let mut header = Browser::header_mode(auth.addr);
    header.login().await;
    let reply = header
        .send_with(Method::GET, "/me", |b| b.header("cookie", bomb.as_str()))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn two_authorization_headers_are_refused() {
    let auth = auth_server(AuthOptions::default()).await;
    let mut browser = Browser::header_mode(auth.addr);
    browser.login().await;
    let access = browser.access_token().expect("access token");
    let refresh = browser.refresh_token().expect("refresh token");

    // The valid token first, then another: ambiguous, whichever is read.
    let reply = browser
        .send_with(Method::GET, "/me", |b| {
            b.header("authorization", "Bearer someone.elses.token")
        })
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    assert_eq!(reply.message(), "more than one Authorization header");
    assert_kept(&reply, "protected route");

    let reply = browser
        .send_with(Method::POST, "/auth/session/refresh", |b| {
            b.header("authorization", format!("Bearer {refresh}"))
        })
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    assert_eq!(reply.message(), "more than one Authorization header");
    assert_kept(&reply, "refresh");

    // One header: fine.
    browser.set_access_token(&access);
    assert_eq!(browser.me().await.status, StatusCode::OK);
    assert_eq!(browser.refresh().await.status, StatusCode::OK);
}

#[tokio::test]
async fn two_anti_csrf_headers_are_refused() {
    let auth = auth_server(AuthOptions {
        anti_csrf: Some(AntiCsrf::ViaToken),
        ..AuthOptions::default()
    })
    .await;
    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    assert!(browser.anti_csrf.is_some());

    let reply = browser
        .send_with(Method::POST, "/me", |b| b.header("anti-csrf", "guess"))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    assert_eq!(reply.message(), "more than one anti-csrf header");
    assert_kept(&reply, "protected route");

    let reply = browser
        .send_with(Method::POST, "/auth/session/refresh", |b| {
            b.header("anti-csrf", "guess")
        })
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    assert_eq!(reply.message(), "more than one anti-csrf header");
    assert_kept(&reply, "refresh");

    assert_eq!(
        browser.send(Method::POST, "/me").await.status,
        StatusCode::OK
    );
    assert_eq!(browser.refresh().await.status, StatusCode::OK);
}

/// supertokens-node only asks whether `rid` is present (`getRidFromHeader(req) ===
/// undefined`), so an empty value passes there, and here. A cross-site page cannot send
/// any `rid` header, empty or not, without a CORS preflight the backend refuses: the
/// protection is the header's presence, not its value.
#[tokio::test]
async fn an_empty_rid_header_counts_as_sent_as_in_supertokens_node() {
    let auth = auth_server(AuthOptions {
        anti_csrf: Some(AntiCsrf::ViaCustomHeader),
        ..AuthOptions::default()
    })
    .await;
    let mut browser = Browser::cookie_mode(auth.addr);
    browser.login().await;
    browser.rid = false;
    let reply = browser.send(Method::POST, "/me").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "no rid: refused");
    let reply = browser
        .send_with(Method::POST, "/me", |b| b.header("rid", ""))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "empty rid: {reply:?}");
    let reply = browser
        .send_with(Method::POST, "/auth/session/refresh", |b| {
            b.header("rid", "")
        })
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "empty rid on refresh: {reply:?}"
    );
}

/// `ViaToken` anti-CSRF covers cookie sessions only, as in node: a header-mode session gets
/// no `anti-csrf` header and no `antiCsrfToken` claim, at sign-in and at refresh, and its
/// state-changing calls need none.
#[tokio::test]
async fn anti_csrf_tokens_go_to_cookie_sessions_only() {
    let auth = auth_server(AuthOptions {
        anti_csrf: Some(AntiCsrf::ViaToken),
        ..AuthOptions::default()
    })
    .await;
    let claim = |token: &str| {
        use base64::Engine;
        let part = token.split('.').nth(1).expect("jwt");
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .expect("base64");
        serde_json::from_slice::<serde_json::Value>(&raw).expect("json")["antiCsrfToken"].clone()
    };

    let mut cookies = Browser::cookie_mode(auth.addr);
    let reply = cookies.login().await;
    assert!(reply.header("anti-csrf").is_some(), "{reply:?}");
    assert!(claim(&cookies.access_token().expect("access")).is_string());

    let mut headers = Browser::header_mode(auth.addr);
    let reply = headers.login().await;
    assert_eq!(reply.header("anti-csrf"), None, "{reply:?}");
    assert!(claim(&headers.access_token().expect("access")).is_null());
    let reply = headers.refresh().await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.header("anti-csrf"), None, "{reply:?}");
    assert!(claim(&headers.access_token().expect("access")).is_null());
    assert_eq!(headers.anti_csrf, None);
    assert_eq!(
        headers.send(Method::POST, "/me").await.status,
        StatusCode::OK
    );
}
